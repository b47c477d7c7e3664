"""Throughput of one model: model-only, end to end from mp4 files, the
data loader alone, and (GPU sections) MMEngine's data path against the fast
one.

All timings synchronise the device before reading the clock, so they hold
on GPUs too.
"""
from __future__ import annotations

import cProfile
import io
import pstats
import statistics
import time
from typing import Callable, Dict, List, Tuple

import torch
from torch.utils.data import DataLoader

from bike_bench.benchmark import bench_data
from bike_bench.benchmark.measure import PeakRSS, add_rate, summarize, time_calls
from bike_bench.benchmark.plans import Budget, DevicePlan
from bike_bench.datasets.fast_loading import DevicePrefetcher, stack_collate


def sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def synced(fn: Callable[[], object], device: torch.device) -> Callable[[], None]:
    def call() -> None:
        fn()
        sync(device)
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
            sync(device)
            prepared = time.perf_counter()
            model(**data, mode='predict')
            sync(device)
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


def configure(model, fast_path, autocast) -> None:
    """Switch the recognizer's settings; its fast encoder is rebuilt only
    when the resolved levers change (so 'auto' reuses a compiled one)."""
    model.fast_path = fast_path
    model.autocast_dtype = autocast


# ------------------------------------------------ data paths (GPU sections)
def end_to_end_fast(model, spec, manifest: str, views, batch: int, workers: int,
                    repeats: int, warmup: int, frames: int) -> Dict[str, object]:
    """Evaluation from mp4 files through the fast data path.

    ``stack_collate`` in the workers, pinned memory (CUDA), the data
    preprocessor normalising on the device in bf16, and ``DevicePrefetcher``
    copying the next batch on a side stream while this one runs. Time
    split: waiting for the loader, the (asynchronous) preprocess enqueue,
    and the forward up to its synchronisation.
    """
    clips_, crops = views
    dataset = bench_data.build_dataset(manifest, bench_data.test_pipeline(
        spec.image_size, spec.resize, clips_, crops, frames))
    if len(dataset) < batch * (warmup + repeats):
        raise ValueError(f'{manifest} lists {len(dataset)} videos, the run needs '
                         f'{batch * (warmup + repeats)}')
    device = device_of(model)
    loader = DataLoader(dataset, batch_size=batch, num_workers=workers, shuffle=False,
                        collate_fn=stack_collate, pin_memory=device.type == 'cuda',
                        prefetch_factor=4 if workers else None, persistent_workers=False)
    preprocessor = model.data_preprocessor
    old_dtype = preprocessor.compute_dtype
    preprocessor.compute_dtype = 'bfloat16' if device.type == 'cuda' else None
    intervals, waits, preps, forwards = [], [], [], []
    try:
        prefetcher = DevicePrefetcher(loader, lambda d: preprocessor(d, False), device)
        iterator = iter(prefetcher)
        last = time.perf_counter()
        for _ in range(warmup + repeats):
            start = time.perf_counter()
            data = next(iterator)   # includes preparing the batch after it
            got = time.perf_counter()
            model(**data, mode='predict')
            sync(device)
            done = time.perf_counter()
            intervals.append(done - last)
            waits.append(prefetcher.wait_s)
            preps.append(got - start - prefetcher.wait_s)
            forwards.append(done - got)
            last = done
        del iterator
    finally:
        preprocessor.compute_dtype = old_dtype
    timed = sum(intervals[warmup:])
    result = summarize(intervals[warmup:], warmup)
    add_rate(result, batch, 'videos')
    result['videos_per_s_overall'] = batch * repeats / timed
    result['views_per_s_overall'] = batch * clips_ * crops * repeats / timed
    result['time_split'] = {'data_wait': sum(waits[warmup:]) / timed,
                            'preprocess_enqueue': sum(preps[warmup:]) / timed,
                            'forward': sum(forwards[warmup:]) / timed}
    result.update(batch=batch, workers=workers, views=clips_ * crops, frames=frames,
                  data_path='stack_collate + pinned + non-blocking uint8 + bf16 '
                            'normalise on device + prefetch stream')
    return result


def data_paths(model, spec, manifests: Dict[str, str], plan: DevicePlan, budget: Budget,
               log: Callable[[str], None]) -> Dict[str, object]:
    """1x1 and 4x3: MMEngine's data path and the fast one, same model
    (``fast_path='auto'``), with model-only references of the same shapes."""
    out: Dict[str, object] = {}
    configure(model, 'auto', None)
    for layout, (clips_, crops), batch in (('1x1', (1, 1), plan.batch),
                                           ('4x3', (4, 3), plan.batch_4x3)):
        if not budget.fits(40.0):
            out[layout] = {'skipped': 'time budget'}
            continue
        log(f'{spec.name}: end-to-end {layout}, batch {batch}, {plan.workers} workers')
        reference = model_only(model, spec, batch, clips_ * crops, plan.frames,
                                          plan.repeats, plan.warmup)
        entry: Dict[str, object] = {'model_only': reference}
        runs = {
            'mmengine_data_path': lambda: end_to_end(
                model, spec, manifests[layout], (clips_, crops), batch, plan.workers,
                plan.e2e_batches, plan.warmup, plan.frames, interleave_reference=False),
            'fast_data_path': lambda: end_to_end_fast(
                model, spec, manifests[layout], (clips_, crops), batch, plan.workers,
                plan.e2e_batches, plan.warmup, plan.frames)}
        for name, run in runs.items():
            result = run()
            result['pipeline_efficiency'] = (result['views_per_s_overall']
                                             / reference['views_per_s'])
            entry[name] = result
        out[layout] = entry
    return out
