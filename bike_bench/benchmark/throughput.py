"""Model-level measurements of the bench: model-only and end-to-end
throughput, the training step, the text-feature cache and the switches.

All timings synchronise the device before reading the clock, so they hold
on GPUs too.
"""
from __future__ import annotations

import contextlib
import cProfile
import io
import pstats
import statistics
import time
from typing import Callable, Dict, List, Optional, Tuple

import torch

from bike_bench.benchmark import bench_data
from bike_bench.benchmark.measure import (PeakRSS, add_rate, summarize, time_calls,
                                        time_interleaved)

# Kinetics-400 validation: videos, and batches of 8 in a full evaluation.
K400_VAL_VIDEOS = 19795
K400_EVAL_BATCH = 8


def _sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def synced(fn: Callable[[], object], device: torch.device) -> Callable[[], None]:
    def call() -> None:
        fn()
        _sync(device)
    return call


def device_of(model) -> torch.device:
    return model.backbone.logit_scale.device


def clips(spec, batch: int, views: int, frames: int, device) -> torch.Tensor:
    size = spec.image_size
    return torch.randn(batch, views, 3, frames, size, size, device=device)


def samples(batch: int, num_classes: int = 400) -> list:
    from mmaction.structures import ActionDataSample
    return [ActionDataSample().set_gt_label(i % num_classes) for i in range(batch)]


def predict_call(model, spec, batch: int, views: int, frames: int) -> Callable[[], None]:
    """``model.predict`` on pre-made normalised clips (the model's own speed)."""
    device = device_of(model)
    inputs = clips(spec, batch, views, frames, device)
    data_samples = samples(batch)
    return synced(lambda: model.predict(inputs, data_samples), device)


def _with_rates(result: Dict[str, object], batch: int, views: int,
                frames: int) -> Dict[str, object]:
    add_rate(result, batch * views, 'views')
    add_rate(result, batch, 'videos')
    add_rate(result, batch * views * frames, 'frames')
    result.update(batch=batch, views=views, frames=frames)
    return result


def model_only(model, spec, batch: int, views: int, frames: int, repeats: int,
               warmup: int) -> Dict[str, object]:
    """Model-only throughput: ``predict`` on pre-made clips."""
    return _with_rates(time_calls(predict_call(model, spec, batch, views, frames),
                                  repeats, warmup), batch, views, frames)


def end_to_end(model, spec, manifest: str, views: Tuple[int, int], batch: int,
               workers: int, repeats: int, warmup: int, frames: int = 8,
               interleave_reference: bool = True, **pipeline_options) -> Dict[str, object]:
    """Evaluation from mp4 files: DataLoader -> data preprocessor -> predict.

    Every batch is one timed sample (time between consecutive finished
    batches); the first ``warmup`` batches, which include starting the
    workers and filling the pipeline, are not timed. ``repeats`` is the
    number of timed batches. The time of each timed batch is split into
    waiting for data, the data preprocessor (uint8 to normalised float) and
    the forward pass.

    With ``interleave_reference`` a model-only call of the same shape
    follows every timed batch (timed apart, ``model_only_interleaved``), so
    end-to-end and model-only see the same machine load
    (``pipeline_efficiency_paired``). The workers keep reading ahead during
    that call: when the loader is slower than the model they share the CPU
    with it, which slows the reference and flatters the paired figure.
    """
    clips_, crops = views
    dataset = bench_data.build_dataset(manifest, bench_data.test_pipeline(
        spec.image_size, spec.resize, clips_, crops, frames, **pipeline_options))
    needed = batch * (warmup + repeats)
    if len(dataset) < needed:
        raise ValueError(f'{manifest} lists {len(dataset)} videos, the run needs {needed}')
    loader = bench_data.build_loader(dataset, batch, workers)
    device = device_of(model)
    reference = predict_call(model, spec, batch, clips_ * crops, frames) \
        if interleave_reference else None
    intervals, waits, preps, forwards, references = [], [], [], [], []
    with PeakRSS() as rss:
        iterator = iter(loader)
        last = time.perf_counter()
        for index in range(warmup + repeats):
            start = time.perf_counter()
            data = next(iterator)
            got = time.perf_counter()
            data = model.data_preprocessor(data, False)
            _sync(device)
            prepared = time.perf_counter()
            model(**data, mode='predict')
            _sync(device)
            done = time.perf_counter()
            intervals.append(done - last)
            waits.append(got - start)
            preps.append(prepared - got)
            forwards.append(done - prepared)
            if reference is not None and index >= warmup:
                reference()
                last = time.perf_counter()
                references.append(last - done)
            else:
                last = done
        del iterator  # stops the workers
    result = summarize(intervals[warmup:], warmup)
    num_views = clips_ * crops
    add_rate(result, batch, 'videos')
    add_rate(result, batch * num_views, 'views')
    timed = sum(intervals[warmup:])
    # What sets the wall time of an evaluation: all timed videos over their
    # total time (workers can deliver batches in bursts).
    result['videos_per_s_overall'] = batch * repeats / timed
    result['views_per_s_overall'] = batch * num_views * repeats / timed
    result['time_split'] = {
        'data_wait': sum(waits[warmup:]) / timed,
        'preprocess': sum(preps[warmup:]) / timed,
        'forward': sum(forwards[warmup:]) / timed}
    result['forward_median_s'] = summarize(forwards[warmup:], warmup)['median_s']
    result.update(batch=batch, workers=workers, views=num_views, frames=frames)
    result.update(rss.as_dict())
    if references:
        result['model_only_interleaved'] = _with_rates(
            summarize(references, warmup), batch, num_views, frames)
        # Median over rounds of (model-only time / end-to-end time): each
        # pair ran back to back, so a load spike on a shared machine moves
        # one round, not the figure.
        result['pipeline_efficiency_paired'] = statistics.median(
            ref / interval for ref, interval in zip(references, intervals[warmup:]))
        result['pipeline_efficiency_paired_of_totals'] = sum(references) / timed
        result['pipeline_efficiency_paired_of_medians'] = (
            result['videos_per_s_overall']
            / result['model_only_interleaved']['videos_per_s'])
    return result


