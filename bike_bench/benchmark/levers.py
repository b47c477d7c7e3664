"""``bike-bench bench --device cuda``: every GPU figure in one short run.

For each model, in one process and against the same random weights:

1. **Model-only levers** (``predict`` on pre-made clips, fixed batch):
   the official fp32 path, the eager fp16-autocast baseline (= the
   official code with autocast), eager bf16 autocast, then the levers of
   ``bike_bench.models.fast_path`` added one at a time (bf16 weights,
   fused SDPA attention, channels-last, ``torch.compile``, CUDA graphs),
   each with its speed-up over the step before; a batch-size sweep; the
   paper configs' default on this device (``fast_path='auto'``) against
   the goals (frames/s, fraction of the dense peak and of a measured bf16
   matmul, ratio to the eager autocast baseline).
2. **End to end** from mp4 files at 1x1 and 4x3 views: MMEngine's way
   (``pseudo_collate``, per-video copies, fp32 normalisation) against the
   fast data path (``stack_collate`` in the workers, pinned memory,
   non-blocking uint8 copies, normalisation on the device in bf16, a
   prefetching stream), with the time split and the pipeline efficiency
   (end-to-end / model-only of the same model and batch).
3. **Training step** (forward, backward, optimizer): fp16 AMP + GradScaler
   + AdamW, eager (the baseline), against bf16 AMP + fused AdamW + fused
   attention, with and without gradient checkpointing.
4. A **projection** of a full Kinetics-400 4x3 evaluation from the rates.

A time budget (``--budget-s``) keeps the run short: steps that would not
fit are recorded as skipped. On the CPU (``--device cpu --models tiny``)
the same code runs at smoke size, the CUDA-only levers reported as
skipped or fallen back; this is what CI runs.
"""
from __future__ import annotations

import dataclasses
import time
from typing import Callable, Dict, List, Optional

import torch

from bike_bench.benchmark import bench_data, bench_models, bench_runs, flops
from bike_bench.benchmark.measure import add_rate, summarize

SCHEMA = 'bike-bench/device-bench/1'
# Dense bf16 tensor-core peaks on paper (TFLOP/s), most specific name first.
PEAK_BF16_TFLOPS = [('H100 PCIe', 756.0), ('H100 NVL', 835.0), ('H100', 989.0),
                    ('H200', 989.0), ('GH200', 989.0), ('A100', 312.0), ('L40S', 362.0),
                    ('A10G', 70.0), ('L4', 121.0)]
GOALS = {'vit_l_14_frames_per_s': 3660.0, 'vit_l_14_frames_per_s_stretch': 4200.0,
         'ratio_to_eager_autocast': 2.0, 'pipeline_efficiency': 0.95,
         'training_speedup': 1.5}
K400_VAL_VIDEOS = 19795
DEFAULT_MODELS = 'vit-b-16,vit-l-14,vit-l-14-336'


def card_peak(name: str) -> Optional[float]:
    for key, peak in PEAK_BF16_TFLOPS:
        if key.lower() in name.lower():
            return peak
    return None


@dataclasses.dataclass
class DevicePlan:
    """Sizes of the device suite (GPU defaults; ``smoke()`` for the CPU)."""

    # 48 x 1 view and 4 x 12 views are both 384 frames: one shape, so the
    # compiled encoder and its CUDA graph serve model-only, 1x1 and 4x3.
    batch: int = 48            # videos per model-only / 1x1 batch (x frames)
    batch_4x3: int = 4         # videos per 4x3 batch (x 12 views)
    batch_sweep: tuple = (8, 16, 32, 96)
    frames: int = 8
    repeats: int = 10
    warmup: int = 3
    e2e_batches: int = 30
    workers: int = 14
    distinct_videos: int = 192
    train_batch: Dict[str, int] = dataclasses.field(
        default_factory=lambda: {'vit-b-16': 32, 'vit-l-14': 16, 'vit-l-14-336': 8})
    train_repeats: int = 8
    e2e_models: tuple = ('vit-b-16', 'vit-l-14')
    train_models: tuple = ('vit-b-16', 'vit-l-14')
    compile: bool = True
    budget_s: float = 360.0

    @classmethod
    def smoke(cls, workers: int = 0) -> 'DevicePlan':
        return cls(batch=2, batch_4x3=1, batch_sweep=(1,), repeats=1, warmup=1,
                   e2e_batches=2, workers=workers, distinct_videos=4,
                   train_batch={}, train_repeats=1, e2e_models=('tiny',),
                   train_models=('tiny',), compile=False, budget_s=600.0)


