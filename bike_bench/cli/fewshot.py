"""``bike-bench fewshot CONFIG --shots 1,2,5 --seeds 0,1,2``: few-shot protocol.

For every (shots, seed): draw K videos per class from the training manifest
(seeded, written as a manifest), train from the config, test the last
checkpoint (one results file each), then report mean ± std over seeds.
"""
from __future__ import annotations

import argparse

from bike_bench.cli.common import add_config_arguments, config_arg, dataset_arg, load_config
from bike_bench.cli.test import add_evaluation_arguments


def int_list(text: str):
    try:
        values = [int(part) for part in text.split(',') if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'expected comma-separated integers, got {text!r}') from None
    if not values:
        raise argparse.ArgumentTypeError(f'expected comma-separated integers, got {text!r}')
    return values


def add_parser(subparsers):
    parser = subparsers.add_parser('fewshot', help='few-shot training and evaluation')
    parser.add_argument('config', type=config_arg,
                        help='config file, or the name of a shipped config')
    parser.add_argument('--shots', type=int_list, default=[1, 2, 5],
                        help='videos per class, comma-separated (default 1,2,5)')
    parser.add_argument('--seeds', type=int_list, default=[0, 1, 2],
                        help='sampling/training seeds, comma-separated (default 0,1,2)')
    parser.add_argument('--train-manifest', help='manifest to sample from '
                        '(default: the config\'s training set)')
    parser.add_argument('--val-manifest', help='manifest to evaluate on '
                        '(default: the config\'s test set)')
    parser.add_argument('--dataset', type=dataset_arg('fewshot'),
                        help='take both manifests from this dataset '
                        '(ucf101, hmdb51: split --split; activitynet, kinetics400)')
    parser.add_argument('--data-root', default='data')
    parser.add_argument('--split', type=int, default=1)
    parser.add_argument('--max-epochs', type=int, help='override the schedule length')
    parser.add_argument('--no-validate', action='store_true',
                        help='no validation during training')
    parser.add_argument('--no-resume', action='store_true',
                        help='redo runs whose results file exists')
    parser.add_argument('--verbose', action='store_true',
                        help='debug-level log: MMEngine\'s environment and config dump '
                        '(torch build settings) on the console too, per-parameter '
                        'optimizer lines; the log file keeps the dump either way')
    add_evaluation_arguments(parser)
    add_config_arguments(parser)
    parser.set_defaults(func=run)


def run(args) -> int:
    from bike_bench.evaluation.fewshot import format_summary, run_fewshot
    from bike_bench.evaluation.layout import fewshot_manifests
    train, val = args.train_manifest, args.val_manifest
    if args.dataset:
        layout_train, layout_val = fewshot_manifests(args.dataset, args.data_root, args.split)
        train, val = train or layout_train, val or layout_val
    if args.skip_bad_videos:
        raise SystemExit('--skip-bad-videos is not available for few-shot runs')
    cfg = load_config(args)
    if args.verbose:
        cfg.log_level = 'DEBUG'
    summary = run_fewshot(cfg, shots=args.shots, seeds=args.seeds, train_manifest=train,
                          val_manifest=val, work_dir=cfg.work_dir, views=args.views,
                          aggregation=args.aggregation, validate=not args.no_validate,
                          max_epochs=args.max_epochs, resume=not args.no_resume)
    print(format_summary(summary['by_shots']))
    print(f'summary: {summary["path"]}')
    return 0
