"""Dataset names to manifest paths, following manifests/README.md.

``<data_root>/<folder>/manifests/<file>.jsonl`` with the class table at
``<data_root>/<folder>/classes*.csv``; the synthetic benchmark uses the same
layout under ``data/synthetic``.
"""
from __future__ import annotations

import os
from typing import List, Optional, Tuple

FOLDERS = {
    'kinetics400': 'kinetics400', 'k400': 'kinetics400',
    'kinetics600': 'kinetics600', 'k600': 'kinetics600',
    'ucf101': 'ucf101', 'ucf': 'ucf101',
    'hmdb51': 'hmdb51', 'hmdb': 'hmdb51',
    'activitynet': 'activitynet', 'anet': 'activitynet',
    'charades': 'charades',
}
SPLIT_DATASETS = ('ucf101', 'hmdb51')  # three official train/val splits


def dataset_folder(name: str, data_root: str = 'data') -> str:
    key = name.lower()
    if key not in FOLDERS:
        raise ValueError(f'unknown dataset {name!r}; known: '
                         f'{", ".join(sorted(set(FOLDERS.values())))}')
    return os.path.join(data_root, FOLDERS[key])


def _existing(path: str, what: str) -> str:
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f'{what} not found: {path} (build the manifests with `bike-bench '
            'manifests build`, or give the manifest path explicitly)')
    return path


def zeroshot_manifests(name: str, data_root: str = 'data',
                       protocol: str = 'full') -> Tuple[List[str], List[Optional[str]]]:
    """Manifests and class tables of a dataset's zero-shot evaluation."""
    folder = dataset_folder(name, data_root)
    is_k600 = os.path.basename(folder) == 'kinetics600'
    if is_k600 != (protocol == 'k600'):
        raise ValueError('the k600 protocol is Kinetics-600\'s zero-shot '
                         f'evaluation (got dataset {name}, protocol {protocol})')
    if is_k600:
        manifests = [_existing(os.path.join(folder, 'manifests',
                                            f'zeroshot_split{n}.jsonl'),
                               'zero-shot manifest') for n in (1, 2, 3)]
        tables = [os.path.join(folder, f'classes_split{n}.csv') for n in (1, 2, 3)]
        return manifests, [t if os.path.isfile(t) else None for t in tables]
    manifest = _existing(os.path.join(folder, 'manifests', 'zeroshot_full.jsonl'),
                         'zero-shot manifest')
    table = os.path.join(folder, 'classes.csv')
    return [manifest], [table if os.path.isfile(table) else None]


def fewshot_manifests(name: str, data_root: str = 'data', split: int = 1) -> Tuple[str, str]:
    """Training and evaluation manifests of the few-shot protocol (spec §8:
    split 1 of UCF/HMDB, the validation sets of ActivityNet/Kinetics-400)."""
    folder = dataset_folder(name, data_root)
    manifests = os.path.join(folder, 'manifests')
    if os.path.basename(folder) in SPLIT_DATASETS:
        train, val = f'train_split{split}.jsonl', f'val_split{split}.jsonl'
    elif os.path.basename(folder) in ('kinetics400', 'activitynet'):
        train, val = 'train.jsonl', 'val.jsonl'
    else:
        raise ValueError(f'no few-shot protocol for {name}')
    return (_existing(os.path.join(manifests, train), 'training manifest'),
            _existing(os.path.join(manifests, val), 'evaluation manifest'))
