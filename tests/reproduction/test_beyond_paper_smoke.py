"""A non-OpenAI tower family end to end on the synthetic benchmark.

The SigLIP 2 K400 entry's smoke twin (a tiny SigLIP-style model: timm
SigLIP ViT, bidirectional text transformer with last-token pooling, 64
tokens, mean = std = 0.5) is trained, tested with 4x3 views, and its
checkpoint evaluated zero-shot with the paper's UCF-101 half-class protocol.
"""
from __future__ import annotations

import dataclasses
import os

import pytest

from bike_bench.checkpoint_io import last_checkpoint
from bike_bench.reproduction import smoke_twins
from bike_bench.reproduction.registry import (SmokeTwin, build_beyond_registry,
                                              build_registry, find_entry)
from bike_bench.reproduction.reproduce import write_synthetic
from bike_bench.reproduction.settings import SmokeSettings

pytestmark = pytest.mark.slow


def test_siglip_family_trains_tests_4x3_and_runs_zero_shot(tmp_path):
    from bike_bench.cli.common import build_runner
    from bike_bench.evaluation.harness import run_test
    from bike_bench.evaluation.zeroshot import run_zeroshot
    smoke = SmokeSettings(train_epochs=2, finetune_epochs=1, fewshot_epochs=1)
    root = str(tmp_path / 'synthetic')
    write_synthetic(root, echo=lambda *_: None)

    beyond = build_beyond_registry()
    entry = find_entry(beyond, 'vit-b-p16-siglip2')
    twin = SmokeTwin.of(entry, {e.id: e for e in beyond})
    assert twin.family == 'siglip'
    work = str(tmp_path / 'train')
    cfg = smoke_twins.twin_config(entry, twin, root, work, smoke)
    runner = build_runner(cfg)
    assert runner.model.backbone.text_family == 'text-transformer'
    assert runner.model.backbone.context_length == 64
    assert runner.model.data_preprocessor.mean.flatten().tolist() == [127.5] * 3
    runner.train()
    checkpoint = last_checkpoint(work)
    assert os.path.isfile(checkpoint)

    results = run_test(cfg, checkpoint, out=str(tmp_path / 'test.json'), run_id=twin.id)
    assert results['views']['label'] == '4x3'
    assert 0.0 <= results['metrics']['acc/top1'] <= 1.0
    assert results['counts']['evaluated'] == results['counts']['expected'] > 0

    # Zero-shot: the paper's UCF-101 protocol, with this backbone family.
    paper = {e.id: e for e in build_registry()}
    zero_shot = find_entry(list(paper.values()), 'zeroshot-8x1x1_ucf101')
    zs_twin = dataclasses.replace(SmokeTwin.of(zero_shot, paper), family='siglip')
    zs_cfg = smoke_twins.twin_config(zero_shot, zs_twin, root, str(tmp_path / 'zs'), smoke)
    manifest = smoke_twins.manifest_path(root, 'ucf101', 'zeroshot')
    zs = run_zeroshot(zs_cfg, checkpoint, manifest, protocol='half',
                      dataset_name='synthetic-ucf101', out=str(tmp_path / 'zs.json'),
                      run_id='smoke_zeroshot_ucf101_siglip')
    assert zs['metrics'], zs
