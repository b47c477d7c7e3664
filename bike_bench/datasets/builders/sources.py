"""Reading source files: what every builder's parsing shares.

- ``SourceError``: bad input, always named ``file:line``;
- line-numbered reading of text lists and CSV files (UTF-8 BOM, CRLF line
  endings and trailing spaces tolerated, an empty file is an error);
- the whitespace list formats: the official BIKE lists (``path label`` for
  videos, ``path num_frames label`` for frame folders) and MMAction2's video
  (``path label [label ...]``) and rawframe (``frame_dir total_frames label
  [label ...]``) annotation files;
- paths: normalising, media folders, path patterns, instance ids, frame
  counting, file hashes.
"""
from __future__ import annotations

import csv
import dataclasses
import io
import os
import posixpath
import re
from typing import Dict, Iterator, List, Optional, Sequence, Tuple


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