def loader_only(spec, manifest: str, views: Tuple[int, int], batch: int, workers: int,
                batches: int, warmup: int = 1, frames: int = 8) -> Dict[str, object]:
    """The DataLoader alone (no model): the rate the data side can sustain.

    Run over many batches so the loader's read-ahead (``prefetch_factor``
    batches per worker) cannot hide a slow pipeline.
    """
    dataset = bench_data.build_dataset(manifest, bench_data.test_pipeline(
        spec.image_size, spec.resize, *views, frames))
    if len(dataset) < batch * (warmup + batches):
        raise ValueError(f'{manifest} lists {len(dataset)} videos, the run needs '
                         f'{batch * (warmup + batches)}')
    loader = bench_data.build_loader(dataset, batch, workers)
    intervals = []
    with PeakRSS() as rss:
        iterator = iter(loader)
        last = time.perf_counter()
        for _ in range(warmup + batches):
            next(iterator)
            now = time.perf_counter()
            intervals.append(now - last)
            last = now
        del iterator
    timed = intervals[warmup:]
    result = summarize(timed, warmup)
    add_rate(result, batch, 'videos')
    # Throughput over the whole timed stretch: per-batch medians mislead
    # when workers deliver batches in bursts.
    result['videos_per_s_overall'] = batch * len(timed) / sum(timed)
    result.update(batch=batch, workers=workers, views=views[0] * views[1])
    result.update(rss.as_dict())
    return result


def profile_pipeline(manifest: str, spec, views: Tuple[int, int], videos: int,
                     top: int = 12) -> List[Dict[str, object]]:
    """cProfile of the data pipeline for ``videos`` videos in this process:
    the functions with the most cumulative time."""
    dataset = bench_data.build_dataset(manifest, bench_data.test_pipeline(
        spec.image_size, spec.resize, *views))
    profiler = cProfile.Profile()
    profiler.enable()
    for index in range(min(videos, len(dataset))):
        dataset[index]
    profiler.disable()
    stats = pstats.Stats(profiler, stream=io.StringIO())
    rows = []
    for (filename, line, name), (_, calls, own, cumulative, _) in stats.stats.items():
        rows.append({'function': f'{filename.rsplit("/", 2)[-1]}:{line}({name})',
                     'calls': calls, 'own_s': own, 'cumulative_s': cumulative})
    rows.sort(key=lambda r: r['cumulative_s'], reverse=True)
    return rows[:top]


