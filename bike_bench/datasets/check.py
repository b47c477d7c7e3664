"""``manifests check``: is a manifest consistent with itself and with the disk?

Entry problems (each names the manifest file and line; line = entry index +
2, the header is line 1): ``missing`` file or frame folder, ``undecodable``
video (``probe_decode``), ``truncated`` (``probe_decode``: clearly fewer
decodable frames than the header's duration x frame rate, with both
counts), ``too_short`` (fewer frames than ``min_frames``),
``frame_count`` (the listed count disagrees with the frames on disk or the
decoded video), ``label`` out of range (or a list in a single-label
manifest), ``segment`` that holds no frame (empty, reversed, shorter than a
frame: ``segments.segment_problem``; with the frame count and rate known
from a frame folder or ``probe_decode``, no frame of the media inside it:
``segment_frames_problem``), ``duplicate`` (same
path and segment as an earlier entry; for segments also the same label). Manifest problems: ``empty_class``
(classes with no entry), ``class_table`` (the referenced ``id,name`` table
disagrees with the header), ``hash`` (entries edited after writing),
``malformed`` (unreadable manifest). Warnings: ``no_labels`` (multi-label
entries with an empty label list: the official Charades loader evaluates
them with an all-zero target) and ``class_table_missing``.

``filter_manifest`` drops the entries with entry problems, writes the rest as
a new manifest and a CSV report of every dropped entry and why.
"""
from __future__ import annotations

import collections
import csv
import dataclasses
import io
import os
from typing import Dict, List, Optional, Sequence, Tuple

from bike_bench.datasets.builders.common import count_frames, entry_key
from bike_bench.datasets.class_table import read_class_table
from bike_bench.datasets.manifest import (Manifest, ManifestError, read_manifest,
                                          validate_label, write_manifest)
from bike_bench.datasets.segments import segment_frames_problem, segment_problem
from bike_bench.datasets.transforms.decoding import (VideoReadError,
                                                     decode_video_frames, open_video)
from bike_bench.utils.atomic import atomic_write_text

ENTRY_KINDS = ('missing', 'undecodable', 'truncated', 'too_short', 'frame_count', 'label',
               'segment', 'duplicate')
WARNING_KINDS = ('no_labels', 'class_table_missing')
SUMMARY_COLUMNS = (('missing', 'missing'), ('undecodable', 'corrupt'),
                   ('truncated', 'truncated'),
                   ('too_short', 'short'), ('frame_count', 'frames!='),
                   ('label', 'bad label'), ('segment', 'bad segment'),
                   ('duplicate', 'dup'), ('no_labels', 'no label'))


@dataclasses.dataclass
class Issue:
    kind: str
    message: str
    line: Optional[int] = None     # manifest line (entry index + 2)
    path: str = ''

    @property
    def is_error(self) -> bool:
        return self.kind not in WARNING_KINDS

    @property
    def is_entry(self) -> bool:
        return self.kind in ENTRY_KINDS


@dataclasses.dataclass
class CheckReport:
    manifest_path: str
    manifest: Optional[Manifest]
    issues: List[Issue]
    found: int = 0            # entries whose file or folder exists
    probed: bool = False

    @property
    def errors(self) -> List[Issue]:
        return [issue for issue in self.issues if issue.is_error]

    @property
    def ok(self) -> bool:
        return not self.errors

    def count(self, kind: str) -> int:
        return sum(issue.kind == kind for issue in self.issues)

    def bad_lines(self) -> Dict[int, List[Issue]]:
        lines: Dict[int, List[Issue]] = collections.defaultdict(list)
        for issue in self.issues:
            if issue.is_entry and issue.line is not None:
                lines[issue.line].append(issue)
        return lines

    def summary(self) -> Dict[str, object]:
        manifest = self.manifest
        source = manifest.source if manifest else {}
        name = os.path.basename(self.manifest_path)
        row = {'manifest': f'{manifest.dataset}/{name}' if manifest and manifest.dataset
               else name,
               'expected': source.get('expected_entries', '-'),
               'entries': len(manifest.entries) if manifest else 0,
               'on disk': self.found}
        for kind, column in SUMMARY_COLUMNS:
            row[column] = self.count(kind)
        row['classes'] = manifest.num_classes if manifest else 0
        row['empty classes'] = sum(issue.message.count('\n') + 1 for issue in self.issues
                                   if issue.kind == 'empty_class')
        row['errors'] = len(self.errors)
        return row


def _where(path: str, line: int) -> str:
    return f'{path}:{line}'


