"""Charades v1 annotation CSVs (the dataset's own files, which the official
BIKE code reads directly).

- ``Charades_v1_classes.txt``: ``c000 Holding some clothes`` (CRLF);
- ``Charades_v1_test.csv`` (and ``_train.csv``): columns ``id``,
  ``actions`` (``c092 11.90 21.20;c147 0.00 12.60``), ``length``, ...;
- ``Charades_train_split_label.csv`` (official BIKE list): one action
  instance per row, ``video_id,label,start_time,end_time,total_time``.

``test`` is multi-label: each video's label is the sorted list of class ids
in its ``actions``. A test video with empty ``actions`` keeps an empty list:
the official loader gives it an all-zero target and still evaluates it, so
the manifest keeps it (``manifests check`` counts such entries).

``train`` holds single-label action instances with ``segment`` [start, end]
in seconds, from ``Charades_train_split_label.csv`` or, when only
``Charades_v1_train.csv`` is given, from its ``actions`` (both give the same
49,809 rows). Instances whose segment cannot hold a frame are left out and
reported in ``train.dropped.csv`` (``segments``: empty or reversed, as the
official loader skips them; starting at or after the video's ``length`` /
``total_time``; with frame folders, no frame at 24 fps inside the folder).
Segments that only end after the video are kept (the official loader clips
the end to the video's length at load time).

Media: videos ``Charades_v1/{id}.mp4`` by default (``--pattern``); with
``--frames``, the official 24 fps frame folders ``Charades_v1_rgb/{id}``
with files ``{id}-000001.jpg`` ...: their frame counts are read from disk,
so frame folders must be present (absent ones are left out and reported),
and entries carry ``fps`` 24 to turn segments into frame indices.
"""
from __future__ import annotations

import os
import re
from typing import Optional

from bike_bench.datasets.builders.context import BuildContext, load_classes
from bike_bench.datasets.builders.result import BuildResult, Dropped
from bike_bench.datasets.builders.sources import (SourceError, count_frames,
                                                  csv_records, format_pattern,
                                                  join_media, parse_float)
from bike_bench.datasets.manifest import ManifestEntry
from bike_bench.datasets.segments import segment_frames_problem, segment_problem

DEFAULT_PATTERN = 'Charades_v1/{id}.mp4'
DEFAULT_FRAMES_PATTERN = 'Charades_v1_rgb/{id}'
DEFAULT_FRAME_TMPL = '{id}-{:06d}.jpg'
FRAMES_FPS = 24.0
_ACTION = re.compile(r'^c(\d{3})$')


def parse_class(text: str, num_classes: int, where: str) -> int:
    match = _ACTION.match(text)
    if not match:
        raise SourceError(f'{where}: class {text!r} is not of the form cNNN')
    class_id = int(match.group(1))
    if class_id >= num_classes:
        raise SourceError(f'{where}: class {text} out of range for '
                          f'{num_classes} classes')
    return class_id


def parse_actions(text: str, num_classes: int, where: str):
    """``[(class id, start, end), ...]`` of an ``actions`` cell."""
    actions = []
    for item in filter(None, (part.strip() for part in text.split(';'))):
        fields = item.split()
        if len(fields) != 3:
            raise SourceError(f'{where}: action {item!r} is not `cNNN start end`')
        actions.append((parse_class(fields[0], num_classes, where),
                        parse_float(fields[1], 'start', where),
                        parse_float(fields[2], 'end', where)))
    return actions