def train_step(model, spec, batch: int, frames: int, repeats: int, warmup: int,
               warmup_batch: Optional[int] = None) -> Dict[str, object]:
    """Forward + backward of ``model.loss`` (one clip per video).

    ``warmup_batch`` warms up on a smaller batch (first-call costs do not
    depend on the batch size; a full step is expensive on a CPU).
    """
    device = device_of(model)
    model.train()

    def step_fn(size: int) -> Callable[[], None]:
        inputs = clips(spec, size, 1, frames, device)
        data_samples = samples(size)

        def step() -> None:
            model.loss(inputs, data_samples)['loss'].backward()
            model.zero_grad(set_to_none=True)
        return synced(step, device)

    try:
        for _ in range(warmup):
            step_fn(warmup_batch or batch)()
        model.text_encoder_calls = 0
        result = time_calls(step_fn(batch), repeats, 0, items=batch, unit='videos')
        result['warmup'] = warmup
        result['warmup_batch'] = warmup_batch or batch
        result['text_encoder_calls_per_step'] = model.text_encoder_calls / repeats
    finally:
        model.zero_grad(set_to_none=True)
        model.eval()
    result.update(batch=batch, frames=frames, includes='forward + backward (no optimizer step)')
    return result


def text_encode_time(model, repeats: int, warmup: int) -> Dict[str, object]:
    """One encode of all class prompts (what the cache saves per reuse).

    Leaves the class features cached for the measurements that follow.
    """
    def encode() -> None:
        model.clear_text_cache()
        model.class_text_features()

    device = device_of(model)
    result = time_calls(synced(encode, device), repeats, warmup)
    result.update(classes=len(model.class_names))
    return result


def text_cache_eval(model, spec, batches: int, batch: int, frames: int,
                    repeats: int) -> Dict[str, object]:
    """A 400-class evaluation of ``batches`` batches with and without the
    class-text cache: text-encoder calls and wall time (measured)."""
    device = device_of(model)
    inputs = clips(spec, batch, 1, frames, device)
    data_samples = samples(batch)
    result: Dict[str, object] = {'batches': batches, 'batch': batch, 'measured': True}
    calls: Dict[str, int] = {}

    def evaluation(name: str, cached: bool) -> Callable[[], None]:
        def evaluate() -> None:
            model.cache_text_features = cached
            model.text_encoder_calls = 0
            model.clear_text_cache()  # a fresh evaluation of this class set
            for _ in range(batches):
                model.predict(inputs, data_samples)
            calls[name] = model.text_encoder_calls
        return synced(evaluate, device)

    try:
        timings = time_interleaved({'with_cache': evaluation('with_cache', True),
                                    'without_cache': evaluation('without_cache', False)},
                                   repeats, warmup=0)
    finally:
        model.cache_text_features = True
    for name, timing in timings.items():
        timing['text_encoder_calls'] = calls[name]
        result[name] = timing
    result['saved_s'] = (result['without_cache']['median_s']
                         - result['with_cache']['median_s'])
    return result


def text_cache_derived(encode_s: float, batches: int, batch: int) -> Dict[str, object]:
    """Calls and time without the cache from the measured encode time
    (for models whose text tower is too slow to re-run here)."""
    return {'batches': batches, 'batch': batch, 'measured': False,
            'with_cache': {'text_encoder_calls': 1},
            'without_cache': {'text_encoder_calls': batches},
            'saved_s': (batches - 1) * encode_s,
            'note': 'saved time = (calls without cache - calls with cache) x '
                    'the measured time of one 400-class encode'}


def k400_saving(encode_s: float) -> Dict[str, object]:
    """What the cache saves in a full K400 validation evaluation."""
    batches = -(-K400_VAL_VIDEOS // K400_EVAL_BATCH)
    return {'videos': K400_VAL_VIDEOS, 'batch': K400_EVAL_BATCH,
            'text_encoder_calls_without_cache': batches,
            'text_encoder_calls_with_cache': 1,
            'saved_s': (batches - 1) * encode_s}


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
        from bike_bench.benchmark import bench_models
        compiled = bench_models.build(spec, device=str(device), autocast_dtype='bfloat16',
                                      compile_image_encoder=True)
        compiled.class_text_features()
        out['torch_compile'] = compare('torch_compile', model_only(
            compiled, spec, batch, 1, frames, repeats, warmup + 2),
            out['bf16_autocast']['on_timing'], 'bf16 + compile', 'bf16')
    else:
        out['torch_compile'] = 'skipped: not requested (--compile)'
    return out
