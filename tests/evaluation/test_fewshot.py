"""Few-shot: seeded K-per-class manifests, train + test per (shots, seed)."""
from __future__ import annotations

import json
import os
from collections import Counter

import numpy as np
import pytest

from bike_bench.cli.main import main as cli
from bike_bench.datasets.manifest import read_manifest
from bike_bench.evaluation.fewshot import (FewShotError, sample_fewshot,
                                           write_fewshot_manifest)
from bike_bench.evaluation.results import validate_results

from .conftest import SMOKE_CONFIG, subset_manifest


def test_k_per_class_seeded_and_repeated(smoke):
    source = read_manifest(smoke['train'])  # 8 classes x 6 videos
    for shots in (1, 2, 5):
        fewshot = sample_fewshot(source, shots, seed=0)
        distinct = {e.path for e in fewshot.entries}
        assert len(distinct) == 8 * shots
        per_class = Counter(source.entries[[e.path for e in source.entries].index(p)].label
                            for p in distinct)
        assert set(per_class.values()) == {shots}
        repeats = 48 // (8 * shots)
        assert len(fewshot.entries) == 8 * shots * repeats
        assert fewshot.source['fewshot']['repeats'] == repeats
    same = [e.path for e in sample_fewshot(source, 2, seed=3).entries]
    assert same == [e.path for e in sample_fewshot(source, 2, seed=3).entries]
    assert same != [e.path for e in sample_fewshot(source, 2, seed=4).entries]
    with pytest.raises(FewShotError, match="class 0 .* has 6 training videos, fewer than 7"):
        sample_fewshot(source, 7, seed=0)


def test_draws_of_one_seed_are_nested(smoke):
    source = read_manifest(smoke['train'])  # 8 classes x 6 videos
    for seed in (0, 1, 7):
        draws = [{e.path for e in sample_fewshot(source, shots, seed=seed).entries}
                 for shots in (1, 2, 5)]
        assert draws[0] < draws[1] < draws[2], seed
        assert {e.path for e in sample_fewshot(source, 5, seed=seed,
                                               fill='per_class').entries} == draws[2]
    assert {e.path for e in sample_fewshot(source, 1, seed=0).entries} != \
        {e.path for e in sample_fewshot(source, 1, seed=1).entries}


def test_written_manifest_is_pinned_and_readable_elsewhere(smoke, tmp_path):
    path = write_fewshot_manifest(smoke['train'], 2, 1, str(tmp_path / 'fs'))
    manifest = read_manifest(path)
    assert manifest.split == 'train_2shot_seed1'
    assert all(os.path.isfile(manifest.entry_location(e)) for e in manifest.entries)
    assert write_fewshot_manifest(smoke['train'], 2, 1, str(tmp_path / 'again')) and \
        read_manifest(str(tmp_path / 'again' / os.path.basename(path))).content_hash \
        == manifest.content_hash


@pytest.mark.slow
def test_fewshot_command_two_shots_two_seeds(smoke, tmp_path):
    # 3 videos per class keeps each training run to 2 iterations.
    train = subset_manifest(smoke['train'], str(tmp_path / 'train24.jsonl'),
                            lambda i, e: i % 6 < 3)
    val = subset_manifest(smoke['val'], str(tmp_path / 'val8.jsonl'), lambda i, e: i % 2 == 0)
    args = ['fewshot', SMOKE_CONFIG, '--shots', '1,2', '--seeds', '0,1',
            '--train-manifest', train, '--val-manifest', val, '--max-epochs', '1',
            '--no-validate', '--work-dir', str(tmp_path / 'work')]
    assert cli(args) == 0
    summary = json.loads((tmp_path / 'work' / 'fewshot_summary.json').read_text())
    assert set(summary['by_shots']) == {'1', '2'}
    for shots, entry in summary['by_shots'].items():
        assert entry['seeds'] == [0, 1]
        runs = [validate_results(path) for path in entry['results']]
        top1 = [run['metrics']['acc/top1'] for run in runs]
        assert entry['mean']['acc/top1'] == pytest.approx(np.mean(top1))
        assert entry['std']['acc/top1'] == pytest.approx(np.std(top1))
        for run in runs:
            assert run['protocol']['shots'] == int(shots)
            assert run['protocol']['train_videos'] == 8 * int(shots)
            assert run['counts'] == dict(expected=8, evaluated=8, skipped=0)
    # Finished runs are not redone.
    stamps = {p: os.path.getmtime(p) for e in summary['by_shots'].values() for p in e['results']}
    assert cli(args) == 0
    assert all(os.path.getmtime(p) == t for p, t in stamps.items())


def test_per_class_fill_gives_every_shot_count_the_training_sets_epoch(smoke):
    from bike_bench.evaluation.fewshot import SeededFewShotSampler
    source = read_manifest(smoke['train'])  # 8 classes x 6 videos
    labels = {e.path: e.label for e in source.entries}
    official = {k: len(sample_fewshot(source, k, seed=0).entries) for k in (1, 2, 5)}
    assert official == {1: 48, 2: 48, 5: 40}  # the official repeat: 5-shot is shorter
    for shots in (1, 2, 5):
        fewshot = sample_fewshot(source, shots, seed=0, fill='per_class')
        # The same K videos a class as the official draw, ...
        assert {e.path for e in fewshot.entries} == \
            {e.path for e in sample_fewshot(source, shots, seed=0).entries}
        # ... each class filled to its 6 training videos.
        assert len(fewshot.entries) == 48
        assert set(Counter(labels[e.path] for e in fewshot.entries).values()) == {6}
        assert fewshot.source['fewshot']['fill'] == 'per_class'
    with pytest.raises(FewShotError, match="fill must be one of"):
        sample_fewshot(source, 1, seed=0, fill='cycle')
    with pytest.raises(FewShotError, match="fewshot_sampler.fill must be one of"):
        SeededFewShotSampler(fill='cycle')
    assert SeededFewShotSampler().fill == 'repeat'
