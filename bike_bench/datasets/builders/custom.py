"""Builders of a dataset of one's own (``bike-bench manifests build custom``).

Formats (each makes one manifest per split; entry paths are relative to the
source folder):

- ``folder``: ``SOURCE/<split>/<class name>/<video>``, where a video is a
  video file (``VIDEO_EXTENSIONS``) or a folder of frames
  (``filename_tmpl``, default ``img_{:05d}.jpg``, numbered from 1). The class
  name is the folder's name, as it is; the classes are those of the class
  table when one is given, else the sorted folder names of all splits.
- ``csv``: one CSV with columns ``path,label`` and optionally ``split`` and
  ``start,end`` (seconds: a trimmed instance of a longer video); labels are
  class names (or class ids, with a class table); without a ``split``
  column every row belongs to one split (``--split``, default ``test``).
- ``mmaction-video`` / ``mmaction-rawframes``: MMAction2's annotation lists
  (one per split) with a class table: the ``lists.py`` builders.

Roles follow the split names: ``train*`` trains, ``val*`` validates,
anything else is a test split.
"""
from __future__ import annotations

import collections
import os
from typing import Dict, List, Optional, Tuple

from bike_bench.datasets.builders.context import BuildContext, BuildSpec, load_classes
from bike_bench.datasets.builders.labels import LabelMatcher
from bike_bench.datasets.builders.result import BuildResult, Dropped
from bike_bench.datasets.builders.sources import (SourceError, clean_path, count_frames,
                                                  csv_records, parse_float, path_stem)
from bike_bench.datasets.manifest import ManifestEntry
from bike_bench.datasets.segments import segment_problem

VIDEO_EXTENSIONS = ('.mp4', '.avi', '.mkv', '.webm', '.mov', '.m4v', '.mpg',
                    '.mpeg', '.flv', '.wmv', '.3gp', '.ogv')
FRAME_TMPL = 'img_{:05d}.jpg'
CLASS_TABLE = 'classes.csv'


def split_role(split: str) -> str:
    """``train``, ``val`` or ``test`` of a split name."""
    name = split.lower()
    if name.startswith('train'):
        return 'train'
    if name.startswith('val'):
        return 'val'
    return 'test'


def _listing(folder: str) -> List[str]:
    return sorted(name for name in os.listdir(folder) if not name.startswith('.'))


def folder_splits(source: str) -> List[str]:
    """The split folders of a ``folder``-format source.

    Raises:
        SourceError: the source is not ``<split>/<class>/<video>`` (e.g. it
            holds class folders directly).
    """
    if not os.path.isdir(source):
        raise SourceError(f'{source}: not a folder')
    splits = [name for name in _listing(source) if os.path.isdir(os.path.join(source, name))]
    if not splits:
        raise SourceError(f'{source}: no split folders; expected '
                          f'{source}/<split>/<class name>/<video>')
    for split in splits:
        inner = os.path.join(source, split)
        videos = [name for name in _listing(inner)
                  if name.lower().endswith(VIDEO_EXTENSIONS)]
        if videos:
            raise SourceError(
                f'{inner}: holds videos directly ({videos[0]}, ...); expected '
                f'{source}/<split>/<class name>/<video>: put the class folders '
                f'under a split folder (e.g. {source}/test/{split}/)')
    return splits


def _class_folders(source: str, splits: List[str]) -> Dict[str, List[str]]:
    return {split: [name for name in _listing(os.path.join(source, split))
                    if os.path.isdir(os.path.join(source, split, name))]
            for split in splits}


def _table(ctx: BuildContext, names: List[str], what: str
           ) -> Tuple[List[str], Optional[str]]:
    """(classes, classes_from): the given table, or ``names`` (derived)."""
    if 'classes' in ctx.files:
        return load_classes(ctx, 'classes'), None
    return names, what


