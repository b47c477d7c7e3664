"""The evaluation fast path: off on CPU by default, each lever switchable,
the training weights untouched, results equal within each lever's rounding."""
from __future__ import annotations

import pytest
import torch

from mmaction.registry import MODELS

from bike_bench.models.fast_path import FastPath, fuse_attention

CLASSES = ['red circle moving left', 'blue square growing', 'green triangle moving up']


def build(tiny_clip_config, **kwargs):
    cfg = dict(type='BIKERecognizer',
               backbone=dict(type='CLIPEncoder', arch=tiny_clip_config),
               video_head=dict(header='Transf', interaction='VCS'),
               class_names=CLASSES)
    cfg.update(kwargs)
    return MODELS.build(cfg).eval()


def logits(model, inputs):
    with torch.inference_mode():
        return model.view_logits(inputs)


def test_auto_is_the_official_path_on_cpu(tiny_clip_config):
    torch.manual_seed(0)
    model = build(tiny_clip_config)  # fast_path='auto'
    assert model.fast_encoder(torch.device('cpu')) is None
    record = model.fast_path_record()
    assert record['official_fp32'] and record['setting'] == 'auto'
    inputs = torch.randn(2, 1, 3, 8, 64, 64)
    official = build(tiny_clip_config, fast_path='off')
    official.load_state_dict(model.state_dict())
    assert torch.equal(logits(model, inputs), logits(official, inputs))


def test_auto_means_every_lever_on_cuda():
    config = FastPath.resolve('auto', torch.device('cuda'))
    assert config == FastPath.gpu_default()
    assert config.fused_attention and config.weights_dtype == 'bfloat16'
    assert config.compile and config.cuda_graphs


@pytest.mark.parametrize('levers, tolerance', [
    (dict(fused_attention=True), 1e-5),
    (dict(channels_last=True), 1e-6),
    (dict(weights_dtype='bfloat16'), 5e-2),
    (dict(fused_attention=True, weights_dtype='bfloat16'), 5e-2),
])
def test_levers_compute_the_same_function(tiny_clip_config, levers, tolerance):
    torch.manual_seed(1)
    official = build(tiny_clip_config, fast_path='off')
    fast = build(tiny_clip_config, fast_path=levers)
    fast.load_state_dict(official.state_dict())
    inputs = torch.randn(2, 3, 3, 8, 64, 64)
    reference = logits(official, inputs)
    got = logits(fast, inputs)
    assert fast._fast_encoder is not None  # the fast encoder really ran
    relative = (got - reference).norm() / reference.norm()
    assert relative < tolerance, relative


def test_training_weights_and_state_dict_untouched(tiny_clip_config):
    model = build(tiny_clip_config, fast_path=dict(weights_dtype='bfloat16',
                                                   fused_attention=True))
    keys = set(model.state_dict())
    logits(model, torch.randn(1, 1, 3, 8, 64, 64))
    assert set(model.state_dict()) == keys
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert model.fast_path_record()['status']['fused_attention'].startswith('on')
    # Training, and new weights, drop the copy.
    model.train()
    assert model._fast_encoder is None
    model.eval()
    logits(model, torch.randn(1, 1, 3, 8, 64, 64))
    model.load_state_dict(model.state_dict())
    assert model._fast_encoder is None
    # With gradients (training, saliency) the regular path runs.
    assert model.fast_encoder(torch.device('cpu')) is None  # grad enabled here


def test_cuda_graphs_fall_back_cleanly_without_cuda(tiny_clip_config):
    model = build(tiny_clip_config, fast_path=dict(cuda_graphs=True))
    logits(model, torch.randn(1, 1, 3, 8, 64, 64))
    assert model.fast_path_record()['status']['cuda_graphs'] == 'fallback: needs CUDA'


def test_fuse_attention_keeps_parameters(tiny_clip_config):
    model = build(tiny_clip_config)
    visual = model.backbone.clip.visual
    before = {k: v.clone() for k, v in visual.state_dict().items()}
    assert fuse_attention(visual) == len(visual.transformer.resblocks)
    after = visual.state_dict()
    assert before.keys() == after.keys()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_bad_setting_is_named(tiny_clip_config):
    with pytest.raises(ValueError, match="unknown fast_path fields \\['flash'\\]"):
        build(tiny_clip_config, fast_path=dict(flash=True))
    with pytest.raises(ValueError, match="fast_path must be 'auto'"):
        build(tiny_clip_config, fast_path='fast')


def test_compile_failure_falls_back_to_eager(tiny_clip_config, monkeypatch):
    """A compiler that fails at the first call (no toolchain, an unsupported
    op) leaves the eager copy running, and the status says why."""
    def failing_compile(module, **kwargs):
        def call(*args):
            raise RuntimeError('no C++ compiler here')
        return call

    monkeypatch.setattr(torch, 'compile', failing_compile)
    torch.manual_seed(2)
    official = build(tiny_clip_config, fast_path='off')
    fast = build(tiny_clip_config, fast_path=dict(compile=True))
    fast.load_state_dict(official.state_dict())
    inputs = torch.randn(1, 1, 3, 8, 64, 64)
    with pytest.warns(UserWarning, match='torch.compile failed'):
        got = logits(fast, inputs)
    assert torch.equal(got, logits(official, inputs))
    status = fast.fast_path_record()['status']['compile']
    assert status.startswith('fallback: RuntimeError: no C++ compiler here')
