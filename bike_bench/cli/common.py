"""Shared CLI pieces: config loading with overrides, launchers, work dirs."""
from __future__ import annotations

import argparse
import copy
import os
import os.path as osp


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
    if not osp.isfile(args.config):
        raise SystemExit(f'config not found: {args.config}')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.launcher = args.launcher
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    if args.work_dir:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('work_dirs', osp.splitext(osp.basename(args.config))[0])
    return cfg


def build_runner(cfg):
    """An MMEngine Runner (or the config's own ``runner_type``)."""
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner
    import bike_bench.models  # noqa: F401  (registries and compat)
    from bike_bench.engine.launch import prepare_launcher
    from bike_bench.evaluation.evaluator import use_sample_index_evaluator
    cfg = copy.deepcopy(cfg)  # the caller's config is left as it was
    # Every metric and dump counts each video once, on any number of ranks.
    use_sample_index_evaluator(cfg)
    prepare_launcher(cfg)
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)
