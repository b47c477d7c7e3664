"""``bike-bench reproduce`` and ``bike-bench tables``."""
from __future__ import annotations


def add_parser(subparsers):
    parser = subparsers.add_parser(
        'reproduce', help='run the paper\'s experiments (smoke scale without '
        'data) and regenerate the tables')
    parser.add_argument('--data-root', help='datasets folder (layout of '
                        'manifests/README.md); without it the synthetic '
                        'benchmark is used at smoke scale on the CPU')
    parser.add_argument('--checkpoints', help='folder with the official '
                        'checkpoints (default checkpoints/)')
    parser.add_argument('--only', nargs='+', metavar='ENTRY',
                        help='run only these registry entries (name or part)')
    parser.add_argument('--runs-dir', help='results folder (default: '
                        'work_dirs/reproduce/runs, then an agreement report against '
                        'the committed results/runs; give results/runs to regenerate '
                        'the committed reference runs)')
    parser.add_argument('--tables-dir', help='tables folder (default '
                        'work_dirs/reproduce/tables; results/tables with --runs-dir)')
    parser.add_argument('--work-dir', help='checkpoints and logs of the runs '
                        '(default work_dirs/reproduce)')
    parser.add_argument('--synth-root', help='where the synthetic benchmark is '
                        'written (default data/synthetic)')
    parser.add_argument('--rerun', action='store_true',
                        help='run every smoke twin again, even those whose '
                        'results are already in results/runs/')
    parser.add_argument('--keep-stale', action='store_true',
                        help='keep results measured with other code (stale) '
                        'instead of running them again; their table cells are '
                        'marked as measured with an older commit')
    parser.add_argument('--list', action='store_true',
                        help='list the registry entries and their smoke twins')
    parser.set_defaults(func=run)

    tables = subparsers.add_parser(
        'tables', help='rebuild the tables from results/ (runs nothing)')
    tables.add_argument('--runs-dir', help='results folder (default results/runs)')
    tables.add_argument('--out', help='tables folder (default results/tables)')
    tables.set_defaults(func=run_tables)

    ci = subparsers.add_parser(
        'ci-regression', help='run the smoke suite and compare with '
        'results/ci_baseline.json')
    ci.add_argument('--baseline', help='baseline JSON (default results/ci_baseline.json)')
    ci.add_argument('--update-baseline', action='store_true',
                    help='write the measured metrics as the new baseline')
    ci.add_argument('--seeds', type=int, nargs='+', default=[0],
                    help='with --update-baseline: training seeds whose spread sets '
                    'each metric\'s tolerance (e.g. 0 1 2); checking runs the first')
    ci.set_defaults(func=run_ci)


def run(args) -> int:
    from bike_bench.reproduction import reproduce as reproduce_mod
    if args.list:
        from bike_bench.reproduction.registry import build_registry
        from tabulate import tabulate
        entries = build_registry()
        by_id = {e.id: e for e in entries}
        rows = [[e.id, e.protocol, e.views, e.frames,
                 ', '.join(f'{r.table}/{r.row}' for r in e.paper_rows),
                 e.twin().__class__.of(e, by_id).id] for e in entries]
        print(tabulate(rows, headers=['entry', 'protocol', 'views', 'frames',
                                      'paper rows', 'smoke twin']))
        return 0
    kwargs = {}
    local = not args.data_root and not args.runs_dir
    if local:
        # Measure on this machine into a local folder, never over the
        # committed reference runs; compare with them afterwards.
        kwargs['runs_dir'] = reproduce_mod.LOCAL_RUNS_DIR
        args.tables_dir = args.tables_dir or reproduce_mod.LOCAL_TABLES_DIR
    if args.runs_dir:
        kwargs['runs_dir'] = args.runs_dir
    if args.work_dir:
        kwargs['work_dir'] = args.work_dir
    if args.synth_root:
        kwargs['synth_root'] = args.synth_root
    outcome = reproduce_mod.reproduce(data_root=args.data_root,
                                      checkpoints=args.checkpoints, only=args.only,
                                      tables_dir=args.tables_dir, rerun=args.rerun,
                                      keep_stale=args.keep_stale, **kwargs)
    if local:
        from bike_bench.reproduction.agreement import report
        text, agreed = report(kwargs['runs_dir'], reproduce_mod.RUNS_DIR)
        print(text)
        if not agreed:
            return 1
    return 0 if not outcome.missing or args.data_root else 1


def run_tables(args) -> int:
    from bike_bench.evaluation.results import ResultsFileError
    from bike_bench.reproduction.tables import RUNS_DIR, build_tables
    try:
        written = build_tables(args.runs_dir or RUNS_DIR, args.out, echo=print)
    except ResultsFileError as error:
        print(f'tables: refusing a results file: {error}')
        return 2
    for path in written:
        print(path)
    return 0


def run_ci(args) -> int:
    from bike_bench.reproduction.ci_regression import BASELINE, ci_regression
    return ci_regression(args.baseline or BASELINE, update_baseline=args.update_baseline,
                         seeds=args.seeds)
