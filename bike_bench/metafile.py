"""The model index ``mmconfigs/metafile.yml`` as simple records.

The metafile follows MMAction2's model-index layout (``Collections`` +
``Models`` with ``Name``, ``Config``, ``Metadata``, ``Results``,
``Weights``, ``Training Log``). bike-bench adds ``Views`` (``'4x3'`` =
clips x crops), ``Frames`` and ``Input Size`` to the metadata and writes
metrics as ``top1`` / ``top5`` / ``mAP`` (percent).
"""
from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Union

import yaml

from bike_bench import paths

# The folder the metafile's ``Config`` paths are relative to: the shipped
# package data, or the checkout (see bike_bench.paths).
DATA_ROOT = paths.data_root()
DEFAULT_METAFILE = paths.metafile()
_VIEWS = re.compile(r'^(\d+)x(\d+)$')
_REQUIRED_METADATA = ('Views', 'Frames', 'Input Size')

PathLike = Union[str, os.PathLike]


class MetafileError(ValueError):
    """A malformed or incomplete metafile; the message names the entries."""


@dataclasses.dataclass(frozen=True)
class ModelRecord:
    """One ``Models`` entry of the metafile."""

    name: str
    config: str  # as written: relative to the package data (DATA_ROOT)
    collection: Optional[str]
    dataset: Optional[str]  # the first result's dataset
    task: Optional[str]
    views: str  # 'clips x crops', e.g. '4x3'
    frames: int
    input_size: int
    metrics: Dict[str, float]
    weights: Optional[str]
    training_log: Optional[str]
    metadata: Dict[str, Any]
    results: List[Dict[str, Any]]

    @property
    def num_clips(self) -> int:
        return int(_VIEWS.match(self.views).group(1))

    @property
    def num_crops(self) -> int:
        return int(_VIEWS.match(self.views).group(2))

    @property
    def protocol(self) -> Optional[str]:
        return self.metadata.get('Protocol')

    def config_path(self, root: Optional[PathLike] = None) -> Path:
        return Path(root or DATA_ROOT) / self.config


def _record(entry: Any, where: str) -> ModelRecord:
    if not isinstance(entry, dict):
        raise MetafileError(f'{where}: a model entry must be a mapping')
    missing = [key for key in ('Name', 'Config', 'Metadata') if not entry.get(key)]
    if missing:
        raise MetafileError(f'{where}: missing {", ".join(missing)}')
    where = f'{where} ({entry["Name"]})'
    meta = entry['Metadata']
    if not isinstance(meta, dict):
        raise MetafileError(f'{where}: Metadata must be a mapping')
    absent = [key for key in _REQUIRED_METADATA if meta.get(key) is None]
    if absent:
        raise MetafileError(f'{where}: Metadata lacks {", ".join(absent)}')
    views = str(meta['Views'])
    if not _VIEWS.match(views):
        raise MetafileError(f'{where}: Views {views!r} is not "<clips>x<crops>"')
    results = entry.get('Results') or []
    if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
        raise MetafileError(f'{where}: Results must be a list of mappings')
    metrics: Dict[str, float] = {}
    for result in results:
        for key, value in (result.get('Metrics') or {}).items():
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise MetafileError(f'{where}: metric {key} = {value!r} is not a number')
            metrics[key] = float(value)
    first = results[0] if results else {}
    return ModelRecord(
        name=str(entry['Name']), config=str(entry['Config']),
        collection=entry.get('In Collection'), dataset=first.get('Dataset'),
        task=first.get('Task'), views=views, frames=int(meta['Frames']),
        input_size=int(meta['Input Size']), metrics=metrics,
        weights=entry.get('Weights'), training_log=entry.get('Training Log'),
        metadata=dict(meta), results=list(results))


def load_metafile(path: PathLike = DEFAULT_METAFILE) -> List[ModelRecord]:
    """Every model of the metafile, in file order."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'metafile not found: {path}')
    try:
        data = yaml.safe_load(path.read_text(encoding='utf-8'))
    except yaml.YAMLError as error:
        raise MetafileError(f'{path}: not valid YAML ({error})') from None
    if not isinstance(data, dict) or not isinstance(data.get('Models'), list):
        raise MetafileError(f'{path}: expected a mapping with a `Models` list')
    records = [_record(entry, f'{path}: Models[{index}]')
               for index, entry in enumerate(data['Models'])]
    seen: Dict[str, int] = {}
    for index, record in enumerate(records):
        if record.name in seen:
            raise MetafileError(f'{path}: model {record.name} appears twice '
                                f'(Models[{seen[record.name]}] and [{index}])')
        seen[record.name] = index
    return records


def config_files(config_dir: PathLike) -> List[Path]:
    """Every config under ``config_dir`` except the ``_base_`` files."""
    config_dir = Path(config_dir)
    return sorted(p for p in config_dir.rglob('*.py')
                  if '_base_' not in p.relative_to(config_dir).parts)


def shipped_config_files(config_dir: Optional[PathLike] = None,
                         metafile: Optional[PathLike] = None) -> List[Path]:
    """The shipped configs under ``config_dir``: those git tracks (when the
    folder above it is a git checkout) or the metafile lists; every config
    there in a copy or an installed package. A user's untracked config
    under ``mmconfigs/`` is not one of them (naming scheme and metafile
    checks apply to shipped configs only)."""
    from bike_bench.utils.git import tracked_files
    config_dir = Path(config_dir or paths.config_dir())
    found = config_files(config_dir)
    top = config_dir.resolve().parent
    tracked = tracked_files(top, config_dir.name)
    if tracked is None:
        return found
    metafile = Path(metafile) if metafile else config_dir / 'metafile.yml'
    listed = set()
    if metafile.is_file():
        listed = {(top / record.config).resolve() for record in load_metafile(metafile)}
    return [p for p in found if p.resolve().relative_to(top).as_posix() in tracked
            or p.resolve() in listed]


def validate_metafile(path: PathLike = DEFAULT_METAFILE,
                      root: Optional[PathLike] = None,
                      config_dir: Optional[PathLike] = None) -> List[ModelRecord]:
    """Load the metafile and check it against the configs on disk.

    Every ``Config`` must exist (paths are relative to ``root``, by default
    the folder above the metafile's), be named like its entry, and every
    config under ``config_dir`` (default: the metafile's folder) must be
    listed (its shipped configs: :func:`shipped_config_files`). All
    problems are reported at once.
    """
    path = Path(path)
    root = Path(root) if root else path.resolve().parent.parent
    config_dir = Path(config_dir) if config_dir else path.resolve().parent
    records = load_metafile(path)
    problems = []
    listed = set()
    for record in records:
        config = root / record.config
        listed.add(config.resolve())
        if not config.is_file():
            problems.append(f'{record.name}: config {record.config} does not exist')
        elif config.stem != record.name:
            problems.append(f'{record.name}: Name differs from the config file '
                            f'name {config.name}')
    for config in shipped_config_files(config_dir, path):
        if config.resolve() not in listed:
            problems.append(f'{config.relative_to(root)} is not listed in {path.name}')
    if problems:
        raise MetafileError(f'{path}: ' + '; '.join(problems))
    return records


def find_model(records: Sequence[ModelRecord], key: str) -> ModelRecord:
    """The record whose name or config path (or file name) is ``key``."""
    stem = Path(key).stem
    for record in records:
        if key in (record.name, record.config) or stem == record.name:
            return record
    raise KeyError(f'no model {key!r} in the metafile')
