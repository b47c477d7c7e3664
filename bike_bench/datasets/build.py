"""Build a dataset's manifests from its source files, as its spec says.

``build_dataset('ucf101', 'official', source='lists/ucf101', out='data/ucf101')``
finds the format's source files (``manifests/ucf101.yaml``), runs its
builder for every manifest whose files are present, and writes into the
dataset folder ``out``: the class table(s), ``manifests/<name>.jsonl`` and,
when source records were left out, ``manifests/<name>.dropped.csv`` saying
which and why. ``bike-bench manifests build`` and ``bike-bench synth`` both
come through here.
"""
from __future__ import annotations

import csv
import dataclasses
import io
import os
from typing import Dict, List, Optional, Sequence

from bike_bench.datasets.builders import BuildContext, BuildResult, SourceError, get_builder
from bike_bench.datasets.class_table import write_class_table
from bike_bench.datasets.manifest import write_manifest
from bike_bench.datasets.specs import load_spec, missing_for, resolve_files
from bike_bench.utils.atomic import atomic_write_text


@dataclasses.dataclass
class BuildOutcome:
    dataset: str
    format: str
    out_dir: str
    result: BuildResult
    skipped: Dict[str, List[str]]      # manifest -> missing source files
    written: Dict[str, str] = dataclasses.field(default_factory=dict)
    reports: Dict[str, str] = dataclasses.field(default_factory=dict)

    def rows(self) -> List[dict]:
        """One summary row per manifest (built or skipped)."""
        rows = []
        for built in self.result.manifests:
            manifest = built.manifest
            covered = len({label for entry in manifest.entries for label in entry.labels})
            dropped = sum(d.manifest == built.name for d in self.result.dropped)
            rows.append({'manifest': built.name, 'entries': len(manifest.entries),
                         'expected': built.expected, 'dropped': dropped,
                         'classes': manifest.num_classes, 'covered': covered,
                         'path': self.written.get(built.name, '')})
        for name, missing in self.skipped.items():
            rows.append({'manifest': name, 'entries': None, 'expected': None,
                         'dropped': None, 'classes': None, 'covered': None,
                         'path': 'not built, missing: ' + ', '.join(missing)})
        return rows


def build_dataset(dataset: str, fmt: Optional[str] = None, source: Optional[str] = None,
                  out: Optional[str] = None, files: Optional[Dict[str, str]] = None,
                  only: Optional[Sequence[str]] = None,
                  media: Optional[Dict[str, str]] = None, pattern: Optional[str] = None,
                  filename_tmpl: Optional[str] = None, frames: Optional[bool] = None,
                  min_frames: int = 0, data_root: str = '..',
                  spec_dir: Optional[str] = None, write: bool = True) -> BuildOutcome:
    """Build (and by default write) the manifests of ``dataset``.

    Args:
        fmt: source format (a key of the spec's ``formats``); default the
            spec's ``default_format``.
        source: folder holding the source files (default ``out``).
        out: the dataset folder (default ``data/<folder>``).
        files: ``key -> path`` overrides of single source files.
        only: build just these manifests (each must have its files).
        media: ``manifest -> folder`` overrides (``*`` for all).
        pattern, filename_tmpl, frames, min_frames: see ``BuildContext``.
        data_root: the manifests' ``data_root`` (``..``: the dataset folder).
    """
    spec = load_spec(dataset, spec_dir)
    fmt = fmt or spec.default_format
    if fmt not in spec.formats:
        raise SourceError(f'{dataset}: unknown format {fmt!r}; known: '
                          f'{sorted(spec.formats)}')
    fspec = spec.formats[fmt]
    out = out or os.path.join('data', spec.folder)
    found = resolve_files(fspec, [source or out], files)
    wanted = list(only) if only else list(fspec.builds)
    unknown = [name for name in wanted if name not in fspec.builds]
    if unknown:
        raise SourceError(f'{dataset}/{fmt}: cannot build {unknown}; it builds '
                          f'{list(fspec.builds)}')
    builds, skipped = [], {}
    for name in wanted:
        lacking = missing_for(fspec, name, found)
        if lacking:
            skipped[name] = lacking
        else:
            builds.append(spec.build_spec(fmt, name))
    if not builds or (only and skipped):
        detail = '; '.join(f'{name}: {", ".join(keys)}' for name, keys in skipped.items())
        where = source or out
        raise SourceError(f'{dataset}/{fmt}: source files missing under {where} '
                          f'({detail}); expected paths: ' + ', '.join(
                              f'{key}={"|".join(fspec.files[key].paths)}'
                              for key in fspec.files))
    ctx = BuildContext(
        dataset=dataset, format=fmt, files=found, builds=builds,
        media=dict(fspec.media, **(media or {})),
        pattern=pattern or fspec.pattern,
        filename_tmpl=filename_tmpl or fspec.filename_tmpl,
        frames=fspec.frames if frames is None else frames,
        min_frames=min_frames, out_dir=out, data_root=data_root)
    result = get_builder(fspec.builder)(ctx)
    skipped.update(result.skipped)
    if only and result.skipped:
        raise SourceError(f'{dataset}/{fmt}: cannot build ' + '; '.join(
            f'{name} (missing {", ".join(what)})' for name, what in result.skipped.items()))
    outcome = BuildOutcome(dataset, fmt, out, result, skipped)
    if write:
        write_result(outcome)
    return outcome


def write_result(outcome: BuildOutcome) -> None:
    out, result = outcome.out_dir, outcome.result
    for table, names in result.class_tables.items():
        write_class_table(os.path.join(out, table), names)
    for built in result.manifests:
        path = os.path.join(out, 'manifests', f'{built.name}.jsonl')
        write_manifest(built.manifest, path)
        outcome.written[built.name] = path
        report = os.path.join(out, 'manifests', f'{built.name}.dropped.csv')
        dropped = [d for d in result.dropped if d.manifest == built.name]
        if dropped:
            atomic_write_text(report, dropped_csv(dropped))
            outcome.reports[built.name] = report
        elif os.path.exists(report):
            os.remove(report)  # stale report of an earlier build


def dropped_csv(dropped) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator='\n')
    writer.writerow(['manifest', 'source', 'line', 'path', 'reason'])
    for item in dropped:
        writer.writerow([item.manifest, item.source, item.line, item.path, item.reason])
    return buffer.getvalue()
