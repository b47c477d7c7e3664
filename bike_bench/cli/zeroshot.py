"""``bike-bench zeroshot CONFIG CHECKPOINT``: zero-shot evaluation
(docs/method.md#zeroshot).

``--protocol full`` (all classes), ``half`` (10 seeded half-class splits,
mean ± std) or ``k600`` (three 160-class Kinetics-600 splits). Manifests
come from ``--manifest`` or from ``--dataset`` in the layout of
manifests/README.md under ``--data-root``.
"""
from __future__ import annotations

from bike_bench import catalog
from bike_bench.cli.common import (add_config_arguments, add_verbose_argument,
                                   config_arg, dataset_arg, existing_file,
                                   load_config, quiet_runner_start)
from bike_bench.cli.test import add_evaluation_arguments
from bike_bench.protocols import ZEROSHOT_VARIANTS


def add_parser(subparsers):
    parser = subparsers.add_parser('zeroshot', help='zero-shot evaluation of a checkpoint')
    parser.add_argument('config', type=config_arg,
                        help='config file, or the name of a shipped config')
    parser.add_argument('checkpoint', type=existing_file('checkpoint'),
                        help='checkpoint file')
    parser.add_argument('--dataset', type=dataset_arg('zeroshot'),
                        help='a dataset whose spec (manifests/<dataset>.yaml) '
                        'has a zero-shot protocol, e.g. ucf101')
    parser.add_argument('--data-root', default='data',
                        help='folder holding the datasets (default: data)')
    parser.add_argument('--manifest', nargs='+',
                        help='manifest(s) to evaluate instead of the dataset\'s '
                        '(k600: the three split manifests)')
    parser.add_argument('--protocol', choices=ZEROSHOT_VARIANTS, default='full',
                        help='zero-shot protocol (default full)')
    parser.add_argument('--scoring', choices=['head', 'official-frame'], default='head',
                        help='head: the model\'s video head (default); '
                        'official-frame: per-frame CLIP similarity as the '
                        'official test_zeroshot.py scores its splits')
    parser.add_argument('--splits', type=int, default=10,
                        help='number of half-class splits (default 10)')
    add_evaluation_arguments(parser)
    from bike_bench.cli import coverage_option
    coverage_option.add_argument(parser)  # --min-coverage
    parser.add_argument('--trust-checkpoint', action='store_true',
                        help='load a checkpoint holding arbitrary pickled '
                        'objects (only for files whose origin you trust)')
    parser.add_argument('--out', help='results JSON (default: <work_dir>/results/'
                        '<run_id>_<key8>.json); a file of another run there is '
                        'refused before anything is evaluated')
    parser.add_argument('--dump', help='also save per-video raw outputs to this .pkl')
    add_verbose_argument(parser)
    add_config_arguments(parser)
    parser.set_defaults(func=run)


def run(args) -> int:
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner
    from bike_bench.checkpoint_io import CheckpointMismatchError, UntrustedCheckpointError
    from bike_bench.engine.launch import prepare_launcher
    from bike_bench.evaluation.layout import zeroshot_manifests
    from bike_bench.evaluation.results import ResultsConflictError, format_metrics
    from bike_bench.evaluation.results_hook import results_of
    from bike_bench.evaluation.zeroshot import zeroshot_test_config
    dataset = args.dataset
    if dataset is None and args.protocol == 'k600':  # its one dataset
        dataset = next(iter(catalog.zeroshot_datasets('k600')), None)
    if args.manifest:
        manifests, tables = args.manifest, None
    elif dataset:
        manifests, tables = zeroshot_manifests(dataset, args.data_root, args.protocol)
    else:
        raise SystemExit('give --dataset or --manifest')
    from bike_bench.datasets.coverage import CoverageError, cover_manifests
    cfg = load_config(args)
    try:  # videos present / listed, before anything runs (--min-coverage)
        manifests = cover_manifests(manifests, dataset or f'zeroshot_{args.protocol}',
                                    args.min_coverage, cfg.work_dir)
    except CoverageError as error:
        raise SystemExit(f'error: {error}') from None
    try:
        cfg = zeroshot_test_config(
            cfg, args.checkpoint, manifests, protocol=args.protocol,
            scoring=args.scoring, views=args.views, aggregation=args.aggregation,
            num_splits=args.splits, skip_bad_videos=args.skip_bad_videos,
            class_tables=tables, dataset_name=dataset, out=args.out, dump=args.dump,
            trust_checkpoint=args.trust_checkpoint)
        prepare_launcher(cfg)
        with quiet_runner_start(args.verbose):
            runner = RUNNERS.build(cfg) if 'runner_type' in cfg else Runner.from_cfg(cfg)
        runner.test()
    except UntrustedCheckpointError as error:
        raise SystemExit(str(error)) from None
    except (ResultsConflictError, CheckpointMismatchError) as error:
        raise SystemExit(f'error: {error}') from None
    results = results_of(runner)
    if results is not None:
        print(format_metrics(results))
        print(f'config: {results["config"]["path"]}')
        print(f'results: {results["path"]}')
    return 0
