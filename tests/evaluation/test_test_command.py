"""`bike-bench test`: views, aggregation, results files, unreadable videos."""
from __future__ import annotations

import json
import os

import pytest

from bike_bench.cli.main import main as cli
from bike_bench.datasets.transforms.decoding import VideoReadError
from bike_bench.evaluation.harness import run_test
from bike_bench.evaluation.results import validate_results

from .conftest import SMOKE_CONFIG, smoke_config, subset_manifest

pytestmark = pytest.mark.slow


def test_views_4x3_end_to_end_writes_a_complete_results_file(trained, tmp_path):
    out = tmp_path / 'r.json'
    code = cli(['test', SMOKE_CONFIG, trained['checkpoint'], '--views', '4x3',
                '--out', str(out), '--work-dir', str(tmp_path / 'work'),
                '--cfg-options', f'test_dataloader.dataset.ann_file={trained["val12"]}'])
    assert code == 0
    data = validate_results(str(out))
    assert data['views'] == dict(clips=4, crops=3, label='4x3', views_per_video=12)
    assert data['aggregation'] == 'official'
    assert data['counts'] == dict(expected=12, evaluated=12, skipped=0)
    assert data['skipped'] == []
    assert set(data['metrics']) == {'acc/top1', 'acc/top5', 'acc/mean_class_accuracy'}
    assert len(data['per_class']['BIKEAccMetric']) == 8
    confusion = data['confusion']['BIKEAccMetric']  # for `bike-bench report`
    assert len(confusion['classes']) == 8
    assert sum(map(sum, confusion['matrix'])) == 12
    assert data['dataset']['num_videos'] == 12 and len(data['dataset']['manifest_hash']) == 64
    assert len(data['checkpoint']['sha256']) == 64
    pipeline = data['config']['resolved']['test_dataloader']['dataset']['pipeline']
    assert {'type': 'OfficialThreeCrop', 'crop_size': 64} in pipeline
    sampler = next(step for step in pipeline if step['type'] == 'BIKESampleFrames')
    assert sampler['mode'] == 'test' and sampler['num_clips'] == 4
    for key in ('git_commit', 'packages', 'device'):
        assert data['environment'][key]
    assert data['wall_time_s'] > 0
    # The CPU computes the official fp32 path; the file says so.
    assert data['fast_path']['official_fp32'] is True
    assert data['fast_path']['setting'] == 'auto'


def test_mean_aggregation_is_recorded_and_ranks_like_official(trained, tmp_path):
    cfg = smoke_config(tmp_path, trained['train'], trained['val12'])
    official = run_test(cfg, trained['checkpoint'], views='2x1')
    mean = run_test(cfg, trained['checkpoint'], views='2x1', aggregation='mean')
    assert (official['aggregation'], mean['aggregation']) == ('official', 'mean')
    assert official['path'] != mean['path']
    # A final softmax changes the scores, not their order.
    assert official['metrics'] == mean['metrics']


@pytest.fixture()
def corrupt_manifest(trained, tmp_path):
    bad = tmp_path / 'corrupt.mp4'
    bad.write_bytes(os.urandom(2048))
    path = subset_manifest(trained['val'], str(tmp_path / 'with_corrupt.jsonl'),
                           lambda i, e: i < 3)
    lines = open(path).read().splitlines()
    header = json.loads(lines[0])
    header.pop('content_hash')
    entry = json.loads(lines[1])
    entry['path'] = str(bad)
    lines = [json.dumps(header)] + lines[1:2] + [json.dumps(entry)] + lines[2:]
    open(path, 'w').write('\n'.join(lines) + '\n')
    return path, str(bad)


def test_corrupt_video_stops_the_run_naming_it(trained, corrupt_manifest, tmp_path):
    manifest, bad = corrupt_manifest
    cfg = smoke_config(tmp_path, trained['train'], manifest)
    with pytest.raises(VideoReadError, match='corrupt.mp4'):
        run_test(cfg, trained['checkpoint'])


def test_skip_option_records_the_corrupt_video(trained, corrupt_manifest, tmp_path):
    manifest, bad = corrupt_manifest
    # Batch size 1: the corrupt video's batch is empty and must not reach the model.
    cfg = smoke_config(tmp_path, trained['train'], manifest,
                       **{'test_dataloader.batch_size': 1})
    data = run_test(cfg, trained['checkpoint'], skip_bad_videos=True)
    assert data['counts'] == dict(expected=4, evaluated=3, skipped=1)
    assert [(s['index'], s['path']) for s in data['skipped']] == [(1, bad)]
    assert 'cannot be decoded' in data['skipped'][0]['reason']
    validate_results(data['path'])


def test_views_must_be_1_or_3_crops(trained, tmp_path):
    cfg = smoke_config(tmp_path, trained['train'], trained['val12'])
    with pytest.raises(ValueError, match='2 spatial crops are not supported'):
        run_test(cfg, trained['checkpoint'], views='4x2')
