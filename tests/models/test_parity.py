"""Exact parity with the official BIKE code on its golden tiny-model outputs."""
from __future__ import annotations

import pytest
import torch

from mmaction.registry import MODELS

from bike_bench.models import aggregate_views
from bike_bench.models.losses import (DualSoftmaxLoss, KLNCELoss,
                                      same_label_targets)

TOL = 1e-5


def _max_diff(a, b):
    return (a.float() - b.float()).abs().max().item()


@pytest.fixture(scope='module')
def official_model(parity_dir, parity_outputs):
    def build(interaction):
        model = MODELS.build(dict(
            type='BIKERecognizer',
            backbone=dict(type='CLIPEncoder', arch=None,
                          pretrained=str(parity_dir / 'tiny_clip_openai.pt')),
            video_head=dict(header='Transf', interaction=interaction),
            class_names=parity_outputs['classes'],
            prompt_template=parity_outputs['template']))
        official = torch.load(parity_dir / 'tiny_bike_official_format.pt',
                              weights_only=True)
        model.video_head.header.load_state_dict(
            official['fusion_model_state_dict'], strict=True)
        return model.eval()
    return build


@pytest.fixture(scope='module')
def vcs_model(official_model):
    return official_model('VCS')


@torch.no_grad()
def test_tokens_match(vcs_model, parity_outputs):
    tokens = vcs_model.backbone.tokenize(vcs_model.prompts())
    assert torch.equal(tokens, parity_outputs['text_tokens'])


@torch.no_grad()
def test_encoders(vcs_model, parity_outputs):
    frames = parity_outputs['frames'].float().flatten(0, 1)
    image = vcs_model.backbone.encode_image(frames)
    assert _max_diff(image, parity_outputs['image_features']) < TOL
    cls, tokens = vcs_model.class_text_features()
    assert _max_diff(cls, parity_outputs['cls_features']) < TOL
    assert _max_diff(tokens, parity_outputs['token_features']) < TOL
    assert _max_diff(vcs_model.backbone.logit_scale.exp(),
                     parity_outputs['logit_scale']) < TOL


@torch.no_grad()
@pytest.mark.parametrize('interaction,key', [('VCS', 'logits_vcs'),
                                             ('DP', 'logits_dp')])
def test_head_logits(official_model, parity_outputs, interaction, key):
    model = official_model(interaction)
    inputs = parity_outputs['frames'].float().transpose(1, 2)  # B C T H W
    logits = model(inputs, mode='tensor')[:, 0]
    assert _max_diff(logits, parity_outputs[key]) < TOL


@torch.no_grad()
def test_batch_logits_and_losses(vcs_model, parity_outputs):
    labels = parity_outputs['labels']
    frames = parity_outputs['frames'].float().flatten(0, 1)
    video = vcs_model.backbone.encode_image(frames).view(4, 8, -1)
    cls, tokens = vcs_model.class_text_features()
    logits = vcs_model.backbone.logit_scale.exp() * vcs_model.video_head(
        video, tokens[labels], cls[labels])
    assert _max_diff(logits, parity_outputs['batch_logits_scaled']) < TOL
    targets = same_label_targets(labels)
    golden = parity_outputs['batch_logits_scaled']
    assert _max_diff(KLNCELoss()(golden, targets),
                     parity_outputs['loss_kl_nce']) < TOL
    assert _max_diff(DualSoftmaxLoss()(golden, targets),
                     parity_outputs['loss_dual_softmax']) < TOL


def test_loss_mode_matches_fixture(vcs_model, parity_outputs):
    """The recognizer's own training path gives the official loss."""
    from mmaction.structures import ActionDataSample
    samples = [ActionDataSample().set_gt_label(int(y))
               for y in parity_outputs['labels']]
    inputs = parity_outputs['frames'].float().transpose(1, 2)
    with torch.no_grad():
        loss = vcs_model(inputs, samples, mode='loss')['loss']
    assert _max_diff(loss, parity_outputs['loss_kl_nce']) < TOL


@torch.no_grad()
def test_multiview_official_aggregation(vcs_model, parity_outputs):
    frames = parity_outputs['multiview_frames'].float()  # (2*12, T, C, H, W)
    inputs = frames.view(2, 12, *frames.shape[1:]).transpose(2, 3)
    scores = aggregate_views(vcs_model(inputs, mode='tensor'), 'official')
    assert _max_diff(scores, parity_outputs['multiview_scores']) < TOL
