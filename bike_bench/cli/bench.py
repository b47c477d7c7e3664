"""``bike-bench bench``: measure evaluation and training speed on this machine."""
from __future__ import annotations

import argparse


def add_parser(subparsers):
    parser = subparsers.add_parser(
        'bench', help='measure throughput, pipeline efficiency, FLOPs (make bench)')
    parser.add_argument('--models', default=None,
                        help='comma-separated bench models (default tiny,vit-b-32; '
                        'known: tiny, vit-b-32, vit-b-16, vit-l-14, vit-l-14-336)')
    parser.add_argument('--out-dir', default='results/bench',
                        help='folder for <date>-<host>.json and .md (default results/bench)')
    parser.add_argument('--repeats', type=_positive, default=3,
                        help='timed runs per figure after warm-up (default 3)')
    parser.add_argument('--quick', action='store_true',
                        help='tiny model, 1 repeat, few videos: checks the bench runs '
                        '(used by the tests; the figures mean nothing)')
    parser.add_argument('--cache-dir', default='work_dirs/bench/videos',
                        help='where the synthetic bench videos are generated once')
    parser.add_argument('--device', default=None, choices=['cpu', 'cuda'],
                        help='run the device suite on cuda (levers, end to end, training, '
                        'K400 projection; default models vit-b-16,vit-l-14,vit-l-14-336) '
                        'or on cpu (its smoke run: use --models tiny). Without it: the '
                        'CPU bench of make bench, or the device suite when CUDA is present')
    parser.add_argument('--budget-s', type=float, default=None,
                        help='device suite: wall-time budget; steps that would not fit '
                        'are recorded as skipped (default 360 on cuda)')
    parser.add_argument('--workers', type=int, default=None,
                        help='device suite: DataLoader workers (default CPU count - 2 '
                        'on cuda, 0 on cpu)')
    parser.add_argument('--threads', type=_positive, default=None,
                        help="torch CPU threads (default: torch's own choice)")
    parser.add_argument('--compile', action='store_true',
                        help='also measure torch.compile of the image encoder (GPU)')
    parser.set_defaults(func=run)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f'must be >= 1, got {value}')
    return value


def run(args) -> int:
    import torch
    from bike_bench.benchmark import bench_models
    from bike_bench.benchmark.bench import run_bench
    device = args.device or ('cuda' if torch.cuda.is_available() else None)
    if device is not None and not args.quick:
        return _device_suite(args, device)
    default = 'tiny' if args.quick else 'tiny,vit-b-32'
    try:
        models = bench_models.parse_names(args.models or default)
    except ValueError as error:
        raise SystemExit(f'bike-bench bench: {error}')
    paths = run_bench(models, out_dir=args.out_dir, repeats=args.repeats,
                      quick=args.quick, cache_dir=args.cache_dir, device=args.device,
                      compile_model=args.compile, threads=args.threads)
    print(f'bench results: {paths["json"]}\nbench table:   {paths["markdown"]}')
    return 0


def _device_suite(args, device: str) -> int:
    import os

    import torch
    from bike_bench.benchmark import bench_models, device_suite
    from bike_bench.benchmark.bench import run_device_bench
    if device == 'cuda' and not torch.cuda.is_available():
        raise SystemExit(f'error: --device cuda: no CUDA device is available (torch '
                         f'{torch.__version__}, CUDA build {torch.version.cuda}); use '
                         '--device cpu --models tiny for a smoke run')
    default = device_suite.DEFAULT_MODELS if device == 'cuda' else 'tiny'
    try:
        models = bench_models.parse_names(args.models or default)
    except ValueError as error:
        raise SystemExit(f'bike-bench bench: {error}')
    if device == 'cuda':
        plan = device_suite.DevicePlan(workers=args.workers if args.workers is not None
                                       else max(0, (os.cpu_count() or 2) - 2))
    else:
        plan = device_suite.DevicePlan.smoke(workers=args.workers or 0)
    if args.budget_s is not None:
        plan.budget_s = args.budget_s
    paths = run_device_bench(models, device, out_dir=args.out_dir,
                             cache_dir=args.cache_dir, plan=plan)
    print(f'bench results: {paths["json"]}\nbench table:   {paths["markdown"]}')
    return 0
