"""Group 1: bad videos, made for real; skipped and recorded, never replaced.

Unreadable media raise ``VideoReadError`` naming the file, or with
``on_error='skip'`` come back as a skip record; in training they are left
out of their batch and listed in ``skipped_samples.json``; in evaluation
they stop the run unless ``--skip-bad-videos``, which lists them in the
results file. Unusual but valid media (too few frames, grayscale,
4-channel) decode to 3-channel clips.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from mmaction.registry import TRANSFORMS

from bike_bench.cli.main import main as cli
from bike_bench.datasets import ManifestVideoDataset
from bike_bench.datasets.manifest import ManifestEntry
from bike_bench.datasets.transforms.decoding import VideoReadError
from bike_bench.evaluation.harness import run_test
from bike_bench.evaluation.results import validate_results
from bike_bench.evaluation.skipping import SKIPPED_FILE, prepare_train_skipping

from . import faults as F
from .conftest import (NO_PARTIAL, NO_REPLACEMENT, SMOKE_CONFIG, SeenVideosHook,
                       smoke_cfg, write_entries_manifest)

GROUP = 'bad videos'
CFG = Config.fromfile(SMOKE_CONFIG)
PIPELINES = {'train': CFG.train_pipeline, 'val': CFG.val_pipeline,
             'test': CFG.test_pipeline}


@pytest.fixture(autouse=True, scope='module')
def mmaction_scope():
    init_default_scope('mmaction')


def make_unreadable(path: str, monkeypatch) -> str:
    """``chmod 000``; as root (permissions not enforced) ``os.access`` is
    made to deny the file instead, which is the check ``open_video`` uses."""
    if os.geteuid() == 0:
        real = os.access
        monkeypatch.setattr(os, 'access', lambda p, mode, *a, **k:
                            False if os.fspath(p) == path else real(p, mode, *a, **k))
    else:
        os.chmod(path, 0)
    return path


def video_entry(path: str, label: int = 0, id_: str = None) -> ManifestEntry:
    return ManifestEntry(path=path, label=label, split='train',
                         id=id_ or Path(path).stem)


def folder_entry(path: str, label: int = 0, tmpl: str = 'img_{:05d}.jpg',
                 frames: int = 16) -> ManifestEntry:
    return ManifestEntry(path=path, label=label, split='train', num_frames=frames,
                         filename_tmpl=tmpl, start_index=1, id=Path(path).name)


# kind -> (make the entry, the reason VideoReadError gives)
BROKEN = {
    'truncated mp4 (first half of its bytes)': (
        lambda tmp, good, mp: video_entry(F.truncated_mp4(good, tmp / 'trunc.mp4')),
        'cannot be decoded'),
    'truncated webm (header 10 s / 250 frames, about half decodable)': (
        lambda tmp, good, mp: video_entry(F.truncated_webm(tmp / 'cut.webm')),
        r'truncated: 1[0-9]{2} decodable frames of the 250 its header declares '
        r'\(10\.00 s x 25 fps\)'),
    'zero-byte file': (
        lambda tmp, good, mp: video_entry(F.zero_byte(tmp / 'empty.mp4')),
        r'empty file \(0 bytes\)'),
    'non-video file named .mp4': (
        lambda tmp, good, mp: video_entry(F.text_as_mp4(tmp / 'page.mp4')),
        'cannot be decoded'),
    'video that opens but whose frames do not decode (png-coded AVI)': (
        lambda tmp, good, mp: video_entry(F.png_coded_avi(tmp / 'png.avi')),
        'decoding failed'),
    'frame folder with a frame missing in the middle': (
        lambda tmp, good, mp: folder_entry(F.frame_folder_missing(tmp / 'frames')),
        r'1 of the 16 listed frames are missing \(first: img_00005.jpg\)'),
    'truncated frame folder (last 4 frames gone)': (
        lambda tmp, good, mp: folder_entry(F.frame_folder_truncated(tmp / 'frames')),
        r'4 of the 16 listed frames are missing \(first: img_00013.jpg\)'),
    'video file that is gone': (
        lambda tmp, good, mp: video_entry(str(tmp / 'gone.mp4')),
        'file not found'),
    'unreadable file (permissions)': (
        lambda tmp, good, mp: video_entry(make_unreadable(
            F.copy_video(good, tmp / 'locked.mp4'), mp)),
        r'not readable \(permissions\)'),
}


def dataset(manifest: str, mode: str, on_error: str = 'raise') -> ManifestVideoDataset:
    # serialize_data=False: MMEngine's serialisation runs gc.collect(), slow here.
    return ManifestVideoDataset(manifest, PIPELINES[mode], on_error=on_error,
                                test_mode=mode != 'train', serialize_data=False)


@pytest.mark.parametrize('kind', list(BROKEN))
def test_unreadable_media_raise_or_are_skipped_never_replaced(
        kind, clean_videos, tmp_path, monkeypatch, faults):
    faults.tried(GROUP, kind)
    faults.checked(NO_REPLACEMENT)
    make, reason = BROKEN[kind]
    entry = make(tmp_path, clean_videos['videos'][0][0], monkeypatch)
    good = video_entry(clean_videos['videos'][1][0], 1)
    manifest = write_entries_manifest(tmp_path / 'm.jsonl', clean_videos['classes'],
                                      [good, entry])
    for mode in ('train', 'val', 'test'):
        with pytest.raises(VideoReadError, match=reason) as error:
            dataset(manifest, mode)[1]
        assert error.value.path == entry.path  # names the file, not the dataset
        skipping = dataset(manifest, mode, 'skip')
        record = skipping[1]
        assert set(record) == {'skipped'}, 'a bad sample must not become another one'
        assert record['skipped']['index'] == 1 and record['skipped']['path'] == entry.path
        assert re.search(reason, record['skipped']['reason'])
        assert '/github/workspace' not in record['skipped']['reason']  # decord noise cut
        assert skipping[0]['data_samples'].metainfo['video_id'] == good.id


# kind -> (make the entry, whether every channel must be equal)
UNUSUAL = {
    'video shorter than the segments (3 frames, 8 segments)': (
        lambda tmp: video_entry(F.short_mp4(tmp / 'short.mp4', 3)), False),
    'grayscale video (FFV1, gray pixels)': (
        lambda tmp: video_entry(F.gray_video(tmp / 'gray.avi')), True),
    '4-channel video (32-bit BGRA AVI)': (
        lambda tmp: video_entry(F.rgba_avi(tmp / 'rgba.avi')), False),
    'grayscale frame folder (1-channel JPEG)': (
        lambda tmp: folder_entry(F.gray_frame_folder(tmp / 'grayf')), True),
    '4-channel frame folder (RGBA PNG)': (
        lambda tmp: folder_entry(F.rgba_frame_folder(tmp / 'rgbaf'),
                                 tmpl='img_{:05d}.png'), False),
    'frame folder shorter than the segments (3 frames)': (
        lambda tmp: folder_entry(F.frame_folder(tmp / 'shortf', 3), frames=3), False),
}


@pytest.mark.parametrize('kind', list(UNUSUAL))
def test_unusual_but_valid_media_decode_to_three_channels(kind, clean_videos, tmp_path,
                                                          faults):
    faults.tried(GROUP, kind)
    make, gray = UNUSUAL[kind]
    entry = make(tmp_path)
    manifest = write_entries_manifest(tmp_path / 'm.jsonl', clean_videos['classes'], [entry])
    for mode, clips in (('train', 1), ('val', 1), ('test', 1)):
        sample = dataset(manifest, mode)[0]
        inputs = sample['inputs']
        assert tuple(inputs.shape) == (clips, 3, 8, 64, 64), mode
        if gray:
            assert torch.equal(inputs[:, 0], inputs[:, 1]) and torch.equal(inputs[:, 1], inputs[:, 2])
    # The decoded pixels are the written ones (alpha dropped, gray repeated).
    results = TRANSFORMS.build(dict(type='VideoInit'))(
        dict(filename=entry.path) if not entry.is_frame_folder else
        dict(frame_dir=entry.path, total_frames=entry.num_frames, start_index=1,
             filename_tmpl=entry.filename_tmpl))
    total = results['total_frames']
    results = TRANSFORMS.build(dict(type='BIKESampleFrames', num_segments=8, mode='val'))(
        dict(results, start_index=1 if entry.is_frame_folder else 0))
    inds = results['frame_inds']
    assert len(inds) == 8 and inds.min() >= (1 if entry.is_frame_folder else 0)
    assert inds.max() < total + (1 if entry.is_frame_folder else 0)
    imgs = TRANSFORMS.build(dict(type='VideoDecode'))(results)['imgs']
    assert imgs.shape == (8, 72, 96, 3) and imgs.dtype == np.uint8
    if 'RGBA' in kind or 'BGRA' in kind:  # lossless: exactly the RGB written
        first = 1 if entry.is_frame_folder else 0
        assert np.array_equal(imgs, F.frames()[inds - first])


@TRANSFORMS.register_module(force=True)
class DropVideo(object):
    """A filtering transform: returns None for one file (test only)."""

    def __init__(self, name: str):
        self.name = name

    def __call__(self, results):
        return None if results.get('filename', '').endswith(self.name) else results


def test_a_pipeline_that_drops_a_sample_is_an_error_not_a_random_redraw(
        clean_videos, tmp_path, faults):
    """MMEngine's ``BaseDataset`` would train on a random other video here."""
    faults.tried(GROUP, 'pipeline transform that drops a training sample')
    faults.checked(NO_REPLACEMENT)
    videos = clean_videos['videos'][:4]
    manifest = write_entries_manifest(tmp_path / 'm.jsonl', clean_videos['classes'],
                                      [video_entry(p, label) for p, label, _ in videos])
    dropped = Path(videos[2][0]).name
    pipeline = [dict(type='DropVideo', name=dropped)] + list(PIPELINES['train'])
    data = ManifestVideoDataset(manifest, pipeline, test_mode=False, serialize_data=False)
    assert data[1]['data_samples'].metainfo['video_id'] == videos[1][2]
    with pytest.raises(RuntimeError, match=f'{dropped}: a transform of the pipeline '
                       'returned None'):
        data[2]