class _Media:
    """Entry paths (and frame counts) of a Charades video id."""

    def __init__(self, ctx: BuildContext, name: str):
        self.frames = ctx.frames
        self.tmpl = ctx.filename_tmpl or DEFAULT_FRAME_TMPL
        self.pattern = ctx.pattern or (DEFAULT_FRAMES_PATTERN if ctx.frames
                                       else DEFAULT_PATTERN)
        self.media = ctx.media_dir(name)
        root = ctx.data_root if os.path.isabs(ctx.data_root) else \
            os.path.join(ctx.out_dir, 'manifests', ctx.data_root)
        self.root = os.path.normpath(root)
        self.counts = {}

    def entry(self, video_id: str, where: str, **fields) -> ManifestEntry:
        path = join_media(self.media, format_pattern(self.pattern, where, id=video_id))
        entry = ManifestEntry(path=path, id=video_id, **fields)
        if self.frames:
            entry.filename_tmpl = self.tmpl.replace('{id}', video_id)
            if video_id not in self.counts:
                self.counts[video_id] = count_frames(
                    os.path.join(self.root, path), entry.filename_tmpl)
            entry.num_frames = self.counts[video_id]
            entry.fps = FRAMES_FPS if entry.segment is not None else None
        return entry

    def missing(self, entry: ManifestEntry) -> Optional[str]:
        if self.frames and not entry.num_frames:
            return 'frame folder not found or empty: its frames cannot be counted'
        return None


def _test(ctx, build, classes, result):
    path = ctx.file('test')
    media = _Media(ctx, build.name)
    entries, expected = [], 0
    for number, row in csv_records(path, ('id', 'actions')):
        where = f'{path}:{number}'
        expected += 1
        labels = sorted({c for c, _, _ in parse_actions(row['actions'], len(classes), where)})
        entry = media.entry(row['id'], where, label=labels, split=build.role,
                            source_line=number)
        reason = media.missing(entry)
        if reason:
            result.dropped.append(Dropped(build.name, path, number, entry.path, reason))
        else:
            entries.append(entry)
    result.add(ctx, build, classes, entries, expected, ['test', 'classes'],
               multi_label=True, notes=_notes(media))


def _instances(ctx, num_classes):
    """``(key, path, line, video id, class id, start, end)`` of all instances."""
    if 'train_instances' in ctx.files:
        path = ctx.files['train_instances']
        for number, row in csv_records(path, ('video_id', 'label', 'start_time',
                                              'end_time')):
            where = f'{path}:{number}'
            yield ('train_instances', path, number, row['video_id'],
                   parse_class(row['label'], num_classes, where),
                   parse_float(row['start_time'], 'start_time', where),
                   parse_float(row['end_time'], 'end_time', where),
                   _duration(row.get('total_time'), where))
        return
    key, path = ctx.any_file('train_instances|train')
    for number, row in csv_records(path, ('id', 'actions')):
        where = f'{path}:{number}'
        duration = _duration(row.get('length'), where)
        for class_id, start, end in parse_actions(row['actions'], num_classes, where):
            yield key, path, number, row['id'], class_id, start, end, duration


def _duration(text: Optional[str], where: str) -> Optional[float]:
    """The video's annotated length in seconds (optional column)."""
    return parse_float(text, 'length', where) if text else None


def _train(ctx, build, classes, result):
    media = _Media(ctx, build.name)
    entries, expected, key = [], 0, 'train'
    for key, path, number, video_id, class_id, start, end, duration in \
            _instances(ctx, len(classes)):
        expected += 1
        where = f'{path}:{number}'
        entry = media.entry(video_id, where, label=class_id, split=build.role,
                            segment=[start, end], source_line=number)
        reason = media.missing(entry) or segment_problem([start, end], duration)
        if reason is None and media.frames:
            # Frame folders: the exact arithmetic of the loader (24 fps).
            reason = segment_frames_problem([start, end], entry.fps, entry.num_frames)
        if reason:
            result.dropped.append(Dropped(build.name, path, number, entry.path, reason))
        else:
            entries.append(entry)
    result.add(ctx, build, classes, entries, expected, [key, 'classes'],
               notes=_notes(media))


def _notes(media: _Media) -> dict:
    notes = {'pattern': media.pattern}
    if media.frames:
        notes.update(frames=True, filename_tmpl=media.tmpl)
    return notes


def build_charades_csv(ctx: BuildContext) -> BuildResult:
    result = BuildResult()
    classes = load_classes(ctx, 'classes')
    for build in ctx.builds:
        if build.role == 'train':
            _train(ctx, build, classes, result)
        else:
            _test(ctx, build, classes, result)
    return result

