"""``bike-bench visualize CONFIG CHECKPOINT --video V --out PNG``.

Plots the Video Concept Spotting head's temporal saliency over the sampled
frames for the top predicted classes, with frame thumbnails and the video's
attribute words (from ``--attributes`` or computed with the model's CLIP).
"""
from __future__ import annotations

import json

from bike_bench.cli.common import DictAction, config_arg, existing_file


def add_parser(subparsers):
    parser = subparsers.add_parser(
        'visualize', help='plot the temporal saliency of one video')
    parser.add_argument('config', type=config_arg, help='the model\'s config '
                        '(a file or the name of a shipped config)')
    parser.add_argument('checkpoint', type=existing_file('checkpoint'),
                        help='bike-bench checkpoint of the model')
    parser.add_argument('--video', required=True,
                        help='a video file, or an entry path of --manifest')
    parser.add_argument('--out', required=True, help='PNG to write')
    parser.add_argument('--topk', type=int, default=3, help='classes to plot (3)')
    parser.add_argument('--classes', help='class table (default: the classes of '
                        '--manifest, else of the config\'s validation manifest)')
    parser.add_argument('--manifest', help='look --video up in this manifest')
    parser.add_argument('--media-root', help='overrides the manifest\'s data_root')
    parser.add_argument('--attributes', help='attributes JSON to take the '
                        'video\'s words from (default: computed with the '
                        'model\'s CLIP against the class names)')
    parser.add_argument('--num-attributes', type=int, default=5)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--trust-checkpoint', action='store_true',
                        help='load a checkpoint holding arbitrary pickled objects')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        metavar='KEY=VALUE', help='override config entries')
    parser.set_defaults(func=run)


def _class_names(args, cfg):
    from bike_bench.datasets.class_table import read_class_table
    from bike_bench.datasets.manifest import read_manifest
    if args.classes:
        return read_class_table(args.classes)
    manifest = args.manifest or cfg.val_dataloader.dataset.ann_file
    return read_manifest(manifest).classes


def run(args) -> int:
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    import bike_bench.models  # noqa: F401  (registries)
    import bike_bench.datasets  # noqa: F401
    from bike_bench.datasets.attribute_sentences import read_attributes
    from bike_bench.visualization.run import load_model, visualize_video
    from bike_bench.visualization.saliency import save_saliency_figure
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmaction')):
        model = load_model(cfg, args.checkpoint, args.device, args.trust_checkpoint)
        attributes = read_attributes(args.attributes) if args.attributes else None
        result = visualize_video(
            cfg, model, args.video, _class_names(args, cfg), topk=args.topk,
            manifest_path=args.manifest, media_root=args.media_root,
            attributes=attributes, num_attributes=args.num_attributes)
    save_saliency_figure(result, args.out, title=args.video)
    print(json.dumps(dict(
        out=args.out, classes=result.class_names,
        probabilities=[round(float(p), 4) for p in result.probabilities],
        saliency=[[round(float(w), 4) for w in row] for row in result.saliency],
        attributes=result.attributes)))
    return 0
