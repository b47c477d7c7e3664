"""UCF-101's own split files (``UCF101TrainTestSplits-RecognitionTask.zip``).

- ``classInd.txt``: ``1 ApplyEyeMakeup`` ... (ids from 1; class id = id - 1);
- ``trainlist0N.txt``: ``ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1``;
- ``testlist0N.txt``: ``ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi`` (the
  class is the folder name).

A training line's label must agree with its folder. ``zeroshot_full`` is
train list 1 followed by test list 1: all 13,320 videos, as in the official
BIKE zero-shot list. Video paths go under the media folder (``UCF-101/``,
where ``UCF101.rar`` extracts).
"""
from __future__ import annotations

from typing import Dict, List, Tuple

from bike_bench.datasets.builders.context import BuildContext, load_classes
from bike_bench.datasets.builders.result import BuildResult
from bike_bench.datasets.builders.sources import (SourceError, clean_path, join_media,
                                                  numbered_lines, parse_int, path_stem)
from bike_bench.datasets.manifest import ManifestEntry

Record = Tuple[int, str, int]  # line, path, class id


def read_split_list(path: str, index: Dict[str, int], with_labels: bool) -> List[Record]:
    records = []
    for number, line in numbered_lines(path):
        where = f'{path}:{number}'
        fields = line.split()
        if len(fields) not in (1, 2) or (with_labels and len(fields) != 2):
            shape = '`Class/video.avi id`' if with_labels else '`Class/video.avi`'
            raise SourceError(f'{where}: expected {shape}, got {line!r}')
        video = clean_path(fields[0])
        folder = video.split('/')[0] if '/' in video else ''
        if folder not in index:
            raise SourceError(f'{where}: class folder {folder!r} is not in the '
                              'class index')
        label = index[folder]
        if len(fields) == 2:
            given = parse_int(fields[1], 'class id', where, minimum=1) - 1
            if given != label:
                raise SourceError(f'{where}: class id {given + 1} disagrees with '
                                  f'the folder {folder!r} (id {label + 1})')
        records.append((number, video, label))
    return records


def build_ucf101_splits(ctx: BuildContext) -> BuildResult:
    result = BuildResult()
    classes = load_classes(ctx, 'class_index')
    index = {name: i for i, name in enumerate(classes)}
    for build in ctx.builds:
        lists = [key for key in build.needs if key != 'class_index']
        entries: List[ManifestEntry] = []
        for key in lists:
            path = ctx.file(key)
            for line, video, label in read_split_list(path, index,
                                                      key.startswith('train')):
                entries.append(ManifestEntry(
                    path=join_media(ctx.media_dir(build.name), video),
                    label=label, split=build.role, id=path_stem(video),
                    source_line=line))
        result.add(ctx, build, classes, entries, len(entries),
                   lists + ['class_index'])
    return result
