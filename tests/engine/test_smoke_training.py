"""Training through MMEngine's Runner from the smoke config, on the CPU."""
from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmaction.registry import HOOKS

from bike_bench.cli.main import main as cli
from bike_bench.datasets.manifest import read_manifest, write_manifest

from .conftest import SMOKE_CONFIG

pytestmark = pytest.mark.slow


def data_options(train_manifest, val_manifest):
    return [f'train_dataloader.dataset.ann_file={train_manifest}',
            f'val_dataloader.dataset.ann_file={val_manifest}',
            f'test_dataloader.dataset.ann_file={val_manifest}']


def last_top1(work_dir: Path) -> float:
    scalars = sorted(work_dir.glob('*/vis_data/scalars.json'))[-1]
    values = [json.loads(line).get('acc/top1') for line in scalars.read_text().splitlines()]
    return [v for v in values if v is not None][-1]


def test_bike_bench_train_learns_the_synthetic_classes(smoke_set, tmp_path):
    work_dir = tmp_path / 'work'
    code = cli(['train', SMOKE_CONFIG, '--work-dir', str(work_dir), '--cfg-options',
                *data_options(smoke_set['train'], smoke_set['val'])])
    assert code == 0
    assert (work_dir / 'epoch_8.pth').exists()
    # Chance is 1/8; a head that ignores the video or labels that carry no
    # signal stay near it (see the shuffled-label test below).
    assert last_top1(work_dir) >= 0.5


def test_shuffled_training_labels_stay_near_chance(smoke_set, tmp_path):
    manifest = read_manifest(smoke_set['train'])
    labels = [entry.label for entry in manifest.entries]
    random.Random(0).shuffle(labels)
    for entry, label in zip(manifest.entries, labels):
        entry.label = label
    shuffled = str(tmp_path / 'shuffled_train.jsonl')
    manifest.data_root = str(Path(smoke_set['train']).parent.parent)
    write_manifest(manifest, shuffled)
    work_dir = tmp_path / 'work'
    assert cli(['train', SMOKE_CONFIG, '--work-dir', str(work_dir), '--cfg-options',
                *data_options(shuffled, smoke_set['val'])]) == 0
    assert last_top1(work_dir) < 0.35


@HOOKS.register_module()
class InterruptAfterEpoch(Hook):
    """Simulates a job killed right after an epoch's checkpoint is written."""

    def __init__(self, epoch: int):
        self.epoch = epoch

    def after_train_epoch(self, runner):
        if runner.epoch >= self.epoch:
            raise KeyboardInterrupt(f'interrupted after epoch {self.epoch}')


def short_config(work_dir, smoke_set) -> Config:
    cfg = Config.fromfile(SMOKE_CONFIG)
    cfg.merge_from_dict({
        'work_dir': str(work_dir),
        'train_cfg.max_epochs': 3,
        'train_dataloader.dataset.ann_file': smoke_set['train'],
        'val_dataloader.dataset.ann_file': smoke_set['val'],
        'test_dataloader.dataset.ann_file': smoke_set['val'],
        'default_hooks.checkpoint.save_best': None,
    })  # the schedule follows max_epochs: its cosine ends at epoch 3
    return cfg


def test_resume_after_interruption_gives_identical_weights(smoke_set, tmp_path):
    Runner.from_cfg(short_config(tmp_path / 'straight', smoke_set)).train()

    cfg = short_config(tmp_path / 'interrupted', smoke_set)
    cfg.custom_hooks = list(cfg.custom_hooks) + [dict(type='InterruptAfterEpoch', epoch=1)]
    with pytest.raises(KeyboardInterrupt):
        Runner.from_cfg(cfg).train()
    assert not (tmp_path / 'interrupted' / 'epoch_2.pth').exists()

    cfg = short_config(tmp_path / 'interrupted', smoke_set)
    cfg.resume = True  # from the latest checkpoint in the work dir
    Runner.from_cfg(cfg).train()

    straight = torch.load(tmp_path / 'straight' / 'epoch_3.pth', weights_only=True)
    resumed = torch.load(tmp_path / 'interrupted' / 'epoch_3.pth', weights_only=True)
    assert straight['state_dict'].keys() == resumed['state_dict'].keys()
    for key, value in straight['state_dict'].items():
        assert torch.equal(value, resumed['state_dict'][key]), key
