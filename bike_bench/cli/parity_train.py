"""``bike-bench parity-train FIXTURE``: replay an official training trajectory.

Builds the model, optimizer wrapper and param schedulers from a config
through MMEngine's Runner (as ``bike-bench train`` does) with the fixture's
settings, feeds the fixture's batches in order and compares every loss,
learning rate and final weight with the official run
(``bike_bench.tools.parity_train``). Exit status 0 when all are within
tolerance, 1 otherwise (the first divergence is named).
"""
from __future__ import annotations


def add_parser(subparsers):
    parser = subparsers.add_parser(
        'parity-train', help='replay an official training trajectory and compare '
        'losses, learning rates and final weights')
    parser.add_argument('fixture', help='trajectory fixture (training_trajectory.pt: '
                        'an official training run on a tiny CLIP)')
    parser.add_argument('--config', help='config whose training path is replayed '
                        '(default: the K400 ViT-B/16 paper config); the fixture '
                        'sets the architecture, data and hyperparameters')
    parser.add_argument('--schedule', choices=('official', 'smooth'),
                        help='replace the config\'s lr schedule by this preset '
                        '(default: keep the config\'s)')
    parser.add_argument('--work-dir', help='keep the runner\'s files here (default: '
                        'a temporary folder)')
    parser.set_defaults(func=run)


def run(args) -> int:
    from bike_bench.tools.parity_fixture import FixtureError
    from bike_bench.tools.parity_report import format_report
    from bike_bench.tools.parity_train import replay
    try:
        report = replay(args.fixture, config=args.config, work_dir=args.work_dir,
                        schedule=args.schedule)
    except (FixtureError, FileNotFoundError) as error:
        raise SystemExit(f'error: {error}') from None
    print(format_report(report))
    return 0 if report.ok else 1
