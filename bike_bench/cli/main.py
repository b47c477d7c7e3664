"""``bike-bench`` command line: one sub-command per module in this package.

Each command module exposes ``add_parser(subparsers)`` which registers its
parser and sets ``func`` (called with the parsed ``args``; its return value
is the exit code). Command modules keep heavy imports (torch, mmaction)
inside their functions so ``bike-bench --help`` stays fast.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import List, Optional

# command name -> module under bike_bench.cli
COMMANDS = {
    'doctor': 'doctor',
    'train': 'train',
    'test': 'test',
    'compare-logs': 'compare_logs',
    'convert': 'convert',
    'manifests': 'manifests',
    'synth': 'synth',
    'zeroshot': 'zeroshot',
    'fewshot': 'fewshot',
    'reproduce': 'reproduce',
    'tables': 'reproduce',
    'ci-regression': 'reproduce',
    'attributes': 'attributes',
    'visualize': 'visualize',
    'bench': 'bench',
    # issue 13 (helper i13): toy CLIP and per-run reports
    'pretrain-toy': 'pretrain_toy',
    'report': 'report',
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='bike-bench',
        description='Train, test and reproduce BIKE on MMAction2.')
    subparsers = parser.add_subparsers(dest='command', metavar='COMMAND')
    for module_name in dict.fromkeys(COMMANDS.values()):
        module = importlib.import_module(f'bike_bench.cli.{module_name}')
        module.add_parser(subparsers)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, 'func', None):
        parser.print_help()
        return 2
    return int(args.func(args) or 0)


if __name__ == '__main__':
    sys.exit(main())
