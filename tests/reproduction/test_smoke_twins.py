"""What the smoke twins change in the paper's configs (docs/toy_clip.md)."""
from __future__ import annotations

import pytest

from bike_bench.reproduction.registry import SmokeTwin, build_registry, find_entry
from bike_bench.reproduction.smoke_twins import MIN_CROP_AREA, twin_config


def _twin(tmp_path, name):
    entries = build_registry()
    by_id = {e.id: e for e in entries}
    entry = find_entry(entries, name)
    twin = SmokeTwin.of(entry, by_id)
    return twin, twin_config(entry, twin, str(tmp_path), str(tmp_path / 'work'))


def _train_steps(cfg):
    return {step['type']: step for step in cfg.train_dataloader.dataset.pipeline}


def test_training_pipeline_keeps_colour_direction_and_the_shape_in_view(tmp_path):
    twin, cfg = _twin(tmp_path, 'bike_vit-l-p14_clip-openai-pre_32xb8-16x1x1-20e_kinetics400-rgb')
    steps = _train_steps(cfg)
    # The real config greys 20 % of clips and flips half of them: on the
    # synthetic classes both relabel the clip (colour, left/right).
    assert 'RandomGrayscale' not in steps and 'RandomHorizontalFlip' not in steps
    assert tuple(steps['OfficialRandomResizedCrop']['area_range']) == (MIN_CROP_AREA, 1.0)
    assert MIN_CROP_AREA == 0.5
    derivation = ' '.join(cfg.run_source['derivation'])
    assert 'no grayscale' in derivation and 'crop area >= 0.5' in derivation
    assert 'fewshot_sampler' not in cfg  # not a few-shot twin: nothing to fill


def test_fewshot_twins_fill_every_shot_count_to_the_same_epoch(tmp_path):
    twin, cfg = _twin(tmp_path, 'fewshot-5shot-8xb32-8x1x1-20e_kinetics400')
    assert twin.shots == 5
    assert cfg.fewshot_sampler == dict(type='SeededFewShotSampler', fill='per_class')
    assert 'few-shot videos filled per class' in ' '.join(cfg.run_source['derivation'])


def test_fewshot_twins_train_at_their_lr_and_the_others_at_the_smoke_lr(tmp_path):
    from mmengine.config import Config
    from bike_bench.reproduction.smoke_twins import FEWSHOT_LR_FACTOR, SMOKE_CONFIG
    smoke_lr = Config.fromfile(SMOKE_CONFIG).optim_wrapper.optimizer.lr
    _, fewshot = _twin(tmp_path / 'fs', 'fewshot-1shot-8xb32-8x1x1-20e_ucf101')
    _, k400 = _twin(tmp_path / 'k400', 'bike_vit-l-p14_clip-openai-pre_32xb8-8x1x1-20e_kinetics400')
    assert fewshot.optim_wrapper.optimizer.lr == pytest.approx(FEWSHOT_LR_FACTOR * smoke_lr)
    assert k400.optim_wrapper.optimizer.lr == pytest.approx(smoke_lr)
    assert f'lr x{FEWSHOT_LR_FACTOR}' in ' '.join(fewshot.run_source['derivation'])
