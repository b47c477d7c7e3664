"""C x S views: parsing, config rewriting, one read per video, parity."""
from __future__ import annotations

import pytest
import torch
from mmengine.registry import init_default_scope

from mmaction.registry import DATASETS, MODELS
from mmaction.structures import ActionDataSample

from bike_bench.datasets.transforms import decoding
from bike_bench.evaluation.views import (Views, config_views, parse_views,
                                         set_views)
from bike_bench.evaluation.zeroshot import head_scores

from .conftest import smoke_config


def test_parse_views():
    assert parse_views('4x3') == Views(4, 3)
    assert parse_views(' 1X1 ').label == '1x1'
    assert parse_views('10x1').count == 10
    for bad, message in (('4x2', '2 spatial crops'), ('0x1', 'at least one clip'),
                         ('four', 'CLIPSxCROPS')):
        with pytest.raises(ValueError, match=message):
            parse_views(bad)


def test_set_views_rewrites_the_test_pipeline(smoke, tmp_path):
    cfg = smoke_config(tmp_path, smoke['train'], smoke['val'])
    assert config_views(cfg) == Views(1, 1)
    set_views(cfg, '4x3')
    pipeline = cfg.test_dataloader.dataset.pipeline
    sampler = next(s for s in pipeline if s['type'] == 'BIKESampleFrames')
    assert (sampler['mode'], sampler['num_clips'], sampler['num_segments']) == ('test', 4, 8)
    assert dict(type='OfficialThreeCrop', crop_size=64) in pipeline
    assert config_views(cfg) == Views(4, 3)
    set_views(cfg, '2x1')
    assert config_views(cfg) == Views(2, 1)
    assert 'OfficialThreeCrop' not in [s['type'] for s in cfg.test_dataloader.dataset.pipeline]
    # The training pipeline is untouched.
    train_sampler = next(s for s in cfg.train_dataloader.dataset.pipeline
                         if s['type'] == 'BIKESampleFrames')
    assert train_sampler['mode'] == 'train' and 'num_clips' not in train_sampler


def test_a_pipeline_without_a_crop_is_an_error(smoke, tmp_path):
    cfg = smoke_config(tmp_path, smoke['train'], smoke['val'])
    cfg.test_dataloader.dataset.pipeline = [
        s for s in cfg.test_dataloader.dataset.pipeline if s['type'] != 'BIKECenterCrop']
    with pytest.raises(ValueError, match='exactly one crop transform'):
        set_views(cfg, '4x3')


def test_all_views_come_from_one_read_of_the_video(smoke, tmp_path, monkeypatch):
    cfg = smoke_config(tmp_path, smoke['train'], smoke['val'])
    set_views(cfg, '4x3')
    opened = []
    real_open = decoding.open_video
    monkeypatch.setattr(decoding, 'open_video',
                        lambda path, *a, **k: opened.append(path) or real_open(path, *a, **k))
    init_default_scope('mmaction')
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    item = dataset[0]
    assert item['inputs'].shape == (12, 3, 8, 64, 64)  # V, C, T, H, W
    assert len(opened) == 1


@pytest.fixture(scope='module')
def official_vcs_model(parity_dir, parity_outputs):
    model = MODELS.build(dict(
        type='BIKERecognizer',
        backbone=dict(type='CLIPEncoder', arch=None,
                      pretrained=str(parity_dir / 'tiny_clip_openai.pt')),
        video_head=dict(header='Transf', interaction='VCS'),
        class_names=parity_outputs['classes'], prompt_template=parity_outputs['template']))
    official = torch.load(parity_dir / 'tiny_bike_official_format.pt', weights_only=True)
    model.video_head.header.load_state_dict(official['fusion_model_state_dict'])
    return model.eval()


@torch.no_grad()
def test_multiview_scores_match_the_official_4x3(official_vcs_model, parity_outputs):
    frames = parity_outputs['multiview_frames'].float()  # (2 * 12, T, C, H, W)
    inputs = frames.view(2, 12, *frames.shape[1:]).transpose(2, 3)
    logits = official_vcs_model.view_logits(inputs)
    assert logits.shape == (2, 12, 6)
    # The protocols' aggregation path (all classes selected as a subset).
    scores = head_scores(logits.numpy(), columns=list(range(6)))
    diff = (torch.from_numpy(scores) - parity_outputs['multiview_scores']).abs().max().item()
    assert diff < 1e-5
    # The model's own predict path.
    samples = official_vcs_model.predict(inputs, [ActionDataSample() for _ in range(2)])
    predicted = torch.stack([sample.pred_score for sample in samples])
    assert (predicted - parity_outputs['multiview_scores']).abs().max().item() < 1e-5
