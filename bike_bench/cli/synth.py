"""``bike-bench synth --out DIR``: the synthetic benchmark.

Writes deterministic, decodable videos whose classes are named in words
("red circle moving left") in each of the six datasets' own annotation
formats, builds their manifests with the same builders real data uses, and
writes the smoke split (``DIR/manifests/smoke_{train,val}.jsonl``, fixed
size, for the smoke config). See ``bike_bench.datasets.synthetic_benchmark``.

``bike-bench synth --like LIST --out DIR``: stand-in videos (tiny clips)
named and labelled as the official list LIST, for a real-size rehearsal of
build, check and coverage on a CPU (``bike_bench.datasets.synth_like``).
"""
from __future__ import annotations


def add_parser(subparsers):
    parser = subparsers.add_parser('synth', help='write the synthetic benchmark '
                                   "in the six datasets' formats")
    parser.add_argument('--out', help='output folder (default data/synthetic '
                        'under the root)')
    parser.add_argument('--classes', type=int, default=8,
                        help='classes per dataset flavour (default 8)')
    parser.add_argument('--videos-per-class', type=int, default=4,
                        help='training videos per class (default 4)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--num-frames', type=int,
                        help='frames per trimmed clip (untrimmed: twice as many; '
                        'default 16, with --like 8)')
    parser.add_argument('--frames', action='store_true',
                        help='UCF-101 and HMDB-51 flavours as frame folders with '
                        'the official BIKE frame lists')
    parser.add_argument('--flavours', nargs='+', metavar='DATASET',
                        help='only these flavours (default: all six)')
    parser.add_argument('--no-smoke', action='store_true',
                        help='do not write the smoke split')
    parser.add_argument('--like', metavar='LIST', help='write stand-ins named and '
                        'labelled as this official list (e.g. '
                        'kinetics_video_val_se320.txt) instead of the benchmark')
    parser.add_argument('--class-table', metavar='FILE', help='--like: the list\'s '
                        'class table, when it is not beside the list')
    parser.add_argument('--dataset', help='--like: the dataset whose spec names the '
                        'list (when its file name fits several)')
    parser.add_argument('--size', type=int, default=32,
                        help='--like: stand-in frame size in pixels (default 32)')
    parser.set_defaults(func=run)


def run_like(args) -> int:
    import sys
    from bike_bench.datasets.builders.sources import SourceError
    from bike_bench.datasets.synth_like import write_like
    if args.out is None:
        from bike_bench.paths import user_path
        stem = args.like.replace('\\', '/').rstrip('/').split('/')[-1].rsplit('.', 1)[0]
        args.out = user_path('data', 'synthetic-like', stem)
    try:
        outcome = write_like(args.like, args.out, classes=args.class_table,
                             dataset=args.dataset, num_frames=args.num_frames or 8,
                             size=args.size)
    except (SourceError, FileNotFoundError) as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    print(f'{outcome.entries} stand-ins of {outcome.dataset}/{outcome.format} '
          f'{outcome.manifest} in {outcome.out} ({outcome.written} written, '
          f'{outcome.kept} already there, {outcome.replaced} replaced) in '
          f'{outcome.seconds:.1f} s')
    print(f'next: {outcome.build_command}')
    return 0


def run(args) -> int:
    if args.like:
        return run_like(args)
    import time
    from tabulate import tabulate
    from bike_bench.datasets.synthetic_benchmark import (FLAVOURS, SynthConfig,
                                                         write_benchmark)
    cfg = SynthConfig(classes=args.classes, videos_per_class=args.videos_per_class,
                      seed=args.seed, num_frames=args.num_frames or 16,
                      frames=args.frames)
    if args.out is None:
        from bike_bench.paths import user_path
        args.out = user_path('data', 'synthetic')
    start = time.perf_counter()
    outcomes = write_benchmark(args.out, cfg, args.flavours or FLAVOURS,
                               smoke=not args.no_smoke)
    seconds = time.perf_counter() - start
    rows = []
    for name, outcome in outcomes.items():
        if name == 'smoke':
            rows.extend({'dataset': 'smoke', 'format': '-', 'manifest': split,
                         'entries': None, 'path': path}
                        for split, path in outcome.items() if split != 'classes')
            continue
        for row in outcome.rows():
            rows.append({'dataset': name, 'format': outcome.format,
                         'manifest': row['manifest'], 'entries': row['entries'],
                         'path': row['path']})
    print(tabulate(rows, headers='keys'))
    print(f'synthetic benchmark written to {args.out} in {seconds:.1f} s')
    return 0
