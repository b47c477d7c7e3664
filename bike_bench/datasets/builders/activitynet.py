"""ActivityNet v1.3's annotation JSON (``activity_net.v1-3.min.json``).

``database`` maps a video id to ``subset`` (``training``, ``validation`` or
``testing``), ``duration`` and ``annotations`` (``segment`` [start, end] in
seconds and ``label``). Manifests:

- ``train``: one entry per annotated instance of a training video (path of
  the untrimmed video, ``segment``, the instance's label), as the official
  BIKE code trains on trimmed instances;
- ``val``: one entry per validation video, labelled with its activity;
- ``zeroshot_full``: training and validation videos, video-level.

A video whose annotations name different activities is an error (v1.3 has
one activity per video); a video without annotations is left out and
reported; ``testing`` videos carry no labels and are not used. Training
instances whose segment cannot hold a frame (empty, reversed, starting at or
after the video's ``duration``, shorter than a frame: ``segments``) are left
out, each with its reason in ``train.dropped.csv``. Class ids:
the given class table, or else the sorted activity names (which is the
order of the official ``anet1.3_labels.csv``). Video files are found with a
pattern, by default ``videos/v_{video_id}.mp4`` (fields ``video_id``,
``subset``, ``split``).
"""
from __future__ import annotations

import json
from typing import Dict, List

from bike_bench.datasets.builders.context import BuildContext, load_classes
from bike_bench.datasets.builders.result import BuildResult, Dropped
from bike_bench.datasets.builders.sources import (SourceError, format_pattern,
                                                  join_media, read_text)
from bike_bench.datasets.manifest import ManifestEntry
from bike_bench.datasets.segments import segment_problem

DEFAULT_PATTERN = 'videos/v_{video_id}.mp4'
SUBSETS = {'train': ('training',), 'val': ('validation',),
           'all': ('training', 'validation')}


class _DuplicateKey(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _unique_keys(pairs) -> dict:
    """``json`` object hook: a repeated key is an error, not "last one wins"."""
    data = {}
    for key, value in pairs:
        if key in data:
            raise _DuplicateKey(key)
        data[key] = value
    return data


def read_database(path: str) -> Dict[str, dict]:
    text = read_text(path)
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as error:
        raise SourceError(f'{path}:{error.lineno}: not valid JSON ({error.msg})') from None
    except _DuplicateKey as error:
        # json gives no position; a key found exactly twice (a video id)
        # is located by its second occurrence.
        needle = json.dumps(error.key)
        where = path
        if text.count(needle) == 2:
            second = text.find(needle, text.find(needle) + 1)
            where = f'{path}:{text.count(chr(10), 0, second) + 1}'
        raise SourceError(f'{where}: key {error.key!r} appears twice in one '
                          'object (a JSON reader would silently keep only the '
                          'last)') from None
    database = data.get('database') if isinstance(data, dict) else None
    if not isinstance(database, dict):
        raise SourceError(f'{path}: no "database" object (is this the '
                          'ActivityNet JSON?)')
    for video_id, info in database.items():
        where = f'{path}: database[{video_id!r}]'
        if not isinstance(info, dict) or info.get('subset') not in (
                'training', 'validation', 'testing'):
            raise SourceError(f'{where}: needs "subset" training, validation or '
                              'testing')
        annotations = info.get('annotations', [])
        if not isinstance(annotations, list):
            raise SourceError(f'{where}: "annotations" is not a list')
        for number, item in enumerate(annotations):
            segment = item.get('segment') if isinstance(item, dict) else None
            if not isinstance(item, dict) or not isinstance(item.get('label'), str) \
                    or not isinstance(segment, list) or len(segment) != 2 or \
                    not all(isinstance(t, (int, float)) for t in segment):
                raise SourceError(f'{where}: annotation {number} needs "label" '
                                  'and "segment" [start, end]')
    return database


def video_label(path: str, video_id: str, info: dict) -> str:
    labels = sorted({item['label'] for item in info.get('annotations', [])})
    if len(labels) > 1:
        raise SourceError(f'{path}: database[{video_id!r}]: annotations name '
                          f'several activities {labels}')
    return labels[0]


def build_activitynet_json(ctx: BuildContext) -> BuildResult:
    result = BuildResult()
    path = ctx.file('annotations')
    database = read_database(path)
    labelled = [(vid, info) for vid, info in database.items()
                if info['subset'] != 'testing']
    if 'classes' in ctx.files:
        classes = load_classes(ctx, 'classes')
    else:
        classes = sorted({item['label'] for _, info in labelled
                          for item in info.get('annotations', [])})
    derived = None if 'classes' in ctx.files else 'sorted activity labels of ' + ctx.shown(path)
    index = {name: i for i, name in enumerate(classes)}
    pattern = ctx.pattern or DEFAULT_PATTERN
    for build in ctx.builds:
        level = str(build.options.get('level', 'video'))
        subsets = SUBSETS[str(build.options.get('subsets', build.role))]
        entries: List[ManifestEntry] = []
        expected = 0
        for video_id, info in labelled:
            if info['subset'] not in subsets:
                continue
            where = f'{path}: database[{video_id!r}]'
            split = 'train' if info['subset'] == 'training' else 'val'
            relpath = join_media(ctx.media_dir(build.name), format_pattern(
                pattern, where, video_id=video_id, subset=info['subset'],
                split=split))
            annotations = info.get('annotations', [])
            if not annotations:
                expected += 1
                result.dropped.append(Dropped(build.name, path, 0, relpath,
                                              f'{video_id}: no annotations'))
                continue
            for item in annotations:
                if item['label'] not in index:
                    raise SourceError(f'{where}: activity {item["label"]!r} is '
                                      'not in the class table')
            if level == 'instance':
                for number, item in enumerate(annotations):
                    expected += 1
                    problem = segment_problem(item['segment'], info.get('duration'))
                    if problem:
                        result.dropped.append(Dropped(
                            build.name, path, 0, relpath,
                            f'{video_id} annotation {number}: {problem}'))
                        continue
                    start, end = (float(t) for t in item['segment'])
                    entries.append(ManifestEntry(
                        path=relpath, label=index[item['label']], split=build.role,
                        id=video_id, segment=[start, end]))
            else:
                expected += 1
                entries.append(ManifestEntry(
                    path=relpath, label=index[video_label(path, video_id, info)],
                    split=build.role, id=video_id))
        result.add(ctx, build, classes, entries, expected, ['annotations'] + (
            ['classes'] if 'classes' in ctx.files else []),
            notes={'pattern': pattern, 'level': level,
                   'testing_videos_unused': len(database) - len(labelled)},
            classes_from=derived)
    return result