class Budget:
    """Wall-clock budget: ``fits(estimate)`` says whether a step may start."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.start = time.perf_counter()

    @property
    def used(self) -> float:
        return time.perf_counter() - self.start

    def fits(self, estimate_s: float) -> bool:
        return self.used + estimate_s <= self.seconds


def _sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def matmul_reference(device: torch.device, size: int = 8192,
                     repeats: int = 20) -> Dict[str, float]:
    """TFLOP/s of a large bf16 matmul on random data: what the card sustains."""
    a = torch.randn(size, size, device=device, dtype=torch.bfloat16)
    b = torch.randn(size, size, device=device, dtype=torch.bfloat16)
    for _ in range(3):
        a @ b
    _sync(device)
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    _sync(device)
    seconds = (time.perf_counter() - start) / repeats
    return {'size': size, 'seconds': seconds, 'tflops': 2 * size ** 3 / seconds / 1e12}


# ----------------------------------------------------------- model-only levers
def lever_steps(compile_: bool) -> List[Dict[str, object]]:
    """The model-only configurations, each adding one lever to the one before
    (from ``eager_autocast_bf16`` on). ``fast_path``/``autocast`` are the
    recognizer's settings."""
    steps = [
        dict(name='official_fp32', fast_path='off', autocast=None,
             lever='(reference) the official fp32 computation (TF32 matmuls on a GPU)'),
        dict(name='eager_autocast_fp16', fast_path='off', autocast='float16',
             lever='(baseline) fp16 autocast, eager: the official code with autocast'),
        dict(name='eager_autocast_bf16', fast_path='off', autocast='bfloat16',
             lever='bf16 autocast instead of fp16'),
        dict(name='bf16_weights', fast_path=dict(weights_dtype='bfloat16'), autocast=None,
             lever='bf16 weights copy instead of autocasting fp32 weights every call'),
        dict(name='fused_attention', fast_path=dict(weights_dtype='bfloat16',
                                                    fused_attention=True),
             autocast=None, lever='fused SDPA (flash) attention'),
        dict(name='channels_last', fast_path=dict(weights_dtype='bfloat16',
                                                  fused_attention=True, channels_last=True),
             autocast=None, lever='channels-last frames (patch embedding)'),
    ]
    if compile_:
        base = dict(weights_dtype='bfloat16', fused_attention=True, channels_last=True)
        steps.append(dict(name='torch_compile', fast_path=dict(base, compile=True),
                          autocast=None, lever='torch.compile'))
        steps.append(dict(name='cuda_graphs', fast_path=dict(base, compile=True,
                                                             cuda_graphs=True),
                          autocast=None, lever='CUDA graphs for the fixed shapes'))
    return steps


def _flops_per_frame(name: str, frames: int) -> float:
    return flops.flops_per_view(name, frames) / frames


def _achieved(frames_per_s: float, per_frame: float, peak: Optional[float],
              matmul: Optional[float]) -> Dict[str, Optional[float]]:
    tflops = frames_per_s * per_frame / 1e12
    return {'tflops': tflops, 'fraction_of_peak': tflops / peak if peak else None,
            'fraction_of_matmul': tflops / matmul if matmul else None}


def _configure(model, fast_path, autocast) -> None:
    """Switch the recognizer's settings; its fast encoder is rebuilt only
    when the resolved levers change (so 'auto' reuses a compiled one)."""
    model.fast_path = fast_path
    model.autocast_dtype = autocast


