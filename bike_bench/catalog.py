"""The dataset specs (``manifests/<dataset>.yaml``), read in one place.

A spec says everything the package knows about one dataset: its names and
folder, the manifests it yields (role and class table of each), which
manifests each evaluation protocol reads (``protocols``: the zero-shot
manifests and variants, the few-shot training and evaluation manifests)
and, per source *format*, which builder turns which files into which
manifests. Nothing else in the package lists datasets or their protocol
manifests; :func:`get` and :func:`datasets` are how the rest reads them.

Light (PyYAML only) so that the command line offers the names as choices
without importing torch. Finding a format's source files under a data root
and telling what is built or missing is ``bike_bench.datasets.specs``.
"""
from __future__ import annotations

import dataclasses
import difflib
import functools
import os
from typing import Any, Dict, List, Optional, Sequence, Tuple

from bike_bench import paths
from bike_bench.protocols import ZEROSHOT_VARIANTS

# Zero-shot variants a dataset has when its spec lists only the manifests.
DEFAULT_ZEROSHOT_VARIANTS = ('full', 'half')


class SpecError(ValueError):
    """A malformed dataset spec; the message names the file and the key."""


class UnknownDatasetError(ValueError):
    """A dataset name that no spec defines; the message suggests the closest."""


@dataclasses.dataclass
class SourceFile:
    """One source file (or folder) of a format."""
    key: str
    paths: List[str]          # candidates, relative to the dataset folder
    kind: str = 'file'        # or 'dir'
    url: str = ''
    note: str = ''


@dataclasses.dataclass
class ManifestSpec:
    """One manifest of a dataset: ``manifests/<name>.jsonl``."""
    name: str
    role: str                 # train | val | test
    class_table: str = 'classes.csv'
    multi_label: bool = False
    note: str = ''

    @property
    def path(self) -> str:
        return f'manifests/{self.name}.jsonl'


@dataclasses.dataclass
class FormatSpec:
    """A source format: its builder, files and what each manifest needs."""
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
    """A whole dataset spec (one YAML file)."""
    dataset: str
    title: str
    folder: str                       # under the data root
    homepage: str
    manifests: Dict[str, ManifestSpec]
    formats: Dict[str, FormatSpec]
    default_format: str
    path: str = ''
    aliases: Tuple[str, ...] = ()
    order: int = 1000
    zeroshot: Tuple[str, ...] = ()    # manifests of its zero-shot evaluation
    zeroshot_variants: Tuple[str, ...] = ()  # full / half / k600
    fewshot: Dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.dataset

    @property
    def roles(self) -> Dict[str, str]:
        """Manifest name -> role (train, val, test)."""
        return {name: spec.role for name, spec in self.manifests.items()}

    def zeroshot_class_tables(self) -> List[str]:
        """Class-table file names (in the dataset folder) of the zero-shot
        manifests, in the order of :attr:`zeroshot`."""
        return [self.manifests[name].class_table for name in self.zeroshot]

    def fewshot_manifests(self, split: int = 1) -> Tuple[str, str]:
        """(training, evaluation) manifest names of the few-shot protocol.

        Raises:
            ValueError: the dataset has no few-shot protocol.
        """
        if not self.fewshot:
            raise ValueError(f'no few-shot protocol for {self.name}')
        return (self.fewshot['train'].format(split=split),
                self.fewshot['val'].format(split=split))


# What the rest of the package calls the spec of one dataset.
DatasetInfo = DatasetSpec

_TOP = {'dataset', 'title', 'folder', 'homepage', 'manifests', 'formats',
        'default_format', 'notes', 'order', 'aliases', 'protocols'}
_FORMAT = {'builder', 'description', 'where', 'files', 'builds', 'media',
           'pattern', 'filename_tmpl', 'frames', 'notes'}
_ROLES = ('train', 'val', 'test')