@pytest.fixture()
def training_manifest(clean_videos, tmp_path, monkeypatch):
    """Seven readable videos and five unreadable ones; in order, batches of 4
    are [good, bad, good, good], [bad x 4], [good x 4]."""
    good = [video_entry(p, label, id_) for p, label, id_ in clean_videos['videos'][:7]]
    source = clean_videos['videos'][0][0]
    bad = [video_entry(F.truncated_mp4(source, tmp_path / 'trunc.mp4')),
           video_entry(F.zero_byte(tmp_path / 'empty.mp4')),
           video_entry(F.text_as_mp4(tmp_path / 'page.mp4')),
           folder_entry(F.frame_folder_missing(tmp_path / 'frames')),
           video_entry(make_unreadable(F.copy_video(source, tmp_path / 'locked.mp4'),
                                       monkeypatch))]
    entries = [good[0], bad[0], good[1], good[2], *bad[1:], *good[3:]]
    path = write_entries_manifest(tmp_path / 'train.jsonl', clean_videos['classes'], entries)
    return path, good, bad


def test_training_skips_counts_and_warns_and_survives_an_all_bad_batch(
        training_manifest, tmp_path, faults):
    faults.tried(GROUP, 'training batch where every video is unreadable')
    faults.checked(NO_REPLACEMENT)
    manifest, good, bad = training_manifest
    work = tmp_path / 'work'
    cfg = smoke_cfg(work, manifest, **{'train_cfg.max_epochs': 2,
                                       'train_dataloader.batch_size': 4,
                                       'train_dataloader.sampler.shuffle': False})
    assert prepare_train_skipping(cfg, skip=True)
    cfg.custom_hooks = list(cfg.custom_hooks) + [dict(type='SeenVideosHook', key='train')]
    Runner.from_cfg(cfg).train()

    seen = SeenVideosHook.seen['train']
    for epoch in (1, 2):
        # Exactly the readable videos, each once: nothing replaced, nothing lost.
        assert sorted(v for _, e, v in seen if e == epoch) == sorted(e.id for e in good)
    record = json.loads((work / SKIPPED_FILE).read_text())
    assert record['count'] == 10 and record['unique_videos'] == 5
    assert sorted({r['path'] for r in record['skipped']}) == sorted(e.path for e in bad)
    assert all(r['reason'] for r in record['skipped'])
    assert record['empty_iterations'] == [dict(epoch=1, iter=2), dict(epoch=2, iter=5)]
    log = next(work.glob('*/*.log')).read_text()
    assert log.count('skipped unreadable training video') == 10
    assert 'every video of the batch was unreadable; no update' in log
    state = torch.load(work / 'epoch_2.pth', weights_only=True)['state_dict']
    assert all(torch.isfinite(v).all() for v in state.values() if v.is_floating_point())


