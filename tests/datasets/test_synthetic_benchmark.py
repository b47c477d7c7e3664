"""The synthetic benchmark: every flavour in its dataset's format, valid
manifests, deterministic output."""
from __future__ import annotations

import json

import decord
import numpy as np
import pytest

from bike_bench.cli.main import main
from bike_bench.datasets.check import check_manifest
from bike_bench.datasets.manifest import read_manifest
from bike_bench.datasets.specs import load_spec
from bike_bench.datasets.synthetic import SyntheticClass
from bike_bench.datasets.synthetic_benchmark import (FLAVOURS, SynthConfig,
                                                     write_benchmark)

SOURCES = {  # a file of each flavour in its dataset's own format
    'kinetics400': 'annotations/train.csv',
    'kinetics600': 'lists/k160_labels_split1.csv',
    'ucf101': 'ucfTrainTestlist/classInd.txt',
    'hmdb51': 'testTrainMulti_7030_splits',
    'activitynet': 'activity_net.v1-3.min.json',
    'charades': 'Charades/Charades_v1_test.csv',
}


def _manifests(root, flavour):
    return {path.stem: read_manifest(str(path))
            for path in sorted((root / flavour / 'manifests').glob('*.jsonl'))}


def test_every_flavour_has_sources_and_all_its_manifests(synth_root):
    for flavour in FLAVOURS:
        assert (synth_root / flavour / SOURCES[flavour]).exists()
        spec = load_spec(flavour)
        assert set(_manifests(synth_root, flavour)) == set(spec.manifests), flavour


def test_synthetic_manifests_pass_check_with_decoding(synth_root):
    for flavour in FLAVOURS:
        for path in sorted((synth_root / flavour / 'manifests').glob('*.jsonl')):
            report = check_manifest(str(path), probe_decode=True)
            assert report.ok, [i.message for i in report.errors]
            assert report.found == len(report.manifest.entries) > 0


def test_flavour_contents(synth_root, synth_config):
    cfg = synth_config
    k400 = _manifests(synth_root, 'kinetics400')
    k600 = _manifests(synth_root, 'kinetics600')
    assert k400['train'].num_classes == cfg.classes
    assert all(SyntheticClass.parse(name) for name in k400['train'].classes)
    unseen = set().union(*(m.classes for m in k600.values()))
    assert not unseen & set(k400['train'].classes)
    assert k400['val'].entries[0].path.startswith('val/')
    ucf = _manifests(synth_root, 'ucf101')
    assert ' ' not in ucf['train_split1'].classes[0]  # UCF-style CamelCase
    assert len(ucf['zeroshot_full'].entries) == cfg.classes * cfg.videos_per_class
    anet = _manifests(synth_root, 'activitynet')
    assert all(e.segment for e in anet['train'].entries)
    database = json.loads((synth_root / 'activitynet' / 'activity_net.v1-3.min.json')
                          .read_text())['database']
    assert {v['subset'] for v in database.values()} == {'training', 'validation', 'testing'}
    charades = _manifests(synth_root, 'charades')
    assert charades['test'].multi_label
    assert max(len(e.label) for e in charades['test'].entries) >= 2
    assert sum(not e.label for e in charades['test'].entries) == 1
    assert charades['train'].source['dropped_entries'] == 1
    classes_txt = (synth_root / 'charades' / 'Charades' /
                   'Charades_v1_classes.txt').read_bytes()
    assert classes_txt.startswith(b'c000 ') and b'\r\n' in classes_txt


def test_activitynet_activity_is_visible_only_in_its_segments(synth_root):
    anet = _manifests(synth_root, 'activitynet')['train']
    entry = anet.entries[0]
    reader = decord.VideoReader(str(synth_root / 'activitynet' / entry.path))
    frames = reader.get_batch(list(range(len(reader)))).asnumpy().astype(int)
    saturation = (frames.max(-1) - frames.min(-1) > 100).sum((1, 2))
    inside = [t for t in range(len(frames))
              if any(s * 8 <= t < e * 8 for s, e in
                     (x.segment for x in anet.entries if x.path == entry.path))]
    outside = sorted(set(range(len(frames))) - set(inside))
    assert saturation[inside].min() > 20
    if outside:
        assert saturation[outside].max() < 5


def test_same_seed_same_output(tmp_path, synth_root, synth_config):
    cfg = synth_config
    write_benchmark(str(tmp_path), cfg, flavours=['kinetics400', 'charades'], smoke=False)
    for flavour in ('kinetics400', 'charades'):
        for path in (synth_root / flavour / 'manifests').glob('*.jsonl'):
            assert (tmp_path / flavour / 'manifests' / path.name).read_bytes() == \
                path.read_bytes()
    first = read_manifest(str(tmp_path / 'kinetics400' / 'manifests' / 'val.jsonl'))
    entry = first.entries[0]
    a = decord.VideoReader(str(tmp_path / 'kinetics400' / entry.path))
    b = decord.VideoReader(str(synth_root / 'kinetics400' / entry.path))
    assert np.array_equal(a.get_batch(list(range(len(a)))).asnumpy(),
                          b.get_batch(list(range(len(b)))).asnumpy())


def test_frame_variant_is_byte_identical_and_seeded(tmp_path):
    cfg = SynthConfig(classes=2, videos_per_class=3, seed=1, num_frames=6, frames=True)
    for name in ('a', 'b'):
        write_benchmark(str(tmp_path / name), cfg, flavours=['ucf101'], smoke=False)
    manifest = read_manifest(str(tmp_path / 'a' / 'ucf101' / 'manifests' / 'val_split1.jsonl'))
    entry = manifest.entries[0]
    assert entry.is_frame_folder and entry.filename_tmpl == 'img_{:05d}.jpg'
    assert entry.path.startswith('frames/') and entry.num_frames == 6
    jpeg = f'ucf101/{entry.path}/img_00001.jpg'
    assert (tmp_path / 'a' / jpeg).read_bytes() == (tmp_path / 'b' / jpeg).read_bytes()
    assert (tmp_path / 'a' / 'ucf101' / 'lists' / 'train_rgb_split_1.txt').exists()
    other = SynthConfig(classes=2, videos_per_class=3, seed=2, num_frames=6, frames=True)
    write_benchmark(str(tmp_path / 'c'), other, flavours=['ucf101'], smoke=False)
    assert read_manifest(str(tmp_path / 'c' / 'ucf101' / 'manifests' / 'val_split1.jsonl')
                         ).content_hash != manifest.content_hash


def test_cli_synth_writes_smoke_split_at_the_documented_paths(tmp_path, capsys):
    assert main(['synth', '--out', str(tmp_path), '--classes', '2',
                 '--videos-per-class', '3', '--flavours', 'hmdb51']) == 0
    assert 'synthetic benchmark written to' in capsys.readouterr().out
    for split in ('train', 'val'):
        smoke = read_manifest(str(tmp_path / 'manifests' / f'smoke_{split}.jsonl'))
        assert smoke.dataset == 'synthetic-smoke' and smoke.num_classes == 8
    assert (tmp_path / 'hmdb51' / 'manifests' / 'zeroshot_full.jsonl').exists()
    assert not (tmp_path / 'ucf101').exists()


def test_config_limits(synth_config):
    cfg = synth_config
    with pytest.raises(ValueError, match='3 videos per class'):
        SynthConfig(videos_per_class=2)
    with pytest.raises(ValueError, match='unknown flavour'):
        write_benchmark('/nonexistent', cfg, flavours=['kinetics700'])
