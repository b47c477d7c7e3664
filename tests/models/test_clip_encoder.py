"""The open_clip adapter: architectures, weights, freezing, text outputs."""
from __future__ import annotations

import pytest
import torch

from mmaction.registry import MODELS

from bike_bench.models.clip.factory import build_clip
from bike_bench.models.clip.text_towers import encode_text_tokens
from bike_bench.models.clip.tokenizer import tokenize


@pytest.mark.parametrize('arch,dim,heads,size', [
    ('ViT-B-32', 512, 8, 224), ('ViT-B-16', 512, 8, 224),
    ('ViT-L-14', 768, 12, 224), ('ViT-L-14-336', 768, 12, 336)])
def test_paper_architectures_build_with_expected_dimensions(arch, dim, heads, size):
    with torch.device('meta'):  # shapes only, no 1.7 GB of random weights
        model = MODELS.build(dict(type='BIKERecognizer',
                                  backbone=dict(type='CLIPEncoder', arch=arch),
                                  video_head=dict(header='Transf')))
    assert model.backbone.embed_dim == dim
    assert model.backbone.image_size == size
    blocks = model.video_head.header.transformer.resblocks
    assert len(blocks) == 6
    assert blocks[0].attn.num_heads == heads
    assert blocks[0].attn.embed_dim == dim


def test_unknown_architecture_is_named():
    with pytest.raises(ValueError, match="unknown CLIP architecture 'ViT-X-99'"):
        build_clip('ViT-X-99')


def test_frozen_text_tower_keeps_logit_scale_trainable(tiny_clip_config):
    encoder = MODELS.build(dict(type='CLIPEncoder', arch=tiny_clip_config))
    trainable = {n for n, p in encoder.clip.named_parameters() if p.requires_grad}
    assert 'logit_scale' in trainable
    assert trainable - {'logit_scale'} == {
        n for n, _ in encoder.clip.named_parameters() if n.startswith('visual.')}
    assert not encoder.text_trainable
    unfrozen = MODELS.build(dict(type='CLIPEncoder', arch=tiny_clip_config,
                                 freeze_text=False))
    assert unfrozen.text_trainable


def test_gradient_checkpointing_option(tiny_clip_config):
    encoder = MODELS.build(dict(type='CLIPEncoder', arch=tiny_clip_config,
                                grad_checkpointing=True))
    assert encoder.clip.visual.transformer.grad_checkpointing
    images = torch.randn(2, 3, 64, 64, requires_grad=True)
    encoder.encode_image(images).sum().backward()
    assert images.grad is not None


def test_local_openai_checkpoint_into_named_config(parity_dir, tiny_clip_config):
    path = str(parity_dir / 'tiny_clip_openai.pt')
    inferred = build_clip(None, path)
    explicit = build_clip(tiny_clip_config, path)
    for (name, a), (_, b) in zip(inferred.state_dict().items(),
                                 explicit.state_dict().items()):
        assert torch.equal(a, b), name
    assert all(p.dtype == torch.float32 for p in explicit.parameters())


def test_checkpoint_of_another_architecture_is_refused(parity_dir):
    with pytest.raises(ValueError, match='does not match architecture'):
        build_clip('ViT-B-32', str(parity_dir / 'tiny_clip_openai.pt'))


def test_missing_checkpoint_file():
    with pytest.raises(FileNotFoundError, match='nowhere.pt'):
        build_clip('ViT-B-32', '/tmp/nowhere.pt')


def test_class_embedding_is_the_end_of_text_token(tiny_clip_config):
    clip = build_clip(tiny_clip_config)
    tokens = tokenize(['This is a video about juggling', 'a'])
    cls, token_features = encode_text_tokens(clip, tokens)
    assert token_features.shape == (2, 77, 64)
    eot = tokens.argmax(-1)
    assert torch.allclose(cls, token_features[torch.arange(2), eot])
    # open_clip's own pooled text feature is the same vector.
    assert torch.allclose(cls, clip.encode_text(tokens), atol=1e-6)