def model_levers(model, spec, plan: DevicePlan, budget: Budget, peak, matmul,
                 log: Callable[[str], None]) -> Dict[str, object]:
    """Every lever step at ``plan.batch``, then the batch sweep and the
    paper-config default (``fast_path='auto'``)."""
    per_frame = _flops_per_frame(spec.name, plan.frames)
    out: Dict[str, object] = {'batch': plan.batch, 'frames': plan.frames,
                              'counted_gflops_per_frame': per_frame / 1e9, 'steps': {}}
    previous = None
    for step in lever_steps(plan.compile):
        name = step['name']
        estimate = 90.0 if name == 'torch_compile' else 15.0
        if not budget.fits(estimate):
            out['steps'][name] = {'lever': step['lever'], 'skipped': 'time budget'}
            continue
        log(f'{spec.name}: model-only {name}')
        _configure(model, step['fast_path'], step['autocast'])
        try:
            timing = bench_runs.model_only(model, spec, plan.batch, 1, plan.frames,
                                           plan.repeats, plan.warmup)
        except Exception as error:  # noqa: BLE001 - one lever failing is a result
            out['steps'][name] = {'lever': step['lever'],
                                  'failed': f'{type(error).__name__}: {error}'[:400]}
            continue
        entry = {'lever': step['lever'], 'fast_path': step['fast_path'],
                 'autocast': step['autocast'], 'timing': timing,
                 'frames_per_s': timing['frames_per_s'],
                 'achieved': _achieved(timing['frames_per_s'], per_frame, peak, matmul)}
        record = model.fast_path_record()
        if 'status' in record:
            entry['status'] = record['status']
        if previous is not None and name not in ('eager_autocast_fp16',):
            entry['speedup_over_previous'] = timing['frames_per_s'] / previous
        out['steps'][name] = entry
        if name != 'official_fp32':
            previous = timing['frames_per_s']
    baseline = out['steps'].get('eager_autocast_fp16', {}).get('frames_per_s')
    # The default of the paper configs on this device.
    _configure(model, 'auto', None)
    device = bench_runs.device_of(model)
    auto = model.fast_path_record(device)
    if budget.fits(60.0 if auto['levers']['compile'] else 15.0):
        log(f'{spec.name}: model-only, the config default (fast_path=auto)')
        timing = bench_runs.model_only(model, spec, plan.batch, 1, plan.frames,
                                       plan.repeats, plan.warmup)
        auto = model.fast_path_record(device)
        out['default'] = {'fast_path': auto, 'timing': timing,
                          'frames_per_s': timing['frames_per_s'],
                          'achieved': _achieved(timing['frames_per_s'], per_frame, peak,
                                                matmul),
                          'ratio_to_eager_autocast_fp16':
                              timing['frames_per_s'] / baseline if baseline else None}
    else:
        out['default'] = {'skipped': 'time budget'}
    # Batch size, with the eager levers (a compiled encoder would recompile
    # for every new shape).
    sweep = {}
    eager = dict(weights_dtype='bfloat16', fused_attention=True, channels_last=True)
    _configure(model, eager, None)
    for batch in plan.batch_sweep:
        if not budget.fits(15.0):
            sweep[f'batch_{batch}'] = {'skipped': 'time budget'}
            continue
        log(f'{spec.name}: model-only batch {batch} (eager levers)')
        try:
            timing = bench_runs.model_only(model, spec, batch, 1, plan.frames,
                                           plan.repeats, plan.warmup)
            sweep[f'batch_{batch}'] = {'frames_per_s': timing['frames_per_s'],
                                       'timing': timing}
        except torch.cuda.OutOfMemoryError as error:
            sweep[f'batch_{batch}'] = {'failed': f'out of memory: {error}'[:300]}
    out['batch_sweep'] = {'fast_path': eager, **sweep}
    _configure(model, 'auto', None)
    return out


