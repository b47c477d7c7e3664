"""``bike-bench test CONFIG CHECKPOINT``: evaluate and write a results file.

MMAction2's tools/test.py for BIKE: the config with the options applied
and ``load_from`` = the checkpoint is written first
(``evaluation.harness.test_config``), then MMEngine's ``Runner.from_cfg``
on it and ``runner.test()``; the hooks in that file load the checkpoint and
write the results file. The evaluation protocol options:
``--views 4x3`` (C clips x S crops), ``--aggregation official|mean``,
``--skip-bad-videos`` and ``--out results.json``. The results file
(``bike_bench.evaluation.results``) records metrics, views, aggregation,
dataset and checkpoint hashes, the resolved config, environment and counts.
"""
from __future__ import annotations

from bike_bench.cli.common import (add_config_arguments, add_verbose_argument,
                                   config_arg, existing_file, load_config,
                                   quiet_runner_start, views_arg)


def add_evaluation_arguments(parser) -> None:
    """Options shared by test, zeroshot and fewshot."""
    parser.add_argument('--views', metavar='CxS', type=views_arg,
                        help='test views: C temporal clips x S spatial crops '
                        '(S = 1 centre crop or 3 official crops), e.g. 4x3; '
                        'default: the config\'s test pipeline')
    parser.add_argument('--aggregation', choices=['official', 'mean'],
                        help='multi-view scores: official (softmax per view, '
                        'mean, softmax) or mean of probabilities; default: '
                        'the config\'s (official)')
    parser.add_argument('--skip-bad-videos', action='store_true',
                        help='skip unreadable videos and list them in the '
                        'results file (default: stop with an error naming it)')


def add_parser(subparsers):
    parser = subparsers.add_parser('test', help='evaluate a checkpoint')
    parser.add_argument('config', type=config_arg,
                        help='config file, or the name of a shipped config')
    parser.add_argument('checkpoint', type=existing_file('checkpoint'),
                        help='checkpoint file')
    add_evaluation_arguments(parser)
    from bike_bench.cli import coverage_option
    coverage_option.add_argument(parser)  # --min-coverage
    parser.add_argument('--out', help='results JSON (default: <work_dir>/results/'
                        '<run_id>_<key8>.json); a file of another run there is '
                        'never replaced')
    parser.add_argument('--dump', help='also save per-video scores to this .pkl')
    parser.add_argument('--trust-checkpoint', action='store_true',
                        help='load a checkpoint holding arbitrary pickled '
                        'objects (only for files whose origin you trust)')
    add_verbose_argument(parser)
    add_config_arguments(parser)
    parser.set_defaults(func=run)


def run(args) -> int:
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner
    from bike_bench.checkpoint_io import CheckpointMismatchError, UntrustedCheckpointError
    from bike_bench.engine.launch import prepare_launcher
    from bike_bench.evaluation.harness import test_config
    from bike_bench.evaluation.results import ResultsConflictError, format_metrics
    from bike_bench.evaluation.results_hook import results_of
    from bike_bench.models.clip.text_towers import UnsupportedArchitecture
    from bike_bench.datasets.coverage import CoverageError, cover_manifest
    cfg = load_config(args)
    dataset = cfg.test_dataloader.dataset
    try:  # videos present / listed, before anything runs (--min-coverage)
        dataset.ann_file = cover_manifest(dataset.get('ann_file'), args.min_coverage,
                                          cfg.work_dir)
    except CoverageError as error:
        raise SystemExit(f'error: {error}') from None
    try:
        cfg = test_config(cfg, args.checkpoint, views=args.views,
                          aggregation=args.aggregation,
                          skip_bad_videos=args.skip_bad_videos, out=args.out,
                          dump=args.dump, trust_checkpoint=args.trust_checkpoint)
        prepare_launcher(cfg)
        with quiet_runner_start(args.verbose):
            runner = RUNNERS.build(cfg) if 'runner_type' in cfg else Runner.from_cfg(cfg)
        runner.test()
    except UntrustedCheckpointError as error:
        raise SystemExit(str(error)) from None
    except (UnsupportedArchitecture, ResultsConflictError, CheckpointMismatchError) as error:
        raise SystemExit(f'error: {error}') from None
    results = results_of(runner)
    if results is not None:
        print(format_metrics(results))
        print(f'config: {results["config"]["path"]}')
        print(f'results: {results["path"]}')
    return 0
