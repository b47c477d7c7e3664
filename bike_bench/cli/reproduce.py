"""``bike-bench reproduce``, ``bike-bench tables`` and ``bike-bench ci-regression``.

Each builds its settings (``bike_bench.reproduction.settings``) from its
options and passes them down; every default folder lies under the output
root (``--root``, ``$BIKE_BENCH_HOME`` or the current folder).
"""
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
                        'the shipped reference runs; with --data-root results/runs; '
                        'maintainers give the checkout\'s results/runs to regenerate '
                        'the reference runs)')
    parser.add_argument('--tables-dir', help='tables folder (default: tables/ beside '
                        'the runs folder)')
    parser.add_argument('--readme', metavar='PATH',
                        help='also update the tables index of this README '
                        '(maintainers: results/README.md); by default no README '
                        'is touched')
    parser.add_argument('--work-dir', help='checkpoints and logs of the runs '
                        '(default work_dirs/reproduce)')
    parser.add_argument('--synth-root', help='where the synthetic benchmark is '
                        'written (default data/synthetic)')
    parser.add_argument('--smoke-epochs', type=int, metavar='N',
                        help='train every smoke twin for N epochs (default 6 from '
                        'the toy CLIP, 4 fine-tuned or few-shot); other than the '
                        'default, the runs do not agree with the reference')
    parser.add_argument('--seed', type=int, default=0,
                        help='training seed of every smoke twin (default 0, the '
                        'reference runs\' seed)')
    parser.add_argument('--rerun', action='store_true',
                        help='run every smoke twin again, even those whose '
                        'results are already in the runs folder')
    parser.add_argument('--keep-stale', action='store_true',
                        help='keep results measured with other code (stale) '
                        'instead of running them again; their table cells are '
                        'marked as measured with an older commit')
    from bike_bench.cli import coverage_option
    coverage_option.add_argument(parser)  # --min-coverage (with --data-root)
    parser.add_argument('--list', action='store_true',
                        help='list the registry entries and their smoke twins')
    add_executor_arguments(parser)
    parser.set_defaults(func=run)

    tables = subparsers.add_parser(
        'tables', help='rebuild the tables from a runs folder (runs nothing)')
    tables.add_argument('--runs-dir', help='results folder (default results/runs '
                        'under the output root)')
    tables.add_argument('--out', help='tables folder (default: tables/ beside the '
                        'runs folder)')
    tables.add_argument('--readme', metavar='PATH',
                        help='also update the tables index of this README '
                        '(maintainers: results/README.md)')
    tables.set_defaults(func=run_tables)

    ci = subparsers.add_parser(
        'ci-regression', help='run the smoke suite and compare with the shipped '
        'baseline (results/ci_baseline.json)')
    ci.add_argument('--baseline', help='baseline JSON (default: the shipped '
                    'results/ci_baseline.json; with --update-baseline '
                    'results/ci_baseline.json under the output root)')
    ci.add_argument('--update-baseline', action='store_true',
                    help='write the measured metrics as the new baseline')
    ci.add_argument('--seeds', type=int, nargs='+', default=[0],
                    help='with --update-baseline: training seeds whose spread sets '
                    'each metric\'s tolerance (e.g. 0 1 2); checking runs the first')
    ci.add_argument('--work-dir', help='checkpoints and logs of the suite (default: '
                    'a temporary folder)')
    ci.set_defaults(func=run_ci)