def test_training_with_fail_on_bad_videos_stops_naming_the_file(
        training_manifest, tmp_path, capsys):
    manifest, _, bad = training_manifest
    with pytest.raises(SystemExit) as stop:
        cli(['train', SMOKE_CONFIG, '--work-dir', str(tmp_path / 'work'),
             '--fail-on-bad-videos', '--no-validate', '--cfg-options',
             f'train_dataloader.dataset.ann_file={manifest}',
             'train_dataloader.batch_size=4', 'train_dataloader.sampler.shuffle=False'])
    message = str(stop.value)
    assert message.startswith('training stopped at an unreadable video: '
                              f'{bad[0].path}: cannot be decoded')
    assert '--fail-on-bad-videos' in message


def test_evaluation_stops_naming_the_file_or_records_the_skip(
        clean_videos, random_checkpoint, tmp_path, faults):
    faults.tried(GROUP, 'unreadable videos in an evaluation set')
    faults.checked(NO_REPLACEMENT)
    faults.checked(NO_PARTIAL)
    videos = clean_videos['videos']
    source = videos[0][0]
    bad = [video_entry(F.truncated_mp4(source, tmp_path / 'trunc.mp4')),
           folder_entry(F.frame_folder_missing(tmp_path / 'frames'))]
    good = [video_entry(p, label, id_) for p, label, id_ in videos[4:7]]
    manifest = write_entries_manifest(tmp_path / 'val.jsonl', clean_videos['classes'],
                                      [good[0], bad[0], good[1], bad[1], good[2]],
                                      split='val')
    cfg = smoke_cfg(tmp_path / 'work', manifest, **{'test_dataloader.batch_size': 2})
    with pytest.raises(VideoReadError, match='trunc.mp4: cannot be decoded'):
        run_test(cfg, random_checkpoint)
    assert not list((tmp_path / 'work').rglob('results/*.json'))  # nothing half-done

    cfg.custom_hooks = list(cfg.custom_hooks) + [dict(type='SeenVideosHook', key='test')]
    out = tmp_path / 'results.json'
    run_test(cfg, random_checkpoint, skip_bad_videos=True, out=str(out))
    data = validate_results(str(out))
    assert data['counts'] == dict(expected=5, evaluated=3, skipped=2)
    assert [(s['index'], s['path']) for s in data['skipped']] == [(1, bad[0].path),
                                                                 (3, bad[1].path)]
    assert 'missing (first: img_00005.jpg)' in data['skipped'][1]['reason']
    assert sorted(v for _, _, v in SeenVideosHook.seen['test']) == sorted(e.id for e in good)


