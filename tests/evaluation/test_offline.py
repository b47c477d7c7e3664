"""Evaluating a checkpoint needs no network; training from CLIP without the
weights fails with one message that says where to put them."""
from __future__ import annotations

import json
import socket

import pytest
from mmengine.config import Config

from bike_bench.cli.main import main as cli_main
from bike_bench.models.pretrained import (PretrainedWeightsUnavailable,
                                          weights_from_checkpoint)
from bike_bench.paths import config_dir

from .conftest import SMOKE_CONFIG

# A tiny architecture registered in open_clip with an 'openai' tag, so a
# config can say pretrained='openai' as the paper's configs do, cheaply.
TINY_ARCH = 'bike-tiny-offline-test'
HUB = 'bike-bench-tests/no-such-clip'
URL = 'https://example.invalid/bike-tiny-offline-test.pt'
PAPER_CONFIG = 'bike_vit-b-p32_clip-openai-pre_8xb32-8x1x1-30e_kinetics400-rgb'


@pytest.fixture()
def offline(monkeypatch, tmp_path):
    """No sockets, Hugging Face offline with an empty cache, and the tiny
    architecture known to open_clip with an 'openai' tag."""
    import huggingface_hub.constants as hf_constants
    import open_clip

    def refuse(*args, **kwargs):
        raise OSError('network disabled by the test')

    monkeypatch.setattr(socket.socket, 'connect', refuse)
    monkeypatch.setattr(socket, 'create_connection', refuse)
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    monkeypatch.setattr(hf_constants, 'HF_HUB_OFFLINE', True)
    monkeypatch.setattr(hf_constants, 'HF_HUB_CACHE', str(tmp_path / 'hf-cache'))
    tiny = open_clip.get_model_config(Config.fromfile(SMOKE_CONFIG).model.backbone.arch)
    monkeypatch.setitem(open_clip.factory._MODEL_CONFIGS, TINY_ARCH,
                        dict(tiny, quick_gelu=True))
    tag = dict(open_clip.get_pretrained_cfg('ViT-B-32', 'openai'), hf_hub=HUB + '/', url=URL)
    monkeypatch.setitem(open_clip.pretrained._PRETRAINED, TINY_ARCH, {'openai': tag})


def test_paper_config_builds_bare_when_a_checkpoint_supplies_the_weights():
    cfg = Config.fromfile(str(config_dir() / f'{PAPER_CONFIG}.py'))
    assert cfg.model.backbone.pretrained == 'openai'
    changed = weights_from_checkpoint(cfg)
    assert changed == ["model.backbone.load_pretrained = False (pretrained 'openai' "
                       "names the weights)"]
    assert cfg.model.backbone.pretrained == 'openai'  # the tag decides QuickGELU
    assert cfg.model.backbone.load_pretrained is False
    assert weights_from_checkpoint(cfg) == []  # idempotent


def test_training_from_missing_weights_says_where_to_put_them(offline):
    from mmaction.registry import MODELS
    with pytest.raises(PretrainedWeightsUnavailable) as info:
        MODELS.build(dict(type='CLIPEncoder', arch=TINY_ARCH, pretrained='openai'))
    message = str(info.value)
    assert TINY_ARCH in message and "'openai'" in message
    assert HUB in message  # the Hugging Face repo to cache
    assert 'model.backbone.pretrained=' in message  # the local-file route
    assert '\n' not in message


def test_doctor_gives_the_same_recipe(offline):
    from bike_bench.models.clip.weights import pretrained_weights_status
    status = pretrained_weights_status(TINY_ARCH, 'openai')
    assert status.startswith('not cached')
    assert HUB in status and 'model.backbone.pretrained=' in status


def test_converted_checkpoint_evaluates_offline_and_loads_strictly(
        offline, parity_dir, smoke, tmp_path, capsys):
    from bike_bench.models.convert import convert_file
    checkpoint = str(tmp_path / 'tiny_converted.pth')
    convert_file(str(parity_dir / 'tiny_bike_official_format.pt'), checkpoint)
    config = tmp_path / 'tiny_openai.py'
    config.write_text(f'_base_ = [{SMOKE_CONFIG!r}]\n'
                      f'model = dict(backbone=dict(arch={TINY_ARCH!r}, '
                      "pretrained='openai'))\n")
    # The config really asks for the weights, and they are out of reach.
    with pytest.raises(PretrainedWeightsUnavailable):
        from mmaction.registry import MODELS
        MODELS.build(Config.fromfile(str(config)).model)
    out = tmp_path / 'results.json'
    code = cli_main(['test', str(config), checkpoint, '--out', str(out),
                     '--work-dir', str(tmp_path / 'work'), '--cfg-options',
                     f'test_dataloader.dataset.ann_file={smoke["val12"]}'])
    assert code == 0, capsys.readouterr().err
    results = json.loads(out.read_text())
    assert 'acc/top1' in results['metrics']
    assert results['counts']['evaluated'] == 12
    # The run's config builds the bare architecture: the checkpoint held it all.
    assert results['config']['resolved']['model']['backbone']['load_pretrained'] is False


