"""``bike-bench attributes``: the attributes branch's data and checkpoints.

``generate`` names every video with its top-k lexicon phrases (frozen CLIP)::

    bike-bench attributes generate CONFIG --manifest data/k400/manifests/val.jsonl \\
        --lexicon classes --topk 5 --pretrained openai --arch ViT-L-14 \\
        --out data/k400/attributes/val.json

It writes the official JSON layout (``{path: {"classname_topk": [...],
"scores": [...]}}``) plus ``<out>.meta.json``; re-running the same command
after an interruption continues from the entries already written.

``combine VIDEO.pth ATTRIBUTES.pth --out VA.pth`` joins separately trained
branches (the official protocol) into one checkpoint for a V+A config.
"""
from __future__ import annotations

import json

from bike_bench.cli.common import DictAction, config_arg, existing_file


def add_parser(subparsers):
    parser = subparsers.add_parser(
        'attributes', help='video attributes for the attributes branch')
    commands = parser.add_subparsers(dest='attributes_command', metavar='ACTION')
    parser.set_defaults(func=lambda args: parser.print_help() or 2)
    gen = commands.add_parser(
        'generate', help='name each video with its top-k lexicon phrases')
    gen.add_argument('config', type=config_arg,
                     help='config whose val pipeline samples the '
                     'frames and whose backbone is the default CLIP')
    gen.add_argument('--manifest', required=True, help='videos to describe')
    gen.add_argument('--out', required=True, help='attributes JSON to write')
    gen.add_argument('--lexicon', default='classes',
                     help='phrase file (one per line, or an id,name table), '
                     'or "classes" for the manifest\'s class names (default)')
    gen.add_argument('--topk', type=int, default=5, help='phrases per video (5)')
    gen.add_argument('--prompt', default=None,
                     help='template for each phrase (default "a photo of {}")')
    source = gen.add_mutually_exclusive_group()
    source.add_argument('--checkpoint', type=existing_file('checkpoint'),
                        help='use the CLIP of this bike-bench '
                        'checkpoint of the config\'s model')
    source.add_argument('--pretrained', help='CLIP weights: "openai" or a '
                        'local file (default: the config\'s backbone)')
    gen.add_argument('--arch', help='CLIP architecture for --pretrained, e.g. '
                     'ViT-L-14 (default: the config\'s)')
    gen.add_argument('--batch-size', type=int, default=16)
    gen.add_argument('--num-workers', type=int, default=2)
    gen.add_argument('--flush-every', type=int, default=512,
                     help='rewrite the output after this many new videos')
    gen.add_argument('--device', help='cuda or cpu (default: cuda if available)')
    gen.add_argument('--media-root', help='folder the manifest paths are '
                     'relative to (default: the manifest\'s data_root)')
    gen.add_argument('--seed', type=int, default=0,
                     help='seed for a randomly initialised CLIP (tests)')
    gen.add_argument('--no-progress', action='store_true')
    gen.add_argument('--trust-checkpoint', action='store_true',
                     help='load a checkpoint holding arbitrary pickled objects')
    gen.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                     metavar='KEY=VALUE', help='override config entries')
    gen.set_defaults(func=run_generate)
    comb = commands.add_parser(
        'combine', help='one V+A checkpoint from a video checkpoint and an '
        'attributes-only checkpoint trained separately (the official way)')
    comb.add_argument('video', help='checkpoint of a video model')
    comb.add_argument('attributes', help='checkpoint of an attributes-only model')
    comb.add_argument('--out', required=True, help='V+A checkpoint to write')
    comb.add_argument('--trust-checkpoint', action='store_true',
                      help='load checkpoints holding arbitrary pickled objects')
    comb.set_defaults(func=run_combine)


def run_generate(args) -> int:
    from mmengine.config import Config
    import bike_bench.models  # noqa: F401  (registries)
    import bike_bench.datasets  # noqa: F401
    from bike_bench.attributes.generate import DEFAULT_PROMPT, generate_attributes
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    stats = generate_attributes(
        cfg, args.manifest, args.out, lexicon=args.lexicon, topk=args.topk,
        prompt=args.prompt or DEFAULT_PROMPT, checkpoint=args.checkpoint,
        pretrained=args.pretrained, arch=args.arch, batch_size=args.batch_size,
        num_workers=args.num_workers, flush_every=args.flush_every,
        device=args.device, media_root=args.media_root, seed=args.seed,
        progress=not args.no_progress, trust_checkpoint=args.trust_checkpoint)
    print(json.dumps(dict(out=args.out, **stats)))
    return 0


def run_combine(args) -> int:
    from bike_bench.attributes.combine import combine_checkpoints
    stats = combine_checkpoints(args.video, args.attributes, args.out,
                                trust=args.trust_checkpoint)
    print(json.dumps(dict(out=args.out, **stats)))
    return 0