def test_truncated_webm_is_refused_or_skipped_in_evaluation(
        clean_videos, random_checkpoint, tmp_path, faults):
    """A webm cut in half keeps its header's 10 s: evaluation refuses it (or
    skips it with --skip-bad-videos) instead of sampling the first half."""
    faults.tried(GROUP, 'truncated webm in an evaluation set')
    faults.checked(NO_REPLACEMENT)
    faults.checked(NO_PARTIAL)
    videos = clean_videos['videos']
    bad = video_entry(F.truncated_webm(tmp_path / 'cut.webm'))
    good = [video_entry(p, label, id_) for p, label, id_ in videos[4:6]]
    manifest = write_entries_manifest(tmp_path / 'val.jsonl', clean_videos['classes'],
                                      [good[0], bad, good[1]], split='val')
    cfg = smoke_cfg(tmp_path / 'work', manifest, **{'test_dataloader.batch_size': 2})
    with pytest.raises(VideoReadError, match=r'cut.webm: truncated: 1[0-9]{2} decodable'):
        run_test(cfg, random_checkpoint)
    assert not list((tmp_path / 'work').rglob('results/*.json'))
    out = tmp_path / 'results.json'
    run_test(cfg, random_checkpoint, skip_bad_videos=True, out=str(out))
    data = validate_results(str(out))
    assert data['counts'] == dict(expected=3, evaluated=2, skipped=1)
    assert data['skipped'][0]['path'] == bad.path
    assert re.search(r'truncated: 1[0-9]{2} decodable frames of the 250',
                     data['skipped'][0]['reason'])
    from bike_bench.datasets.transforms.video_backends import (DEFAULT_BACKEND,
                                                               library_info)
    # The results file names the decoder and its version.
    assert data['config']['video_decoders'] == {DEFAULT_BACKEND:
                                                library_info(DEFAULT_BACKEND)}


