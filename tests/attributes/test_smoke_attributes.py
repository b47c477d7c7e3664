"""End to end on the synthetic set: generated attributes, V+A training on the
CPU, evaluation reporting video, attributes and fused accuracy."""
from __future__ import annotations

import pytest
from mmengine.config import Config
from mmengine.runner import Runner

from .conftest import ATTR_ONLY_CONFIG, VA_CONFIG

pytestmark = pytest.mark.slow


def short_config(path, work_dir, options, epochs=2) -> Config:
    cfg = Config.fromfile(path)
    cfg.merge_from_dict(dict(options, work_dir=str(work_dir)))
    cfg.merge_from_dict({'train_cfg.max_epochs': epochs,
                         'default_hooks.checkpoint.save_best': None})
    return cfg


def test_video_and_attributes_train_and_report_all_three(attribute_data_options,
                                                         tmp_path):
    cfg = short_config(VA_CONFIG, tmp_path / 'va', attribute_data_options)
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = runner.test()
    for key in ('acc/video_top1', 'acc/attributes_top1', 'acc/fused_top1',
                'acc/video_top5', 'acc/attributes_top5', 'acc/fused_top5'):
        assert 0.0 <= metrics[key] <= 1.0, key
    assert metrics['acc/top1'] == metrics['acc/fused_top1']
    state = runner.model.state_dict()
    assert any(k.startswith('attribute_head.') for k in state)
    assert any(k.startswith('video_head.') for k in state)


def test_attributes_only_model_trains_without_decoding_video(attribute_data_options,
                                                             tmp_path):
    cfg = short_config(ATTR_ONLY_CONFIG, tmp_path / 'attr', attribute_data_options)
    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = runner.test()
    assert set(metrics) == {'acc/top1', 'acc/top5', 'acc/attributes_top1',
                            'acc/attributes_top5'}
    assert (tmp_path / 'attr' / 'epoch_2.pth').exists()
