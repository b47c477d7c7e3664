"""Zero-shot: official half-class splits, subset scoring, end-to-end runs."""
from __future__ import annotations


import numpy as np
import pytest
import torch

from mmaction.registry import MODELS

from bike_bench.cli.main import main as cli
from bike_bench.evaluation.results import validate_results
from bike_bench.evaluation.zeroshot import (frame_scores, half_class_splits,
                                            head_scores, run_zeroshot,
                                            split_selection)

from .conftest import SMOKE_CONFIG, smoke_config


@pytest.mark.parametrize('num_classes', [101, 51, 200])
def test_half_class_splits_match_the_fixture(protocol_indices, num_classes):
    expected = protocol_indices['zero_shot_half_class_splits'][str(num_classes)]
    splits = half_class_splits(num_classes)
    assert [s.tolist() for s in splits] == expected
    assert len(splits) == 10 and all(len(s) == num_classes // 2 for s in splits)


def test_split_selection_is_the_official_relabelling():
    rng = np.random.default_rng(0)
    labels = rng.integers(20, size=200)
    labels[labels == 3] = 4  # a selected class may have no video
    for selected in half_class_splits(20):
        mask, subset, new_labels = split_selection(labels, selected)
        assert mask.tolist() == [l in selected for l in labels]
        assert subset.tolist() == np.unique(labels[mask]).tolist()
        official = [int(np.where(l == subset)[0][0]) for l in labels[mask]]
        assert new_labels.tolist() == official


CLASSES = ['red circle moving left', 'blue square growing', 'green triangle moving up',
           'white circle shrinking', 'orange square moving down', 'cyan triangle growing']


@pytest.mark.parametrize('interaction', ['VCS', 'DP'])
@torch.no_grad()
def test_subset_columns_equal_the_head_run_on_the_subset(tiny_clip_config, interaction):
    model = MODELS.build(dict(type='BIKERecognizer',
                              backbone=dict(type='CLIPEncoder', arch=tiny_clip_config),
                              video_head=dict(header='Transf', interaction=interaction),
                              class_names=CLASSES)).eval()
    inputs = torch.randn(3, 2, 3, 8, 64, 64)
    logits = model.view_logits(inputs).numpy()
    subset = np.array([1, 3, 4])
    model.set_class_names([CLASSES[i] for i in subset])
    direct = model.view_logits(inputs)
    assert np.abs(logits[..., subset] - direct.numpy()).max() < 1e-5
    from bike_bench.models import aggregate_views
    assert np.abs(head_scores(logits, subset)
                  - aggregate_views(direct, 'official').numpy()).max() < 1e-5


def test_frame_scores_are_the_official_formula():
    rng = np.random.default_rng(1)
    frames = rng.standard_normal((4, 8, 16)).astype(np.float32)
    text = rng.standard_normal((5, 16)).astype(np.float32)
    unit = text / np.linalg.norm(text, axis=1, keepdims=True)
    columns = np.array([0, 2, 3])
    logits = 100.0 * frames @ unit[columns].T
    expected = np.exp(logits - logits.max(-1, keepdims=True))
    expected = (expected / expected.sum(-1, keepdims=True)).mean(1)
    assert np.abs(frame_scores(frames, text, columns) - expected).max() < 1e-5


@pytest.mark.slow
def test_full_and_half_class_zero_shot_from_the_dataset_layout(trained, zeroshot_root, tmp_path):
    out = tmp_path / 'half.json'
    assert cli(['zeroshot', SMOKE_CONFIG, trained['checkpoint'], '--dataset', 'ucf101',
                '--data-root', zeroshot_root, '--protocol', 'half', '--out', str(out),
                '--work-dir', str(tmp_path / 'work')]) == 0
    data = validate_results(str(out))
    protocol = data['protocol']
    assert protocol['name'] == 'zeroshot-half' and protocol['scoring'] == 'head'
    # One text encode of the 12 classes serves the full set and all 10 splits.
    assert protocol['text_encoder_calls'] == [1]
    splits = protocol['splits']
    assert [s['seed'] for s in splits] == list(range(10))
    assert all(s['classes'] == sorted(half_class_splits(12)[s['seed']].tolist())
               for s in splits)
    assert all(s['videos'] == 2 * len(s['classes']) for s in splits)
    top1 = [s['top1'] for s in splits]
    assert data['metrics']['half/top1_mean'] == pytest.approx(np.mean(top1))
    assert data['metrics']['half/top1_std'] == pytest.approx(np.std(top1))
    assert {'full/top1', 'full/top5', 'half/top5_mean', 'half/top5_std'} <= set(data['metrics'])
    assert data['counts'] == dict(expected=24, evaluated=24, skipped=0)
    assert data['dataset']['name'] == 'ucf101' and data['dataset']['num_classes'] == 12


@pytest.mark.slow
def test_official_frame_scoring_and_full_protocol(trained, zeroshot_root, tmp_path):
    cfg = smoke_config(tmp_path, trained['train'], trained['val'])
    manifest = f'{zeroshot_root}/ucf101/manifests/zeroshot_full.jsonl'
    frame = run_zeroshot(cfg, trained['checkpoint'], [manifest], protocol='half',
                         scoring='official-frame')
    assert frame['protocol']['text_encoder_calls'] == [1]
    assert frame['aggregation'] == 'frame-softmax-mean'
    full = run_zeroshot(cfg, trained['checkpoint'], [manifest], protocol='full')
    assert set(full['metrics']) == {'full/top1', 'full/top5', 'full/mean_class_accuracy'}
    assert full['path'] != frame['path']
    assert len(full['per_class']['full']) == 12


@pytest.mark.slow
def test_k600_three_splits(trained, zeroshot_root, tmp_path):
    out = tmp_path / 'k600.json'
    assert cli(['zeroshot', SMOKE_CONFIG, trained['checkpoint'], '--protocol', 'k600',
                '--data-root', zeroshot_root, '--out', str(out),
                '--work-dir', str(tmp_path / 'work')]) == 0
    data = validate_results(str(out))
    splits = data['protocol']['splits']
    assert [(s['split'], s['classes'], s['videos']) for s in splits] == \
        [(1, 4, 8), (2, 4, 8), (3, 4, 8)]
    # The three splits run as one pass: one text encode of their 12 classes.
    assert data['protocol']['text_encoder_calls'] == [1]
    assert data['metrics']['k600/top1_mean'] == pytest.approx(np.mean([s['top1'] for s in splits]))
    assert data['metrics']['k600/top1_std'] == pytest.approx(np.std([s['top1'] for s in splits]))
    assert data['counts']['expected'] == 24 and len(data['dataset']['manifest']) == 3


@pytest.mark.slow
def test_zero_shot_skips_an_unreadable_video_only_when_asked(trained, zeroshot_root, tmp_path):
    from bike_bench.datasets.manifest import read_manifest, write_manifest
    from bike_bench.datasets.transforms.decoding import VideoReadError
    manifest = read_manifest(f'{zeroshot_root}/ucf101/manifests/zeroshot_full.jsonl')
    manifest.data_root = manifest.resolve_root()
    manifest.entries[5].path = 'missing/video.mp4'
    path = str(tmp_path / 'with_missing.jsonl')
    write_manifest(manifest, path)
    cfg = smoke_config(tmp_path, trained['train'], trained['val'])
    with pytest.raises(VideoReadError, match='missing/video.mp4'):
        run_zeroshot(cfg, trained['checkpoint'], [path], protocol='half')
    data = run_zeroshot(cfg, trained['checkpoint'], [path], protocol='half',
                        skip_bad_videos=True)
    assert data['counts'] == dict(expected=24, evaluated=23, skipped=1)
    assert data['skipped'][0]['index'] == 5
    assert data['skipped'][0]['path'].endswith('missing/video.mp4')
    assert sum(s['videos'] for s in data['protocol']['splits']) < 24 * 10
