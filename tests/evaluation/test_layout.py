"""Dataset names resolve to manifests as manifests/README.md lays them out."""
from __future__ import annotations

import os

import pytest

from bike_bench.evaluation.layout import fewshot_manifests, zeroshot_manifests


def touch(path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    open(path, 'w').close()
    return path


def test_zeroshot_and_fewshot_paths(tmp_path):
    root = str(tmp_path)
    ucf = touch(f'{root}/ucf101/manifests/zeroshot_full.jsonl')
    touch(f'{root}/ucf101/classes.csv')
    assert zeroshot_manifests('ucf', root) == ([ucf], [f'{root}/ucf101/classes.csv'])
    splits = [touch(f'{root}/kinetics600/manifests/zeroshot_split{n}.jsonl') for n in (1, 2, 3)]
    assert zeroshot_manifests('k600', root, 'k600')[0] == splits
    with pytest.raises(ValueError, match='k600 protocol'):
        zeroshot_manifests('ucf101', root, 'k600')
    train = touch(f'{root}/hmdb51/manifests/train_split2.jsonl')
    val = touch(f'{root}/hmdb51/manifests/val_split2.jsonl')
    assert fewshot_manifests('hmdb51', root, split=2) == (train, val)
    with pytest.raises(FileNotFoundError, match='activitynet/manifests/train.jsonl'):
        fewshot_manifests('anet', root)
    with pytest.raises(ValueError, match='unknown dataset'):
        zeroshot_manifests('imagenet', root)
