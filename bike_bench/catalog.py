"""Dataset vocabulary read from the shipped specs (``manifests/<dataset>.yaml``).

Names, aliases, folders, manifest roles and which manifests each evaluation
protocol reads come only from those files; nothing else in the package lists
datasets. Light (PyYAML only) so that the command line offers the names as
choices without importing torch. The full spec (source formats, builders)
is ``bike_bench.datasets.specs``.
"""
from __future__ import annotations

import difflib
import functools
import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from bike_bench import paths


class UnknownDatasetError(ValueError):
    """A dataset name that no spec defines; the message suggests the closest."""


@dataclass(frozen=True)
class DatasetInfo:
    """What the rest of the package needs to know about one dataset."""

    name: str
    title: str
    folder: str                      # under the data root
    aliases: Tuple[str, ...]
    roles: Dict[str, str]            # manifest name -> train | val | test
    zeroshot: Tuple[str, ...] = ()   # manifests of its zero-shot evaluation
    fewshot: Dict[str, str] = field(default_factory=dict)  # train/val -> manifest
    order: int = 0

    def fewshot_manifests(self, split: int = 1) -> Tuple[str, str]:
        """(training, evaluation) manifest names of the few-shot protocol.

        Raises:
            ValueError: the dataset has no few-shot protocol.
        """
        if not self.fewshot:
            raise ValueError(f'no few-shot protocol for {self.name}')
        return (self.fewshot['train'].format(split=split),
                self.fewshot['val'].format(split=split))


@functools.lru_cache(maxsize=8)
def _load(spec_dir: str) -> Tuple[DatasetInfo, ...]:
    import yaml
    loader = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)  # libyaml when built
    found = []
    if os.path.isdir(spec_dir):
        for name in sorted(os.listdir(spec_dir)):
            if not name.endswith('.yaml'):
                continue
            with open(os.path.join(spec_dir, name), encoding='utf-8') as handle:
                data = yaml.load(handle, Loader=loader) or {}
            if not isinstance(data, dict) or 'dataset' not in data:
                continue
            protocols = data.get('protocols') or {}
            found.append(DatasetInfo(
                name=str(data['dataset']), title=str(data.get('title', data['dataset'])),
                folder=str(data.get('folder', data['dataset'])),
                aliases=tuple(str(a) for a in data.get('aliases') or ()),
                roles={str(k): str((v or {}).get('role', 'test'))
                       for k, v in (data.get('manifests') or {}).items()},
                zeroshot=tuple(protocols.get('zeroshot') or ()),
                fewshot=dict(protocols.get('fewshot') or {}),
                order=int(data.get('order', 1000))))
    return tuple(sorted(found, key=lambda d: (d.order, d.name)))


def datasets(spec_dir: Optional[str] = None) -> Dict[str, DatasetInfo]:
    """Every dataset with a spec, in listing order, by name."""
    folder = str(spec_dir or paths.spec_dir())
    return {info.name: info for info in _load(folder)}


def dataset_names(spec_dir: Optional[str] = None) -> List[str]:
    """The datasets' own names, in listing order."""
    return list(datasets(spec_dir))


def accepted_names(spec_dir: Optional[str] = None) -> List[str]:
    """Names and aliases a user may type."""
    names = []
    for info in datasets(spec_dir).values():
        names += [info.name, *info.aliases]
    return names


def get(name: str, spec_dir: Optional[str] = None) -> DatasetInfo:
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
