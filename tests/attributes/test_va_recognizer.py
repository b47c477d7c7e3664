"""BIKEVideoAttributeRecognizer: losses, fusion, sentence caching, layout."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample

from bike_bench.attributes import build_sentence
from bike_bench.models.clip.tokenizer import tokenize

CLASSES = ['red circle moving left', 'blue square growing', 'green triangle moving up']


def build(tiny_clip_config, **kwargs):
    cfg = dict(type='BIKEVideoAttributeRecognizer',
               backbone=dict(type='CLIPEncoder', arch=tiny_clip_config),
               video_head=dict(header='Transf', interaction='VCS'),
               class_names=CLASSES)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def samples(labels, phrases=None):
    out = []
    for index, label in enumerate(labels):
        words = phrases[index] if phrases else [CLASSES[label], CLASSES[0]]
        sample = ActionDataSample().set_gt_label(label)
        sample.set_field(tokenize([build_sentence(words)])[0], 'attribute_tokens')
        out.append(sample)
    return out


def clips(batch=2, views=1):
    torch.manual_seed(0)
    return torch.randn(batch, views, 3, 8, 64, 64)


def test_training_loss_is_video_plus_attributes(tiny_clip_config):
    model = build(tiny_clip_config).train()
    losses = model(clips(4), samples([0, 1, 2, 0]), mode='loss')
    assert set(losses) == {'loss_video', 'loss_attributes'}
    sum(losses.values()).backward()
    assert model.attribute_head.query_fc[0].weight.grad is not None
    assert model.video_head.header.frame_position_embeddings.weight.grad is not None
    assert model.backbone.logit_scale.grad is not None


def test_predict_fuses_probabilities_like_the_official_code(tiny_clip_config):
    model = build(tiny_clip_config).eval()
    inputs, data = clips(2, views=3), samples([0, 2])
    out = model(inputs, data, mode='predict')
    with torch.no_grad():
        views = model.view_logits(inputs)
        attr = model.attribute_logits(data)
    video = F.softmax(views, -1).mean(dim=1)   # official validation scores
    attribute = F.softmax(attr, -1)
    for index, sample in enumerate(out):
        assert torch.allclose(sample.video_score, video[index], atol=1e-6)
        assert torch.allclose(sample.attribute_score, attribute[index], atol=1e-6)
        assert torch.allclose(sample.pred_score,
                              0.7 * video[index] + 0.3 * attribute[index], atol=1e-6)
        assert sample.pred_label.item() == sample.pred_score.argmax().item()


def test_fusion_weights_are_configurable(tiny_clip_config):
    model = build(tiny_clip_config, fusion_weights=(0.0, 1.0)).eval()
    out = model(clips(), samples([0, 1]), mode='predict')
    assert torch.allclose(out[0].pred_score, out[0].attribute_score)
    with pytest.raises(ValueError, match='fusion_weights'):
        build(tiny_clip_config, fusion_weights=(1.0,))


def test_each_distinct_sentence_is_encoded_once(tiny_clip_config):
    model = build(tiny_clip_config).train()
    phrases = [[CLASSES[0]], [CLASSES[1]], [CLASSES[0]], [CLASSES[1]]]
    model(clips(4), samples([0, 1, 0, 1], phrases), mode='loss')
    assert model.sentence_encoder_calls == 1
    assert len(model._sentence_cache) == 2
    model(clips(4), samples([0, 1, 0, 1], phrases), mode='loss')
    model.eval()
    model(clips(4), samples([0, 1, 0, 1], phrases), mode='predict')
    assert model.sentence_encoder_calls == 1


def test_cached_features_equal_fresh_ones(tiny_clip_config):
    model = build(tiny_clip_config).eval()
    tokens = torch.stack([s.attribute_tokens for s in samples([0, 1, 2])])
    first = model.sentence_features(tokens)
    again = model.sentence_features(tokens.flip(0)).flip(0)
    fresh = model.backbone.encode_text(tokens)[0]
    assert torch.equal(first, again)
    assert torch.allclose(first, fresh, atol=1e-6)


def test_trainable_text_tower_is_encoded_each_step(tiny_clip_config):
    model = build(tiny_clip_config,
                  backbone=dict(type='CLIPEncoder', arch=tiny_clip_config,
                                freeze_text=False)).train()
    for _ in range(2):
        model(clips(4), samples([0, 1, 2, 0]), mode='loss')['loss_attributes'].backward()
    assert model.sentence_encoder_calls == 2
    assert not model._sentence_cache


def test_attributes_only_model(tiny_clip_config):
    model = build(tiny_clip_config, branches=('attributes',), video_head=None)
    assert model.video_head is None
    assert not any(k.startswith('video_head.') for k in model.state_dict())
    assert not any(p.requires_grad for n, p in model.named_parameters()
                   if n.startswith('backbone.clip.visual.'))
    assert type(model.data_preprocessor).__name__ == 'BaseDataPreprocessor'
    losses = model(None, samples([0, 1, 2]), mode='loss')
    assert set(losses) == {'loss_attributes'}
    out = model.eval()(None, samples([0, 1]), mode='predict')
    assert 'video_score' not in out[0]
    assert torch.equal(out[0].pred_score, out[0].attribute_score)


def test_official_head_weights_load_under_attribute_head(tiny_clip_config):
    model = build(tiny_clip_config)
    head_keys = {k for k in model.state_dict() if k.startswith('attribute_head.')}
    assert head_keys == {f'attribute_head.{fc}.{i}.{p}'
                         for fc in ('query_fc', 'sentence_fc')
                         for i in (0, 2) for p in ('weight', 'bias')}


def test_clear_errors(tiny_clip_config):
    model = build(tiny_clip_config).eval()
    plain = [ActionDataSample().set_gt_label(0)]
    with pytest.raises(KeyError, match='attribute_tokens'):
        model(clips(1), plain, mode='predict')
    with pytest.raises(ValueError, match='branches'):
        build(tiny_clip_config, branches=('video',))
    with pytest.raises(ValueError, match='no `video_head`'):
        build(tiny_clip_config, branches=('attributes',))
