"""`bike-bench attributes combine`: separately trained branches, fused."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config

from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample

from bike_bench.attributes import build_sentence
from bike_bench.checkpoint_io import load_model_checkpoint
from bike_bench.cli.main import main as cli
from bike_bench.models.clip.tokenizer import tokenize

from .conftest import ATTR_ONLY_CONFIG, CONFIGS, VA_CONFIG

VIDEO_CONFIG = str(CONFIGS / 'bike_tiny-vit-p16-res64_toy-clip-pre_1xb16-8x1x1-8e_'
                   'synthetic-rgb.py')

CLASSES = ['red circle moving left', 'blue square growing', 'green triangle moving up']


def build(config, seed):
    cfg = Config.fromfile(config).model
    torch.manual_seed(seed)
    return MODELS.build(cfg).eval()


def save(model, path):
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, path)
    return str(path)


@pytest.fixture
def branches(tmp_path):
    video = build(VIDEO_CONFIG, 0)
    attributes = build(ATTR_ONLY_CONFIG, 0)
    return video, attributes, save(video, tmp_path / 'v.pth'), \
        save(attributes, tmp_path / 'a.pth')


def test_combined_model_fuses_both_branches(branches, tmp_path):
    video, attributes, video_path, attr_path = branches
    out = tmp_path / 'va.pth'
    assert cli(['attributes', 'combine', video_path, attr_path, '--out', str(out)]) == 0
    combined = build(VA_CONFIG, 1)
    load_model_checkpoint(combined, str(out), strict=True)
    for model in (combined, video, attributes):
        model.set_class_names(CLASSES)
    inputs = torch.randn(2, 1, 3, 8, 64, 64)
    samples = []
    for label in (0, 2):
        sample = ActionDataSample().set_gt_label(label)
        tokens = tokenize([build_sentence(CLASSES[::-1])])[0]
        sample.set_field(tokens, 'attribute_tokens')
        samples.append(sample)
    fused = combined(inputs, samples, mode='predict')
    with torch.no_grad():
        video_probs = F.softmax(video.view_logits(inputs), -1).mean(dim=1)
        attr_probs = F.softmax(attributes.attribute_logits(samples), -1)
    for index, sample in enumerate(fused):
        assert torch.allclose(sample.video_score, video_probs[index], atol=1e-6)
        assert torch.allclose(sample.attribute_score, attr_probs[index], atol=1e-6)


def test_different_text_towers_are_refused(branches, tmp_path):
    video, _, video_path, _ = branches
    # The smoke configs start from the toy CLIP, so both branches share its
    # text tower; a retrained one (one weight moved) must be refused.
    model = build(ATTR_ONLY_CONFIG, 5)
    with torch.no_grad():
        model.backbone.clip.token_embedding.weight[0, 0] += 1.0
    other = save(model, tmp_path / 'other.pth')
    # --debug: the command raises instead of printing one error line.
    with pytest.raises(ValueError, match='text towers .* differ'):
        cli(['--debug', 'attributes', 'combine', video_path, other, '--out',
             str(tmp_path / 'x.pth')])
    with pytest.raises(ValueError, match='no attribute_head'):
        cli(['--debug', 'attributes', 'combine', video_path, video_path, '--out',
             str(tmp_path / 'x.pth')])
