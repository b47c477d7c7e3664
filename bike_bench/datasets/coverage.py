"""Coverage of a dataset on disk: how many of a manifest's videos are there.

Public copies of the real datasets have holes (Kinetics videos removed from
YouTube: 2-5 % of a list); papers report on whatever subset they hold. Before
an evaluation runs (``bike-bench test`` / ``zeroshot`` / ``reproduce
--data-root``) its test manifests are measured here -- videos present /
listed, per manifest (one split each) -- and one line per manifest is
printed. A policy then decides (``--min-coverage F``, docs/reliability.md,
"Coverage"):

* every video present: the manifest is evaluated as it is, nothing written;
* coverage below ``F`` (default 1.0): refused, with the absent files listed
  in ``<work dir>/missing_<name>.txt`` and a one-line error naming the count
  and that file (:class:`CoverageError`);
* otherwise: the absent files are listed the same way and the present
  videos written as a manifest of their own
  (``<work dir>/coverage/<dataset>_<split>.present.jsonl``) whose header's
  ``source.coverage`` records ``present``, ``listed``, ``missing_file`` and
  the original manifest with its hash. That manifest is what runs; its
  coverage record reaches the results file (``dataset.coverage``), the table
  cell (``87.92 [n=19,404/19,796]``) and the table footnote.

This is the one module that measures coverage; the commands call
:func:`cover_config` / :func:`cover_manifests` / :func:`cover_configs`.
"""
from __future__ import annotations

import dataclasses
import os
from typing import Any, Callable, Dict, List, Optional, Sequence

from bike_bench.datasets.manifest import Manifest, read_manifest, write_manifest

DEFAULT_MIN_COVERAGE = 1.0  # the command-line option: bike_bench/cli/coverage_option.py


class CoverageError(ValueError):
    """Fewer videos present than the coverage policy asks for."""


@dataclasses.dataclass
class Coverage:
    """Videos of one manifest present on disk.

    Attributes:
        manifest: the manifest's path.
        dataset, split: from its header.
        listed: entries in the manifest.
        present: entries whose file (or frame folder) exists.
        missing: the absent files, in manifest order, as they would be read.
    """
    manifest: str
    dataset: str
    split: str
    listed: int
    present: int
    missing: List[str]

    @property
    def fraction(self) -> float:
        """``present / listed`` (1.0 for an empty manifest)."""
        return self.present / self.listed if self.listed else 1.0

    def line(self) -> str:
        """``coverage kinetics400/val: 19,404/19,796 videos present (98.02 %)``."""
        absent = f', {self.listed - self.present:,} missing' if self.missing else ''
        return (f'coverage {self.dataset}/{self.split}: {self.present:,}/{self.listed:,} '
                f'videos present ({100 * self.fraction:.2f} %){absent}')


def _present(location: str, frame_folder: bool) -> bool:
    return os.path.isdir(location) if frame_folder else os.path.isfile(location)


def measure(manifest: str) -> Coverage:
    """The coverage of the manifest at ``manifest`` (one ``stat`` per entry).

    Raises:
        FileNotFoundError, ManifestError: the manifest cannot be read.
    """
    data = read_manifest(manifest, check_labels=False)
    return _measure(data)


def _measure(data: Manifest) -> Coverage:
    missing, present = [], 0
    for entry in data.entries:
        location = data.entry_location(entry)
        if _present(location, entry.is_frame_folder):
            present += 1
        else:
            missing.append(location)
    return Coverage(manifest=data.path or '', dataset=data.dataset, split=data.split,
                    listed=len(data.entries), present=present, missing=missing)


def _safe(name: str) -> str:
    return ''.join(c if c.isalnum() or c in '-_.' else '-' for c in name) or 'dataset'


def cover_manifests(manifests: Sequence[str], name: str,
                    min_coverage: float = DEFAULT_MIN_COVERAGE,
                    work_dir: str = '.', echo: Callable[[str], None] = print
                    ) -> List[str]:
    """Measure and print the coverage of ``manifests``, then apply the policy.

    Args:
        manifests: manifest paths (the test sets of one run).
        name: what the run is called (``missing_<name>.txt``): a registry
            entry, or ``<dataset>_<split>``.
        min_coverage: the smallest ``present / listed`` accepted per
            manifest, in [0, 1].
        work_dir: where the missing list and present-only manifests go.

    Returns:
        The manifests to evaluate, in order: each one as given when all its
        videos are there, else its present-only manifest.

    Raises:
        CoverageError: a manifest's coverage is below ``min_coverage``, or
            none of its videos is present (message names the count and the
            missing-list file).
        ValueError: ``min_coverage`` outside [0, 1].
    """
    if not 0.0 <= float(min_coverage) <= 1.0:
        raise ValueError(f'--min-coverage must lie in [0, 1], got {min_coverage}')
    found = {}
    for path in dict.fromkeys(manifests):
        found[path] = measure(path)
        echo(found[path].line())
    partial = [c for c in found.values() if c.missing]
    if not partial:
        return list(manifests)
    missing_file = os.path.join(work_dir, f'missing_{_safe(name)}.txt')
    _write_missing(missing_file, partial)
    below = [c for c in partial if c.fraction < float(min_coverage) or not c.present]
    if below:
        absent = sum(len(c.missing) for c in below)
        listed = sum(c.listed for c in below)
        worst = min(c.fraction for c in below)
        raise CoverageError(
            f'{name}: {absent:,} of {listed:,} videos missing ({100 * worst:.2f} % '
            f'present, --min-coverage {float(min_coverage):g}); listed in {missing_file}')
    covered = {path: (_present_manifest(c, missing_file, work_dir) if c.missing else path)
               for path, c in found.items()}
    return [covered[path] for path in manifests]


