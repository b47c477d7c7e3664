"""``bike-bench pretrain-toy``: the toy CLIP of the smoke configs."""
from __future__ import annotations


def add_parser(subparsers):
    parser = subparsers.add_parser(
        'pretrain-toy', help='pre-train the toy CLIP of the smoke configs on the '
        'synthetic benchmark (deterministic, a few minutes on the CPU)')
    parser.add_argument('--out', help='checkpoint to write (default: the committed '
                        'results/toy_clip/toy-clip_synthetic_fp16.pt; its .json '
                        'record is written beside it)')
    parser.add_argument('--steps', type=int, help='training steps (default: the '
                        'recipe\'s)')
    parser.add_argument('--seed', type=int, help='seed (default: the recipe\'s)')
    parser.add_argument('--no-temporal-probe', dest='temporal_probe', action='store_false',
                        default=None, help='pre-train on the plain mean of frames, '
                        'without the throw-away half-clip probe (default: the recipe\'s, '
                        'with it; docs/toy_clip.md)')
    parser.add_argument('--verify', action='store_true',
                        help='only check the checkpoint (--out; default the '
                        'committed one) against the sha256 of its record and print '
                        'the record\'s metrics')
    parser.set_defaults(func=run)


def run(args) -> int:
    import dataclasses
    from bike_bench.tools import toy_clip
    if args.verify:
        try:
            record = toy_clip.verify(args.out or toy_clip.CHECKPOINT)
        except (FileNotFoundError, ValueError) as error:
            print(f'error: {error}')
            return 1
        print(f'pretrain-toy: {record["checkpoint"]} sha256 {record["sha256"]} ok')
        for key, value in sorted(record['metrics'].items()):
            print(f'  {key}: {value:.3f}')
        return 0
    recipe = toy_clip.Recipe()
    changes = {k: v for k, v in (('steps', args.steps), ('seed', args.seed),
                                 ('temporal_probe', args.temporal_probe))
               if v is not None}
    recipe = dataclasses.replace(recipe, **changes)
    toy_clip.pretrain(recipe, out=args.out or toy_clip.resolve(toy_clip.CHECKPOINT))
    return 0