def probe_video_rate(location: str) -> Tuple[Optional[int], Optional[float], Optional[str],
                                             Optional[str]]:
    """``(frame count, frame rate, None, None)`` if the video opens as
    evaluation opens it (``open_video``: also not truncated) and its first
    and last frames decode, else ``(None, None, reason, kind)`` with kind
    ``'undecodable'`` or ``'truncated'`` (the reason then gives the
    decodable and declared frame counts)."""
    try:
        reader = open_video(location)
        count = len(reader)
        decode_video_frames(reader, [0, count - 1], location)
        fps = float(reader.get_avg_fps())
    except VideoReadError as error:
        return None, None, error.reason, error.kind
    return count, fps, None, None


def check_manifest(path: str, data_root: Optional[str] = None,
                   probe_decode: bool = False, min_frames: int = 1) -> CheckReport:
    """Check one manifest; never raises for problems, it lists them."""
    try:
        manifest = read_manifest(path, check_labels=False, verify_hash=False)
    except (ManifestError, FileNotFoundError) as error:
        return CheckReport(path, None, [Issue('malformed', str(error))])
    report = CheckReport(path, manifest, [], probed=probe_decode)
    issues = report.issues
    _check_header(manifest, path, issues)
    seen: Dict[tuple, int] = {}
    counts = collections.Counter()
    for line, entry in enumerate(manifest.entries, start=2):
        where = _where(path, line)
        try:
            validate_label(entry, manifest.num_classes, manifest.multi_label, where)
            counts.update(entry.labels)
            if manifest.multi_label and not entry.labels:
                issues.append(Issue('no_labels', f'{where}: {entry.path}: no labels '
                                    '(evaluated with an all-zero target)', line, entry.path))
        except ManifestError as error:
            issues.append(Issue('label', str(error), line, entry.path))
        problem = segment_problem(entry.segment) if entry.segment is not None else None
        if problem:
            issues.append(Issue('segment', f'{where}: {entry.path}: {problem}',
                                line, entry.path))
        key = entry_key(entry)
        if key in seen:
            issues.append(Issue('duplicate', f'{where}: {entry.path}: same entry as '
                                f'line {seen[key]}', line, entry.path))
        else:
            seen[key] = line
        _check_media(manifest, entry, line, where, data_root, probe_decode,
                     min_frames, report)
    empty = [f'{i} {name}' for i, name in enumerate(manifest.classes) if not counts[i]]
    if empty:
        issues.append(Issue('empty_class', '\n'.join(empty)))
    return report


def _check_header(manifest: Manifest, path: str, issues: List[Issue]) -> None:
    import json
    with open(path, 'r', encoding='utf-8-sig') as handle:
        header = json.loads(handle.readline())
    recorded = header.get('content_hash')
    if recorded and recorded != manifest.content_hash:
        issues.append(Issue('hash', f'{path}:1: content_hash does not match the '
                            'entries (edited after it was written?)', 1))
    if not manifest.class_table:
        return
    table = manifest.class_table if os.path.isabs(manifest.class_table) else \
        os.path.join(os.path.dirname(os.path.abspath(path)), manifest.class_table)
    if not os.path.isfile(table):
        issues.append(Issue('class_table_missing', f'{path}:1: class table '
                            f'{manifest.class_table} not found ({table})', 1))
        return
    try:
        names = read_class_table(table)
    except ValueError as error:
        issues.append(Issue('class_table', f'{path}:1: {error}', 1))
        return
    if names != manifest.classes:
        if len(names) != len(manifest.classes):
            detail = (f'the header has {len(manifest.classes)} classes, {table} has '
                      f'{len(names)}')
        else:
            index = next(i for i, (a, b) in enumerate(zip(names, manifest.classes)) if a != b)
            detail = (f'class {index} is {manifest.classes[index]!r} in the header, '
                      f'{names[index]!r} in {table}')
        issues.append(Issue('class_table', f'{path}:1: class table mismatch: {detail}', 1))


