"""`bike-bench visualize`: the plotted saliency is the VCS head's own."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmaction.registry import MODELS

from bike_bench.cli.main import main as cli
from bike_bench.datasets.manifest import read_manifest
from bike_bench.visualization.run import load_model, visualize_video

from .conftest import VA_CONFIG

VIDEO_INDEX = 9


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    cfg = Config.fromfile(VA_CONFIG)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    path = tmp_path_factory.mktemp('vis') / 'model.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, path)
    return str(path)


def test_plotted_saliency_is_the_heads_frame_weights(checkpoint, smoke_set):
    cfg = Config.fromfile(VA_CONFIG)
    manifest = read_manifest(smoke_set['val'])
    entry = manifest.entries[VIDEO_INDEX]
    with DefaultScope.overwrite_default_scope('mmaction'):
        model = load_model(cfg, checkpoint)
        result = visualize_video(cfg, model, entry.path, manifest.classes, topk=3,
                                 manifest_path=smoke_set['val'])
        # Independently: frames through the encoder and header, then the
        # interaction's own saliency for the plotted classes.
        from bike_bench.visualization.run import load_video
        inputs, frames, indices, _ = load_video(cfg, model, entry.path,
                                                smoke_set['val'])
    with torch.no_grad():
        cls, tokens = model.class_text_features()
        video = model.video_head.header(model.frame_features(inputs)[:, 0])
        weights = model.video_head.interaction.saliency(
            video, tokens[torch.as_tensor(result.class_indices)])[:, 0]
        probs = torch.softmax(model.view_logits(inputs)[0, 0], -1)
    assert result.saliency.shape == (3, 8)
    np.testing.assert_allclose(result.saliency.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(result.saliency, weights.numpy(), atol=1e-6)
    assert list(result.class_indices) == probs.topk(3).indices.tolist()
    assert result.frames.shape == (8, 64, 64, 3) and result.frames.dtype == np.uint8
    assert list(result.frame_indices) == [0, 2, 4, 6, 8, 10, 12, 14]
    assert len(result.attributes) == 5


def test_cli_writes_a_png(checkpoint, smoke_set, smoke_attributes, tmp_path, capsys):
    manifest = read_manifest(smoke_set['val'])
    entry = manifest.entries[VIDEO_INDEX]
    out = tmp_path / 'saliency.png'
    assert cli(['visualize', VA_CONFIG, checkpoint, '--video', entry.path,
                '--manifest', smoke_set['val'], '--attributes', smoke_attributes['val'],
                '--out', str(out), '--topk', '2']) == 0
    assert out.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    expected = json.loads(open(smoke_attributes['val']).read())[entry.path]
    assert printed['attributes'] == expected['classname_topk']
    assert len(printed['saliency']) == 2


def test_cli_takes_a_plain_video_file(checkpoint, smoke_set, tmp_path):
    manifest = read_manifest(smoke_set['val'])
    video = manifest.entry_location(manifest.entries[0])
    out = tmp_path / 'file.png'
    assert cli(['visualize', VA_CONFIG, checkpoint, '--video', video,
                '--classes', smoke_set['classes'], '--out', str(out)]) == 0
    assert out.stat().st_size > 0