def add_executor_arguments(parser) -> None:
    """``--executor`` and its Slurm resources, ``--train``, ``--status``
    (``bike_bench.reproduction.executors``; README, "On a Slurm cluster")."""
    group = parser.add_argument_group('executors (submitit)')
    group.add_argument('--executor', choices=('inline', 'local', 'slurm'),
                       default='inline',
                       help='inline: every run in this process (default); local: '
                       'each a submitit job on this machine; slurm: job arrays '
                       'through submitit, dependencies through Slurm')
    group.add_argument('--train', action='store_true',
                       help='train the entries without a released checkpoint '
                       '(few-shot: one job per seed), then evaluate them')
    group.add_argument('--status', action='store_true',
                       help='one line per cell (done, queued, running, failed '
                       'with its log, stale, missing with what); runs nothing')
    group.add_argument('--partition', help='Slurm partition')
    group.add_argument('--gpus-per-node', type=int, default=0, metavar='G',
                       help='GPUs (and tasks: MMEngine --launcher slurm) per job')
    group.add_argument('--nodes', type=int, default=1, help='nodes per job')
    group.add_argument('--timeout-min', type=int, default=24 * 60, metavar='MIN',
                       help='time limit of a job (default 1440); a training is '
                       'requeued from its last checkpoint when it is reached')
    group.add_argument('--array-parallelism', type=int, default=64, metavar='N',
                       help='jobs of an array running at once (local: at once)')
    group.add_argument('--slurm-extra', nargs='+', default=[], metavar='KEY=VALUE',
                       help='further sbatch options, e.g. account=proj qos=high')


def executor_options(args):
    """The ``ExecutorOptions`` of the command line (argparse error text on a
    malformed one)."""
    from bike_bench.reproduction.executors import ExecutorOptions, parse_extra
    return ExecutorOptions(
        kind=args.executor, train=args.train, partition=args.partition,
        gpus_per_node=args.gpus_per_node, nodes=args.nodes,
        timeout_min=args.timeout_min, array_parallelism=args.array_parallelism,
        slurm_extra=parse_extra(args.slurm_extra))


def settings_from(args):
    """The ``ReproduceSettings`` of ``bike-bench reproduce``'s options."""
    from bike_bench.reproduction.settings import (ReproduceSettings, SmokeSettings,
                                                  user_runs_dir)
    runs_dir = args.runs_dir or (user_runs_dir() if args.data_root else None)
    return ReproduceSettings.under(
        runs_dir=runs_dir, work_dir=args.work_dir, synth_root=args.synth_root,
        tables_dir=args.tables_dir, readme=args.readme,
        smoke=SmokeSettings.with_epochs(args.smoke_epochs, seed=args.seed))


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
    settings = settings_from(args)
    try:
        options = executor_options(args)
    except ValueError as error:
        print(f'reproduce: {error}')
        return 2
    if args.status:
        from bike_bench.reproduction.status import status
        states = status(settings, options, data_root=args.data_root,
                        checkpoints=args.checkpoints, only=args.only)
        return 0 if all(s == 'done' for s in states.values()) else 1
    from bike_bench.reproduction.executors import build_executor
    executor = build_executor(options, settings)
    # Without --runs-dir (and data) the suite is measured into a local
    # folder, never over the reference runs, and compared with them after.
    local = not args.data_root and not args.runs_dir
    outcome = reproduce_mod.reproduce(settings, data_root=args.data_root,
                                      checkpoints=args.checkpoints, only=args.only,
                                      rerun=args.rerun, keep_stale=args.keep_stale,
                                      min_coverage=args.min_coverage,
                                      executor=executor)
    if args.executor == 'slurm' and outcome.submitted:
        return 0  # the jobs run later; --status watches them
    if outcome.failed:
        return 1
    if local:
        from bike_bench.reproduction.agreement import report
        text, agreed = report(settings.runs_dir)
        print(text)
        if not agreed:
            return 1
    return 0 if not outcome.missing or args.data_root else 1


def run_tables(args) -> int:
    from bike_bench.evaluation.results import ResultsFileError
    from bike_bench.reproduction.settings import user_runs_dir
    from bike_bench.reproduction.tables import build_tables
    try:
        written = build_tables(args.runs_dir or user_runs_dir(), args.out,
                               readme=args.readme, echo=print)
    except ResultsFileError as error:
        print(f'tables: refusing a results file: {error}')
        return 2
    for path in written:
        print(path)
    return 0


def run_ci(args) -> int:
    from bike_bench.reproduction.ci_regression import ci_regression
    return ci_regression(args.baseline, update_baseline=args.update_baseline,
                         seeds=args.seeds, work_dir=args.work_dir)
