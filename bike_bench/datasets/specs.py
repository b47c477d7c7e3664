"""Dataset specs (``manifests/<dataset>.yaml``): which source files make which
manifests, where the official releases put them, and which builder reads
them.

A spec names the dataset folder under the data root (``data/ucf101``), the
manifests it yields (``manifests/<name>.jsonl``, each with a role and a class
table) and one or more source *formats*. A format gives its builder (a key
of ``bike_bench.datasets.builders.BUILDERS``), its source files (a key, a
path relative to the dataset folder — a list gives alternatives — and where
to get it), default media folders, path pattern and frame template, and for
each manifest the file keys it needs (``a|b``: either) plus builder options.
``source_status`` tells, for a data root, what is built, what can be built
and which files are missing.
"""
from __future__ import annotations

import dataclasses
import os
from typing import Any, Dict, List, Optional, Sequence

from bike_bench import catalog, paths
from bike_bench.datasets.builders.common import BuildSpec

SPEC_DIR = str(paths.spec_dir())  # $BIKE_BENCH_SPECS or the shipped specs
# The datasets with a shipped spec, in listing order (bike_bench.catalog).
DATASETS = tuple(catalog.dataset_names())


class SpecError(ValueError):
    """A malformed dataset spec; the message names the file."""


@dataclasses.dataclass
class SourceFile:
    key: str
    paths: List[str]          # candidates, relative to the dataset folder
    kind: str = 'file'        # or 'dir'
    url: str = ''
    note: str = ''


@dataclasses.dataclass
class ManifestSpec:
    name: str
    role: str
    class_table: str = 'classes.csv'
    multi_label: bool = False
    note: str = ''

    @property
    def path(self) -> str:
        return f'manifests/{self.name}.jsonl'


@dataclasses.dataclass
class FormatSpec:
    name: str
    builder: str
    description: str
    where: str
    files: Dict[str, SourceFile]
    builds: Dict[str, Dict[str, Any]]  # manifest -> {needs: [...], options}
    media: Dict[str, str]
    pattern: Optional[str] = None
    filename_tmpl: Optional[str] = None
    frames: bool = False

    def needs(self, manifest: str) -> List[str]:
        return list(self.builds[manifest]['needs'])


@dataclasses.dataclass
class DatasetSpec:
    dataset: str
    title: str
    folder: str
    homepage: str
    manifests: Dict[str, ManifestSpec]
    formats: Dict[str, FormatSpec]
    default_format: str
    path: str = ''

    def build_spec(self, fmt: str, manifest: str) -> BuildSpec:
        info = dict(self.formats[fmt].builds[manifest])
        needs = info.pop('needs')
        spec = self.manifests[manifest]
        info.setdefault('multi_label', spec.multi_label)
        return BuildSpec(manifest, list(needs), spec.role, spec.class_table, info)


_TOP = {'dataset', 'title', 'folder', 'homepage', 'manifests', 'formats',
        'default_format', 'notes', 'order', 'aliases', 'protocols'}
_FORMAT = {'builder', 'description', 'where', 'files', 'builds', 'media',
           'pattern', 'filename_tmpl', 'frames', 'notes'}


def _check_keys(where: str, data: dict, allowed: set) -> None:
    if not isinstance(data, dict):
        raise SpecError(f'{where}: expected a mapping')
    unknown = set(data) - allowed
    if unknown:
        raise SpecError(f'{where}: unknown key(s) {sorted(unknown)}')


def _format(path: str, name: str, data: dict,
            manifests: Dict[str, ManifestSpec]) -> FormatSpec:
    where = f'{path}: formats.{name}'
    _check_keys(where, data, _FORMAT)
    files = {}
    for key, info in (data.get('files') or {}).items():
        info = {'path': info} if isinstance(info, (str, list)) else info
        _check_keys(f'{where}.files.{key}', info, {'path', 'kind', 'url', 'note'})
        paths = info['path'] if isinstance(info['path'], list) else [info['path']]
        files[key] = SourceFile(key, [str(p) for p in paths], info.get('kind', 'file'),
                                info.get('url', ''), info.get('note', ''))
    builds = {}
    for manifest, info in (data.get('builds') or {}).items():
        if manifest not in manifests:
            raise SpecError(f'{where}.builds: {manifest!r} is not one of the '
                            f'manifests {sorted(manifests)}')
        info = dict(info or {})
        needs = info.get('needs')
        if not needs:
            raise SpecError(f'{where}.builds.{manifest}: no "needs"')
        for need in needs:
            for key in str(need).split('|'):
                if key not in files:
                    raise SpecError(f'{where}.builds.{manifest}: needs {key!r}, '
                                    'which is not in its files')
        builds[manifest] = info
    media = data.get('media') or {}
    if isinstance(media, str):
        media = {'*': media}
    if 'builder' not in data:
        raise SpecError(f'{where}: no "builder"')
    return FormatSpec(name, data['builder'], data.get('description', ''),
                      data.get('where', ''), files, builds,
                      {str(k): str(v) for k, v in media.items()},
                      data.get('pattern'), data.get('filename_tmpl'),
                      bool(data.get('frames', False)))


def parse_spec(data: dict, path: str = '<spec>') -> DatasetSpec:
    _check_keys(path, data, _TOP)
    for key in ('dataset', 'manifests', 'formats'):
        if key not in data:
            raise SpecError(f'{path}: no "{key}"')
    manifests = {}
    for name, info in data['manifests'].items():
        info = dict(info or {})
        _check_keys(f'{path}: manifests.{name}', info,
                    {'role', 'class_table', 'multi_label', 'note'})
        manifests[name] = ManifestSpec(name, info.get('role', 'test'),
                                       info.get('class_table', 'classes.csv'),
                                       bool(info.get('multi_label', False)),
                                       info.get('note', ''))
    formats = {name: _format(path, name, info, manifests)
               for name, info in data['formats'].items()}
    default = data.get('default_format', next(iter(formats)))
    if default not in formats:
        raise SpecError(f'{path}: default_format {default!r} is not a format')
    return DatasetSpec(data['dataset'], data.get('title', data['dataset']),
                       data.get('folder', data['dataset']), data.get('homepage', ''),
                       manifests, formats, default, path)


def spec_path(dataset: str, spec_dir: Optional[str] = None) -> str:
    return os.path.join(spec_dir or SPEC_DIR, f'{dataset}.yaml')


def load_spec(dataset: str, spec_dir: Optional[str] = None) -> DatasetSpec:
    import yaml
    path = spec_path(dataset, spec_dir)
    if not os.path.isfile(path):
        known = ', '.join(list_datasets(spec_dir)) or 'none'
        raise SpecError(f'no dataset spec {path} (known: {known})')
    with open(path, 'r', encoding='utf-8') as handle:
        try:
            data = yaml.safe_load(handle)
        except yaml.YAMLError as error:
            raise SpecError(f'{path}: not valid YAML ({error})') from None
    spec = parse_spec(data, path)
    if spec.dataset != dataset:
        raise SpecError(f'{path}: says dataset {spec.dataset!r}')
    return spec


def list_datasets(spec_dir: Optional[str] = None) -> List[str]:
    folder = spec_dir or SPEC_DIR
    if not os.path.isdir(folder):
        return []
    found = [name[:-5] for name in os.listdir(folder) if name.endswith('.yaml')]
    return [d for d in DATASETS if d in found] + sorted(set(found) - set(DATASETS))


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
