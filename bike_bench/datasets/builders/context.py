"""What a builder is asked to do: ``BuildSpec`` (one manifest of a spec's
``builds:``) and ``BuildContext`` (the format, its present source files,
media folders, path pattern, output folder), and the helpers that turn a
context's files into class lists and entries.
"""
from __future__ import annotations

import dataclasses
import os
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from bike_bench.datasets.builders.sources import (ListRecord, SourceError, join_media,
                                                  path_stem)
from bike_bench.datasets.class_table import read_class_table
from bike_bench.datasets.manifest import ManifestEntry
from bike_bench.utils.hashing import file_sha256


@dataclasses.dataclass
class BuildSpec:
    """How to build one manifest (one ``builds:`` item of a dataset spec)."""
    name: str
    needs: List[str]
    role: str = 'test'
    class_table: str = 'classes.csv'
    options: Dict[str, object] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class BuildContext:
    """What a builder is asked for.

    Attributes:
        dataset: dataset name (``ucf101``).
        format: source format name (``official``).
        files: source file key -> path, only files that exist.
        builds: the manifests to make.
        media: manifest name -> folder (relative to the dataset folder)
            that entry paths are put under.
        pattern: a path pattern for builders whose sources name videos by
            id (Kinetics CSV, ActivityNet JSON, Charades).
        filename_tmpl: frame file name template of frame folders.
        frames: entries are frame folders (builders that can do both).
        min_frames: leave out entries whose listed frame count is lower
            (reported in the result; 0 keeps all).
        out_dir: the dataset folder being written (frame counting, and
            relative provenance paths).
        data_root: the manifests' ``data_root`` (``..`` = the dataset folder).
        options: format options of builders that take them (``split``: the
            split of a CSV without a split column).
    """
    dataset: str
    format: str
    files: Dict[str, str]
    builds: List[BuildSpec]
    media: Dict[str, str] = dataclasses.field(default_factory=dict)
    pattern: Optional[str] = None
    filename_tmpl: Optional[str] = None
    frames: bool = False
    min_frames: int = 0
    out_dir: str = '.'
    data_root: str = '..'
    options: Dict[str, object] = dataclasses.field(default_factory=dict)

    def file(self, key: str) -> str:
        if key not in self.files:
            raise SourceError(f'{self.dataset}/{self.format}: source file '
                              f'{key!r} is needed but was not found')
        return self.files[key]

    def any_file(self, spec: str) -> Tuple[str, str]:
        """The first present file of ``a|b``; ``(key, path)``."""
        for key in spec.split('|'):
            if key in self.files:
                return key, self.files[key]
        raise SourceError(f'{self.dataset}/{self.format}: one of the source '
                          f'files {spec.split("|")} is needed')

    def media_dir(self, name: str) -> str:
        return self.media.get(name, self.media.get('*', ''))

    def shown(self, path: str) -> str:
        """``path`` as manifests record it: relative to the dataset folder
        when inside it, else absolute."""
        shown = os.path.relpath(path, self.out_dir)
        if shown.startswith('..'):
            shown = os.path.abspath(path)
        return shown.replace(os.sep, '/')

    def provenance(self, keys: Sequence[str]) -> Dict[str, Dict[str, str]]:
        return {key: {'path': self.shown(self.files[key]),
                      'sha256': file_sha256(self.files[key])} for key in keys}


def load_classes(ctx: BuildContext, key: str) -> List[str]:
    try:
        return read_class_table(ctx.file(key))
    except ValueError as error:  # ClassTableError names the file and line
        raise SourceError(str(error)) from None


def list_entries(records: Sequence[ListRecord], role: str, media_dir: str,
                 filename_tmpl: Optional[str], multi_label: bool = False,
                 id_fn: Callable[[str], str] = path_stem) -> List[ManifestEntry]:
    """Manifest entries of parsed list records.

    A record with a frame count and a ``filename_tmpl`` is a frame folder
    (numbered from 1, as the official code and MMAction2 do); a record with a
    frame count but no template keeps the count on a video entry.
    """
    entries = []
    for record in records:
        label = list(record.labels) if multi_label else record.labels[0]
        folder = record.num_frames is not None and filename_tmpl is not None
        entries.append(ManifestEntry(
            path=join_media(media_dir, record.path), label=label, split=role,
            num_frames=record.num_frames,
            filename_tmpl=filename_tmpl if folder else None,
            id=id_fn(record.path), source_line=record.line))
    return entries
