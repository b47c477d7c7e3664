"""Group 4: a NaN or infinite loss stops training, naming the iteration,
after saving the last good state (``NonFiniteLossHook`` from the config's
runtime, not added by the test)."""
from __future__ import annotations

import pytest
import torch

from mmaction.registry import MODELS

from bike_bench.cli.main import main as cli
from bike_bench.models.losses import KLNCELoss

from .conftest import SMOKE_CONFIG, write_entries_manifest
from .test_bad_videos import video_entry

GROUP = 'numerical faults'


@MODELS.register_module(force=True)
class LossTurningNonFinite(KLNCELoss):
    """The official loss, until call ``at`` (1-based) where it becomes ``value``."""

    def __init__(self, at: int, value: str):
        super().__init__()
        self.at, self.value, self.calls = at, float(value), 0

    def forward(self, logits, targets):
        self.calls += 1
        loss = super().forward(logits, targets)
        return loss * self.value if self.calls >= self.at else loss


@pytest.mark.parametrize('value', ['nan', 'inf'])
def test_non_finite_loss_stops_naming_the_iteration_after_saving_the_last_good_state(
        value, clean_videos, tmp_path, faults):
    faults.tried(GROUP, f'{value} loss during training')
    entries = [video_entry(p, label, id_) for p, label, id_ in clean_videos['videos'][:8]]
    manifest = write_entries_manifest(tmp_path / 'train.jsonl', clean_videos['classes'],
                                      entries)
    work = tmp_path / 'work'
    with pytest.raises(SystemExit) as stop:
        cli(['train', SMOKE_CONFIG, '--work-dir', str(work), '--no-validate',
             '--cfg-options', f'train_dataloader.dataset.ann_file={manifest}',
             'train_dataloader.batch_size=4', 'train_cfg.max_epochs=2',
             'default_hooks.checkpoint.save_best=None',
             'model.loss.type=LossTurningNonFinite', 'model.loss.at=3',
             f'model.loss.value={value}'])
    saved = work / 'last_good_iter_2.pth'
    shown = 'nan' if value == 'nan' else 'inf'
    assert str(stop.value) == (
        f'training stopped: non-finite loss ({shown}) at iteration 3 (epoch 2); the '
        f'weights before this step are saved in {saved}')
    good = torch.load(saved, weights_only=True)
    assert good['meta']['iter'] == 2 and 'optimizer' in good
    # Iteration 3 opens epoch 2, so the last good state is the end of epoch 1:
    # the step with the bad loss never reached the weights.
    epoch1 = torch.load(work / 'epoch_1.pth', weights_only=True)['state_dict']
    for key, tensor in good['state_dict'].items():
        assert torch.isfinite(tensor).all(), key
        assert torch.equal(tensor, epoch1[key]), key
    assert not (work / 'epoch_2.pth').exists()
