"""``bike-bench bench``: measure evaluation and training speed on this machine."""
from __future__ import annotations

import argparse
import os


def add_parser(subparsers):
    parser = subparsers.add_parser(
        'bench', help='measure throughput, pipeline efficiency, FLOPs (make bench)')
    parser.add_argument('--models', default=None,
                        help='comma-separated bench models (default tiny,vit-b-32; with '
                        '--device cuda vit-b-16,vit-l-14,vit-l-14-336; known: tiny, '
                        'vit-b-32, vit-b-16, vit-l-14, vit-l-14-336)')
    parser.add_argument('--out-dir', default='results/bench',
                        help='folder for <date>-<host>.json (<date>-<card>.json with '
                        '--device) and its .md (default results/bench)')
    parser.add_argument('--repeats', type=_positive, default=3,
                        help='timed runs per figure after warm-up (default 3)')
    parser.add_argument('--quick', action='store_true',
                        help='tiny model, 1 repeat, few videos: checks the bench runs '
                        '(used by the tests; the figures mean nothing)')
    parser.add_argument('--cache-dir', default='work_dirs/bench/videos',
                        help='where the synthetic bench videos are generated once')
    parser.add_argument('--device', default=None, choices=['cpu', 'cuda'],
                        help='the device profile: on cuda every GPU section (levers, '
                        'data paths, training variants, K400 projection), on cpu its '
                        'smoke run (use --models tiny). Without it: the CPU profile of '
                        'make bench, or the device profile when CUDA is present')
    parser.add_argument('--sections', default=None,
                        help='comma-separated sections to run instead of the profile\'s '
                        '(see bike_bench/benchmark/sections.py)')
    parser.add_argument('--budget-s', type=float, default=None,
                        help='device profile: wall-time budget; steps that would not fit '
                        'are recorded as skipped (default 360 on cuda)')
    parser.add_argument('--workers', type=int, default=None,
                        help='device profile: DataLoader workers (default CPU count - 2 '
                        'on cuda, 0 on cpu)')
    parser.add_argument('--threads', type=_positive, default=None,
                        help="torch CPU threads (default: torch's own choice)")
    parser.add_argument('--compile', action='store_true',
                        help='CPU profile: also measure torch.compile of the image '
                        'encoder (GPU)')
    parser.set_defaults(func=run)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f'must be >= 1, got {value}')
    return value


def profile_of(args, cuda_available: bool) -> str:
    """The bench profile the options ask for."""
    if args.quick:
        return 'quick'
    device = args.device or ('cuda' if cuda_available else None)
    if device is None:
        return 'cpu'
    return 'device' if device == 'cuda' else 'device-smoke'


def run(args) -> int:
    import torch

    from bike_bench.benchmark import bench, bench_models, sections as bench_sections
    from bike_bench.benchmark.plans import DevicePlan
    profile = profile_of(args, torch.cuda.is_available())
    device = args.device or ('cuda' if profile == 'device' else None)
    if device == 'cuda' and not torch.cuda.is_available():
        raise SystemExit(f'error: --device cuda: no CUDA device is available (torch '
                         f'{torch.__version__}, CUDA build {torch.version.cuda}); use '
                         '--device cpu --models tiny for a smoke run')
    try:
        models = bench_models.parse_names(args.models or bench.DEFAULT_MODELS[profile])
        sections = ([s.strip() for s in args.sections.split(',') if s.strip()]
                    if args.sections else None)
        bench_sections.select_sections(sections, profile)
    except ValueError as error:
        raise SystemExit(f'bike-bench bench: {error}')
    plan = None
    if profile == 'device':
        plan = DevicePlan(workers=args.workers if args.workers is not None
                          else max(0, (os.cpu_count() or 2) - 2))
    elif profile == 'device-smoke':
        plan = DevicePlan.smoke(workers=args.workers or 0)
    if plan is not None and args.budget_s is not None:
        plan.budget_s = args.budget_s
    paths = bench.run_bench(models, profile=profile, device=device, out_dir=args.out_dir,
                            repeats=args.repeats, cache_dir=args.cache_dir,
                            sections=sections, device_plan=plan,
                            compile_model=args.compile, threads=args.threads)
    print(f'bench results: {paths["json"]}\nbench table:   {paths["markdown"]}')
    return 0
