"""Shared CLI pieces: argument types, config loading with overrides,
launchers, work dirs.

The argument types check what can be checked without torch (files exist,
config names, ``--views``, dataset names) so that a mistake is an argparse
error (exit 2) naming the thing, before any heavy import.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys
import os.path as osp
from typing import Optional


def config_arg(text: str) -> str:
    """``type=`` for a config: a file, or the name of a shipped config
    (``bike_bench.paths.resolve_config``); unknown names get suggestions."""
    from bike_bench.paths import ConfigNotFoundError, resolve_config
    try:
        return resolve_config(text)
    except ConfigNotFoundError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def existing_file(what: str):
    """``type=`` for a file that must exist, e.g. ``existing_file('checkpoint')``."""
    def check(text: str) -> str:
        if not osp.isfile(text):
            problem = 'is a folder, not a file' if osp.isdir(text) else 'not found'
            raise argparse.ArgumentTypeError(f'{what} {problem}: {text}')
        return text
    check.__name__ = what.replace(' ', '_')
    return check


def views_arg(text: str) -> str:
    """``type=`` for ``--views CLIPSxCROPS``; returns the normalised label."""
    from bike_bench.protocols import parse_views
    try:
        return parse_views(text).label
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def dataset_arg(protocol: Optional[str] = None):
    """``type=`` for a dataset name or alias from the shipped specs
    (``bike_bench.catalog``); with ``protocol`` (``zeroshot``/``fewshot``)
    only datasets evaluated under it. Returns the dataset's own name."""
    def check(text: str) -> str:
        from bike_bench import catalog
        try:
            info = catalog.get(text)
        except catalog.UnknownDatasetError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
        if protocol and not getattr(info, protocol):
            able = [d.name for d in catalog.datasets().values() if getattr(d, protocol)]
            raise argparse.ArgumentTypeError(
                f'{info.name} has no {protocol} protocol; choose from {", ".join(able)}')
        return info.name
    check.__name__ = 'dataset'
    return check


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--work-dir', help='folder for logs and checkpoints '
                        '(default: work_dirs/<config name>)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        default={}, metavar='KEY=VALUE',
                        help='override config entries, e.g. '
                        'train_dataloader.batch_size=8 model.backbone.pretrained=None')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher (pytorch = torchrun)')
    # torchrun passes --local-rank (older launchers --local_rank)
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0,
                        help=argparse.SUPPRESS)


class DictAction(argparse.Action):
    """``KEY=VALUE`` pairs parsed like MMEngine's ``DictAction``."""

    def __call__(self, parser, namespace, values, option_string=None):
        from mmengine.config import DictAction as MMDictAction
        MMDictAction(self.option_strings, self.dest)(parser, namespace, values,
                                                      option_string)


def load_config(args):
    """Config from ``args.config`` with ``--cfg-options``, work dir, launcher."""
    from mmengine.config import Config
    from bike_bench.paths import resolve_config, user_path
    args.config = resolve_config(args.config)  # ConfigNotFoundError names it
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.launcher = args.launcher
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    if args.work_dir:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = user_path('work_dirs', osp.splitext(osp.basename(args.config))[0])
    return cfg


def build_runner(cfg):
    """An MMEngine Runner for training (``evaluation.runner.build_runner``,
    imported when called: ``bike-bench --help`` imports no MMEngine)."""
    from bike_bench.evaluation.runner import build_runner as build
    return build(cfg)


def add_verbose_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--verbose', action='store_true',
                        help='also print the whole config, the environment dump and '
                        'the hook table when the Runner starts (always in the log file)')


# What MMEngine's Runner prints as it starts that only ``--verbose`` shows.
VERBOSE_ONLY = (' - Config:\n', ' - Hooks will be executed in the following order:',
                '\nSystem environment:')  # MMEngine's environment dump (collect_env)


class _QuietStream:
    """A text stream that drops log records holding ``VERBOSE_ONLY`` text.

    ``logging.StreamHandler`` writes each record with one ``write`` call, so
    a record is dropped whole; everything else passes to ``stream``.
    """

    def __init__(self, stream):
        self._stream = stream

    def write(self, text):
        if any(marker in text for marker in VERBOSE_ONLY):
            return len(text)
        return self._stream.write(text)

    def __getattr__(self, name):
        return getattr(self._stream, name)


@contextlib.contextmanager
def quiet_runner_start(verbose: bool = False):
    """Within the block (building a Runner), the console shows neither the
    config dump nor the hook table unless ``verbose``; the log file under
    the work dir keeps both. The Runner's console handler keeps the filter
    after the block."""
    if verbose:
        yield
        return
    stream = sys.stdout
    sys.stdout = _QuietStream(stream)
    try:
        yield
    finally:
        sys.stdout = stream
