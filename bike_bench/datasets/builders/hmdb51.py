"""HMDB-51's own split files (``test_train_splits.rar``).

The folder ``testTrainMulti_7030_splits/`` holds, per class and split,
``<class>_test_split<N>.txt`` with lines ``<video>.avi <flag>``: 1 = train,
2 = test, 0 = in neither. ``train_splitN`` takes flag 1, ``val_splitN`` flag
2, ``zeroshot_full`` every video of split 1 (all 6,766, as the official BIKE
zero-shot list).

Class ids follow the sorted class folder names; names are shown with spaces
for underscores (``brush_hair`` -> ``brush hair``), as in the official
``hmdb51_labels.csv``. A given class table (key ``classes``) overrides this
order. Videos are ``<media>/<class>/<video>.avi`` (``hmdb51_org.rar``
extracts one ``.rar`` per class into such folders).
"""
from __future__ import annotations

import os
import re
from typing import Dict, List, Tuple

from bike_bench.datasets.builders.context import BuildContext, load_classes
from bike_bench.datasets.builders.result import BuildResult
from bike_bench.datasets.builders.sources import (SourceError, join_media,
                                                  numbered_lines, path_stem)
from bike_bench.datasets.manifest import ManifestEntry

_SPLIT_FILE = re.compile(r'^(.+)_test_split([1-9])\.txt$')
FLAGS = {'train': '1', 'val': '2', 'all': '012'}


def split_files(folder: str) -> Dict[Tuple[str, int], str]:
    """``(class folder, split) -> file`` of the split folder."""
    if not os.path.isdir(folder):
        raise SourceError(f'{folder}: not a folder of HMDB-51 split files')
    files = {}
    for name in sorted(os.listdir(folder)):
        match = _SPLIT_FILE.match(name)
        if match:
            files[(match.group(1), int(match.group(2)))] = os.path.join(folder, name)
    if not files:
        raise SourceError(f'{folder}: no <class>_test_split<N>.txt files')
    return files


def read_split_file(path: str) -> List[Tuple[int, str, str]]:
    """``(line, video, flag)`` of one class's split file."""
    records = []
    for number, line in numbered_lines(path):
        fields = line.split()
        if len(fields) != 2 or fields[1] not in ('0', '1', '2'):
            raise SourceError(f'{path}:{number}: expected `<video>.avi 0|1|2`, '
                              f'got {line!r}')
        records.append((number, fields[0], fields[1]))
    return records


def build_hmdb51_splits(ctx: BuildContext) -> BuildResult:
    result = BuildResult()
    folder = ctx.file('splits_dir')
    files = split_files(folder)
    folders = sorted({cls for cls, _ in files})
    if 'classes' in ctx.files:
        classes = load_classes(ctx, 'classes')
        by_name = {name: i for i, name in enumerate(classes)}
        unknown = [f for f in folders if f.replace('_', ' ') not in by_name]
        if unknown:
            raise SourceError(f'{folder}: class folder(s) {unknown[:5]} are not '
                              f'in {ctx.files["classes"]}')
        order = sorted(folders, key=lambda f: by_name[f.replace('_', ' ')])
    else:
        classes = [f.replace('_', ' ') for f in folders]
        order = folders
    derived = None if 'classes' in ctx.files else \
        'class names of the split files in ' + ctx.shown(folder)
    for build in ctx.builds:
        split = int(build.options.get('split', 1))
        flags = FLAGS[str(build.options.get('flags', build.role))]
        if not any(key[1] == split for key in files):
            result.skipped[build.name] = [f'{folder}/*_test_split{split}.txt']
            continue
        entries: List[ManifestEntry] = []
        for cls in order:
            path = files.get((cls, split))
            if path is None:
                raise SourceError(f'{folder}: no {cls}_test_split{split}.txt '
                                  f'(needed for {build.name})')
            label = classes.index(cls.replace('_', ' '))
            for number, video, flag in read_split_file(path):
                if flag in flags:
                    entries.append(ManifestEntry(
                        path=join_media(ctx.media_dir(build.name), f'{cls}/{video}'),
                        label=label, split=build.role, id=path_stem(video),
                        source_line=number))
        keys = ['splits_dir'] + (['classes'] if 'classes' in ctx.files else [])
        result.add(ctx, build, classes, entries, len(entries), keys,
                   notes={'split': split}, classes_from=derived)
    return result
