"""The one manifest format every dataset is turned into.

A manifest is a JSON Lines file (UTF-8, one JSON object per line, lines
split on ``\n`` only). Line 1 is the header::

    {"bike_bench_manifest": 1, "dataset": "kinetics400", "split": "val",
     "class_table": "../classes.csv", "classes": ["abseiling", ...],
     "multi_label": false, "data_root": "..", "source": {...},
     "num_entries": 19796, "content_hash": "3f2a..."}

``split`` is the manifest's name (``val``, ``val_split1``,
``zeroshot_split2``); ``class_table`` is the dataset's ``id,name`` table,
relative to the manifest's folder, and ``classes`` its names in id order;
``source`` holds free-form provenance from the builder (builder, source
files with their SHA-256, ``expected_entries``: records in the source for
this split, ``dropped_entries``: records left out, with the reasons in
``<name>.dropped.csv`` beside the manifest). Every further line is one
entry (manifest line number = entry index + 2)::

    {"path": "val/abseiling/xyz.mp4", "label": 0, "split": "val"}
    {"path": "frames/xyz", "num_frames": 300, "filename_tmpl": "img_{:05d}.jpg",
     "start_index": 1, "label": [3, 17], "split": "test"}

``path`` is relative to ``data_root`` (itself relative to the manifest's
folder unless absolute, or overridden when the manifest is loaded). An entry
with a ``filename_tmpl`` is a frame folder: ``num_frames`` frames named
``filename_tmpl.format(i)`` from ``i = start_index``; otherwise it is a
video file (a ``num_frames`` there is the expected decoded count). The entry
``split`` is its role: ``train``, ``val`` or ``test``. ``label`` is a class
id, or a list of ids (possibly empty) for multi-label datasets (Charades).
Optional fields: ``id`` (the dataset's video id), ``segment`` ([start_s,
end_s], a trimmed instance of an untrimmed video), ``fps`` (frames per
second of a frame folder, to turn a segment into frame indices),
``source_line`` (the line of the source file it came from).

The manifest's content hash (``Manifest.content_hash``) covers the classes,
``multi_label`` and the entries (not the header's free-form ``source``
notes), and is what results files record as provenance.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from typing import Any, Dict, List, Optional, Union
from bike_bench.utils.atomic import atomic_write_text

FORMAT_VERSION = 1
HEADER_KEY = 'bike_bench_manifest'

Label = Union[int, List[int]]


class ManifestError(ValueError):
    """A malformed manifest; the message names the file and line."""


@dataclasses.dataclass
class ManifestEntry:
    path: str
    label: Label
    split: str = ''
    num_frames: Optional[int] = None
    filename_tmpl: Optional[str] = None
    start_index: int = 1
    id: Optional[str] = None
    segment: Optional[List[float]] = None
    fps: Optional[float] = None
    source_line: Optional[int] = None

    @property
    def is_frame_folder(self) -> bool:
        return self.filename_tmpl is not None

    @property
    def labels(self) -> List[int]:
        return list(self.label) if isinstance(self.label, list) else [self.label]

    def to_json(self) -> Dict[str, Any]:
        data = {'path': self.path, 'label': self.label, 'split': self.split}
        for field in ('num_frames', 'filename_tmpl', 'id', 'segment', 'fps',
                      'source_line'):
            value = getattr(self, field)
            if value is not None:
                data[field] = value
        if self.is_frame_folder:
            data['start_index'] = self.start_index
        return data

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> 'ManifestEntry':
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f'unknown field(s) {sorted(unknown)}')
        if 'path' not in data or 'label' not in data:
            raise ValueError('an entry needs "path" and "label"')
        return cls(**data)


@dataclasses.dataclass
class Manifest:
    dataset: str
    split: str
    classes: List[str]
    entries: List[ManifestEntry]
    class_table: Optional[str] = None
    multi_label: bool = False
    data_root: str = ''
    source: Dict[str, Any] = dataclasses.field(default_factory=dict)
    path: Optional[str] = None  # where it was read from

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def content_hash(self) -> str:
        digest = hashlib.sha256()
        digest.update(json.dumps({'classes': self.classes,
                                  'multi_label': self.multi_label},
                                 sort_keys=True).encode())
        for entry in self.entries:
            digest.update(b'\n')
            digest.update(json.dumps(entry.to_json(), sort_keys=True).encode())
        return digest.hexdigest()

    def resolve_root(self, data_root: Optional[str] = None) -> str:
        """The folder entry paths are relative to."""
        root = self.data_root if data_root is None else data_root
        if os.path.isabs(root) or self.path is None:
            return root
        return os.path.normpath(os.path.join(os.path.dirname(
            os.path.abspath(self.path)), root))

    def entry_location(self, entry: ManifestEntry,
                       data_root: Optional[str] = None) -> str:
        if os.path.isabs(entry.path):
            return entry.path
        return os.path.join(self.resolve_root(data_root), entry.path)

    def header(self) -> Dict[str, Any]:
        return {HEADER_KEY: FORMAT_VERSION, 'dataset': self.dataset,
                'split': self.split, 'class_table': self.class_table,
                'classes': self.classes, 'multi_label': self.multi_label,
                'data_root': self.data_root, 'source': self.source,
                'num_entries': len(self.entries),
                'content_hash': self.content_hash}

    def check_labels(self) -> None:
        """Every label is a valid class id (error names the entry)."""
        for number, entry in enumerate(self.entries, start=2):
            validate_label(entry, self.num_classes, self.multi_label,
                           f'{self.path or "<manifest>"}:{number}')


def validate_label(entry: ManifestEntry, num_classes: int, multi_label: bool,
                   where: str) -> None:
    labels = entry.label
    if isinstance(labels, list):
        if not multi_label:
            raise ManifestError(f'{where}: {entry.path}: a list of labels in '
                                'a single-label manifest')
    else:
        labels = [labels]
    for label in labels:
        if isinstance(label, bool) or not isinstance(label, int):
            raise ManifestError(f'{where}: {entry.path}: label {label!r} is '
                                'not an integer class id')
        if not 0 <= label < num_classes:
            raise ManifestError(f'{where}: {entry.path}: label {label} out of '
                                f'range for {num_classes} classes')


def write_manifest(manifest: Manifest, path: str) -> str:
    """Write atomically (temporary file + rename); returns the content hash."""
    lines = [json.dumps(manifest.header(), ensure_ascii=False)]
    lines.extend(json.dumps(entry.to_json(), ensure_ascii=False)
                 for entry in manifest.entries)
    atomic_write_text(path, '\n'.join(lines) + '\n')
    manifest.path = path
    return manifest.content_hash


def read_manifest(path: str, check_labels: bool = True,
                  verify_hash: bool = True) -> Manifest:
    """Read and validate a manifest; errors name the file and line.

    Args:
        check_labels: every label must be a class id of the header's classes.
        verify_hash: the header's ``content_hash`` (when present) must match
            the entries (``manifests check`` turns both off to report every
            problem instead of stopping at the first).
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f'manifest not found: {path}')
    with open(path, 'r', encoding='utf-8-sig', newline='') as handle:
        # Split on newlines only: str.splitlines() would also split inside
        # JSON strings holding U+2028 and the like.
        lines = [line.rstrip('\r') for line in handle.read().split('\n')]
    if not lines or not lines[0].strip():
        raise ManifestError(f'{path}:1: empty manifest (no header line)')
    try:
        header = json.loads(lines[0])
    except json.JSONDecodeError as error:
        raise ManifestError(f'{path}:1: header is not JSON ({error.msg})') from None
    if not isinstance(header, dict) or header.get(HEADER_KEY) != FORMAT_VERSION:
        raise ManifestError(f'{path}:1: not a bike-bench manifest header '
                            f'(expected "{HEADER_KEY}": {FORMAT_VERSION})')
    classes = header.get('classes')
    if not isinstance(classes, list) or not classes:
        raise ManifestError(f'{path}:1: header has no "classes" list')
    entries = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        try:
            entries.append(ManifestEntry.from_json(json.loads(line)))
        except (json.JSONDecodeError, TypeError, ValueError) as error:
            raise ManifestError(f'{path}:{number}: {error}') from None
    manifest = Manifest(
        dataset=header.get('dataset', ''), split=header.get('split', ''),
        classes=[str(c) for c in classes], entries=entries,
        class_table=header.get('class_table'),
        multi_label=bool(header.get('multi_label', False)),
        data_root=header.get('data_root', '') or '',
        source=header.get('source') or {}, path=path)
    if check_labels:
        manifest.check_labels()
    recorded = header.get('content_hash')
    if verify_hash and recorded and recorded != manifest.content_hash:
        raise ManifestError(
            f'{path}:1: the header\'s content_hash does not match the entries '
            '(edited by hand?); rebuild the manifest with `bike-bench '
            'manifests build`, or delete the content_hash field to accept '
            'the edit')
    return manifest