def _two_rank_worker(rank: int, rendezvous: str, out: str) -> None:
    import torch.distributed as dist
    torch.set_num_threads(1)  # no OpenMP pool in a forked rank
    dist.init_process_group('gloo', init_method=f'file://{rendezvous}', rank=rank,
                            world_size=2)
    try:
        from bike_bench.evaluation.skipping import _all_ranks_have_samples
        from bike_bench.models.distributed import all_gather_with_grad
        # Rank 1 lost a video of its batch: 3 rows here, 2 there.
        rows = 3 if rank == 0 else 2
        x = torch.arange(rows * 2, dtype=torch.float32).reshape(rows, 2).add(10 * rank)
        x.requires_grad_(True)
        gathered = all_gather_with_grad(x)
        weights = torch.arange(gathered.numel(), dtype=torch.float32).reshape(gathered.shape)
        (gathered * weights).sum().backward()
        labels = all_gather_with_grad(torch.full((rows,), rank))
        # A batch that kept nothing on one rank: no rank may step.
        decide = _all_ranks_have_samples({'inputs': [] if rank == 1 else [x]})
        result = dict(gathered=gathered.tolist(), grad=x.grad.tolist(),
                      labels=labels.tolist(), step=decide)
        with open(f'{out}.{rank}', 'w') as handle:
            json.dump(result, handle)
    finally:
        # Neither rank tears the group down while the other still uses it.
        dist.barrier()
        dist.destroy_process_group()


def test_ranks_with_uneven_batches_after_skips_gather_and_agree(tmp_path, faults):
    faults.tried(GROUP, 'skipped videos leave ranks with uneven training batches')
    import torch.multiprocessing as mp
    out = str(tmp_path / 'rank')
    # fork: the ranks inherit the imports (spawn would re-import for seconds).
    mp.start_processes(_two_rank_worker, args=(str(tmp_path / 'rendezvous'), out),
                       nprocs=2, join=True, start_method='fork')
    results = [json.loads(Path(f'{out}.{rank}').read_text()) for rank in (0, 1)]
    expected = [[0., 1.], [2., 3.], [4., 5.], [10., 11.], [12., 13.]]
    weights = np.arange(10, dtype=float).reshape(5, 2).tolist()
    for rank, result in enumerate(results):
        assert result['gathered'] == expected
        assert result['labels'] == [0, 0, 0, 1, 1]
        assert result['grad'] == (weights[:3] if rank == 0 else weights[3:])
        assert result['step'] is False
