"""What every manifest builder shares.

- ``SourceError``: bad input, always named ``file:line``;
- line-numbered reading of text lists and CSV files (UTF-8 BOM, CRLF line
  endings and trailing spaces tolerated, an empty file is an error);
- the whitespace list formats: the official BIKE lists (``path label`` for
  videos, ``path num_frames label`` for frame folders) and MMAction2's video
  (``path label [label ...]``) and rawframe (``frame_dir total_frames label
  [label ...]``) annotation files;
- ``BuildContext`` (what a builder is asked to do) and ``BuildResult`` (the
  manifests it made, and every source record it left out, with the reason).
"""
from __future__ import annotations

import csv
import dataclasses
import io
import os
import posixpath
import re
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

from bike_bench.datasets.class_table import read_class_table
from bike_bench.datasets.manifest import Manifest, ManifestEntry
from bike_bench.utils.hashing import file_sha256


class SourceError(ValueError):
    """A malformed source file; the message names the file and line."""


def read_text(path: str) -> str:
    if not os.path.isfile(path):
        raise FileNotFoundError(f'source file not found: {path}')
    with open(path, 'r', encoding='utf-8-sig', newline='') as handle:
        text = handle.read()
    if not text.strip():
        raise SourceError(f'{path}: empty file')
    return text


def numbered_lines(path: str) -> List[Tuple[int, str]]:
    """``(line number, stripped text)`` of the non-blank lines of ``path``."""
    return [(number, line.strip()) for number, line in
            enumerate(read_text(path).splitlines(), start=1) if line.strip()]


def csv_records(path: str, required: Sequence[str]) -> Iterator[Tuple[int, Dict[str, str]]]:
    """``(line number, row)`` for each CSV record (quoted newlines allowed).

    Column names and values are stripped; a missing required column or a
    record with the wrong number of fields is an error naming the line.
    """
    reader = csv.reader(io.StringIO(read_text(path)))
    header = None
    start = 1
    for row in reader:
        number, start = start, reader.line_num + 1
        if not row or not any(cell.strip() for cell in row):
            continue
        if header is None:
            header = [cell.strip() for cell in row]
            missing = [name for name in required if name not in header]
            if missing:
                raise SourceError(f'{path}:{number}: header lacks column(s) '
                                  f'{missing} (has {header})')
            continue
        if len(row) != len(header):
            raise SourceError(f'{path}:{number}: {len(row)} fields, the header '
                              f'has {len(header)}')
        yield number, {key: value.strip() for key, value in zip(header, row)}
    if header is None:
        raise SourceError(f'{path}: empty file')


def parse_int(text: str, what: str, where: str, minimum: int = 0) -> int:
    try:
        value = int(text)
    except ValueError:
        raise SourceError(f'{where}: {what} {text!r} is not an integer') from None
    if value < minimum:
        raise SourceError(f'{where}: {what} {value} is below {minimum}')
    return value


