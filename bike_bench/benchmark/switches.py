"""Each optimisation switch of the recognizer, on and off, timed in
alternating rounds: ``inference_mode``, one image-encoder call for all
views, and (GPU) bf16 autocast, channels-last and ``torch.compile``."""
from __future__ import annotations

import contextlib
from typing import Dict

import torch

from bike_bench.benchmark import bench_models
from bike_bench.benchmark.measure import time_interleaved
from bike_bench.benchmark.plans import CPUPlan
from bike_bench.benchmark.throughput import clips, device_of, model_only, predict_call, synced


def encoder_calls_switch(model, spec, views: int, frames: int, repeats: int,
                         warmup: int) -> Dict[str, object]:
    """All views of a video in one image-encoder call vs one call per view."""
    device = device_of(model)
    inputs = clips(spec, 1, views, frames, device)
    class_features = model.class_text_features()

    def one_call() -> None:
        with torch.inference_mode():
            model.view_logits(inputs, class_features)

    def per_view() -> None:
        with torch.inference_mode():
            torch.cat([model.view_logits(inputs[:, v:v + 1], class_features)
                       for v in range(views)], dim=1)

    timings = time_interleaved({'on': synced(one_call, device),
                                'off': synced(per_view, device)},
                               repeats, warmup, items=views, unit='views')
    return compare('one_encoder_call', timings['on'], timings['off'],
                   f'{views} views x {frames} frames in one call', 'one call per view')


def inference_mode_switch(model, spec, frames: int, repeats: int,
                          warmup: int) -> Dict[str, object]:
    """``predict`` under ``torch.inference_mode`` vs plain ``no_grad``."""
    call = predict_call(model, spec, 1, 1, frames)

    def without() -> None:
        with switched(model, inference_mode=False):
            call()

    timings = time_interleaved({'on': call, 'off': without}, repeats, warmup,
                               items=1, unit='views')
    return compare('inference_mode', timings['on'], timings['off'],
                   'torch.inference_mode', 'torch.no_grad')


@contextlib.contextmanager
def switched(model, **flags):
    """Set recognizer flags inside the block, restore them after."""
    old = {name: getattr(model, name) for name in flags}
    for name, value in flags.items():
        setattr(model, name, value)
    try:
        yield model
    finally:
        for name, value in old.items():
            setattr(model, name, value)


def compare(name: str, on: Dict[str, object], off: Dict[str, object],
            on_label: str, off_label: str) -> Dict[str, object]:
    """A switch's effect: both timings and ``speedup`` = off / on (the
    median of per-round ratios when the two were interleaved)."""
    ratio = off.get('ratio_to_first') if 'on' in off.get('interleaved_with', ()) else None
    return {'switch': name, 'on': on_label, 'off': off_label,
            'on_timing': on, 'off_timing': off,
            'speedup': ratio if ratio is not None else off['median_s'] / on['median_s'],
            'interleaved': ratio is not None}


def gpu_switches(model, spec, batch: int, frames: int, repeats: int, warmup: int,
                 compile_model: bool = False) -> Dict[str, object]:
    """bf16 autocast, channels-last and torch.compile (CUDA only)."""
    device = device_of(model)
    if device.type != 'cuda':
        reason = 'skipped: no GPU'
        return {'bf16_autocast': reason, 'channels_last': reason, 'torch_compile': reason}
    base = model_only(model, spec, batch, 1, frames, repeats, warmup)
    out: Dict[str, object] = {}
    with switched(model, autocast_dtype='bfloat16'):
        out['bf16_autocast'] = compare('bf16_autocast', model_only(
            model, spec, batch, 1, frames, repeats, warmup), base, 'bf16', 'fp32')
        with switched(model, channels_last=True):
            out['channels_last'] = compare('channels_last', model_only(
                model, spec, batch, 1, frames, repeats, warmup),
                out['bf16_autocast']['on_timing'], 'bf16 + channels_last', 'bf16')
    if compile_model:
        compiled = bench_models.build(spec, device=str(device), autocast_dtype='bfloat16',
                                      compile_image_encoder=True)
        compiled.class_text_features()
        out['torch_compile'] = compare('torch_compile', model_only(
            compiled, spec, batch, 1, frames, repeats, warmup + 2),
            out['bf16_autocast']['on_timing'], 'bf16 + compile', 'bf16')
    else:
        out['torch_compile'] = 'skipped: not requested (--compile)'
    return out


def switches_section(model, spec, plan: CPUPlan, log, compile_model: bool = False
                     ) -> Dict[str, object]:
    """The ``switches`` section of one model (after its throughput runs, so
    every shape is warm)."""
    runs, warmup, frames = plan.runs, plan.warmup, plan.frames
    switches: Dict[str, object] = {}
    # On and off alternate, so both see the same machine load; the shapes
    # were run before, so no further warm-up is needed.
    log(f'{spec.name}: inference_mode on / off, interleaved')
    switches['inference_mode'] = inference_mode_switch(model, spec, frames, runs, warmup=0)
    log(f'{spec.name}: one image-encoder call / one per view '
        f'({plan.per_view_views} views), interleaved')
    switches['one_encoder_call'] = encoder_calls_switch(
        model, spec, plan.per_view_views, frames, runs, warmup=0)
    switches['text_cache'] = 'see text_cache'
    switches['batch_decode'] = switches['resize_backend'] = 'see decoding / data_pipeline'
    switches.update(gpu_switches(model, spec, plan.model_batches[-1], frames,
                                 runs, warmup, compile_model))
    return switches
