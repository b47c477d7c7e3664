"""Dataset specs against a data root: which source files are present, what
is built, what can be built and which files are missing.

The specs themselves (``manifests/<dataset>.yaml``: manifests, formats,
protocols) are read by ``bike_bench.catalog``, the one reader; this module
finds a format's source files in folders (``resolve_files``) and tells, for
a data root, what is built and what is missing (``source_status``,
``describe_missing``).
"""
from __future__ import annotations

import dataclasses
import os
from typing import Dict, List, Optional, Sequence

from bike_bench import catalog
from bike_bench.catalog import (DatasetSpec, FormatSpec, ManifestSpec,  # noqa: F401
                                SourceFile, SpecError, parse_spec)

SPEC_DIR = catalog.spec_folder()  # $BIKE_BENCH_SPECS or the shipped specs
# The datasets with a shipped spec, in listing order.
DATASETS = tuple(catalog.dataset_names())


def spec_path(dataset: str, spec_dir: Optional[str] = None) -> str:
    return os.path.join(spec_dir or SPEC_DIR, f'{dataset}.yaml')


def load_spec(dataset: str, spec_dir: Optional[str] = None) -> DatasetSpec:
    """The spec of ``dataset`` (its own name, as the file is named).

    Raises:
        SpecError: no spec file of that name, or a malformed one.
    """
    known = catalog.datasets(spec_dir or SPEC_DIR)
    if dataset not in known:
        path = spec_path(dataset, spec_dir)
        raise SpecError(f'no dataset spec {path} (known: '
                        f'{", ".join(known) or "none"})')
    return known[dataset]


def list_datasets(spec_dir: Optional[str] = None) -> List[str]:
    """Datasets with a spec in ``spec_dir``, in listing order."""
    return list(catalog.datasets(spec_dir or SPEC_DIR))


def find_file(source: SourceFile, folders: Sequence[str]) -> Optional[str]:
    """The first candidate path that exists under one of ``folders``.

    Each candidate is tried as given and by its base name, so a flat folder
    of source files (e.g. a copy of the official lists) works too.
    """
    check = os.path.isdir if source.kind == 'dir' else os.path.isfile
    for folder in folders:
        for rel in source.paths:
            for candidate in (rel, os.path.basename(rel.rstrip('/'))):
                path = os.path.join(folder, candidate)
                if check(path):
                    return path
    return None


def resolve_files(fmt: FormatSpec, folders: Sequence[str],
                  overrides: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """Source key -> existing path (``overrides`` win, and must exist)."""
    found = {}
    for key, source in fmt.files.items():
        path = find_file(source, folders)
        if path:
            found[key] = path
    for key, path in (overrides or {}).items():
        if key not in fmt.files:
            raise SpecError(f'format {fmt.name!r} has no source file {key!r} '
                            f'(it has {sorted(fmt.files)})')
        if not os.path.exists(path):
            raise FileNotFoundError(f'source file {key}={path} not found')
        found[key] = path
    return found


def missing_for(fmt: FormatSpec, manifest: str, found: Dict[str, str]) -> List[str]:
    """Needed file keys of ``manifest`` that are absent (``a|b`` if neither)."""
    return [need for need in fmt.needs(manifest)
            if not any(key in found for key in str(need).split('|'))]


@dataclasses.dataclass
class ManifestStatus:
    dataset: str
    manifest: str
    path: str                        # manifest path under the data root
    built: bool
    buildable: List[str]             # formats whose files are all present
    missing: Dict[str, List[str]]    # format -> missing file descriptions


def source_status(data_root: str, datasets: Optional[Sequence[str]] = None,
                  spec_dir: Optional[str] = None) -> List[ManifestStatus]:
    """For every manifest: built? buildable from which format? what's missing?

    Source files are looked up in ``<data_root>/<dataset folder>/``.
    """
    statuses = []
    for dataset in datasets or list_datasets(spec_dir):
        spec = load_spec(dataset, spec_dir)
        folder = os.path.join(data_root, spec.folder)
        found = {name: resolve_files(fmt, [folder]) for name, fmt in spec.formats.items()}
        for manifest in spec.manifests.values():
            path = os.path.join(folder, manifest.path)
            buildable, missing = [], {}
            for name, fmt in spec.formats.items():
                if manifest.name not in fmt.builds:
                    continue
                lacking = missing_for(fmt, manifest.name, found[name])
                if lacking:
                    missing[name] = [_describe(fmt, need) for need in lacking]
                else:
                    buildable.append(name)
            statuses.append(ManifestStatus(dataset, manifest.name, path,
                                           os.path.isfile(path), buildable, missing))
    return statuses


def _describe(fmt: FormatSpec, need: str) -> str:
    parts = []
    for key in str(need).split('|'):
        source = fmt.files[key]
        text = ' or '.join(source.paths)
        if source.url:
            text += f' ({source.url})'
        parts.append(text)
    return ' | '.join(parts)


def describe_missing(statuses: Sequence[ManifestStatus],
                     spec_dir: Optional[str] = None) -> str:
    """What a user must add to build each manifest that is not built yet.

    Grouped by dataset; for manifests that no format can build yet, the
    missing files of the default format (or the first format that builds the
    manifest) and where the official release puts them.
    """
    lines: List[str] = []
    by_dataset: Dict[str, List[ManifestStatus]] = {}
    for status in statuses:
        if not status.built:
            by_dataset.setdefault(status.dataset, []).append(status)
    for dataset, pending in by_dataset.items():
        spec = load_spec(dataset, spec_dir)
        lines.append(f'{dataset} (files under <data root>/{spec.folder}/):')
        wheres = {}
        for status in pending:
            if status.buildable:
                lines.append(f'  {status.manifest}: not built yet; run `bike-bench '
                             f'manifests build {dataset} --format '
                             f'{status.buildable[0]}`')
                continue
            fmt = spec.default_format if spec.default_format in status.missing \
                else next(iter(status.missing), None)
            if fmt is None:
                continue
            lines.append(f'  {status.manifest}: missing (format {fmt}): '
                         + '; '.join(status.missing[fmt]))
            wheres[fmt] = spec.formats[fmt].where
        for fmt, where in wheres.items():
            lines.append(f'  where to get the {fmt} files: {where}')
    return '\n'.join(lines)
