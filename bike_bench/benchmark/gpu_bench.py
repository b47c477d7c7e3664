"""GPU throughput of BIKE in bf16: one short script for a lent accelerator.

    python -m bike_bench.benchmark.gpu_bench --out DIR [--compile]

For ViT-B/16 and ViT-L/14 at 224 with 8 frames, bf16 autocast and
channels-last: model-only and end-to-end (mp4 files, DataLoader workers)
views/s and frames/s, the achieved TFLOP/s from the project's counted FLOPs
(attention included) against the card's dense bf16 peak and against a
large bf16 matmul measured on the same card. Designed to finish in a few
minutes on an H100. ``--device cpu`` runs the same code on the tiny model
(a smoke check of the script where no GPU is available).
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional

# Dense bf16 tensor-core peaks on paper (TFLOP/s), most specific name first.
PEAK_BF16_TFLOPS = [('H100 PCIe', 756.0), ('H100 NVL', 835.0), ('H100', 989.0),
                    ('H200', 989.0), ('GH200', 989.0), ('A100', 312.0), ('L40S', 362.0),
                    ('A10G', 70.0), ('L4', 121.0)]
TARGET_FRACTIONS = {'target': 0.40, 'stretch': 0.60}
NO_CUDA = 2


def card_peak(name: str) -> Optional[float]:
    for key, peak in PEAK_BF16_TFLOPS:
        if key.lower() in name.lower():
            return peak
    return None


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog='python -m bike_bench.benchmark.gpu_bench',
        description='bf16 throughput of BIKE ViT-B/16 and ViT-L/14 on a GPU')
    parser.add_argument('--out', required=True, help='folder for the JSON result')
    parser.add_argument('--models', default='vit-b-16,vit-l-14')
    parser.add_argument('--device', default='cuda', choices=['cuda', 'cpu'],
                        help='cpu: smoke-run the script (use with --models tiny)')
    parser.add_argument('--frames', type=int, default=8)
    parser.add_argument('--batch', type=int, default=32,
                        help='videos per model-only / 1x1 batch (x 8 frames)')
    parser.add_argument('--repeats', type=int, default=10)
    parser.add_argument('--e2e-batches', type=int, default=40,
                        help='timed end-to-end batches per layout (many: the loader '
                        'reads ahead 2 batches per worker)')
    parser.add_argument('--distinct-videos', type=int, default=192,
                        help='different synthetic files the video list cycles over')
    parser.add_argument('--workers', type=int, default=None,
                        help='DataLoader workers (default: CPU count - 2)')
    parser.add_argument('--dtype', default='bfloat16', choices=['bfloat16', 'float32'])
    parser.add_argument('--compile', action='store_true',
                        help='also time torch.compile of the image encoder')
    parser.add_argument('--cache-dir', default=None,
                        help='synthetic videos (default: a temporary folder)')
    return parser.parse_args(argv)


def _nvidia_smi() -> Optional[str]:
    if shutil.which('nvidia-smi') is None:
        return None
    try:
        return subprocess.run(
            ['nvidia-smi', '--query-gpu=name,driver_version,clocks.max.sm,power.limit,'
             'memory.total', '--format=csv,noheader'],
            capture_output=True, text=True, timeout=20).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def matmul_reference(device, size: int = 8192, repeats: int = 20) -> Dict[str, float]:
    """TFLOP/s of a large bf16 matmul: what the card sustains in practice."""
    import torch
    a = torch.randn(size, size, device=device, dtype=torch.bfloat16)
    b = torch.randn(size, size, device=device, dtype=torch.bfloat16)
    for _ in range(3):
        a @ b
    torch.cuda.synchronize(device)
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    torch.cuda.synchronize(device)
    seconds = (time.perf_counter() - start) / repeats
    return {'size': size, 'seconds': seconds, 'tflops': 2 * size ** 3 / seconds / 1e12}


def _achieved(timing: Dict[str, object], flops_per_view: float,
              peak: Optional[float], matmul: Optional[float]) -> Dict[str, object]:
    views_per_s = timing.get('views_per_s_overall', timing['views_per_s'])
    tflops = views_per_s * flops_per_view / 1e12
    return {'tflops': tflops, 'fraction_of_peak': tflops / peak if peak else None,
            'fraction_of_matmul': tflops / matmul if matmul else None}


def bench_one(name: str, args, device: str, manifests: Dict[str, str], workers: int,
              peak: Optional[float], matmul: Optional[float]) -> Dict[str, object]:
    from bike_bench.benchmark import bench_models, bench_runs, flops
    spec = bench_models.get(name)
    gpu = device == 'cuda'
    options = dict(autocast_dtype='bfloat16', channels_last=True) \
        if args.dtype == 'bfloat16' else {}
    model = bench_models.build(spec, device=device, **options)
    model.class_text_features()
    frames = args.frames
    flops_per_view = 2e9 * flops.count_view(name, frames)['counted_gmac_per_view']
    out: Dict[str, object] = {'label': spec.label, 'frames': frames, 'options': options,
                              'counted_gflops_per_view': flops_per_view / 1e9}
    only = bench_runs.model_only(model, spec, args.batch, 1, frames, args.repeats, 3)
    only['achieved'] = _achieved(only, flops_per_view, peak, matmul)
    out['model_only'] = only
    if peak:
        per_frame = flops_per_view / frames
        out['targets_frames_per_s'] = {
            key: {'fraction_of_peak': frac, 'frames_per_s': frac * peak * 1e12 / per_frame,
                  'met': only['frames_per_s'] >= frac * peak * 1e12 / per_frame}
            for key, frac in TARGET_FRACTIONS.items()}
    if args.compile and gpu:
        compiled = bench_models.build(spec, device=device, compile_image_encoder=True,
                                      **options)
        compiled.class_text_features()
        timing = bench_runs.model_only(compiled, spec, args.batch, 1, frames,
                                       args.repeats, 3)
        timing['achieved'] = _achieved(timing, flops_per_view, peak, matmul)
        out['model_only_compiled'] = timing
        del compiled
    e2e = {}
    for layout, (clips, crops), batch in (('1x1', (1, 1), args.batch),
                                          ('4x3', (4, 3), max(1, args.batch // 8))):
        reference = only if layout == '1x1' else bench_runs.model_only(
            model, spec, batch, clips * crops, frames, args.repeats, 3)
        entry = {'model_only': reference,
                 f'loader_only_workers_{workers}': bench_runs.loader_only(
                     spec, manifests[layout], (clips, crops), batch, workers,
                     args.e2e_batches, 1, frames)}
        backends = ('pillow', 'cv2') if layout == '1x1' else ('pillow',)
        for backend in backends:
            # Not interleaved: a dedicated GPU's speed does not drift, and a
            # reference call between batches would let the loader catch up.
            run = bench_runs.end_to_end(model, spec, manifests[layout], (clips, crops), batch,
                                        workers, args.e2e_batches, 1, frames,
                                        interleave_reference=False, resize_backend=backend)
            run['pipeline_efficiency'] = (run['views_per_s_overall']
                                          / reference['views_per_s'])
            run['achieved'] = _achieved(run, flops_per_view, peak, matmul)
            entry[f'{backend}_workers_{workers}'] = run
        e2e[layout] = entry
    out['end_to_end'] = e2e
    return out


def run(args) -> Dict[str, object]:
    import torch
    from bike_bench.benchmark import bench_data, bench_models
    from bike_bench.benchmark.measure import environment
    names = bench_models.parse_names(args.models)
    device = args.device
    started = time.perf_counter()
    workers = args.workers if args.workers is not None else max(0, (os.cpu_count() or 2) - 2)
    cache = args.cache_dir or tempfile.mkdtemp(prefix='bike-gpu-bench-')
    # Videos first: the rendering processes fork before CUDA is initialised.
    manifests: Dict[str, Dict[str, str]] = {}
    for name in names:
        spec = bench_models.get(name)
        counts = {'1x1': args.batch * (args.e2e_batches + 1),
                  '4x3': max(1, args.batch // 8) * (args.e2e_batches + 1)}
        manifests[name] = {layout: bench_data.ensure_videos(
            cache, spec.video_size, count, processes=max(1, workers),
            distinct=args.distinct_videos) for layout, count in counts.items()}
    result: Dict[str, object] = {'schema': 'bike-bench/gpu-bench/1',
                                 'environment': environment(), 'device': device,
                                 'settings': vars(args), 'video_cache': cache}
    peak = matmul = None
    if device == 'cuda':
        card = torch.cuda.get_device_name(0)
        peak = card_peak(card)
        props = torch.cuda.get_device_properties(0)
        result['card'] = {'name': card, 'nvidia_smi': _nvidia_smi(),
                          'capability': list(torch.cuda.get_device_capability(0)),
                          'memory_gib': props.total_memory / 2 ** 30,
                          'peak_bf16_dense_tflops_on_paper': peak}
        torch.backends.cuda.matmul.allow_tf32 = True
        result['matmul_reference'] = matmul_reference(torch.device('cuda'))
        matmul = result['matmul_reference']['tflops']
    result['models'] = {}
    for name in names:
        print(f'gpu_bench: {name} ...', file=sys.stderr, flush=True)
        result['models'][name] = bench_one(name, args, device, manifests[name], workers,
                                           peak, matmul)
        if device == 'cuda':
            torch.cuda.empty_cache()
    result['wall_time_s'] = time.perf_counter() - started
    return result


def summary_lines(result: Dict[str, object]) -> List[str]:
    card = result.get('card', {}).get('name', result['device'])
    lines = [f'card: {card}']
    if 'matmul_reference' in result:
        lines.append(f'bf16 matmul 8192^3: {result["matmul_reference"]["tflops"]:.0f} TFLOP/s')
    for name, model in result['models'].items():
        only = model['model_only']
        lines.append(f'{name}: model-only {only["views_per_s"]:.1f} views/s, '
                     f'{only["frames_per_s"]:.0f} frames/s, '
                     f'{only["achieved"]["tflops"]:.1f} TFLOP/s')
        for layout, entry in model['end_to_end'].items():
            for key, run in entry.items():
                if key.startswith('loader_only'):
                    lines.append(f'  loader alone {layout}: '
                                 f'{run["videos_per_s_overall"]:.1f} videos/s')
                elif key != 'model_only':
                    lines.append(f'  e2e {layout} {key}: '
                                 f'{run["views_per_s_overall"]:.1f} views/s, '
                                 f'efficiency {run["pipeline_efficiency"]:.2f}')
    return lines


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    import torch
    from bike_bench.utils.atomic import atomic_write_json
    stem = f'gpu-{datetime.date.today().isoformat()}-{platform.node().split(".")[0]}'
    path = os.path.join(args.out, stem + '.json')
    if args.device == 'cuda' and not torch.cuda.is_available():
        reason = (f'no CUDA device is available (torch {torch.__version__}, CUDA build '
                  f'{torch.version.cuda}); run this on a GPU machine, or pass '
                  '--device cpu --models tiny for a smoke run of the script')
        print(f'gpu_bench: {reason}', file=sys.stderr)
        atomic_write_json(path, {'schema': 'bike-bench/gpu-bench/1', 'status': 'skipped',
                                 'reason': reason})
        return NO_CUDA
    result = run(args)
    result['status'] = 'ok'
    # The file name says which card the figures are from.
    card = result.get('card', {}).get('name', args.device)
    path = os.path.join(args.out, f'{stem}-{re.sub(r"[^a-z0-9]+", "-", card.lower())}.json')
    atomic_write_json(path, result)
    print('\n'.join(summary_lines(result)))
    print(f'gpu_bench: wrote {path}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
