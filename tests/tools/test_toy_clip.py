"""The toy CLIP of the smoke configs (``bike-bench pretrain-toy``)."""
from __future__ import annotations

import dataclasses
import os

import open_clip
import pytest
import torch

from bike_bench.datasets.synthetic import HELD_OUT_PAIRS, is_held_out
from bike_bench.datasets.synthetic_benchmark import (ZEROSHOT_FLAVOURS, SynthConfig,
                                                     flavour_classes)
from bike_bench.tools import toy_clip

BASE_MODEL = os.path.join(os.path.dirname(__file__), '..', '..', 'mmconfigs', '_base_',
                          'models', 'bike_tiny-vit-p16-res64.py')


def test_held_out_pairs_leave_every_colour_and_shape_in_training():
    train = toy_clip.training_classes()
    assert len(train) == 108 and not any(is_held_out(c) for c in train)
    assert len(toy_clip.held_out_classes()) == 6 * len(HELD_OUT_PAIRS) >= 10
    seen_pairs = {(c.color, c.shape) for c in train}
    for color in {c.color for c in train}:
        assert len({s for c, s in seen_pairs if c == color}) >= 2


@pytest.mark.parametrize('cfg', [SynthConfig(zeroshot_classes=10),
                                 SynthConfig(videos_per_class=12, seed=3, zeroshot_classes=12)])
def test_benchmark_flavours_follow_the_held_out_set(cfg):
    classes = flavour_classes(cfg)
    assert not any(is_held_out(c) for c in classes['kinetics400'])
    for name in ZEROSHOT_FLAVOURS:
        assert len(classes[name]) >= 10, name
        assert all(is_held_out(c) for c in classes[name]), name
    k400 = {c.name for c in classes['kinetics400']}
    assert not k400 & {c.name for c in classes['kinetics600']}


def test_short_pretraining_learns(tmp_path):
    """A short run: the loss falls and held-out compositions beat chance."""
    recipe = toy_clip.Recipe(steps=80, clips_per_batch=16, videos_per_class=2,
                             warmup_steps=10, eval_videos_per_class=2)
    record = toy_clip.pretrain(recipe, out=str(tmp_path / 'toy.pt'), echo=lambda _: None)
    losses = [loss for _, loss in record['losses']]
    assert losses[-1] < 0.8 * losses[0]
    metrics = record['metrics']
    assert metrics['heldout_pair_top1'] > 1.5 * metrics['chance_heldout_pair_top1']
    assert metrics['heldout_top1'] > metrics['chance_heldout_top1']
    assert toy_clip.verify(str(tmp_path / 'toy.pt'))['sha256'] == record['sha256']


def test_pretraining_is_deterministic(tmp_path):
    recipe = toy_clip.Recipe(steps=2, clips_per_batch=4, videos_per_class=1,
                             eval_videos_per_class=1)
    first = toy_clip.pretrain(recipe, out=str(tmp_path / 'a.pt'), echo=lambda _: None)
    second = toy_clip.pretrain(recipe, out=str(tmp_path / 'b.pt'), echo=lambda _: None)
    a = torch.load(tmp_path / 'a.pt')
    b = torch.load(tmp_path / 'b.pt')
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert first['losses'] == second['losses']


def test_committed_checkpoint_is_the_smoke_configs_start():
    from mmengine.config import Config
    path = toy_clip.resolve(toy_clip.CHECKPOINT)
    if not os.path.isfile(path):
        pytest.fail(f'{path} is committed with the code; run `bike-bench pretrain-toy`')
    record = toy_clip.verify()
    # The shape of the smoke configs' tiny CLIP (records written before the
    # model config said `quick_gelu` explicitly leave it at its default, True).
    assert dict(record['arch'], quick_gelu=True) == toy_clip.ARCH
    assert all(v.dtype == torch.float16 for v in torch.load(path).values()
               if v.is_floating_point())
    metrics = record['metrics']
    # Appearance of never-seen compositions transfers (mean-pooled frames).
    assert metrics['heldout_pair_top1'] >= 3 * metrics['chance_heldout_pair_top1']
    cfg = Config.fromfile(BASE_MODEL)
    assert cfg.model.backbone.pretrained == toy_clip.CHECKPOINT
    assert cfg.model.backbone.arch == 'bike-tiny-openai-clip'
    assert open_clip.get_model_config(cfg.model.backbone.arch) == toy_clip.ARCH
    from bike_bench.models.clip.factory import build_clip
    clip = build_clip(cfg.model.backbone.arch, cfg.model.backbone.pretrained)
    state = torch.load(path)
    assert torch.equal(clip.state_dict()['text_projection'],
                       state['text_projection'].float())


def test_batches_group_motions_of_one_pair_so_direction_words_matter():
    import numpy as np
    classes = toy_clip.training_classes()
    by_pair = toy_clip._classes_by_pair(classes)
    assert len(by_pair) == 18 and {len(g) for g in by_pair} == {6}
    rng = np.random.default_rng(0)
    batch = toy_clip._batch_classes(rng, by_pair, 32, 4)
    assert len(batch) == 32
    for start in range(0, 32, 4):
        group = [classes[i] for i in batch[start:start + 4]]
        assert len({(c.color, c.shape) for c in group}) == 1  # one pair ...
        assert len({c.motion for c in group}) == len(group)   # ... distinct motions
    # One motion a pair: uniform over classes, the draw of the first recipes.
    assert np.array_equal(toy_clip._batch_classes(np.random.default_rng(0), by_pair, 32, 1),
                          np.random.default_rng(0).integers(0, 108, 32))
    assert toy_clip.Recipe().motions_per_pair == 4


def test_pretraining_without_the_temporal_probe_pools_frames_only(tmp_path):
    """``--no-temporal-probe``: the probe takes no part, so no ``*_probe``
    metrics, and the within-pair motion metric is recorded with its chance."""
    assert toy_clip.Recipe().temporal_probe  # the committed recipe keeps it
    recipe = toy_clip.Recipe(steps=2, clips_per_batch=4, videos_per_class=1,
                             eval_videos_per_class=1, temporal_probe=False)
    record = toy_clip.pretrain(recipe, out=str(tmp_path / 'a.pt'), echo=lambda _: None)
    assert record['recipe']['temporal_probe'] is False
    metrics = record['metrics']
    assert not [k for k in metrics if k.endswith('_probe')]
    assert metrics['chance_heldout_motion_top1'] == pytest.approx(1 / 6)
    assert 0 <= metrics['heldout_motion_top1'] <= 1
    with_probe = toy_clip.pretrain(dataclasses.replace(recipe, temporal_probe=True),
                                   out=str(tmp_path / 'b.pt'), echo=lambda _: None)
    assert 'heldout_motion_top1_probe' in with_probe['metrics']


def test_pretrain_toy_cli_passes_no_temporal_probe(monkeypatch, tmp_path):
    from bike_bench.cli.main import main
    seen = {}
    monkeypatch.setattr(toy_clip, 'pretrain', lambda recipe, out: seen.update(
        recipe=recipe, out=out))
    assert main(['pretrain-toy', '--no-temporal-probe', '--steps', '3',
                 '--out', str(tmp_path / 't.pt')]) in (0, None)
    assert seen['recipe'].temporal_probe is False and seen['recipe'].steps == 3
    assert main(['pretrain-toy', '--out', str(tmp_path / 't.pt')]) in (0, None)
    assert seen['recipe'].temporal_probe is True