def _write_missing(path: str, coverages: Sequence[Coverage]) -> None:
    from bike_bench.utils.atomic import atomic_write_text
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    lines = [f'# {c.manifest}: {c.listed - c.present:,} of {c.listed:,} missing\n'
             + ''.join(f'{location}\n' for location in c.missing) for c in coverages]
    atomic_write_text(path, ''.join(lines))


def _present_manifest(coverage: Coverage, missing_file: str, work_dir: str) -> str:
    """The manifest of the present videos (header ``source.coverage``)."""
    data = read_manifest(coverage.manifest, check_labels=False)
    out = os.path.join(work_dir, 'coverage',
                       f'{_safe(data.dataset)}_{_safe(data.split)}.present.jsonl')
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    root = data.resolve_root()
    missing = set(coverage.missing)
    original_hash = data.content_hash
    data.entries = [e for e in data.entries if data.entry_location(e) not in missing]
    # Entry paths stay as listed; the root (and the class table) are given
    # relative to the new file.
    here = os.path.dirname(os.path.abspath(out))
    if data.class_table and not os.path.isabs(data.class_table):
        table = os.path.join(os.path.dirname(os.path.abspath(coverage.manifest)),
                             data.class_table)
        data.class_table = os.path.relpath(table, here)
    data.data_root = os.path.relpath(os.path.abspath(root), here)
    data.source = dict(data.source, coverage=dict(
        present=coverage.present, listed=coverage.listed, missing_file=missing_file,
        manifest=coverage.manifest, manifest_hash=original_hash))
    write_manifest(data, out)
    return out


def coverage_record(manifest: Optional[Manifest]) -> Dict[str, Any]:
    """``{'coverage': {...}}`` for a results file's ``dataset`` section when
    ``manifest`` holds only the present videos of another; else ``{}``."""
    record = (manifest.source or {}).get('coverage') if manifest is not None else None
    return {'coverage': dict(record)} if isinstance(record, dict) else {}


def cover_manifest(path, min_coverage: float = DEFAULT_MIN_COVERAGE,
                   work_dir: str = '.', echo: Callable[[str], None] = print):
    """:func:`cover_manifests` for one test manifest, named by its dataset and
    split (``bike-bench test``): the manifest to evaluate; files go to
    ``work_dir``. A path that is not a manifest file is returned as it is
    (the evaluation reports it)."""
    if not isinstance(path, str) or not os.path.isfile(path):
        return path
    data = read_manifest(path, check_labels=False)
    return cover_manifests([path], f'{data.dataset}_{data.split}', min_coverage,
                           work_dir, echo)[0]


def cover_config(cfg, min_coverage: float = DEFAULT_MIN_COVERAGE,
                 echo: Callable[[str], None] = print) -> None:
    """:func:`cover_manifest` for a config's test manifest:
    ``test_dataloader.dataset.ann_file`` is replaced by the manifest to
    evaluate; files go to ``cfg.work_dir``."""
    dataset = (cfg.get('test_dataloader') or {}).get('dataset') or {}
    if 'ann_file' in dataset:
        dataset.ann_file = cover_manifest(dataset.get('ann_file'), min_coverage,
                                          cfg.work_dir, echo)


def cover_configs(cfgs: Sequence, name: str, min_coverage: float, work_dir: str,
                  echo: Callable[[str], None] = print) -> List[str]:
    """:func:`cover_manifests` for the test manifests of several configs (one
    registry entry of ``reproduce --data-root``); each config's
    ``test_dataloader.dataset.ann_file`` is replaced by its manifest to
    evaluate, which are returned."""
    manifests = [cfg.test_dataloader.dataset.ann_file for cfg in cfgs]
    covered = cover_manifests(manifests, name, min_coverage, work_dir, echo)
    for cfg, path in zip(cfgs, covered):
        cfg.test_dataloader.dataset.ann_file = path
    return covered


def results_coverage(results: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """``{present, listed, missing_files}`` of a results file measured on part
    of its manifests (``dataset.coverage``, summed over a zero-shot run's
    ``dataset.splits``); None when every listed video was evaluated."""
    dataset = results.get('dataset') or {}
    parts = dataset.get('splits') if isinstance(dataset.get('splits'), list) else [dataset]
    if not any(isinstance(p, dict) and p.get('coverage') for p in parts):
        return None
    present = listed = 0
    files = []
    for part in parts:
        record = part.get('coverage') or {}
        videos = int(part.get('num_videos') or 0)
        present += int(record.get('present', videos))
        listed += int(record.get('listed', videos))
        if record.get('missing_file') and record['missing_file'] not in files:
            files.append(record['missing_file'])
    return dict(present=present, listed=listed, missing_files=files)


def cell_suffix(record: Optional[Dict[str, Any]]) -> str:
    """`` [n=19,404/19,796]`` for a table cell (empty for full coverage)."""
    if not record:
        return ''
    return f' [n={record["present"]:,}/{record["listed"]:,}]'


def note_text(record: Optional[Dict[str, Any]]) -> str:
    """The footnote clause of a run measured on part of its data."""
    if not record:
        return ''
    files = ', '.join(record['missing_files'])
    listed = f', listed in {files}' if files else ''
    return (f' — measured on {record["present"]:,} of {record["listed"]:,} videos '
            f'({record["listed"] - record["present"]:,} missing{listed})')