def build_folder(ctx: BuildContext) -> BuildResult:
    """``SOURCE/<split>/<class name>/<video or frame folder>``."""
    result = BuildResult()
    source = ctx.file('root')
    splits = folder_splits(source)
    class_folders = _class_folders(source, splits)
    names = sorted({name for folders in class_folders.values() for name in folders})
    if 'classes' not in ctx.files:
        # A class folder with nothing in it anywhere is not made a class.
        hollow = [name for name in names if not any(
            _listing(os.path.join(source, split, name)) for split in splits
            if name in class_folders[split])]
        if hollow:
            result.note('warning', 'empty_class_folder', None,
                        f'class folder(s) {", ".join(map(repr, hollow))} hold nothing '
                        'in any split and are not classes (give a class table with '
                        '--classes to keep them)')
            names = [name for name in names if name not in hollow]
    classes, derived = _table(ctx, names, 'class folders of ' + ctx.shown(source))
    matcher = LabelMatcher(classes, ctx.files.get('classes', ''))
    ids = {name: matcher.match(name) for name in names}  # hollow folders: absent
    if matcher.unknown:
        raise SourceError(matcher.unknown_message(source, what='class folder'))
    for message in matcher.respelled_messages():
        result.note('warning', 'respelled_label', None, message)
    tmpl = ctx.filename_tmpl or FRAME_TMPL
    for split in splits:
        build = BuildSpec(split, ['root'], split_role(split), CLASS_TABLE)
        entries, expected, ignored = [], 0, []
        for name in class_folders[split]:
            if ids.get(name) is None:
                continue
            folder = os.path.join(source, split, name)
            for item in _listing(folder):
                relpath = clean_path(f'{split}/{name}/{item}')
                location = os.path.join(folder, item)
                if os.path.isdir(location):
                    expected += 1
                    frames = count_frames(location, tmpl)
                    if not frames:
                        inside = _listing(location)[:1]
                        result.dropped.append(Dropped(
                            split, source, 0, relpath,
                            f'frame folder without {tmpl.format(1)}' +
                            (f' (it holds {inside[0]}, ...; give --filename-tmpl)'
                             if inside else ' (empty)')))
                        continue
                    entries.append(ManifestEntry(relpath, ids[name], split=build.role,
                                                 num_frames=frames, filename_tmpl=tmpl,
                                                 id=item))
                elif item.lower().endswith(VIDEO_EXTENSIONS):
                    expected += 1
                    entries.append(ManifestEntry(relpath, ids[name], split=build.role,
                                                 id=path_stem(item)))
                else:
                    ignored.append(relpath)
        ignored += [f'{split}/{item}' for item in _listing(os.path.join(source, split))
                    if not os.path.isdir(os.path.join(source, split, item))]
        if ignored:
            result.note('note', 'ignored_files', split,
                        f'{len(ignored)} files that are neither videos nor frame '
                        f'folders were not listed (e.g. {ignored[0]})')
        keys = ['root'] + (['classes'] if 'classes' in ctx.files else [])
        if not entries:
            result.skipped[split] = [f'{source}/{split}: no videos']
            continue
        result.add(ctx, build, classes, entries, expected, keys, classes_from=derived)
    return result


CSV_COLUMNS = ('path', 'label')


def build_csv(ctx: BuildContext) -> BuildResult:
    """One CSV: ``path,label[,split][,start,end]``."""
    result = BuildResult()
    path = ctx.file('annotations')
    rows = list(csv_records(path, CSV_COLUMNS))
    if not rows:
        raise SourceError(f'{path}: no rows')
    header = set(rows[0][1])
    if ('start' in header) != ('end' in header):
        raise SourceError(f'{path}:1: give both "start" and "end" columns, or neither')
    for number, row in rows:
        for column in CSV_COLUMNS:
            if not row[column]:
                raise SourceError(f'{path}:{number}: empty {column}')
    labels = [row['label'] for _, row in rows]
    given = 'classes' in ctx.files
    classes, derived = _table(ctx, sorted(set(labels)), 'sorted labels of ' + ctx.shown(path))
    ids: Dict[int, int] = {}
    if given and all(label.isdigit() for label in labels):  # class ids
        for number, row in rows:
            ids[number] = int(row['label'])
            if ids[number] >= len(classes):
                raise SourceError(f'{path}:{number}: label {ids[number]} out of '
                                  f'range for {len(classes)} classes')
    else:
        matcher = LabelMatcher(classes, ctx.files.get('classes', ''))
        for number, row in rows:
            ids[number] = matcher.match(row['label'], number)  # type: ignore[assignment]
        if matcher.unknown:
            raise SourceError(matcher.unknown_message(path))
        for message in matcher.respelled_messages():
            result.note('warning', 'respelled_label', None, message)
    default_split = str(ctx.options.get('split') or 'test')
    by_split: Dict[str, List[Tuple[int, Dict[str, str]]]] = collections.OrderedDict()
    for number, row in rows:
        by_split.setdefault(row.get('split') or default_split, []).append((number, row))
    keys = ['annotations'] + (['classes'] if given else [])
    for split, items in by_split.items():
        build = BuildSpec(split, ['annotations'], split_role(split), CLASS_TABLE)
        entries = []
        for number, row in items:
            where = f'{path}:{number}'
            relpath = clean_path(row['path'])
            segment = None
            if row.get('start') or row.get('end'):
                segment = [parse_float(row['start'], 'start', where),
                           parse_float(row['end'], 'end', where)]
                problem = segment_problem(segment)
                if problem:
                    result.dropped.append(Dropped(split, path, number, relpath, problem))
                    continue
            entries.append(ManifestEntry(relpath, ids[number], split=build.role,
                                         id=path_stem(relpath), segment=segment,
                                         source_line=number))
        result.add(ctx, build, classes, entries, len(items), keys, classes_from=derived)
    return result
