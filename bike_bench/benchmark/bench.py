"""``make bench``: how fast the harness evaluates and trains, on this machine.

Runs every measurement of the bench for each selected model and writes
``<out_dir>/<YYYY-MM-DD>-<host>.json`` and a Markdown table beside it:

- model-only throughput (``model.predict`` on pre-made clips), batch 1 and 8;
- end-to-end evaluation from synthetic mp4 files (1x1 and 4x3 views, 0 and
  2 loader workers) and the pipeline efficiency = end-to-end / model-only
  at the same batch and view count;
- decoding (decord batch access vs frame by frame, open cost per video)
  and the CPU cost of the data pipeline per video (Pillow vs OpenCV);
- a training step (forward + backward, batch 8);
- the class-text cache (text-encoder calls and time for a 400-class
  evaluation) and the other switches of the recognizer;
- FLOPs per view counted on the meta device beside the paper's figures.
"""
from __future__ import annotations

import dataclasses
import datetime
import os
import platform
import sys
import time
from typing import Dict, List, Optional, Tuple

from bike_bench.benchmark import bench_data, bench_models, bench_runs, flops
from bike_bench.benchmark.measure import environment

SCHEMA = 'bike-bench/bench/1'
EFFICIENCY_TARGET = 0.85
TARGET_MODEL, TARGET_VIEWS, TARGET_WORKERS = 'vit-b-32', '4x3', 2
VIEW_LAYOUTS = ((1, 1), (4, 3))
QUICK_FLOP_ROWS = [('tiny', 8), ('vit-l-14', 16)]


@dataclasses.dataclass
class Plan:
    """How much of each measurement to run for one model.

    ``repeats`` timed runs follow ``warmup`` untimed ones; cheap models
    multiply them (``repeat_scale``) to tame the noise. End-to-end runs time
    ``e2e_batches`` batches (default: the repeats), the loader alone
    ``loader_batches`` (many, so read-ahead cannot hide a slow pipeline).
    """

    repeats: int = 3
    warmup: int = 1
    repeat_scale: int = 1
    frames: int = 8
    model_batches: Tuple[int, ...] = (1, 8)
    e2e_batch: Dict[Tuple[int, int], int] = dataclasses.field(
        default_factory=lambda: {(1, 1): 8, (4, 3): 1})
    e2e_batches: Optional[int] = None
    loader_batches: int = 24
    workers: Tuple[int, ...] = (0, 2)
    train_batch: int = 8
    train_warmup_batch: int = 2
    per_view_views: int = 12
    text_cache_batches: int = 10
    measure_text_cache: bool = True
    distinct_videos: int = 32

    @property
    def runs(self) -> int:
        return self.repeats * self.repeat_scale

    @property
    def timed_e2e_batches(self) -> int:
        return self.e2e_batches or self.runs

    def videos_needed(self) -> int:
        batches = self.warmup + max(self.timed_e2e_batches, self.loader_batches)
        return max(batch * batches for batch in self.e2e_batch.values())


def plan_for(name: str, repeats: int, quick: bool) -> Plan:
    if quick:
        return Plan(repeats=1, warmup=1, e2e_batch={(1, 1): 2, (4, 3): 1},
                    loader_batches=2, train_batch=2, text_cache_batches=3,
                    model_batches=(1, 2), distinct_videos=4)
    if name == 'tiny':
        return Plan(repeats=repeats, repeat_scale=2, e2e_batches=8, loader_batches=12,
                    text_cache_batches=5)
    # Sized for a 2-core CPU, where one ViT-B/32 view of 8 frames takes about
    # half a second: end-to-end batches of 1 video, the per-view switch on 3
    # views, and the text tower (tens of seconds per 400-class encode)
    # measured once, the no-cache case derived from it.
    return Plan(repeats=repeats, measure_text_cache=False, per_view_views=3,
                e2e_batch={(1, 1): 1, (4, 3): 1})


