"""Builders for whitespace annotation lists, for any dataset.

- ``bike-list``: the lists released with the official BIKE code
  (``path label`` or ``path num_frames label`` plus an ``id,name`` CSV);
- ``mmaction-video`` / ``mmaction-rawframes``: MMAction2's annotation files
  (``path label [label ...]``, ``frame_dir total_frames label [label ...]``)
  plus a class table in any format ``read_class_table`` reads.

Each manifest ``NAME`` is built from the source file with key ``NAME`` and
the class table whose key is the stem of the manifest's class table
(``classes`` or ``classes_split1``). Build options (dataset spec):
``instances: true`` takes the video id from ``videoid_N`` instance names.
"""
from __future__ import annotations

import os

from bike_bench.datasets.builders.context import (BuildContext, list_entries,
                                                  load_classes)
from bike_bench.datasets.builders.result import BuildResult
from bike_bench.datasets.builders.sources import (instance_video_id, parse_list,
                                                  path_stem)


def class_key(class_table: str) -> str:
    return os.path.splitext(os.path.basename(class_table))[0]


def _build(ctx: BuildContext, kind: str) -> BuildResult:
    result = BuildResult()
    for build in ctx.builds:
        list_key = str(build.options.get('list', build.name))
        table_key = str(build.options.get('classes', class_key(build.class_table)))
        classes = load_classes(ctx, table_key)
        multi_label = bool(build.options.get('multi_label', False))
        records = parse_list(ctx.file(list_key), kind, multi_label=multi_label,
                             num_classes=len(classes))
        id_fn = instance_video_id if build.options.get('instances') else path_stem
        tmpl = ctx.filename_tmpl or ('img_{:05d}.jpg' if kind == 'rawframes' else None)
        entries = list_entries(records, build.role, ctx.media_dir(build.name),
                               tmpl, multi_label=multi_label, id_fn=id_fn)
        result.add(ctx, build, classes, entries, len(records),
                   [list_key, table_key], multi_label=multi_label)
    return result


def build_bike_lists(ctx: BuildContext) -> BuildResult:
    """Official BIKE lists (video or frame lists, detected per file)."""
    return _build(ctx, 'bike')


def build_mmaction_video(ctx: BuildContext) -> BuildResult:
    """MMAction2 ``VideoDataset`` annotation files."""
    return _build(ctx, 'video')


def build_mmaction_rawframes(ctx: BuildContext) -> BuildResult:
    """MMAction2 ``RawframeDataset`` annotation files (no offsets)."""
    return _build(ctx, 'rawframes')
