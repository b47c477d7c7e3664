"""``bike-bench`` command line: one sub-command per module in this package.

Each command module exposes ``add_parser(subparsers)`` which registers its
parser and sets ``func`` (called with the parsed ``args``; its return value
is the exit code). To add a command, add one line to ``COMMANDS``.

Start-up stays under a second: importing ``bike_bench`` and the command
modules is light (argparse, PyYAML); torch, MMEngine and mmaction are
imported inside the ``func`` that needs them. Argument errors (a malformed
``--views``, an unknown dataset, a missing file or config) are argparse
errors (exit 2). Ctrl-C ends in ``error: interrupted`` (exit 130), also when
a library turned it into another error. Any other error ends in one
``error:`` line (exit 1); the traceback is shown with ``--debug`` (accepted
anywhere on the line).
"""
from __future__ import annotations

import argparse
import importlib
import os
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
    'new-config': 'new_config',
    'synth': 'synth',
    'zeroshot': 'zeroshot',
    'fewshot': 'fewshot',
    'reproduce': 'reproduce',
    'tables': 'reproduce',
    'ci-regression': 'reproduce',
    'attributes': 'attributes',
    'visualize': 'visualize',
    'bench': 'bench',
    'parity-train': 'parity_train',
    'pretrain-toy': 'pretrain_toy',
    'report': 'report',
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='bike-bench',
        description='Train, test and reproduce BIKE on MMAction2.')
    parser.add_argument('--root', metavar='DIR',
                        help='folder for results/, work_dirs/ and data/ '
                        '(default: $BIKE_BENCH_HOME, else the current folder)')
    parser.add_argument('--debug', action='store_true',
                        help='show the traceback of an error')
    subparsers = parser.add_subparsers(dest='command', metavar='COMMAND')
    for module_name in dict.fromkeys(COMMANDS.values()):
        module = importlib.import_module(f'bike_bench.cli.{module_name}')
        module.add_parser(subparsers)
    return parser


def _first_line(error: BaseException) -> str:
    lines = [line for line in str(error).splitlines() if line.strip()]
    if not lines:
        return type(error).__name__
    return lines[0] + (' (...)' if len(lines) > 1 else '')


def interrupted(error: BaseException) -> bool:
    """Whether ``error`` was caused by Ctrl-C (SIGINT) somewhere in its chain.

    Libraries catch everything in places: MMEngine formats the config with
    yapf under a bare ``except`` while it saves a checkpoint, so a Ctrl-C
    there surfaces as ``SyntaxError: Failed to format the config file``. The
    ``KeyboardInterrupt`` stays in the chain (``__context__``/``__cause__``).
    """
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, KeyboardInterrupt):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


def main(argv: Optional[List[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = '--debug' in argv
    argv = [arg for arg in argv if arg != '--debug']
    from bike_bench.utils.command import record_command
    record_command(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    args.debug = debug
    if not getattr(args, 'func', None):
        parser.print_help()
        return 2
    if args.root:
        from bike_bench.paths import HOME_ENV
        os.makedirs(args.root, exist_ok=True)
        os.environ[HOME_ENV] = os.path.abspath(args.root)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        if debug:
            raise
        print('error: interrupted', file=sys.stderr)
        return 130
    except Exception as error:  # noqa: BLE001 - one line unless --debug
        if debug:
            raise
        if interrupted(error):
            print('error: interrupted', file=sys.stderr)
            return 130
        print(f'error: {_first_line(error)}', file=sys.stderr)
        print('(run again with --debug for the traceback)', file=sys.stderr)
        return 1


if __name__ == '__main__':
    sys.exit(main())