def _check_media(manifest, entry, line, where, data_root, probe_decode,
                 min_frames, report: CheckReport) -> None:
    issues = report.issues
    location = manifest.entry_location(entry, data_root)
    if entry.is_frame_folder:
        if not os.path.isdir(location):
            issues.append(Issue('missing', f'{where}: frame folder not found: '
                                f'{location}', line, entry.path))
            return
        report.found += 1
        on_disk = count_frames(location, entry.filename_tmpl, entry.start_index)
        if entry.num_frames is not None and on_disk != entry.num_frames:
            issues.append(Issue('frame_count', f'{where}: {entry.num_frames} frames '
                                f'listed, {on_disk} consecutive frames from '
                                f'{entry.filename_tmpl.format(entry.start_index)} on disk',
                                line, entry.path))
        frames = on_disk
        fps = entry.fps
    else:
        if not os.path.isfile(location):
            issues.append(Issue('missing', f'{where}: video not found: {location}',
                                line, entry.path))
            return
        report.found += 1
        frames, fps = entry.num_frames, entry.fps
        if probe_decode:
            decoded, rate, reason, kind = probe_video_rate(location)
            if reason:
                issues.append(Issue(kind, f'{where}: {location}: {reason}',
                                    line, entry.path))
                return
            if entry.num_frames is not None and decoded != entry.num_frames:
                issues.append(Issue('frame_count', f'{where}: {entry.num_frames} '
                                    f'frames listed, {decoded} decoded', line, entry.path))
            frames, fps = decoded, fps or rate
    if entry.segment is not None and not segment_problem(entry.segment):
        # With the frames and rate known: does the segment hold a frame?
        problem = segment_frames_problem(entry.segment, fps, frames)
        if problem:
            issues.append(Issue('segment', f'{where}: {entry.path}: {problem}',
                                line, entry.path))
    if frames is not None and frames < min_frames:
        issues.append(Issue('too_short', f'{where}: {frames} frames, fewer than '
                            f'{min_frames}', line, entry.path))


def filter_manifest(report: CheckReport, out_path: str) -> Tuple[str, str, int]:
    """Write the entries without entry problems to ``out_path``.

    Returns ``(manifest path, report path, dropped count)``; the report
    (``<out stem>.dropped.csv``) lists every dropped entry: its line in the
    checked manifest, path, id and each reason.
    """
    manifest = report.manifest
    if manifest is None:
        raise ManifestError(f'{report.manifest_path}: cannot be filtered, it '
                            'could not be read')
    bad = report.bad_lines()
    kept = [entry for line, entry in enumerate(manifest.entries, start=2)
            if line not in bad]
    out_dir = os.path.dirname(os.path.abspath(out_path))
    root = manifest.resolve_root()
    data_root = os.path.relpath(root, out_dir) if not os.path.isabs(manifest.data_root) \
        else manifest.data_root
    table = manifest.class_table
    if table and not os.path.isabs(table):
        table = os.path.relpath(os.path.join(os.path.dirname(os.path.abspath(
            report.manifest_path)), table), out_dir)
    source = dict(manifest.source, filtered_from=os.path.abspath(report.manifest_path),
                  filtered_out=len(manifest.entries) - len(kept))
    filtered = Manifest(manifest.dataset, manifest.split, manifest.classes, kept,
                        class_table=table, multi_label=manifest.multi_label,
                        data_root=data_root.replace(os.sep, '/'), source=source)
    write_manifest(filtered, out_path)
    report_path = os.path.splitext(out_path)[0] + '.dropped.csv'
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator='\n')
    writer.writerow(['line', 'path', 'id', 'kind', 'reason'])
    for line in sorted(bad):
        entry = manifest.entries[line - 2]
        for issue in bad[line]:
            writer.writerow([line, entry.path, entry.id or '', issue.kind, issue.message])
    atomic_write_text(report_path, buffer.getvalue())
    return out_path, report_path, len(bad)


def summary_table(reports: Sequence[CheckReport]) -> str:
    """A text table with one row per checked manifest."""
    import pandas as pd
    frame = pd.DataFrame([report.summary() for report in reports])
    return frame.to_markdown(index=False)


def issue_lines(report: CheckReport, per_kind: int = 10) -> List[str]:
    """Issue messages, at most ``per_kind`` of each kind (with a count)."""
    lines, shown = [], collections.Counter()
    totals = collections.Counter(issue.kind for issue in report.issues)
    for issue in report.issues:
        shown[issue.kind] += 1
        label = 'error' if issue.is_error else 'warning'
        if issue.kind == 'empty_class':
            names = issue.message.splitlines()
            more = ' ...' if len(names) > per_kind else ''
            lines.append(f'{label} [empty_class] {report.manifest_path}: '
                         f'{len(names)} class(es) without entries: '
                         + ', '.join(names[:per_kind]) + more)
        elif shown[issue.kind] <= per_kind:
            lines.append(f'{label} [{issue.kind}] {issue.message}')
        elif shown[issue.kind] == per_kind + 1:
            lines.append(f'... and {totals[issue.kind] - per_kind} more [{issue.kind}]')
    return lines
