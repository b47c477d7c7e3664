"""BIKERecognizer behaviour: modes, text-feature caching, clear errors."""
from __future__ import annotations

import pytest
import torch

from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample

from bike_bench.checkpoint_io import load_model_checkpoint
from bike_bench.datasets.class_table import write_class_table

CLASSES = ['red circle moving left', 'blue square growing', 'green triangle moving up']


def build(tiny_clip_config, **kwargs):
    cfg = dict(type='BIKERecognizer',
               backbone=dict(type='CLIPEncoder', arch=tiny_clip_config),
               video_head=dict(header='Transf', interaction='VCS'),
               class_names=CLASSES)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def clips(batch=2, views=1):
    return torch.randn(batch, views, 3, 8, 64, 64)


def samples(labels):
    return [ActionDataSample().set_gt_label(label) for label in labels]


def test_text_features_encoded_once_per_evaluation(tiny_clip_config):
    model = build(tiny_clip_config).eval()
    for _ in range(3):
        model(clips(), samples([0, 1]), mode='predict')
    assert model.text_encoder_calls == 1
    model.set_class_names(CLASSES)  # same class set: cache kept
    model(clips(), samples([0, 1]), mode='predict')
    assert model.text_encoder_calls == 1
    model.set_class_names(CLASSES[:2])  # new class set: one more encode
    out = model(clips(), samples([0, 1]), mode='predict')
    assert model.text_encoder_calls == 2
    assert out[0].pred_score.shape == (2,)


def test_frozen_text_tower_is_not_re_encoded_per_training_step(tiny_clip_config):
    model = build(tiny_clip_config).train()
    for _ in range(3):
        loss = model(clips(4), samples([0, 1, 2, 0]), mode='loss')['loss']
        loss.backward()
    assert model.text_encoder_calls == 1


def test_trainable_text_tower_is_encoded_each_step(tiny_clip_config):
    model = build(tiny_clip_config,
                  backbone=dict(type='CLIPEncoder', arch=tiny_clip_config,
                                freeze_text=False)).train()
    for _ in range(3):
        model(clips(4), samples([0, 1, 2, 0]), mode='loss')['loss'].backward()
    assert model.text_encoder_calls == 3
    token_grad = model.backbone.clip.token_embedding.weight.grad
    assert token_grad is not None and token_grad.abs().sum() > 0


def test_predict_scores_are_official_aggregation(tiny_clip_config):
    model = build(tiny_clip_config).eval()
    inputs = clips(2, views=3)
    view_logits = model(inputs, mode='tensor')
    assert view_logits.shape == (2, 3, 3)
    scores = torch.stack([s.pred_score for s in model(inputs, samples([0, 1]),
                                                      mode='predict')])
    expected = view_logits.softmax(-1).mean(1).softmax(-1)
    assert torch.allclose(scores, expected, atol=1e-6)


def test_class_file_of_wrong_size_is_named(tiny_clip_config, tmp_path):
    table = tmp_path / 'classes.csv'
    write_class_table(str(table), CLASSES)
    with pytest.raises(ValueError, match=r'classes.csv lists 3 classes .* num_classes=5'):
        build(tiny_clip_config, class_names=str(table), num_classes=5)


def test_missing_class_names_is_a_clear_error(tiny_clip_config):
    model = build(tiny_clip_config, class_names=None).eval()
    with pytest.raises(RuntimeError, match='no class names'):
        model(clips(), samples([0, 1]), mode='predict')


def test_checkpoint_missing_keys_are_named(tiny_clip_config, tmp_path):
    model = build(tiny_clip_config)
    state = model.state_dict()
    state.pop('video_head.header.frame_position_embeddings.weight')
    state['stray.weight'] = torch.zeros(1)
    path = tmp_path / 'broken.pth'
    torch.save({'state_dict': state}, path)
    with pytest.raises(ValueError) as error:
        load_model_checkpoint(build(tiny_clip_config), str(path))
    assert 'video_head.header.frame_position_embeddings.weight' in str(error.value)
    assert 'stray.weight' in str(error.value)
