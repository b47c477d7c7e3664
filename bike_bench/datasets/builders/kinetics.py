"""Kinetics annotation CSVs (``label,youtube_id,time_start,time_end,split``).

Clip files are found with a path pattern (relative to the dataset folder),
by default ``{split}/{youtube_id}_{time_start:06d}_{time_end:06d}.mp4`` —
the flat per-split folders of the CVDF release (``train/``, ``val/``,
``test/``). Fields: ``youtube_id``, ``time_start``, ``time_end`` (integer
seconds), ``label``, ``label_slug`` (spaces as ``_``, MMAction2's class
folders) and ``split`` (the manifest's role: train, val or test).

Class ids: the given class table, or else the sorted labels of all the
Kinetics CSVs given — for Kinetics-400 that equals the official BIKE
``kinetics_400_labels.csv``. A label is matched to the table exactly or,
reported, ignoring spacing and case (``labels.py``); any other label is an
error naming the row and the closest class.
"""
from __future__ import annotations

import dataclasses
from typing import List, Optional

from bike_bench.datasets.builders.context import BuildContext, load_classes
from bike_bench.datasets.builders.labels import LabelMatcher
from bike_bench.datasets.builders.result import BuildResult
from bike_bench.datasets.builders.sources import (SourceError, csv_records,
                                                  format_pattern, join_media)
from bike_bench.datasets.manifest import ManifestEntry

DEFAULT_PATTERN = '{split}/{youtube_id}_{time_start:06d}_{time_end:06d}.mp4'
COLUMNS = ('label', 'youtube_id', 'time_start', 'time_end')


@dataclasses.dataclass
class KineticsRow:
    line: int
    label: str
    youtube_id: str
    time_start: int
    time_end: int


def _seconds(text: str, column: str, where: str) -> int:
    try:
        value = float(text)
    except ValueError:
        raise SourceError(f'{where}: {column} {text!r} is not a number') from None
    if value != int(value) or value < 0:
        raise SourceError(f'{where}: {column} {text!r} is not a whole, '
                          'non-negative number of seconds (clip names use '
                          'integers)')
    return int(value)


def read_kinetics_csv(path: str) -> List[KineticsRow]:
    rows = []
    for number, row in csv_records(path, COLUMNS):
        where = f'{path}:{number}'
        for column in COLUMNS:
            if not row[column]:
                raise SourceError(f'{where}: empty {column}')
        rows.append(KineticsRow(number, row['label'], row['youtube_id'],
                                _seconds(row['time_start'], 'time_start', where),
                                _seconds(row['time_end'], 'time_end', where)))
    return rows


def _entries(ctx: BuildContext, name: str, role: str, rows: List[KineticsRow],
             labels: List[int], path: str) -> List[ManifestEntry]:
    pattern = ctx.pattern or DEFAULT_PATTERN
    media = ctx.media_dir(name)
    entries = []
    for row, label in zip(rows, labels):
        where = f'{path}:{row.line}'
        fields = dict(label=row.label, label_slug=row.label.replace(' ', '_'),
                      youtube_id=row.youtube_id, time_start=row.time_start,
                      time_end=row.time_end, split=role)
        relpath = format_pattern(pattern, where, **fields)
        entries.append(ManifestEntry(
            path=join_media(media, relpath),
            label=label, split=role,
            id=f'{row.youtube_id}_{row.time_start:06d}_{row.time_end:06d}',
            source_line=row.line))
    return entries


def _match(rows: List[KineticsRow], matcher: LabelMatcher, path: str,
           unknown_is_error: bool = True) -> List[Optional[int]]:
    """Class id of every row (None: not a class); unknown labels are an
    error naming the first row and the closest class, unless
    ``unknown_is_error`` is False (the K600 split selection)."""
    labels = [matcher.match(row.label, row.line) for row in rows]
    if matcher.unknown and unknown_is_error:
        raise SourceError(matcher.unknown_message(path))
    return labels


def build_kinetics_csv(ctx: BuildContext) -> BuildResult:
    """Kinetics-400 (or -700) train/val manifests from the dataset's CSVs."""
    result = BuildResult()
    # Every CSV present counts, so train and val get the same ids even when
    # only one of them is built.
    csv_keys = sorted(key for key in ctx.files if key != 'classes')
    tables = {key: read_kinetics_csv(ctx.files[key]) for key in csv_keys}
    if 'classes' in ctx.files:
        classes: List[str] = load_classes(ctx, 'classes')
        table_note: Optional[str] = None
    else:
        classes = sorted({row.label for rows in tables.values() for row in rows})
        table_note = 'sorted labels of ' + ', '.join(
            ctx.shown(ctx.files[key]) for key in csv_keys)
    matcher = LabelMatcher(classes, ctx.files.get('classes', 'of the CSVs'))
    for build in ctx.builds:
        key = str(build.options.get('csv', build.name))
        path = ctx.file(key)
        rows = tables[key] if key in tables else read_kinetics_csv(path)
        labels = _match(rows, matcher, path)
        entries = _entries(ctx, build.name, build.role, rows, labels, path)
        keys = [key] + (['classes'] if 'classes' in ctx.files else [])
        notes = {'pattern': ctx.pattern or DEFAULT_PATTERN}
        result.add(ctx, build, classes, entries, len(rows), keys, notes=notes,
                   classes_from=table_note)
        for message in matcher.respelled_messages():
            result.note('warning', 'respelled_label', build.name, message)
        matcher.respelled.clear()
    return result


def build_kinetics600_zeroshot(ctx: BuildContext) -> BuildResult:
    """Kinetics-600 zero-shot splits from the K600 CSV and the split classes.

    Each split keeps the CSV rows whose label is one of its classes (the
    160-class tables of the official BIKE code), also where the CSV spells
    a class with other spacing or case (reported); how many rows of other
    classes there were is recorded in the manifest's source notes, and
    their labels are the closest-name suggestions for a class left without
    rows.
    """
    result = BuildResult()
    for build in ctx.builds:
        csv_key = str(build.options.get('csv', 'test'))
        table_key = str(build.options.get('classes', 'classes'))
        classes = load_classes(ctx, table_key)
        path = ctx.file(csv_key)
        rows = read_kinetics_csv(path)
        matcher = LabelMatcher(classes, ctx.files[table_key])
        labels = _match(rows, matcher, path, unknown_is_error=False)
        chosen = [(row, label) for row, label in zip(rows, labels) if label is not None]
        entries = _entries(ctx, build.name, build.role, [row for row, _ in chosen],
                           [label for _, label in chosen], path)
        result.other_labels[build.name] = {label: len(lines) for label, lines
                                           in matcher.unknown.items()}
        result.add(ctx, build, classes, entries, len(chosen), [csv_key, table_key],
                   notes={'pattern': ctx.pattern or DEFAULT_PATTERN,
                          'rows_of_other_classes': len(rows) - len(chosen)})
        for message in matcher.respelled_messages():
            result.note('warning', 'respelled_label', build.name, message)
    return result