class Progress:
    """Timestamped progress lines on stderr."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    def __call__(self, message: str) -> None:
        print(f'[bench {time.perf_counter() - self.start:6.1f}s] {message}',
              file=sys.stderr, flush=True)


def bench_model(name: str, plan: Plan, manifest: str, device: str,
                log: Progress, compile_model: bool = False) -> Dict[str, object]:
    """Every model-level measurement of one model."""
    spec = bench_models.get(name)
    runs, warmup, frames = plan.runs, plan.warmup, plan.frames
    model = bench_models.build(spec, device=device)
    out: Dict[str, object] = {'label': spec.label, 'image_size': spec.image_size,
                              'frames': frames, 'classes': bench_models.NUM_CLASSES,
                              'weights': 'random (speed does not depend on them)'}
    log(f'{name}: encoding {bench_models.NUM_CLASSES} class prompts')
    text_runs = runs if plan.measure_text_cache else 1
    out['text_encode'] = bench_runs.text_encode_time(
        model, text_runs, warmup if plan.measure_text_cache else 0)

    model_only = {}
    for batch in plan.model_batches:
        log(f'{name}: model-only, batch {batch}')
        model_only[f'batch_{batch}'] = bench_runs.model_only(
            model, spec, batch, 1, frames, runs, warmup)
    out['model_only'] = model_only

    e2e: Dict[str, object] = {}
    efficiency: Dict[str, object] = {}
    paired: Dict[str, object] = {}
    for clips, crops in VIEW_LAYOUTS:
        layout = f'{clips}x{crops}'
        batch = plan.e2e_batch[(clips, crops)]
        if clips * crops == 1 and f'batch_{batch}' in model_only:
            standalone = model_only[f'batch_{batch}']  # same shape: measured above
        else:
            log(f'{name}: model-only {layout}, batch {batch}')
            standalone = bench_runs.model_only(model, spec, batch, clips * crops, frames,
                                               runs, warmup)
        entry: Dict[str, object] = {'model_only': standalone}
        efficiency[layout] = {}
        paired[layout] = {}
        for workers in plan.workers:
            log(f'{name}: data loader alone {layout}, batch {batch}, {workers} workers')
            entry[f'loader_only_workers_{workers}'] = bench_runs.loader_only(
                spec, manifest, (clips, crops), batch, workers, plan.loader_batches,
                warmup, frames)
            log(f'{name}: end-to-end {layout}, batch {batch}, {workers} workers '
                '(model-only reference interleaved)')
            run = bench_runs.end_to_end(model, spec, manifest, (clips, crops), batch,
                                        workers, plan.timed_e2e_batches, warmup, frames)
            run['pipeline_efficiency'] = (run['videos_per_s_overall']
                                          / standalone['videos_per_s'])
            entry[f'workers_{workers}'] = run
            efficiency[layout][f'workers_{workers}'] = run['pipeline_efficiency']
            paired[layout][f'workers_{workers}'] = run['pipeline_efficiency_paired']
        e2e[layout] = entry
    out['end_to_end'] = e2e
    out['pipeline_efficiency'] = efficiency
    out['pipeline_efficiency_paired'] = paired

    log(f'{name}: training step, batch {plan.train_batch}')
    out['train_step'] = bench_runs.train_step(model, spec, plan.train_batch, frames,
                                              runs, warmup, plan.train_warmup_batch)
    out['text_cache'] = _text_cache(model, spec, plan, out, log)
    out['switches'] = _switches(model, spec, plan, out, log, compile_model)
    return out


def _text_cache(model, spec, plan: Plan, out: Dict[str, object],
                log: Progress) -> Dict[str, object]:
    encode_s = out['text_encode']['median_s']
    batch = plan.model_batches[-1]
    if plan.measure_text_cache:
        log(f'{spec.name}: {bench_models.NUM_CLASSES}-class evaluation with and '
            'without the text cache')
        result = bench_runs.text_cache_eval(model, spec, plan.text_cache_batches, batch,
                                            plan.frames, plan.repeats)
    else:
        result = bench_runs.text_cache_derived(encode_s, plan.text_cache_batches, batch)
    result['encode_s'] = encode_s
    result['encode_measured_runs'] = out['text_encode']['repeats']
    result['k400_4x3_evaluation'] = bench_runs.k400_saving(encode_s)
    step = out['train_step']['median_s']
    result['training_step'] = {
        'frozen_text_tower': {'calls_per_step_with_cache':
                                  out['train_step']['text_encoder_calls_per_step'],
                              'calls_per_step_without_cache': 1,
                              'step_s_with_cache': step,
                              'step_s_without_cache': step + encode_s,
                              'note': 'without the cache every step re-encodes all '
                                      'classes (the official code); derived as the '
                                      'measured step + one measured encode'},
        'trainable_text_tower': 'one encode per step either way (its features change)'}
    return result


def _switches(model, spec, plan: Plan, out: Dict[str, object], log: Progress,
              compile_model: bool) -> Dict[str, object]:
    runs, warmup, frames = plan.runs, plan.warmup, plan.frames
    switches: Dict[str, object] = {}
    # On and off alternate, so both see the same machine load; the shapes
    # were run above, so no further warm-up is needed.
    log(f'{spec.name}: inference_mode on / off, interleaved')
    switches['inference_mode'] = bench_runs.inference_mode_switch(
        model, spec, frames, runs, warmup=0)
    log(f'{spec.name}: one image-encoder call / one per view '
        f'({plan.per_view_views} views), interleaved')
    switches['one_encoder_call'] = bench_runs.encoder_calls_switch(
        model, spec, plan.per_view_views, frames, runs, warmup=0)
    switches['text_cache'] = 'see text_cache'
    switches['batch_decode'] = switches['resize_backend'] = 'see decoding / data_pipeline'
    switches.update(bench_runs.gpu_switches(model, spec, plan.model_batches[-1], frames,
                                            runs, warmup, compile_model))
    return switches


def _data_sections(models: List[str], cache_dir: str, repeats: int, quick: bool,
                   log: Progress) -> Tuple[Dict, Dict]:
    decoding: Dict[str, object] = {}
    pipeline: Dict[str, object] = {}
    # The tiny model's small videos only when it is the only model benched.
    sizes = [n for n in models if n != 'tiny'] or models
    for name in sizes:
        spec = bench_models.get(name)
        if spec.video_key in decoding:
            continue
        count = 2 if quick else 8
        manifest = bench_data.ensure_videos(cache_dir, spec.video_size, count)
        log(f'decoding {spec.video_key} videos')
        decoding[spec.video_key] = bench_data.decoding_benchmark(manifest, repeats)
        log(f'data pipeline on {spec.video_key} videos')
        pipeline[spec.video_key] = dict(
            bench_data.pipeline_benchmark(bench_data.ensure_videos(
                cache_dir, spec.video_size, 2 if quick else 4),
                spec.image_size, spec.resize, repeats),
            resize_to=spec.resize, crop=spec.image_size)
    return decoding, pipeline


def _profile_if_slow(result: Dict[str, object], manifests: Dict[str, str],
                     log: Progress) -> Optional[Dict[str, object]]:
    model = result['models'].get(TARGET_MODEL)
    if model is None:
        return None
    efficiency = model['pipeline_efficiency'][TARGET_VIEWS][f'workers_{TARGET_WORKERS}']
    run = model['end_to_end'][TARGET_VIEWS][f'workers_{TARGET_WORKERS}']
    reference = model['end_to_end'][TARGET_VIEWS]['model_only']
    report = {'model': TARGET_MODEL, 'views': TARGET_VIEWS, 'workers': TARGET_WORKERS,
              'pipeline_efficiency': efficiency,
              'pipeline_efficiency_paired': run['pipeline_efficiency_paired'],
              'target': EFFICIENCY_TARGET, 'met': efficiency >= EFFICIENCY_TARGET,
              'time_split': run['time_split'],
              'forward_in_pipeline_s': run['forward_median_s'],
              'forward_model_only_s': reference['median_s'],
              'loader_only_videos_per_s': model['end_to_end'][TARGET_VIEWS][
                  f'loader_only_workers_{TARGET_WORKERS}']['videos_per_s_overall']}
    if not report['met']:
        log('pipeline efficiency below target: profiling the data pipeline')
        spec = bench_models.get(TARGET_MODEL)
        report['data_pipeline_profile'] = bench_runs.profile_pipeline(
            manifests[TARGET_MODEL], spec, (4, 3), 2)
    return report


def run_bench(models: List[str], out_dir: str = 'results/bench', repeats: int = 3,
              quick: bool = False, cache_dir: str = os.path.join('work_dirs', 'bench', 'videos'),
              device: Optional[str] = None, compile_model: bool = False,
              threads: Optional[int] = None) -> Dict[str, str]:
    """Run the bench and write the JSON and Markdown files; returns their paths."""
    import torch
    log = Progress()
    device = device or ('cuda' if torch.cuda.is_available() else 'cpu')
    if threads:
        torch.set_num_threads(threads)
    started = time.perf_counter()
    result: Dict[str, object] = {'schema': SCHEMA, 'quick': quick,
                                 'environment': environment(), 'device': device,
                                 'settings': {'models': models, 'repeats': repeats,
                                              'torch_threads': torch.get_num_threads(),
                                              'statistic': 'median over repeats after '
                                                           'warm-up; spread = min, max, IQR'}}
    log('counting FLOPs on the meta device')
    result['flops'] = flops.flops_table(QUICK_FLOP_ROWS if quick else flops.DEFAULT_ROWS)
    decoding, pipeline = _data_sections(models, cache_dir, 1 if quick else repeats,
                                        quick, log)
    result['decoding'], result['data_pipeline'] = decoding, pipeline
    log('decoding backends (decord, PyAV) on the same files')
    result['decoding_backends'] = bench_data.backend_decoding_benchmark(
        cache_dir, repeats=1 if quick else repeats, warmup=0 if quick else 1, log=log)
    result['models'], manifests = {}, {}
    for name in models:
        plan = plan_for(name, repeats, quick)
        spec = bench_models.get(name)
        manifests[name] = bench_data.ensure_videos(cache_dir, spec.video_size,
                                                   plan.videos_needed(),
                                                   distinct=plan.distinct_videos)
        result['settings'][name] = dataclasses.asdict(plan) | {
            'e2e_batch': {f'{c}x{k}': b for (c, k), b in plan.e2e_batch.items()},
            'timed_runs': plan.runs}
        result['models'][name] = bench_model(name, plan, manifests[name], device, log,
                                             compile_model)
    result['pipeline_efficiency'] = {n: m['pipeline_efficiency']
                                     for n, m in result['models'].items()}
    result['pipeline_efficiency_paired'] = {n: m['pipeline_efficiency_paired']
                                            for n, m in result['models'].items()}
    result['text_cache'] = {n: m['text_cache'] for n, m in result['models'].items()}
    result['acceptance'] = _profile_if_slow(result, manifests, log)
    result['wall_time_s'] = time.perf_counter() - started
    result['environment']['load_average_at_end'] = list(os.getloadavg())
    paths = write_results(result, out_dir)
    log(f'wrote {paths["json"]} and {paths["markdown"]}')
    return paths


def output_stem(quick: bool = False) -> str:
    host = platform.node().split('.')[0] or 'host'
    stem = f'{datetime.date.today().isoformat()}-{host}'
    return stem + ('-quick' if quick else '')


def write_results(result: Dict[str, object], out_dir: str) -> Dict[str, str]:
    from bike_bench.benchmark import bench_report
    from bike_bench.utils.atomic import atomic_write_json, atomic_write_text
    stem = os.path.join(out_dir, output_stem(result['quick']))
    atomic_write_json(stem + '.json', result)
    atomic_write_text(stem + '.md', bench_report.render(result)
                      + bench_data.render_backend_decoding(result.get('decoding_backends', {})))
    return {'json': stem + '.json', 'markdown': stem + '.md'}


def card_slug(device: str) -> str:
    """``'nvidia-h200'`` for a CUDA card, ``'cpu'`` otherwise (file names)."""
    import re

    import torch
    if device.startswith('cuda') and torch.cuda.is_available():
        name = torch.cuda.get_device_name(torch.device(device))
        return re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')
    return 'cpu'


def run_device_bench(models: List[str], device: str, out_dir: str = 'results/bench',
                     cache_dir: str = os.path.join('work_dirs', 'bench', 'videos'),
                     plan=None) -> Dict[str, str]:
    """The device suite (``bike_bench.benchmark.device_suite``): levers,
    end to end, training, projection; writes ``<date>-<card>.json`` and
    ``.md`` in ``out_dir`` and returns their paths."""
    from bike_bench.benchmark import device_suite
    from bike_bench.utils.atomic import atomic_write_json, atomic_write_text
    log = Progress()
    if plan is None:
        plan = device_suite.DevicePlan() if device.startswith('cuda') \
            else device_suite.DevicePlan.smoke()
    stem = os.path.join(out_dir, f'{datetime.date.today().isoformat()}-{card_slug(device)}')

    def write(result: Dict[str, object]) -> None:
        atomic_write_json(stem + '.json', result)
        atomic_write_text(stem + '.md', device_suite.render(result)
                          + bench_data.render_backend_decoding(
                              result.get('decoding_backends', {})))

    result = device_suite.run_suite(models, device, plan, cache_dir, log, checkpoint=write)
    result['decoding_backends'] = bench_data.backend_decoding_benchmark(
        cache_dir, repeats=3 if device.startswith('cuda') else 1, log=log,
        quick=not device.startswith('cuda'))
    write(result)
    log(f'wrote {stem}.json and {stem}.md')
    return {'json': stem + '.json', 'markdown': stem + '.md'}
