"""``bike-bench convert OFFICIAL.pt --out MODEL.pth [--config CONFIG]``.

Turns a checkpoint of the official BIKE release into an MMEngine checkpoint
(``{'meta', 'state_dict'}``) for ``BIKERecognizer``. With ``--config`` the
config's model is built (``pretrained=None``, no weights allocated) and the
converted weights must load into it strictly before anything is written.
"""
from __future__ import annotations

import sys

from bike_bench.cli.common import DictAction, config_arg, existing_file


def add_parser(subparsers):
    parser = subparsers.add_parser(
        'convert', help='convert an official BIKE checkpoint to MMEngine')
    parser.add_argument('checkpoint', type=existing_file('checkpoint'),
                        help='official checkpoint (.pt with '
                        'model_state_dict / fusion_model_state_dict)')
    parser.add_argument('--out', required=True, help='MMEngine checkpoint to write')
    parser.add_argument('--config', type=config_arg,
                        help='check that the result loads strictly '
                        'into this config\'s model')
    parser.add_argument('--allow-unplaced', action='store_true',
                        help='write the checkpoint even if some entries could '
                        'not be placed (they are listed and left out)')
    parser.add_argument('--trust-checkpoint', action='store_true',
                        help='convert a checkpoint holding arbitrary pickled '
                        'objects (only for files whose origin you trust); by '
                        'default such files are refused')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        default={}, metavar='KEY=VALUE',
                        help='override config entries before building the model')
    parser.set_defaults(func=run)


def run(args) -> int:
    from bike_bench.checkpoint_io import UntrustedCheckpointError
    from bike_bench.models.convert import (StateDictMismatchError,
                                           UnplacedKeysError,
                                           build_model_from_config,
                                           convert_file)
    model = None
    extra = {}
    if args.config:
        model = build_model_from_config(args.config, device='meta',
                                        cfg_options=args.cfg_options)
        extra['verified_with_config'] = args.config
    try:
        report = convert_file(args.checkpoint, args.out,
                              allow_unplaced=args.allow_unplaced, model=model,
                              trust=args.trust_checkpoint, **extra)
    except (UnplacedKeysError, StateDictMismatchError, UntrustedCheckpointError,
            FileNotFoundError, ValueError) as error:
        print(f'bike-bench convert: {error}', file=sys.stderr)
        return 1
    print(report.format())
    if model is not None:
        print(f'loads strictly into the model of {args.config}')
    print(f'wrote {args.out}')
    return 0
