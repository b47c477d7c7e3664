"""Synthetic data and a smoke-trained checkpoint for the protocol tests."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from mmengine.config import Config

from bike_bench.datasets.class_table import read_class_table, write_class_table
from bike_bench.datasets.manifest import (Manifest, ManifestEntry, read_manifest,
                                          write_manifest)
from bike_bench.datasets.smoke import write_smoke_set
from bike_bench.datasets.synthetic import choose_classes, generate_videos

SMOKE_CONFIG = str(Path(__file__).resolve().parents[2] / 'mmconfigs' /
                   'bike_tiny-vit-p16-res64_toy-clip-pre_1xb16-8x1x1-8e_synthetic-rgb.py')


def smoke_config(work_dir, train, val, **overrides) -> Config:
    cfg = Config.fromfile(SMOKE_CONFIG)
    cfg.merge_from_dict({'work_dir': str(work_dir),
                         'train_dataloader.dataset.ann_file': train,
                         'val_dataloader.dataset.ann_file': val,
                         'test_dataloader.dataset.ann_file': val,
                         'default_hooks.logger.interval': 50, **overrides})
    return cfg


def subset_manifest(source: str, path: str, keep) -> str:
    """A copy of ``source`` with the entries ``keep`` picks (paths made absolute)."""
    manifest = read_manifest(source)
    root = manifest.resolve_root()
    manifest.entries = [e for i, e in enumerate(manifest.entries) if keep(i, e)]
    manifest.data_root = root
    write_manifest(manifest, path)
    return path


def write_dataset(root, folder, name, classes, per_class, seed, manifest_name,
                  table_name='classes.csv') -> str:
    """Videos, class table and a manifest in the manifests/README.md layout."""
    base = os.path.join(root, folder)
    videos = generate_videos(base, classes, per_class, seed=seed, subdir='videos')
    names = [c.name for c in classes]
    write_class_table(os.path.join(base, table_name), names)
    manifest = Manifest(dataset=name, split=os.path.splitext(manifest_name)[0],
                        classes=names, class_table=f'../{table_name}', data_root='..',
                        entries=[ManifestEntry(path=v.relpath, label=v.label,
                                               split='zeroshot') for v in videos])
    path = os.path.join(base, 'manifests', manifest_name)
    write_manifest(manifest, path)
    return path


@pytest.fixture(scope='session')
def smoke(tmp_path_factory):
    """8 classes: 48 training and 16 validation videos."""
    root = tmp_path_factory.mktemp('smoke')
    paths = write_smoke_set(str(root), train_per_class=6, val_per_class=2)
    # A 12-video evaluation subset keeps the 4x3 runs short.
    paths['val12'] = subset_manifest(paths['val'], str(root / 'val12.jsonl'),
                                     lambda i, e: i % 4 != 3)
    return paths


@pytest.fixture(scope='session')
def trained(smoke, tmp_path_factory):
    """A checkpoint of the smoke config after 3 short epochs (no validation)."""
    from mmengine.runner import Runner
    work_dir = tmp_path_factory.mktemp('trained')
    cfg = smoke_config(work_dir, smoke['train'], smoke['val'], **{
        'train_cfg.max_epochs': 3, 'default_hooks.checkpoint.save_best': None})
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    Runner.from_cfg(cfg).train()
    return dict(checkpoint=str(work_dir / 'epoch_3.pth'), **smoke)


@pytest.fixture(scope='session')
def zeroshot_root(smoke, tmp_path_factory):
    """UCF-style and K600-style zero-shot sets of classes unseen in training."""
    root = str(tmp_path_factory.mktemp('zeroshot'))
    seen = read_class_table(smoke['classes'])
    unseen = choose_classes(12 + 3 * 4, seed=7, exclude=seen)
    write_dataset(root, 'ucf101', 'synthetic-ucf101', unseen[:12], 2, 7,
                  'zeroshot_full.jsonl')
    for split in (1, 2, 3):
        classes = unseen[12 + 4 * (split - 1):12 + 4 * split]
        write_dataset(root, 'kinetics600', 'synthetic-kinetics600', classes, 2, 7,
                      f'zeroshot_split{split}.jsonl', f'classes_split{split}.csv')
    return root
