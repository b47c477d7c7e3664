"""What a builder made: ``BuildResult`` holds the manifests, their class
tables (and where each table's names came from), every source record left
out with the reason (``Dropped``) and what the builder noticed on the way
(``Issue``: e.g. a class matched by a respelled label); the build contract
(``contract.py``) adds its own issues to the same list.
"""
from __future__ import annotations

import dataclasses
from typing import Dict, List, Optional, Sequence, Tuple

from bike_bench.datasets.builders.context import BuildContext, BuildSpec
from bike_bench.datasets.builders.sources import SourceError
from bike_bench.datasets.manifest import Manifest, ManifestEntry

SEVERITIES = ('error', 'warning', 'note')


@dataclasses.dataclass
class Issue:
    """One finding of a build: ``error`` (nothing is written), ``warning``
    (written; ``--strict`` refuses) or ``note`` (what was used)."""
    severity: str
    kind: str            # empty_class, near_duplicate_label, missing_files, ...
    manifest: Optional[str]
    message: str

    def line(self) -> str:
        where = f'{self.manifest}: ' if self.manifest else ''
        return f'{self.severity}: {where}{self.message}'


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
    source_files: List[str] = dataclasses.field(default_factory=list)
    # the class table's names are the labels seen in the sources (no table given)
    classes_derived: bool = False
    # every class must have entries (a protocol's fixed class set)
    every_class: bool = False


@dataclasses.dataclass
class BuildResult:
    manifests: List[BuiltManifest] = dataclasses.field(default_factory=list)
    class_tables: Dict[str, List[str]] = dataclasses.field(default_factory=dict)
    # class table file -> where its names came from (a source file, or how
    # they were derived)
    class_sources: Dict[str, str] = dataclasses.field(default_factory=dict)
    dropped: List[Dropped] = dataclasses.field(default_factory=list)
    # manifest -> what is missing, for manifests a builder could not make
    skipped: Dict[str, List[str]] = dataclasses.field(default_factory=dict)
    # manifest -> {source label: rows} of labels that are not its classes
    # (closest-name suggestions for classes left without entries)
    other_labels: Dict[str, Dict[str, int]] = dataclasses.field(default_factory=dict)
    issues: List[Issue] = dataclasses.field(default_factory=list)
    # manifest -> entries whose file or folder is absent (the contract's)
    absent: Dict[str, List[str]] = dataclasses.field(default_factory=dict)

    def add_table(self, name: str, classes: List[str]) -> None:
        known = self.class_tables.get(name)
        if known is not None and known != classes:
            raise SourceError(f'two different class lists would be written to '
                              f'{name}; give the builds different class tables')
        self.class_tables[name] = classes

    def note(self, severity: str, kind: str, manifest: Optional[str], message: str) -> None:
        if severity not in SEVERITIES:
            raise ValueError(f'severity {severity!r} is not one of {SEVERITIES}')
        self.issues.append(Issue(severity, kind, manifest, message))

    def add(self, ctx: BuildContext, build: BuildSpec, classes: List[str],
            entries: List[ManifestEntry], expected: int, source_keys: Sequence[str],
            multi_label: bool = False, notes: Optional[dict] = None,
            classes_from: Optional[str] = None) -> Manifest:
        """Record one manifest (applying ``ctx.min_frames``).

        Args:
            expected: records of the source for this manifest (entries plus
                the records left out here or by the builder).
            classes_from: where the class names came from when not the
                source file of ``source_keys`` that holds them (e.g. "sorted
                labels of train.csv"); makes the table a derived one, whose
                near-identical names the build contract reports.

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
        if classes_from:
            source['classes_from'] = classes_from
        self.add_table(build.class_table, classes)
        if classes_from:
            self.class_sources.setdefault(build.class_table, classes_from)
        else:
            table_keys = [k for k in source_keys if k != source_keys[0]] or [source_keys[0]]
            self.class_sources.setdefault(build.class_table,
                                           ctx.shown(ctx.files[table_keys[-1]]))
        manifest = Manifest(dataset=ctx.dataset, split=build.name,
                            classes=list(classes), entries=kept,
                            class_table=f'../{build.class_table}',
                            multi_label=multi_label, data_root=ctx.data_root,
                            source=source)
        self.manifests.append(BuiltManifest(
            build.name, manifest, build.class_table, expected,
            [ctx.files[k] for k in source_keys], classes_derived=bool(classes_from),
            every_class=bool(build.options.get('every_class', False))))
        return manifest


def entry_key(entry: ManifestEntry) -> tuple:
    """What makes two entries the same sample: path and segment (and, for
    a segment, the label: Charades instances of different actions share
    segments)."""
    segment = tuple(entry.segment) if entry.segment else None
    label = tuple(entry.labels) if segment is not None else None
    return entry.path, segment, label
