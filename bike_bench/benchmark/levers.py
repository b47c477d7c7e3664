"""The model-only levers of the image encoder, one added at a time (GPU
sections of the bench).

On pre-made clips at a fixed batch (``predict``): the official fp32 path,
the eager fp16-autocast baseline (= the official code with autocast), eager
bf16 autocast, then the levers of ``bike_bench.models.fast_path`` added one
at a time (bf16 weights, fused SDPA attention, channels-last,
``torch.compile``, CUDA graphs), each with its speed-up over the step
before; a batch-size sweep; and the paper configs' default on this device
(``fast_path='auto'``), with the achieved TFLOP/s against the card's dense
bf16 peak and a measured bf16 matmul. On a CPU the CUDA-only levers are
reported as skipped or fallen back.
"""
from __future__ import annotations

import time
from typing import Callable, Dict, List, Optional

import torch

from bike_bench.benchmark import flops
from bike_bench.benchmark.plans import Budget, DevicePlan
from bike_bench.benchmark.throughput import configure, device_of, model_only, sync

# Dense bf16 tensor-core peaks on paper (TFLOP/s), most specific name first.
PEAK_BF16_TFLOPS = [('H100 PCIe', 756.0), ('H100 NVL', 835.0), ('H100', 989.0),
                    ('H200', 989.0), ('GH200', 989.0), ('A100', 312.0), ('L40S', 362.0),
                    ('A10G', 70.0), ('L4', 121.0)]


def card_peak(name: str) -> Optional[float]:
    """The dense bf16 peak (TFLOP/s) on paper of the card called ``name``."""
    for key, peak in PEAK_BF16_TFLOPS:
        if key.lower() in name.lower():
            return peak
    return None


def card(device: torch.device) -> Dict[str, object]:
    """Name, compute capability, memory and bf16 peak of a CUDA card
    (``{'name': 'cpu'}`` on the CPU)."""
    if device.type != 'cuda':
        return {'name': 'cpu'}
    name = torch.cuda.get_device_name(device)
    props = torch.cuda.get_device_properties(device)
    return {'name': name, 'capability': list(torch.cuda.get_device_capability(device)),
            'memory_gib': props.total_memory / 2 ** 30,
            'peak_bf16_dense_tflops_on_paper': card_peak(name)}


def matmul_reference(device: torch.device, size: int = 8192,
                     repeats: int = 20) -> Dict[str, float]:
    """TFLOP/s of a large bf16 matmul on random data: what the card sustains."""
    a = torch.randn(size, size, device=device, dtype=torch.bfloat16)
    b = torch.randn(size, size, device=device, dtype=torch.bfloat16)
    for _ in range(3):
        a @ b
    sync(device)
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    sync(device)
    seconds = (time.perf_counter() - start) / repeats
    return {'size': size, 'seconds': seconds, 'tflops': 2 * size ** 3 / seconds / 1e12}


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
        configure(model, step['fast_path'], step['autocast'])
        try:
            timing = model_only(model, spec, plan.batch, 1, plan.frames,
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
    configure(model, 'auto', None)
    device = device_of(model)
    auto = model.fast_path_record(device)
    if budget.fits(60.0 if auto['levers']['compile'] else 15.0):
        log(f'{spec.name}: model-only, the config default (fast_path=auto)')
        timing = model_only(model, spec, plan.batch, 1, plan.frames,
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
    configure(model, eager, None)
    for batch in plan.batch_sweep:
        if not budget.fits(15.0):
            sweep[f'batch_{batch}'] = {'skipped': 'time budget'}
            continue
        log(f'{spec.name}: model-only batch {batch} (eager levers)')
        try:
            timing = model_only(model, spec, batch, 1, plan.frames,
                                           plan.repeats, plan.warmup)
            sweep[f'batch_{batch}'] = {'frames_per_s': timing['frames_per_s'],
                                       'timing': timing}
        except torch.cuda.OutOfMemoryError as error:
            sweep[f'batch_{batch}'] = {'failed': f'out of memory: {error}'[:300]}
    out['batch_sweep'] = {'fast_path': eager, **sweep}
    configure(model, 'auto', None)
    return out
