"""`bike-bench attributes generate`: layout, determinism, resume checks.

The kill-and-resume test is in tests/reliability/test_interruptions.py.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bike_bench.attributes import AttributesFileError, read_attributes, read_meta
from bike_bench.cli.main import main as cli
from bike_bench.datasets.manifest import read_manifest, write_manifest

from .conftest import VA_CONFIG

REPO = Path(__file__).resolve().parents[2]

def generate_args(manifest, out, *extra):
    return ['attributes', 'generate', VA_CONFIG, '--manifest', manifest, '--out',
            str(out), '--batch-size', '4', '--num-workers', '0', '--flush-every',
            '4', '--no-progress', *extra]


def test_output_is_the_official_layout(smoke_set, smoke_attributes):
    data = json.loads(Path(smoke_attributes['val']).read_text())
    manifest = read_manifest(smoke_set['val'])
    assert list(data) == [entry.path for entry in manifest.entries]
    for entry in data.values():
        assert set(entry) == {'classname_topk', 'scores'}
        assert len(entry['classname_topk']) == 5
        assert set(entry['classname_topk']) <= set(manifest.classes)
        assert entry['scores'] == sorted(entry['scores'], reverse=True)
    meta = read_meta(smoke_attributes['val'])
    assert meta['complete'] and meta['topk'] == 5
    assert meta['prompt'] == 'a photo of {}' and meta['lexicon'] == 'classes'
    assert meta['manifest_hash'] == manifest.content_hash


def test_generation_is_deterministic(smoke_set, smoke_attributes, tmp_path):
    again = tmp_path / 'again.json'
    assert cli(generate_args(smoke_set['val'], again)) == 0
    assert again.read_bytes() == Path(smoke_attributes['val']).read_bytes()


def test_resume_refuses_other_settings(smoke_set, smoke_attributes, tmp_path):
    out = tmp_path / 'val.json'
    out.write_bytes(Path(smoke_attributes['val']).read_bytes())
    Path(str(out) + '.meta.json').write_bytes(
        Path(smoke_attributes['val'] + '.meta.json').read_bytes())
    with pytest.raises(AttributesFileError, match='topk'):  # --debug: raise
        cli(generate_args(smoke_set['val'], out, '--topk', '3', '--debug'))
    os.unlink(str(out) + '.meta.json')
    with pytest.raises(AttributesFileError, match='not written by'):
        cli(generate_args(smoke_set['val'], out, '--debug'))


def test_lexicon_file_and_prompt(smoke_set, tmp_path):
    lexicon = tmp_path / 'lexicon.txt'
    lexicon.write_text('red\ngreen\nblue\ncircle\nsquare\n')
    out = tmp_path / 'colours.json'
    assert cli(generate_args(smoke_set['val'], out, '--lexicon', str(lexicon),
                             '--topk', '2', '--prompt', 'a {} thing')) == 0
    data = read_attributes(str(out))
    assert all(len(e['classname_topk']) == 2 and set(e['classname_topk'])
               <= {'red', 'green', 'blue', 'circle', 'square'} for e in data.values())
    meta = read_meta(str(out))
    assert meta['prompt'] == 'a {} thing' and meta['lexicon'] == str(lexicon)
    with pytest.raises(ValueError, match='topk=6 but the lexicon has 5'):
        cli(generate_args(smoke_set['val'], tmp_path / 'x.json', '--lexicon',
                          str(lexicon), '--topk', '6', '--debug'))


def test_duplicate_video_paths_are_refused(smoke_set, tmp_path):
    manifest = read_manifest(smoke_set['val'])
    manifest.entries.append(manifest.entries[0])
    manifest.data_root = str(Path(smoke_set['val']).parent.parent)
    path = str(tmp_path / 'dup.jsonl')
    write_manifest(manifest, path)
    with pytest.raises(AttributesFileError, match='dup.jsonl:34.*also on line 2'):
        cli(generate_args(path, tmp_path / 'dup.json', '--debug'))


def test_clip_from_a_checkpoint(smoke_set, tmp_path):
    import torch
    from mmengine.config import Config
    from mmaction.registry import MODELS
    torch.manual_seed(3)
    model = MODELS.build(Config.fromfile(VA_CONFIG).model)
    checkpoint = tmp_path / 'model.pth'
    torch.save({'state_dict': model.state_dict()}, checkpoint)
    out = tmp_path / 'from_checkpoint.json'
    assert cli(generate_args(smoke_set['val'], out, '--checkpoint', str(checkpoint))) == 0
    assert read_meta(str(out))['clip']['source'] == 'checkpoint'


def test_clip_from_a_pretrained_file(smoke_set, parity_dir, tmp_path):
    out = tmp_path / 'from_file.json'
    clip_file = str(parity_dir / 'tiny_clip_openai.pt')
    assert cli(generate_args(smoke_set['val'], out, '--pretrained', clip_file)) == 0
    clip = read_meta(str(out))['clip']
    assert clip['source'] == 'pretrained' and clip['pretrained'] == clip_file
    assert 'random_init_seed' not in clip
