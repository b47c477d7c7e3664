"""A NaN loss stops training, names the iteration, keeps the last good state."""
from __future__ import annotations

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from mmaction.registry import MODELS

from bike_bench.engine import NonFiniteLossError
from bike_bench.models.losses import KLNCELoss

from .conftest import SMOKE_CONFIG


@MODELS.register_module()
class LossTurningNaN(KLNCELoss):
    """The official loss, until call ``nan_at`` (1-based) returns NaN."""

    def __init__(self, nan_at: int):
        super().__init__()
        self.nan_at = nan_at
        self.calls = 0

    def forward(self, logits, targets):
        self.calls += 1
        loss = super().forward(logits, targets)
        return loss * float('nan') if self.calls >= self.nan_at else loss


def test_nan_loss_stops_with_iteration_and_saves_last_good_state(smoke_set, tmp_path):
    cfg = Config.fromfile(SMOKE_CONFIG)
    cfg.merge_from_dict({
        'work_dir': str(tmp_path),
        'train_cfg.max_epochs': 2,
        'train_dataloader.dataset.ann_file': smoke_set['train'],
        'val_dataloader.dataset.ann_file': smoke_set['val'],
        'test_dataloader.dataset.ann_file': smoke_set['val'],
        'model.loss': dict(type='LossTurningNaN', nan_at=4),
    })
    runner = Runner.from_cfg(cfg)
    with pytest.raises(NonFiniteLossError, match='at iteration 4 ') as error:
        runner.train()
    saved = tmp_path / 'last_good_iter_3.pth'
    assert str(saved) in str(error.value)
    checkpoint = torch.load(saved, weights_only=True)
    assert checkpoint['meta']['iter'] == 3
    live = runner.model.state_dict()
    for key, value in checkpoint['state_dict'].items():
        assert torch.isfinite(value).all(), key
        assert torch.equal(value, live[key]), key  # the NaN step never applied
    assert 'optimizer' in checkpoint
