"""Group 2 (cont.): segment arithmetic, from the annotation to the sampler.

An instance ``[0.01, 0.02]`` (real in ActivityNet v1.3) and one ``[300,
310]`` on a video whose JSON duration is 4 s used to pass build and check
and then stop training mid-epoch (``segment [0.01, 0.02] at 8.0 fps has no
frames``). Now: dropped at build time with the reason in
``train.dropped.csv`` (ActivityNet and Charades alike), reported by
``manifests check`` (``--probe-decode`` adds what only the decoded length
and rate tell), and skipped-and-counted in training like an unreadable video.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from mmengine.runner import Runner

from bike_bench.cli.main import main as cli
from bike_bench.datasets.build import build_dataset
from bike_bench.datasets.check import check_manifest
from bike_bench.datasets.manifest import ManifestEntry, read_manifest
from bike_bench.evaluation.skipping import SKIPPED_FILE, prepare_train_skipping

from .conftest import NO_REPLACEMENT, SeenVideosHook, smoke_cfg, write_entries_manifest

GROUP = 'bad annotations'


def _dropped(out: Path, name: str = 'train') -> list:
    with open(out / 'manifests' / f'{name}.dropped.csv', newline='') as handle:
        return [row['reason'] for row in csv.DictReader(handle)]


def test_activitynet_segments_without_frames_are_dropped_at_build(tmp_path, faults):
    faults.tried(GROUP, 'ActivityNet segment empty, reversed, shorter than a frame, '
                 'or after the annotated duration')
    database = {'v4s': {'subset': 'training', 'duration': 4.0, 'annotations': [
        {'segment': [0.01, 0.02], 'label': 'Zumba'},
        {'segment': [300, 310], 'label': 'Zumba'},
        {'segment': [2.0, 2.0], 'label': 'Zumba'},
        {'segment': [3.0, 1.0], 'label': 'Zumba'},
        {'segment': [1.0, 9.0], 'label': 'Zumba'}]},  # ends late: clipped, kept
        'val1': {'subset': 'validation', 'duration': 4.0, 'annotations': [
            {'segment': [0.0, 4.0], 'label': 'Zumba'}]}}
    (tmp_path / 'activity_net.v1-3.min.json').write_text(json.dumps(
        {'version': 'VERSION 1.3', 'database': database}))
    out = tmp_path / 'anet'
    build_dataset('activitynet', source=str(tmp_path), out=str(out))
    train = read_manifest(str(out / 'manifests' / 'train.jsonl'))
    assert [e.segment for e in train.entries] == [[1.0, 9.0]]
    reasons = _dropped(out)
    assert reasons == [
        'v4s annotation 0: segment [0.01, 0.02] is shorter than one frame at 60 fps (0.01 s)',
        'v4s annotation 1: segment [300, 310] starts after the annotated duration 4 s',
        'v4s annotation 2: segment [2, 2] is empty (end == start)',
        'v4s annotation 3: segment [3, 1] is reversed (end < start)']
    assert train.source['expected_entries'] == 5


def test_charades_segments_without_frames_are_dropped_at_build(tmp_path, faults):
    faults.tried(GROUP, 'Charades action empty or after the video length')
    (tmp_path / 'Charades_v1_classes.txt').write_text('c000 Holding\nc001 Sitting\n')
    (tmp_path / 'Charades_v1_train.csv').write_text(
        'id,length,actions\n'
        'AAA01,10.0,c000 1.00 2.00;c001 4.00 4.00;c001 12.00 15.00;c000 6.00 5.00\n')
    out = tmp_path / 'charades'
    build_dataset('charades', source=str(tmp_path), out=str(out), only=['train'])
    train = read_manifest(str(out / 'manifests' / 'train.jsonl'))
    assert [e.segment for e in train.entries] == [[1.0, 2.0]]
    assert _dropped(out) == ['segment [4, 4] is empty (end == start)',
                             'segment [12, 15] starts after the annotated duration 10 s',
                             'segment [6, 5] is reversed (end < start)']


@pytest.fixture()
def segment_manifest(clean_videos, tmp_path):
    """Four readable 2 s videos (16 frames at 8 fps) and three segments on
    them that hold no frame: too short for any rate, after the video, and
    shorter than a frame at 8 fps (only the decoded rate tells)."""
    videos = clean_videos['videos']
    good = [ManifestEntry(path=p, label=label, id=id_, segment=[0.5, 1.5])
            for p, label, id_ in videos[:4]]
    bad = [ManifestEntry(path=videos[4][0], label=videos[4][1], id='tiny',
                         segment=[0.01, 0.02]),
           ManifestEntry(path=videos[5][0], label=videos[5][1], id='late',
                         segment=[300.0, 310.0]),
           ManifestEntry(path=videos[6][0], label=videos[6][1], id='subframe',
                         segment=[0.01, 0.1])]
    manifest = write_entries_manifest(tmp_path / 'segments.jsonl', clean_videos['classes'],
                                      good[:2] + bad + good[2:])
    return manifest, good, bad


def test_check_reports_every_segment_without_frames(segment_manifest, capsys, faults):
    faults.tried(GROUP, 'segment beyond the decoded length or with no frame at the '
                 'decoded rate (manifests check)')
    manifest, _, bad = segment_manifest
    plain = check_manifest(manifest)
    assert [i.line for i in plain.issues if i.kind == 'segment'] == [4]
    probed = check_manifest(manifest, probe_decode=True)
    issues = [i for i in probed.issues if i.kind == 'segment']
    assert [i.line for i in issues] == [4, 5, 6]
    assert 'shorter than one frame' in issues[0].message
    assert 'at 8.0 fps has no frames inside the video\'s 16' in issues[1].message
    assert 'at 8.0 fps has no frames' in issues[2].message
    assert probed.summary()['bad segment'] == 3
    assert cli(['manifests', 'check', manifest, '--probe-decode']) != 0
    assert 'bad segment' in capsys.readouterr().out


def test_training_skips_and_counts_segments_without_frames(segment_manifest, tmp_path,
                                                          faults):
    faults.tried(GROUP, 'segment without frames reaching training')
    faults.checked(NO_REPLACEMENT)
    manifest, good, bad = segment_manifest
    work = tmp_path / 'work'
    cfg = smoke_cfg(work, manifest, **{'train_cfg.max_epochs': 1,
                                       'train_dataloader.batch_size': 4,
                                       'train_dataloader.sampler.shuffle': False})
    assert prepare_train_skipping(cfg, skip=True)
    cfg.custom_hooks = list(cfg.custom_hooks) + [dict(type='SeenVideosHook', key='seg')]
    Runner.from_cfg(cfg).train()
    assert sorted(v for _, _, v in SeenVideosHook.seen['seg']) == sorted(e.id for e in good)
    record = json.loads((work / SKIPPED_FILE).read_text())
    assert record['count'] == 3
    reasons = sorted(r['reason'] for r in record['skipped'])
    assert all('fps has no frames' in r for r in reasons), reasons