def parse_float(text: str, what: str, where: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise SourceError(f'{where}: {what} {text!r} is not a number') from None


def clean_path(path: str) -> str:
    """Normalised POSIX path: ``a//b`` and ``./a`` become ``a/b`` and ``a``."""
    return posixpath.normpath(path.replace('\\', '/'))


def join_media(media_dir: str, path: str) -> str:
    return clean_path(posixpath.join(media_dir, path)) if media_dir else clean_path(path)


def path_stem(path: str) -> str:
    return os.path.splitext(posixpath.basename(path.rstrip('/')))[0]


@dataclasses.dataclass
class ListRecord:
    """One line of a whitespace-separated annotation list."""
    path: str
    labels: List[int]
    num_frames: Optional[int]
    line: int


LIST_KINDS = ('bike', 'video', 'rawframes')


def parse_list(path: str, kind: str = 'bike', multi_label: bool = False,
               num_classes: Optional[int] = None) -> List[ListRecord]:
    """Records of an annotation list; errors name ``path:line``.

    Args:
        kind: ``'bike'`` (official BIKE lists: two fields for a video, three
            for a frame folder, the same for every line), ``'video'`` or
            ``'rawframes'`` (MMAction2 formats, where a multi-label line
            lists several labels).
        multi_label: allow several labels per line (MMAction2 kinds only).
        num_classes: when given, every label must be below it.
    """
    if kind not in LIST_KINDS:
        raise ValueError(f'unknown list kind {kind!r}; use one of {LIST_KINDS}')
    records: List[ListRecord] = []
    layout = None
    for number, line in numbered_lines(path):
        where = f'{path}:{number}'
        fields = line.split()
        if kind == 'bike':
            if len(fields) not in (2, 3):
                raise SourceError(f'{where}: expected `path label` or `path '
                                  f'num_frames label`, got {line!r}')
            layout = layout or len(fields)
            if len(fields) != layout:
                raise SourceError(f'{where}: {len(fields)} fields, earlier lines '
                                  f'have {layout} (mixed video and frame lines)')
            frames = fields[1] if layout == 3 else None
            labels = fields[-1:]
        else:
            first_label = 1 if kind == 'video' else 2
            if len(fields) < first_label + 1:
                shape = 'path label' if kind == 'video' else \
                    'frame_dir total_frames label'
                raise SourceError(f'{where}: expected `{shape}`, got {line!r}')
            frames = fields[1] if kind == 'rawframes' else None
            labels = fields[first_label:]
            if len(labels) > 1 and not multi_label:
                raise SourceError(f'{where}: {len(labels)} labels in a '
                                  'single-label list')
        num_frames = None if frames is None else parse_int(frames, 'frame count', where)
        ids = [parse_int(label, 'label', where) for label in labels]
        if num_classes is not None:
            for label in ids:
                if label >= num_classes:
                    raise SourceError(f'{where}: label {label} out of range for '
                                      f'{num_classes} classes')
        records.append(ListRecord(clean_path(fields[0]), ids, num_frames, number))
    return records


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

    def provenance(self, keys: Sequence[str]) -> Dict[str, Dict[str, str]]:
        notes = {}
        for key in keys:
            path = self.files[key]
            shown = os.path.relpath(path, self.out_dir)
            if shown.startswith('..'):
                shown = os.path.abspath(path)
            notes[key] = {'path': shown.replace(os.sep, '/'),
                          'sha256': file_sha256(path)}
        return notes


@dataclasses.dataclass
class Dropped:
    """A source record that did not become a manifest entry, and why."""
    manifest: str
    source: str
    line: int
    path: str
    reason: str


@dataclasses.dataclass
class BuiltManifest:
    name: str
    manifest: Manifest
    class_table: str  # file name in the dataset folder
    expected: int     # records in the source for this manifest


@dataclasses.dataclass
class BuildResult:
    manifests: List[BuiltManifest] = dataclasses.field(default_factory=list)
    class_tables: Dict[str, List[str]] = dataclasses.field(default_factory=dict)
    dropped: List[Dropped] = dataclasses.field(default_factory=list)
    # manifest -> what is missing, for manifests a builder could not make
    skipped: Dict[str, List[str]] = dataclasses.field(default_factory=dict)

    def add_table(self, name: str, classes: List[str]) -> None:
        known = self.class_tables.get(name)
        if known is not None and known != classes:
            raise SourceError(f'two different class lists would be written to '
                              f'{name}; give the builds different class tables')
        self.class_tables[name] = classes

    def add(self, ctx: BuildContext, build: BuildSpec, classes: List[str],
            entries: List[ManifestEntry], expected: int, source_keys: Sequence[str],
            multi_label: bool = False, notes: Optional[dict] = None) -> Manifest:
        """Record one manifest (applying ``ctx.min_frames``).

        A record listed twice (same path, segment and label) is kept once and
        the repeat is reported as dropped; the same video with two different
        labels, or a manifest left with no entries, is an error.
        """
        source_file = ctx.files[source_keys[0]]
        kept = []
        first_line: Dict[tuple, Tuple[int, ManifestEntry]] = {}
        for entry in entries:
            line = entry.source_line or 0
            key = entry_key(entry)
            if key in first_line:
                earlier_line, earlier = first_line[key]
                if earlier.label != entry.label:
                    raise SourceError(
                        f'{source_file}:{line}: {entry.path} is listed with label '
                        f'{entry.label}, and with label {earlier.label} on line '
                        f'{earlier_line}')
                self.dropped.append(Dropped(build.name, source_file, line,
                                            entry.path, f'duplicate of line {earlier_line}'))
                continue
            first_line[key] = (line, entry)
            if ctx.min_frames and entry.num_frames is not None and \
                    entry.num_frames < ctx.min_frames:
                self.dropped.append(Dropped(
                    build.name, source_file, line,
                    entry.path, f'{entry.num_frames} frames < --min-frames '
                    f'{ctx.min_frames}'))
            else:
                kept.append(entry)
        if not kept:
            reason = (f'all {len(entries)} records were left out (see the dropped '
                      'records)' if entries else 'the source lists no records for it')
            raise SourceError(f'{source_file}: manifest {build.name!r} would be '
                              f'empty: {reason}')
        dropped = sum(d.manifest == build.name for d in self.dropped)
        source = {'builder': f'{ctx.dataset}/{ctx.format}',
                  'files': ctx.provenance(source_keys),
                  'expected_entries': expected, 'dropped_entries': dropped}
        source.update(notes or {})
        self.add_table(build.class_table, classes)
        manifest = Manifest(dataset=ctx.dataset, split=build.name,
                            classes=list(classes), entries=kept,
                            class_table=f'../{build.class_table}',
                            multi_label=multi_label, data_root=ctx.data_root,
                            source=source)
        self.manifests.append(BuiltManifest(build.name, manifest,
                                            build.class_table, expected))
        return manifest


def entry_key(entry: ManifestEntry) -> tuple:
    """What makes two entries the same sample: path and segment (and, for
    a segment, the label: Charades instances of different actions share
    segments)."""
    segment = tuple(entry.segment) if entry.segment else None
    label = tuple(entry.labels) if segment is not None else None
    return entry.path, segment, label


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


_INSTANCE = re.compile(r'^(.+)_\d+$')


def instance_video_id(path: str) -> str:
    """``abc_3`` (instance 3 of video ``abc``) -> ``abc``."""
    stem = path_stem(path)
    match = _INSTANCE.match(stem)
    return match.group(1) if match else stem


def format_pattern(pattern: str, where: str, **fields) -> str:
    try:
        return clean_path(pattern.format(**fields))
    except (KeyError, IndexError, ValueError) as error:
        raise SourceError(f'{where}: path pattern {pattern!r} cannot be filled '
                          f'({type(error).__name__}: {error}); fields: '
                          f'{sorted(fields)}') from None


def count_frames(folder: str, filename_tmpl: str, start_index: int = 1) -> Optional[int]:
    """Consecutive frames ``filename_tmpl.format(i)`` from ``start_index``.

    ``None`` when the folder does not exist.
    """
    if not os.path.isdir(folder):
        return None
    names = set(os.listdir(folder))
    count = 0
    while filename_tmpl.format(start_index + count) in names:
        count += 1
    return count