def test_reproduce_lists_entries_with_missing_weights_and_goes_on(tmp_path, monkeypatch):
    """Every full-scale entry is built bare (the checkpoint supplies CLIP);
    one whose weights still cannot be had is *missing*, and the next runs."""
    from bike_bench.evaluation import harness
    from bike_bench.reproduction import reproduce
    from bike_bench.reproduction.registry import build_registry
    entries = [e for e in build_registry() if e.protocol == 'general'
               and e.weights[0] and e.dataset == 'kinetics400'][:2]
    assert len(entries) == 2
    data_root, checkpoints = tmp_path / 'data', tmp_path / 'checkpoints'
    (data_root / 'kinetics400' / 'manifests').mkdir(parents=True)
    from bike_bench.datasets.manifest import Manifest, ManifestEntry, write_manifest
    write_manifest(Manifest('kinetics400', 'val', ['a', 'b'],
                            [ManifestEntry('v.mp4', 0)]),
                   str(data_root / 'kinetics400' / 'manifests' / 'val.jsonl'))
    checkpoints.mkdir()
    for entry in entries:
        (checkpoints / entry.weights[0]).write_bytes(b'weights')
    seen = []

    def fake_run_test(cfg, checkpoint, **kwargs):
        seen.append(cfg.model.backbone.load_pretrained)
        raise PretrainedWeightsUnavailable(f'pretrained CLIP weights X / {len(seen)}')

    monkeypatch.setattr(harness, 'run_test', fake_run_test)
    outcome = reproduce.run_full(entries, str(data_root), str(checkpoints),
                                 str(tmp_path / 'runs'), str(tmp_path / 'work'),
                                 reproduce._Progress(len(entries), lambda line: None))
    # the listed video is absent: coverage refuses both before anything loads
    assert [m.entry for m in outcome.missing] == [e.id for e in entries]
    assert all('1 of 1 videos missing' in m.what[0] for m in outcome.missing), outcome.missing
    video = data_root / 'kinetics400' / 'manifests' / 'v.mp4'
    video.write_bytes(b'')  # present (the test never decodes it)
    outcome = reproduce.run_full(entries, str(data_root), str(checkpoints),
                                 str(tmp_path / 'runs'), str(tmp_path / 'work'),
                                 reproduce._Progress(len(entries), lambda line: None))
    assert video.exists()
    assert seen == [False, False]  # built without fetching 'openai' weights
    assert [m.entry for m in outcome.missing] == [e.id for e in entries]
    assert 'pretrained CLIP weights' in outcome.missing[0].what[0]
    assert outcome.ran == []


def test_bare_build_keeps_what_the_tag_says_the_weights_were_trained_with():
    """A checkpoint of a LAION-trained ViT-B/16 (GELU) evaluated offline is
    rebuilt with GELU: dropping the tag would give OpenAI's QuickGELU and a
    model that computes something else with the same weights."""
    import torch
    from open_clip.transformer import QuickGELU
    from bike_bench.models.clip.factory import build_clip
    cfg = Config(dict(model=dict(type='BIKERecognizer', backbone=dict(
        type='CLIPEncoder', arch='ViT-B-16', pretrained='laion2b_s34b_b88k'))))
    weights_from_checkpoint(cfg)
    backbone = cfg.model.backbone
    assert backbone.pretrained == 'laion2b_s34b_b88k' and backbone.load_pretrained is False
    with torch.device('meta'):
        laion = build_clip(backbone.arch, backbone.pretrained, load_weights=False)
        openai = build_clip('ViT-B-16', 'openai', load_weights=False)
    act = type(laion.visual.transformer.resblocks[0].mlp.gelu)
    assert act is not QuickGELU and act is torch.nn.GELU
    assert type(openai.visual.transformer.resblocks[0].mlp.gelu) is QuickGELU
