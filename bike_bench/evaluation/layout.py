"""Dataset names to manifest paths, following manifests/README.md.

``<data_root>/<folder>/manifests/<file>.jsonl`` with the class table at
``<data_root>/<folder>/classes*.csv``; the synthetic benchmark uses the same
layout under ``data/synthetic``.
"""
from __future__ import annotations

import os
from typing import List, Optional, Tuple

from bike_bench import catalog
from bike_bench.protocols import Protocol


def dataset_folder(name: str, data_root: str = 'data') -> str:
    """``<data_root>/<folder>`` of a dataset name or alias (from its spec).

    Raises:
        catalog.UnknownDatasetError: no spec has that name (a ValueError).
    """
    return os.path.join(data_root, catalog.get(name).folder)


def _existing(path: str, what: str) -> str:
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f'{what} not found: {path} (build the manifests with `bike-bench '
            'manifests build`, or give the manifest path explicitly)')
    return path


def zeroshot_manifests(name: str, data_root: str = 'data',
                       protocol: str = 'full') -> Tuple[List[str], List[Optional[str]]]:
    """Manifests and class tables of a dataset's zero-shot evaluation
    (the spec's ``protocols.zeroshot`` manifests; ``protocol`` is the
    zero-shot variant, ``full``, ``half`` or ``k600``)."""
    info = catalog.get(name)
    folder = os.path.join(data_root, info.folder)
    variant = Protocol.zeroshot(protocol)
    if not info.zeroshot:
        raise ValueError(f'no zero-shot evaluation for {info.name}')
    if variant.variant not in info.zeroshot_variants:
        raise ValueError(f'the {protocol} protocol is not one of {info.name}\'s '
                         f'zero-shot evaluations ({", ".join(info.zeroshot_variants)}; '
                         'its spec)')
    manifests = [_existing(os.path.join(folder, 'manifests', f'{m}.jsonl'),
                           'zero-shot manifest') for m in info.zeroshot]
    tables = [os.path.join(folder, t) for t in info.zeroshot_class_tables()]
    if len(set(tables)) == 1:  # one table for all (the dataset's own)
        tables = tables[:1]
    return manifests, [t if os.path.isfile(t) else None for t in tables]


def fewshot_manifests(name: str, data_root: str = 'data', split: int = 1) -> Tuple[str, str]:
    """Training and evaluation manifests of the few-shot protocol
    (docs/method.md#fewshot: split 1 of UCF/HMDB, the validation sets of
    ActivityNet/Kinetics-400; the dataset spec's ``protocols.fewshot``)."""
    info = catalog.get(name)
    train, val = info.fewshot_manifests(split)
    manifests = os.path.join(data_root, info.folder, 'manifests')
    return (_existing(os.path.join(manifests, f'{train}.jsonl'), 'training manifest'),
            _existing(os.path.join(manifests, f'{val}.jsonl'), 'evaluation manifest'))
