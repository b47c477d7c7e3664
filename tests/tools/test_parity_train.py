"""Training parity: the official trajectory replayed through the Runner."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from bike_bench.cli.main import main
from bike_bench.tools.parity_fixture import FixtureError, load_trajectory
from bike_bench.tools.parity_train import DEFAULT_CONFIG, replay_config



@pytest.fixture(scope='module')
def trajectory(reference_dir) -> Path:
    path = reference_dir / 'training' / 'training_trajectory.pt'
    if not path.exists():
        pytest.skip(f'training trajectory fixture not found at {path} (../shared '
                    'is only present in the development and CI checkouts)')
    return path


def test_replay_matches_the_official_trajectory(trajectory, capsys, tmp_path):
    code = main(['parity-train', str(trajectory), '--work-dir', str(tmp_path / 'wd')])
    out = capsys.readouterr().out
    assert code == 0, out
    assert 'PASS: every loss, learning rate and final weight is within tolerance' in out
    assert 'schedule: official' in out
    assert "prompt tokens equal to the fixture's: True" in out
    assert 'initial weights through the converter: max diff 0' in out
    assert 'text tower frozen except logit_scale): yes' in out
    # Every final weight is listed, with the key rows of in_proj_bias apart.
    data = torch.load(trajectory, weights_only=True)
    listed = [line for line in out.splitlines()
              if line.startswith('  backbone.') or line.startswith('  video_head.')]
    assert len(listed) == (len(data['final_model_state_dict'])
                           + len(data['final_fusion_model_state_dict']))
    assert 'key rows D:2D' in out and 'compared to 0.001' in out
    assert 'largest differences: loss' in out
    # The work dir says which schedule ran.
    assert '"kind": "official"' in (tmp_path / 'wd' / 'lr_schedule.json').read_text()


def test_smooth_schedule_diverges_at_the_first_differing_lr(trajectory, capsys, tmp_path):
    config = tmp_path / 'smooth.py'
    config.write_text(f"_base_ = [{DEFAULT_CONFIG!r}]\n"
                      "param_scheduler = {{_base_.smooth_param_scheduler}}\n")
    code = main(['parity-train', str(trajectory), '--config', str(config)])
    out = capsys.readouterr().out
    assert code == 1, out
    assert 'schedule: smooth' in out
    # Iteration 0 runs at 1e-8 x lr (within 1e-9 of the official 0); from
    # iteration 1 the smooth warm-up is above the official lr of 0.
    assert ('FAIL: first divergence: iteration 1 (epoch 0, iteration 1 of the '
            'epoch): learning rates differ') in out


def test_settings_come_from_the_fixture(trajectory, tmp_path):
    data = load_trajectory(str(trajectory))
    changed = copy.deepcopy(data)
    changed['settings'].update(loss='DS', batch=2, grad_accumulation_steps=3, lr=2e-3,
                               clip_ratio=0.5, weight_decay=0.05, epochs=4,
                               warmup_epochs=2, template='a video of {}')
    cfg = replay_config(Config.fromfile(DEFAULT_CONFIG), str(trajectory), changed,
                        str(tmp_path))
    assert cfg.model.loss.type == 'DualSoftmaxLoss'
    assert cfg.model.prompt_template == 'a video of {}'
    assert cfg.model.backbone.arch is None  # inferred from the weights
    assert cfg.model.video_head.num_layers == 6
    assert cfg.train_dataloader.batch_size == 2
    assert cfg.optim_wrapper.accumulative_counts == 3
    assert cfg.optim_wrapper.optimizer.lr == 2e-3
    assert cfg.optim_wrapper.optimizer.weight_decay == 0.05
    assert cfg.optim_wrapper.paramwise_cfg.custom_keys.backbone.lr_mult == 0.5
    assert cfg.train_cfg.max_epochs == 4
    (scheduler,) = cfg.param_scheduler
    assert (scheduler.type, scheduler.warmup_epochs, scheduler.end) == (
        'OfficialWarmupCosineLR', 2, 4)
    assert Path(cfg.load_from).is_file()


def test_unusable_fixture_is_one_error_line(tmp_path, capsys):
    with pytest.raises(SystemExit, match='error: trajectory fixture not found'):
        main(['parity-train', str(tmp_path / 'absent.pt')])
    bad = tmp_path / 'bad.pt'
    torch.save({'settings': {}}, bad)
    with pytest.raises(FixtureError, match='lacks'):
        load_trajectory(str(bad))
