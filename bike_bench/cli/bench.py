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
    parser.add_argument('--device', default=None,
                        help='cpu or cuda (default: cuda when available)')
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
    from bike_bench.benchmark import bench_models
    from bike_bench.benchmark.bench import run_bench
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