def _check_keys(where: str, data: Any, allowed: set) -> None:
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
        found = info['path'] if isinstance(info['path'], list) else [info['path']]
        files[key] = SourceFile(key, [str(p) for p in found], info.get('kind', 'file'),
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


def _protocols(path: str, data: Any, manifests: Dict[str, ManifestSpec]):
    """``(zeroshot manifests, zeroshot variants, fewshot)`` of ``protocols``."""
    data = data or {}
    _check_keys(f'{path}: protocols', data, {'zeroshot', 'fewshot'})
    zeroshot = data.get('zeroshot') or []
    variants: Sequence[str] = DEFAULT_ZEROSHOT_VARIANTS
    if isinstance(zeroshot, dict):
        _check_keys(f'{path}: protocols.zeroshot', zeroshot, {'manifests', 'variants'})
        variants = zeroshot.get('variants') or DEFAULT_ZEROSHOT_VARIANTS
        zeroshot = zeroshot.get('manifests') or []
    zeroshot = tuple(str(name) for name in zeroshot)
    for name in zeroshot:
        if name not in manifests:
            raise SpecError(f'{path}: protocols.zeroshot names {name!r}, which is '
                            f'not one of the manifests {sorted(manifests)}')
    for variant in variants:
        if variant not in ZEROSHOT_VARIANTS:
            raise SpecError(f'{path}: protocols.zeroshot.variants: {variant!r} is '
                            f'not one of {", ".join(ZEROSHOT_VARIANTS)}')
    fewshot = {str(k): str(v) for k, v in (data.get('fewshot') or {}).items()}
    if fewshot and set(fewshot) != {'train', 'val'}:
        raise SpecError(f'{path}: protocols.fewshot needs exactly "train" and '
                        f'"val" (got {sorted(fewshot)})')
    return zeroshot, tuple(str(v) for v in variants) if zeroshot else (), fewshot


def parse_spec(data: Any, path: str = '<spec>') -> DatasetSpec:
    """The spec in ``data`` (a YAML file's content).

    Raises:
        SpecError: a missing or unknown key, a format needing a file it does
            not list, a protocol naming a manifest the spec lacks; the
            message names ``path`` and the key.
    """
    _check_keys(path, data, _TOP)
    for key in ('dataset', 'manifests', 'formats'):
        if key not in data:
            raise SpecError(f'{path}: no "{key}"')
    manifests = {}
    for name, info in (data['manifests'] or {}).items():
        info = dict(info or {})
        _check_keys(f'{path}: manifests.{name}', info,
                    {'role', 'class_table', 'multi_label', 'note'})
        role = info.get('role', 'test')
        if role not in _ROLES:
            raise SpecError(f'{path}: manifests.{name}.role: {role!r} is not one '
                            f'of {", ".join(_ROLES)}')
        manifests[str(name)] = ManifestSpec(str(name), role,
                                            info.get('class_table', 'classes.csv'),
                                            bool(info.get('multi_label', False)),
                                            info.get('note', ''))
    formats = {name: _format(path, name, info, manifests)
               for name, info in (data['formats'] or {}).items()}
    if not formats:
        raise SpecError(f'{path}: no formats')
    default = data.get('default_format', next(iter(formats)))
    if default not in formats:
        raise SpecError(f'{path}: default_format {default!r} is not a format')
    zeroshot, variants, fewshot = _protocols(path, data.get('protocols'), manifests)
    for role, name in fewshot.items():
        if name.format(split=1) not in manifests:
            raise SpecError(f'{path}: protocols.fewshot.{role} names {name!r}, '
                            'which is not one of the manifests')
    dataset = str(data['dataset'])
    return DatasetSpec(
        dataset, str(data.get('title', dataset)), str(data.get('folder', dataset)),
        str(data.get('homepage', '')), manifests, formats, default, path,
        aliases=tuple(str(a).lower() for a in data.get('aliases') or ()),
        order=int(data.get('order', 1000)), zeroshot=zeroshot,
        zeroshot_variants=variants, fewshot=fewshot)


def read_spec(path: str) -> DatasetSpec:
    """Read and parse one spec file.

    Raises:
        SpecError: not valid YAML, or malformed (see :func:`parse_spec`).
    """
    import yaml
    loader = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)  # libyaml when built
    with open(path, encoding='utf-8') as handle:
        try:
            data = yaml.load(handle, Loader=loader)
        except yaml.YAMLError as error:
            raise SpecError(f'{path}: not valid YAML ({error})') from None
    spec = parse_spec(data, path)
    stem = os.path.splitext(os.path.basename(path))[0]
    if spec.dataset != stem:
        raise SpecError(f'{path}: says dataset {spec.dataset!r}; a spec file is '
                        'named after its dataset')
    return spec


@functools.lru_cache(maxsize=8)
def _load(spec_dir: str) -> Tuple[DatasetSpec, ...]:
    found = []
    if os.path.isdir(spec_dir):
        for name in sorted(os.listdir(spec_dir)):
            if name.endswith('.yaml'):
                found.append(read_spec(os.path.join(spec_dir, name)))
    return tuple(sorted(found, key=lambda d: (d.order, d.name)))


def spec_folder(spec_dir: Optional[str] = None) -> str:
    """The folder the specs are read from (``$BIKE_BENCH_SPECS`` or shipped)."""
    return str(spec_dir or paths.spec_dir())


def datasets(spec_dir: Optional[str] = None) -> Dict[str, DatasetSpec]:
    """Every dataset with a spec, in listing order, by name."""
    return {info.name: info for info in _load(spec_folder(spec_dir))}


def dataset_names(spec_dir: Optional[str] = None) -> List[str]:
    """The datasets' own names, in listing order."""
    return list(datasets(spec_dir))


def accepted_names(spec_dir: Optional[str] = None) -> List[str]:
    """Names and aliases a user may type."""
    names = []
    for info in datasets(spec_dir).values():
        names += [info.name, *info.aliases]
    return names


def get(name: str, spec_dir: Optional[str] = None) -> DatasetSpec:
    """The dataset called ``name`` or one of its aliases (any case).

    Raises:
        UnknownDatasetError: no spec has that name; the message lists the
            known names and the closest one.
    """
    key = str(name).lower()
    known = datasets(spec_dir)
    for info in known.values():
        if key == info.name or key in info.aliases:
            return info
    close = difflib.get_close_matches(key, accepted_names(spec_dir), n=1, cutoff=0.5)
    hint = f' (did you mean {close[0]}?)' if close else ''
    raise UnknownDatasetError(f'unknown dataset {name!r}{hint}; known: '
                              f'{", ".join(known) or "none"}')


def zeroshot_datasets(variant: Optional[str] = None,
                      spec_dir: Optional[str] = None) -> Tuple[str, ...]:
    """Datasets with a zero-shot evaluation (of ``variant`` when given:
    ``full``, ``half`` or ``k600``), in listing order."""
    return tuple(info.name for info in datasets(spec_dir).values()
                 if info.zeroshot and (variant is None or variant in info.zeroshot_variants))


def fewshot_datasets(spec_dir: Optional[str] = None) -> Tuple[str, ...]:
    """Datasets with a few-shot protocol, in listing order."""
    return tuple(info.name for info in datasets(spec_dir).values() if info.fewshot)