# ------------------------------------------------------------------ end to end
def end_to_end_fast(model, spec, manifest: str, views, batch: int, workers: int,
                    repeats: int, warmup: int, frames: int) -> Dict[str, object]:
    """Evaluation from mp4 files through the fast data path.

    ``stack_collate`` in the workers, pinned memory (CUDA), the data
    preprocessor normalising on the device in bf16, and ``DevicePrefetcher``
    copying the next batch on a side stream while this one runs. Time
    split: waiting for the loader, the (asynchronous) preprocess enqueue,
    and the forward up to its synchronisation.
    """
    from torch.utils.data import DataLoader

    from bike_bench.datasets.fast_loading import DevicePrefetcher, stack_collate
    clips_, crops = views
    dataset = bench_data.build_dataset(manifest, bench_data.test_pipeline(
        spec.image_size, spec.resize, clips_, crops, frames))
    if len(dataset) < batch * (warmup + repeats):
        raise ValueError(f'{manifest} lists {len(dataset)} videos, the run needs '
                         f'{batch * (warmup + repeats)}')
    device = bench_runs.device_of(model)
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
            _sync(device)
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


def end_to_end(model, spec, manifests: Dict[str, str], plan: DevicePlan, budget: Budget,
               log: Callable[[str], None]) -> Dict[str, object]:
    """1x1 and 4x3: MMEngine's data path and the fast one, same model
    (``fast_path='auto'``), with model-only references of the same shapes."""
    out: Dict[str, object] = {}
    _configure(model, 'auto', None)
    for layout, (clips_, crops), batch in (('1x1', (1, 1), plan.batch),
                                           ('4x3', (4, 3), plan.batch_4x3)):
        if not budget.fits(40.0):
            out[layout] = {'skipped': 'time budget'}
            continue
        log(f'{spec.name}: end-to-end {layout}, batch {batch}, {plan.workers} workers')
        reference = bench_runs.model_only(model, spec, batch, clips_ * crops, plan.frames,
                                          plan.repeats, plan.warmup)
        entry: Dict[str, object] = {'model_only': reference}
        runs = {
            'mmengine_data_path': lambda: bench_runs.end_to_end(
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


# -------------------------------------------------------------------- training
TRAIN_VARIANTS = {
    'fp16_amp_eager': dict(dtype='float16', fused_adamw=False, fused_attention=False,
                           checkpointing=False,
                           what='(baseline) fp16 autocast + GradScaler + AdamW, eager'),
    'bf16_amp_fused': dict(dtype='bfloat16', fused_adamw=True, fused_attention=True,
                           checkpointing=False,
                           what='bf16 autocast + fused AdamW + fused SDPA attention'),
    'bf16_amp_fused_checkpointing': dict(dtype='bfloat16', fused_adamw=True,
                                         fused_attention=True, checkpointing=True,
                                         what='as above + gradient checkpointing'),
}


def train_step_variant(spec, device: str, batch: int, frames: int, repeats: int,
                       warmup: int, dtype: str, fused_adamw: bool, fused_attention: bool,
                       checkpointing: bool, **_) -> Dict[str, object]:
    """Videos/s of a full training step (forward, backward, optimizer step)."""
    from bike_bench.models.fast_path import fuse_attention
    model = bench_models.build(spec, device=device)
    model.class_text_features()
    model.train()
    if checkpointing:
        model.backbone.clip.set_grad_checkpointing(True)
    if fused_attention:
        fuse_attention(model.backbone.clip.visual)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-5, weight_decay=0.2,
                                  **({'fused': True} if fused_adamw else {}))
    amp_dtype = getattr(torch, dtype)
    dev = torch.device(device)
    scaler = torch.amp.GradScaler(dev.type, enabled=dtype == 'float16')
    inputs = bench_runs.clips(spec, batch, 1, frames, dev)
    data_samples = bench_runs.samples(batch)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(dev.type, dtype=amp_dtype):
            loss = model.loss(inputs, data_samples)['loss']
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        _sync(dev)

    if dev.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(dev)
    for _ in range(warmup):
        step()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        samples.append(time.perf_counter() - start)
    result = add_rate(summarize(samples, warmup), batch, 'videos')
    result['frames_per_s'] = result['videos_per_s'] * frames
    if dev.type == 'cuda':
        result['peak_gpu_memory_gib'] = torch.cuda.max_memory_allocated(dev) / 2 ** 30
    result.update(batch=batch, frames=frames)
    del model, optimizer
    if dev.type == 'cuda':
        torch.cuda.empty_cache()
    return result


def training(spec, device: str, plan: DevicePlan, budget: Budget,
             log: Callable[[str], None]) -> Dict[str, object]:
    batch = plan.train_batch.get(spec.name, plan.batch)
    out: Dict[str, object] = {'batch': batch, 'frames': plan.frames, 'variants': {}}
    for name, variant in TRAIN_VARIANTS.items():
        if not budget.fits(30.0):
            out['variants'][name] = {'what': variant['what'], 'skipped': 'time budget'}
            continue
        log(f'{spec.name}: training step {name}, batch {batch}')
        try:
            result = train_step_variant(spec, device, batch, plan.frames,
                                        plan.train_repeats, plan.warmup, **variant)
        except Exception as error:  # noqa: BLE001
            result = {'failed': f'{type(error).__name__}: {error}'[:400]}
        out['variants'][name] = {'what': variant['what'], **result}
    base = out['variants']['fp16_amp_eager'].get('videos_per_s')
    for name, entry in out['variants'].items():
        if base and entry.get('videos_per_s'):
            entry['speedup_over_fp16_amp_eager'] = entry['videos_per_s'] / base
    return out


# ------------------------------------------------------------------ the suite
def goals(models: Dict[str, Dict]) -> List[Dict[str, object]]:
    """Each goal of the issue with the measured figure and whether it is met."""
    rows: List[Dict[str, object]] = []

    def add(figure: str, value: Optional[float], goal: float) -> None:
        rows.append({'figure': figure, 'value': value, 'goal': goal,
                     'met': None if value is None else value >= goal})

    for name, model in models.items():
        default = model.get('model_only', {}).get('default', {})
        if name == 'vit-l-14':
            add('ViT-L/14 model-only frames/s (config default)',
                default.get('frames_per_s'), GOALS['vit_l_14_frames_per_s'])
            add('ViT-L/14 model-only frames/s (stretch)', default.get('frames_per_s'),
                GOALS['vit_l_14_frames_per_s_stretch'])
        add(f'{name}: default / eager fp16 autocast',
            default.get('ratio_to_eager_autocast_fp16'), GOALS['ratio_to_eager_autocast'])
        for layout, entry in model.get('end_to_end', {}).items():
            fast = entry.get('fast_data_path', {}) if isinstance(entry, dict) else {}
            add(f'{name}: pipeline efficiency {layout} (fast data path)',
                fast.get('pipeline_efficiency'), GOALS['pipeline_efficiency'])
        variants = model.get('training', {}).get('variants', {})
        add(f'{name}: training bf16 fused / fp16 AMP eager',
            variants.get('bf16_amp_fused', {}).get('speedup_over_fp16_amp_eager'),
            GOALS['training_speedup'])
    return rows


def k400_projection(models: Dict[str, Dict], name: str = 'vit-l-14') -> Dict[str, object]:
    """Hours for a full K400 validation at 4x3 views from the measured rates
    (of ``name``, else of the first model measured end to end)."""
    if name not in models:
        name = next((n for n, m in models.items() if 'end_to_end' in m), name)
    model = models.get(name)
    if not model:
        return {'skipped': 'no model measured end to end'}
    entry = model.get('end_to_end', {}).get('4x3', {})
    out: Dict[str, object] = {'model': name, 'videos': K400_VAL_VIDEOS, 'views': '4x3'}
    for key in ('fast_data_path', 'mmengine_data_path', 'model_only'):
        run = entry.get(key) if isinstance(entry, dict) else None
        if run:
            rate = run.get('videos_per_s_overall', run.get('videos_per_s'))
            out[f'{key}_hours'] = K400_VAL_VIDEOS / rate / 3600
            out[f'{key}_videos_per_s'] = rate
    if len(out) == 3:
        default = model.get('model_only', {}).get('default', {})
        if default.get('frames_per_s'):
            # Model-only rate at 12 views x 8 frames per video.
            rate = default['frames_per_s'] / (12 * 8)
            out['from_model_only_1x1_rate_hours'] = K400_VAL_VIDEOS / rate / 3600
    return out


def run_suite(names: List[str], device: str, plan: DevicePlan, cache_dir: str,
              log: Callable[[str], None],
              checkpoint: Optional[Callable[[Dict[str, object]], None]] = None
              ) -> Dict[str, object]:
    """The device bench's result dict (see the module docstring).

    ``checkpoint`` is called with the result so far after each model (with
    ``complete`` False), so a run stopped by a time limit leaves its
    figures behind.
    """
    from bike_bench.benchmark.measure import environment
    budget = Budget(plan.budget_s)
    dev = torch.device(device)
    result: Dict[str, object] = {'schema': SCHEMA, 'device': device,
                                 'environment': environment(),
                                 'plan': dataclasses.asdict(plan), 'goals_set': GOALS}
    # Videos first: rendering forks worker processes before CUDA starts.
    manifests: Dict[str, Dict[str, str]] = {}
    for name in names:
        if name not in plan.e2e_models:
            continue
        spec = bench_models.get(name)
        counts = {'1x1': plan.batch * (plan.e2e_batches + plan.warmup + 1),
                  '4x3': plan.batch_4x3 * (plan.e2e_batches + plan.warmup + 1)}
        log(f'{name}: synthetic videos for the end-to-end runs')
        manifests[name] = {layout: bench_data.ensure_videos(
            cache_dir, spec.video_size, count, processes=max(1, plan.workers),
            distinct=plan.distinct_videos) for layout, count in counts.items()}
    peak = matmul = None
    if dev.type == 'cuda':
        card = torch.cuda.get_device_name(dev)
        peak = card_peak(card)
        props = torch.cuda.get_device_properties(dev)
        result['card'] = {'name': card, 'capability': list(torch.cuda.get_device_capability(dev)),
                          'memory_gib': props.total_memory / 2 ** 30,
                          'peak_bf16_dense_tflops_on_paper': peak}
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
        result['matmul_reference'] = matmul_reference(dev)
        matmul = result['matmul_reference']['tflops']
    else:
        result['card'] = {'name': 'cpu'}
    result['models'] = {}
    for name in names:
        spec = bench_models.get(name)
        log(f'{name}: building (random weights, 400 classes)')
        model = bench_models.build(spec, device=device)
        model.class_text_features()
        entry: Dict[str, object] = {'label': spec.label}
        entry['model_only'] = model_levers(model, spec, plan, budget, peak, matmul, log)
        if name in manifests:
            entry['end_to_end'] = end_to_end(model, spec, manifests[name], plan, budget, log)
        del model
        if dev.type == 'cuda':
            torch.cuda.empty_cache()
        if name in plan.train_models:
            entry['training'] = training(spec, device, plan, budget, log)
        result['models'][name] = entry
        _summarise(result, budget, complete=False)
        if checkpoint is not None:
            checkpoint(result)
    _summarise(result, budget, complete=True)
    return result


def _summarise(result: Dict[str, object], budget: Budget, complete: bool) -> None:
    result['goals'] = goals(result['models'])
    result['k400_4x3_projection'] = k400_projection(result['models'])
    result['wall_time_s'] = budget.used
    result['complete'] = complete


# ------------------------------------------------------------------ the table
def _f(value, digits: int = 1) -> str:
    if value is None:
        return '–'
    if isinstance(value, bool):
        return 'yes' if value else 'no'
    return f'{value:,.{digits}f}'


def _table(rows: List[List[str]], header: List[str]) -> str:
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    lines += ['| ' + ' | '.join(str(c) for c in row) + ' |' for row in rows]
    return '\n'.join(lines)


def render(result: Dict[str, object]) -> str:
    """The Markdown table of a device-suite result."""
    card = result.get('card', {})
    parts = [f'# bike-bench bench on {card.get("name", result["device"])}']
    if not result.get('complete', True):
        parts.append('**Partial result: the run stopped before every model was measured.**')
    env = result.get('environment', {})
    line = (f'torch {env.get("packages", {}).get("torch", env.get("torch", "?"))}, '
            f'Python {env.get("python", "?")}, wall time {_f(result.get("wall_time_s"), 0)} s')
    if 'matmul_reference' in result:
        line += (f'; bf16 matmul 8192³ {_f(result["matmul_reference"]["tflops"], 0)} TFLOP/s'
                 f' (dense peak on paper {_f(card.get("peak_bf16_dense_tflops_on_paper"), 0)})')
    parts.append(line)
    parts.append('## Goals')
    parts.append(_table([[g['figure'], _f(g['value'], 2), _f(g['goal'], 2), _f(g['met'])]
                         for g in result['goals']], ['figure', 'measured', 'goal', 'met']))
    parts.append('## Model-only levers (each row adds one lever to the row above)')
    rows = []
    for name, model in result['models'].items():
        only = model['model_only']
        for step, entry in only['steps'].items():
            if 'frames_per_s' not in entry:
                rows.append([name, step, entry['lever'],
                             entry.get('skipped') or entry.get('failed'), '', '', ''])
                continue
            rows.append([name, step, entry['lever'], _f(entry['frames_per_s']),
                         _f(entry['achieved']['tflops']),
                         _f(entry['achieved']['fraction_of_peak'], 2),
                         _f(entry.get('speedup_over_previous'), 2)])
        default = only.get('default', {})
        if 'frames_per_s' in default:
            rows.append([name, 'config default', 'fast_path=auto: '
                         + ', '.join(f'{k} {v}' for k, v in default['fast_path'].get(
                             'status', {}).items()),
                         _f(default['frames_per_s']), _f(default['achieved']['tflops']),
                         _f(default['achieved']['fraction_of_peak'], 2),
                         f'{_f(default["ratio_to_eager_autocast_fp16"], 2)} x fp16 eager'])
        for key, entry in only.get('batch_sweep', {}).items():
            if key.startswith('batch_'):
                rows.append([name, key, 'eager levers, other batch',
                             _f(entry.get('frames_per_s')) if 'frames_per_s' in entry
                             else entry.get('skipped') or entry.get('failed'), '', '', ''])
    parts.append(_table(rows, ['model', 'step', 'lever', 'frames/s', 'TFLOP/s',
                               'of peak', 'x previous']))
    parts.append('## End to end (mp4 files, DataLoader workers)')
    rows = []
    for name, model in result['models'].items():
        for layout, entry in model.get('end_to_end', {}).items():
            if 'model_only' not in entry:
                rows.append([name, layout, entry.get('skipped', ''), '', '', ''])
                continue
            for path in ('mmengine_data_path', 'fast_data_path'):
                run = entry[path]
                split = ', '.join(f'{k} {v:.0%}' for k, v in run['time_split'].items())
                rows.append([name, layout, path, _f(run['views_per_s_overall']),
                             _f(run['pipeline_efficiency'], 2), split])
    parts.append(_table(rows, ['model', 'views', 'data path', 'views/s',
                               'efficiency', 'time split']))
    parts.append('## Training step (forward + backward + optimizer)')
    rows = []
    for name, model in result['models'].items():
        for variant, entry in model.get('training', {}).get('variants', {}).items():
            rows.append([name, variant, entry['what'],
                         _f(entry.get('videos_per_s')) if 'videos_per_s' in entry
                         else entry.get('skipped') or entry.get('failed'),
                         _f(entry.get('speedup_over_fp16_amp_eager'), 2),
                         _f(entry.get('peak_gpu_memory_gib'), 1)])
    parts.append(_table(rows, ['model', 'variant', 'what', 'videos/s', 'x baseline',
                               'peak GiB']))
    projection = result.get('k400_4x3_projection', {})
    parts.append('## Projection: full Kinetics-400 validation, 4x3 views')
    parts.append(_table([[k, _f(v, 2)] for k, v in projection.items()
                         if isinstance(v, (int, float))], ['figure', 'value']))
    return '\n\n'.join(parts) + '\n'
