"""``bike-bench train CONFIG``: MMAction2's tools/train.py for BIKE configs.

Multi-GPU: ``torchrun --nproc_per_node=8 -m bike_bench.cli.main train CONFIG
--launcher pytorch``; slurm: ``srun ... bike-bench train CONFIG --launcher
slurm``.

Unreadable training videos are skipped, named in the log and recorded in
``<work_dir>/skipped_samples.json`` (never replaced by another video);
``--fail-on-bad-videos`` stops at the first one instead.
"""
from __future__ import annotations

from bike_bench.cli.common import (add_config_arguments, build_runner, config_arg,
                                   load_config)


def add_parser(subparsers):
    parser = subparsers.add_parser('train', help='train a model from a config')
    parser.add_argument('config', type=config_arg,
                        help='config file, or the name of a shipped config')
    parser.add_argument('--resume', nargs='?', type=str, const='auto',
                        help='resume from a checkpoint; without a path, from '
                        'the checkpoint the work dir\'s last_checkpoint names, '
                        'looked up inside the work dir first (a copied work dir '
                        'resumes from its own file)')
    parser.add_argument('--resume-from', metavar='PATH',
                        help='resume from this checkpoint (explicit; same as '
                        '--resume PATH)')
    parser.add_argument('--amp', action='store_true',
                        help='automatic mixed precision (GPUs)')
    parser.add_argument('--no-validate', action='store_true',
                        help='skip validation during training')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the lr by the actual/base batch size')
    parser.add_argument('--seed', type=int, help='random seed')
    parser.add_argument('--deterministic', action='store_true',
                        help='deterministic cuDNN / algorithms')
    parser.add_argument('--fail-on-bad-videos', action='store_true',
                        help='stop at the first unreadable training video '
                        '(default: skip it, warn, and record it in '
                        '<work_dir>/skipped_samples.json)')
    parser.add_argument('--trust-checkpoint', action='store_true',
                        help='allow --resume / load_from checkpoints that hold '
                        'arbitrary pickled objects (only for files whose '
                        'origin you trust); by default they are refused')
    parser.add_argument('--verbose', action='store_true',
                        help='debug-level log: MMEngine\'s per-parameter '
                        'optimizer lines (frozen parameters, lr/decay options)')
    add_config_arguments(parser)
    parser.set_defaults(func=run)


def apply_train_options(cfg, args):
    from bike_bench.evaluation.skipping import prepare_train_skipping
    prepare_train_skipping(cfg, skip=not getattr(args, 'fail_on_bad_videos', False))
    if args.no_validate:
        cfg.val_cfg = None
        cfg.val_dataloader = None
        cfg.val_evaluator = None
    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if getattr(args, 'resume_from', None):
        if args.resume not in (None, args.resume_from):
            raise SystemExit('error: give --resume or --resume-from, not both')
        args.resume = args.resume_from
    if args.resume == 'auto':
        from bike_bench.checkpoint_io import resume_checkpoint
        try:
            found, note = resume_checkpoint(cfg.work_dir)
        except FileNotFoundError as error:
            raise SystemExit(f'error: {error}') from None
        if note:
            print(note)
        cfg.resume = True
        cfg.load_from = found  # None: MMEngine starts afresh (and says so)
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    if args.auto_scale_lr:
        cfg.auto_scale_lr.enable = True
    if getattr(args, 'verbose', False):
        cfg.log_level = 'DEBUG'
    if args.seed is not None or args.deterministic:
        randomness = dict(cfg.get('randomness') or {})
        if args.seed is not None:
            randomness['seed'] = args.seed
        randomness['deterministic'] = args.deterministic
        cfg.randomness = randomness
    return cfg


def run(args) -> int:
    import pickle
    from bike_bench.checkpoint_io import refusal_message
    from bike_bench.datasets.transforms.decoding import VideoReadError
    from bike_bench.engine import NonFiniteLossError
    from bike_bench.models.clip.text_towers import UnsupportedArchitecture
    from bike_bench.engine.run_config import materialize
    from bike_bench.evaluation.provenance import code_identity
    code_identity()  # before this run writes anything
    # The file that trains: the config with the options applied, written first.
    cfg = materialize(apply_train_options(load_config(args), args))
    print(f'config: {cfg.filename}')
    from bike_bench.checkpoint_io import trusted_loading
    try:
        with trusted_loading(args.trust_checkpoint):
            build_runner(cfg).train()
    except VideoReadError as error:
        hint = ('--fail-on-bad-videos; without it unreadable training videos '
                'are skipped and recorded in skipped_samples.json'
                if args.fail_on_bad_videos else 'validation videos are never '
                'skipped; `bike-bench manifests check --probe-decode '
                '--skip-missing OUT` writes a manifest without them')
        raise SystemExit(f'training stopped at an unreadable video: {error} '
                         f'({hint})') from None
    except NonFiniteLossError as error:
        raise SystemExit(f'training stopped: {error}') from None
    except pickle.UnpicklingError as error:
        raise SystemExit(refusal_message(_checkpoint_in_use(cfg), error)) from None
    except UnsupportedArchitecture as error:
        raise SystemExit(f'error: {error}') from None
    return 0


def _checkpoint_in_use(cfg) -> str:
    """The checkpoint ``runner.train()`` loads (resume or ``load_from``)."""
    if cfg.get('load_from'):
        return str(cfg.load_from)
    return 'the latest checkpoint'

