"""``bike-bench test CONFIG CHECKPOINT``: MMAction2's tools/test.py for BIKE."""
from __future__ import annotations

from bike_bench.cli.common import add_config_arguments, build_runner, load_config


def add_parser(subparsers):
    parser = subparsers.add_parser('test', help='evaluate a checkpoint')
    parser.add_argument('config', help='config file (mmconfigs/...)')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--dump', help='save per-video scores to this .pkl')
    add_config_arguments(parser)
    parser.set_defaults(func=run)


def run(args) -> int:
    cfg = load_config(args)
    cfg.load_from = args.checkpoint
    if args.dump:
        dump = dict(type='DumpResults', out_file_path=args.dump)
        evaluators = cfg.test_evaluator
        cfg.test_evaluator = (list(evaluators) if isinstance(evaluators, (list, tuple))
                              else [evaluators]) + [dump]
    runner = build_runner(cfg)
    runner.test()
    return 0
