"""ManifestVideoDataset on manifests of the synthetic benchmark."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope

from bike_bench.datasets import ManifestVideoDataset
from bike_bench.datasets.manifest import (Manifest, ManifestEntry, ManifestError,
                                          read_manifest, write_manifest)
from bike_bench.datasets.synthetic_benchmark import SynthConfig, write_benchmark
from bike_bench.datasets.transforms.sampling import val_indices

PIPELINE = [
    dict(type='VideoInit'),
    dict(type='BIKESampleFrames', num_segments=4, mode='val'),
    dict(type='VideoDecode'),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]


@pytest.fixture(autouse=True, scope='module')
def mmaction_scope():
    init_default_scope('mmaction')


@pytest.fixture(scope='module')
def frames_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('frames')
    write_benchmark(str(root), SynthConfig(classes=2, videos_per_class=3, seed=4,
                                           num_frames=10, frames=True),
                    flavours=['hmdb51'], smoke=False)
    return root


def test_video_entries_through_the_pipeline(synth_root):
    path = synth_root / 'ucf101' / 'manifests' / 'val_split1.jsonl'
    dataset = ManifestVideoDataset(str(path), PIPELINE, test_mode=True)
    manifest = read_manifest(str(path))
    assert dataset.metainfo['classes'] == tuple(manifest.classes)
    assert dataset.metainfo['manifest_hash'] == manifest.content_hash
    sample = dataset[1]
    assert tuple(sample['inputs'].shape) == (1, 3, 4, 72, 96)
    assert sample['data_samples'].gt_label.tolist() == [manifest.entries[1].label]


def test_frame_folder_entries_read_the_listed_frames(frames_root):
    path = frames_root / 'hmdb51' / 'manifests' / 'val_split1.jsonl'
    manifest = read_manifest(str(path))
    entry = manifest.entries[0]
    assert entry.is_frame_folder
    sample = ManifestVideoDataset(str(path), PIPELINE, test_mode=True)[0]
    folder = manifest.entry_location(entry)
    expected = np.stack([
        cv2.cvtColor(cv2.imread(f'{folder}/{entry.filename_tmpl.format(i + 1)}'),
                     cv2.COLOR_BGR2RGB) for i in val_indices(entry.num_frames, 4)])
    got = sample['inputs'][0].permute(1, 2, 3, 0).numpy()
    assert np.array_equal(got, expected)


def test_multi_label_targets_are_one_hot(synth_root):
    path = synth_root / 'charades' / 'manifests' / 'test.jsonl'
    manifest = read_manifest(str(path))
    dataset = ManifestVideoDataset(str(path), PIPELINE, test_mode=True)
    for index, entry in enumerate(manifest.entries):
        target = dataset[index]['data_samples'].gt_label
        expected = torch.zeros(manifest.num_classes)
        expected[entry.label] = 1.0
        assert torch.equal(target, expected)
    assert not manifest.entries[-1].label  # the all-zero target


def _toy(tmp_path, label, classes=('a', 'b')):
    manifest = Manifest('toy', 'val', list(classes), [
        ManifestEntry('x.mp4', 0), ManifestEntry('y.mp4', label)], data_root='.')
    path = tmp_path / 'toy.jsonl'
    write_manifest(manifest, str(path))
    return path


def test_labels_are_checked_at_load_time(tmp_path):
    path = _toy(tmp_path, 2)
    with pytest.raises(ManifestError, match=rf'{path}:3: y.mp4: label 2 out of range for 2'):
        ManifestVideoDataset(str(path), PIPELINE)
    path = _toy(tmp_path, [1])
    with pytest.raises(ManifestError, match='a list of labels in a single-label manifest'):
        ManifestVideoDataset(str(path), PIPELINE)


def test_class_table_mismatch(tmp_path):
    path = _toy(tmp_path, 1)
    table = tmp_path / 'classes.csv'
    table.write_text('id,name\n0,a\n1,c\n')
    with pytest.raises(ValueError, match='first difference at class id 1'):
        ManifestVideoDataset(str(path), PIPELINE, class_table=str(table))
    with pytest.raises(ValueError, match=r'2 vs 3 classes'):
        ManifestVideoDataset(str(path), PIPELINE, class_table=['a', 'b', 'c'])
    assert ManifestVideoDataset(str(path), PIPELINE, class_table=['a', 'b'])
