"""``bike-bench train CONFIG``: MMAction2's tools/train.py for BIKE configs.

Multi-GPU: ``torchrun --nproc_per_node=8 -m bike_bench.cli.main train CONFIG
--launcher pytorch``; slurm: ``srun ... bike-bench train CONFIG --launcher
slurm``.
"""
from __future__ import annotations

from bike_bench.cli.common import add_config_arguments, build_runner, load_config


def add_parser(subparsers):
    parser = subparsers.add_parser('train', help='train a model from a config')
    parser.add_argument('config', help='config file (mmconfigs/...)')
    parser.add_argument('--resume', nargs='?', type=str, const='auto',
                        help='resume from a checkpoint; without a path, from '
                        'the latest checkpoint in the work dir')
    parser.add_argument('--amp', action='store_true',
                        help='automatic mixed precision (GPUs)')
    parser.add_argument('--no-validate', action='store_true',
                        help='skip validation during training')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the lr by the actual/base batch size')
    parser.add_argument('--seed', type=int, help='random seed')
    parser.add_argument('--deterministic', action='store_true',
                        help='deterministic cuDNN / algorithms')
    parser.add_argument('--trust-checkpoint', action='store_true',
                        help='allow --resume / load_from checkpoints that hold '
                        'arbitrary pickled objects (only for files whose '
                        'origin you trust); by default they are refused')
    add_config_arguments(parser)
    parser.set_defaults(func=run)


def apply_train_options(cfg, args):
    if args.no_validate:
        cfg.val_cfg = None
        cfg.val_dataloader = None
        cfg.val_evaluator = None
    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    if args.auto_scale_lr:
        cfg.auto_scale_lr.enable = True
    if args.seed is not None or args.deterministic:
        randomness = dict(cfg.get('randomness') or {})
        if args.seed is not None:
            randomness['seed'] = args.seed
        randomness['deterministic'] = args.deterministic
        cfg.randomness = randomness
    return cfg


def run(args) -> int:
    import os
    import pickle
    cfg = apply_train_options(load_config(args), args)
    if args.trust_checkpoint:
        # torch.load's weights_only default is flipped for this process only.
        os.environ['TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD'] = '1'
    runner = build_runner(cfg)
    try:
        runner.train()
    except pickle.UnpicklingError as error:
        raise SystemExit(
            f'refusing to load a checkpoint that holds pickled objects other '
            f'than tensors and MMEngine state ({str(error).splitlines()[-1][:200]}). '
            'If you trust its origin, pass --trust-checkpoint.') from None
    return 0
