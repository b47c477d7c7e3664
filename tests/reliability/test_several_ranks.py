"""Group 7: several ranks give the numbers and files one process gives.

A skipped video leaves the ranks with different numbers of results; the
distributed sampler's padding copy must still never be counted and no
video may be dropped, for every metric (not only bike-bench's own) and for
``test --dump``. The real launcher (``torchrun ... --launcher pytorch``)
runs here on the CPU with gloo, for ``test`` and for ``train``.
"""
from __future__ import annotations

import json
import os
import pickle
import re
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.distributed as dist

from bike_bench.datasets.manifest import ManifestEntry

from . import faults as F
from .conftest import NO_REPLACEMENT, SMOKE_CONFIG, write_entries_manifest

GROUP = 'several ranks'
pytestmark = pytest.mark.skipif(not dist.is_available(),
                                reason='torch.distributed unavailable')

# The V+A smoke case: 7 videos, index 3 unreadable. Index 0 is
# the sampler's padding copy on rank 1; videos 0 and 4 are right.
SIZE, BAD, RIGHT, CLASSES = 7, 3, (0, 4), 5


def _scores(index: int, label: int) -> np.ndarray:
    """Scores whose top-1 is right only for the videos in ``RIGHT``."""
    scores = np.full(CLASSES, 0.1, dtype=np.float32)
    scores[label if index in RIGHT else (label + 1) % CLASSES] = 0.6
    return scores


def _evaluate_on_two_ranks(rank: int, rendezvous: str, out: str, keyed: bool) -> None:
    torch.set_num_threads(1)
    dist.init_process_group('gloo', init_method=f'file://{rendezvous}', rank=rank,
                            world_size=2)
    try:
        from mmengine.dataset import DefaultSampler
        from mmengine.evaluator import Evaluator
        from mmaction.registry import METRICS
        from mmaction.structures import ActionDataSample
        from bike_bench.evaluation.evaluator import SampleIndexEvaluator
        metrics = [METRICS.build(dict(type='FusionAccMetric', topk=(1,))),
                   METRICS.build(dict(type='BIKEAccMetric', topk=(1,), prefix='bike')),
                   METRICS.build(dict(type='AccMetric', prefix='mmaction',
                                      metric_list=('top_k_accuracy',),
                                      metric_options=dict(
                                          top_k_accuracy=dict(topk=(1,))))),
                   METRICS.build(dict(type='DumpResults', out_file_path=f'{out}.pkl'))]
        evaluator = (SampleIndexEvaluator if keyed else Evaluator)(metrics)
        evaluator.dataset_meta = dict(classes=[str(i) for i in range(CLASSES)])
        labels = [i % CLASSES for i in range(SIZE)]
        for index in DefaultSampler(list(range(SIZE)), shuffle=False):
            if index == BAD:
                evaluator.process([], dict(skipped=[dict(index=BAD, path='bad.mp4',
                                                         reason='cannot be decoded')]))
                continue
            score = torch.from_numpy(_scores(index, labels[index]))
            sample = ActionDataSample().set_gt_label(torch.tensor([labels[index]]))
            sample.set_pred_score(score)
            sample.set_field(score, 'video_score')
            sample.set_field(score.flip(0), 'attribute_score')
            sample.set_metainfo(dict(sample_idx=index))
            evaluator.process([sample], dict(inputs=[None]))
        values = evaluator.evaluate(SIZE)
        if rank == 0:
            dump = pickle.load(open(f'{out}.pkl', 'rb'))
            Path(out).write_text(json.dumps(dict(
                values={k: float(v) for k, v in values.items()},
                dump=[int(row['sample_idx']) for row in dump])))
    finally:
        dist.barrier()
        dist.destroy_process_group()


def _two_ranks(tmp_path, keyed: bool) -> dict:
    import torch.multiprocessing as mp
    out = str(tmp_path / ('keyed' if keyed else 'plain'))
    mp.start_processes(_evaluate_on_two_ranks, args=(out + '.rdv', out, keyed),
                       nprocs=2, join=True, start_method='fork')
    return json.loads(Path(out).read_text())


def test_every_metric_and_the_dump_count_each_video_once_on_two_ranks(tmp_path, faults):
    faults.tried(GROUP, 'a skip leaves ranks uneven: padding copy counted by a metric')
    faults.tried(GROUP, 'a skip leaves ranks uneven: dump rows duplicated and reordered')
    faults.checked(NO_REPLACEMENT)
    result = _two_ranks(tmp_path, keyed=True)
    values = result['values']
    # 2 of the 6 evaluated videos are right, whatever the metric.
    for key in ('acc/top1', 'acc/video_top1', 'acc/fused_top1', 'bike/top1',
                'mmaction/top1'):
        assert values[key] == pytest.approx(2 / 6), key
    assert values['acc/attributes_top1'] == 0.0
    # One row per evaluated video, in manifest order.
    assert result['dump'] == [0, 1, 2, 4, 5, 6]


def test_mmengines_own_gathering_shows_the_fault(tmp_path):
    # What MMEngine's Evaluator gives on the same data (the counts that went wrong):
    # the padding copy of video 0 (right) is counted and a 7th row dumped.
    result = _two_ranks(tmp_path, keyed=False)
    assert result['values']['acc/video_top1'] == pytest.approx(3 / 7)
    assert result['dump'] == [0, 1, 2, 5, 4, 0, 6]


# ----------------------------------------------------- the real launcher
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def torchrun(args, tmp_path, nproc: int = 2) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS='1')
    env.pop('RANK', None)
    env.pop('WORLD_SIZE', None)
    if nproc == 1:
        command = [sys.executable, '-m', 'bike_bench.cli.main', *args]
    else:
        command = [sys.executable, '-m', 'torch.distributed.run',
                   f'--nproc_per_node={nproc}', '--master_addr=127.0.0.1',
                   f'--master_port={free_port()}', '-m', 'bike_bench.cli.main',
                   *args, '--launcher', 'pytorch']
    done = subprocess.run(command, cwd=str(tmp_path), env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    return done


@pytest.fixture(scope='module')
def seven_videos(clean_videos, tmp_path_factory):
    """7 evaluation videos, the 4th unreadable; and a 3-video one, the 2nd."""
    folder = tmp_path_factory.mktemp('seven')
    videos = clean_videos['videos']
    bad = ManifestEntry(path=F.truncated_mp4(videos[0][0], folder / 'trunc.mp4'),
                        label=1, id='trunc')
    good = [ManifestEntry(path=p, label=label, id=id_) for p, label, id_ in videos[:6]]
    seven = write_entries_manifest(folder / 'seven.jsonl', clean_videos['classes'],
                                   good[:3] + [bad] + good[3:], split='val')
    three = write_entries_manifest(folder / 'three.jsonl', clean_videos['classes'],
                                   [good[0], bad, good[1]], split='val')
    return dict(seven=seven, three=three)


def _test_args(manifest: str, checkpoint: str, out: Path):
    return ['test', SMOKE_CONFIG, checkpoint, '--skip-bad-videos',
            '--work-dir', str(out / 'work'), '--out', str(out / 'results.json'),
            '--dump', str(out / 'dump.pkl'), '--cfg-options',
            f'test_dataloader.dataset.ann_file={manifest}', 'test_dataloader.batch_size=2']


@pytest.mark.parametrize('which', ['three', 'seven'])
def test_torchrun_test_with_a_skipped_video_matches_one_process(
        which, seven_videos, random_checkpoint, tmp_path, faults):
    faults.tried(GROUP, 'torchrun --launcher pytorch on a CPU machine (test)')
    faults.checked(NO_REPLACEMENT)
    runs = {}
    # The 7-video case is compared with one process; in both, the dump must
    # hold one row per evaluated video in manifest order.
    for nproc in ((1, 2) if which == 'seven' else (2,)):
        out = tmp_path / f'n{nproc}'
        torchrun(_test_args(seven_videos[which], random_checkpoint, out), tmp_path, nproc)
        runs[nproc] = dict(results=json.loads((out / 'results.json').read_text()),
                           dump=pickle.load(open(out / 'dump.pkl', 'rb')))
    size = 7 if which == 'seven' else 3
    expected_rows = [i for i in range(size) if i != (3 if which == 'seven' else 1)]
    for nproc, run in runs.items():
        assert run['results']['counts'] == dict(expected=size, evaluated=size - 1,
                                                skipped=1), nproc
        assert [int(row['sample_idx']) for row in run['dump']] == expected_rows, nproc
    if 1 in runs:
        assert runs[2]['results']['metrics'] == runs[1]['results']['metrics']
        for one, two in zip(runs[1]['dump'], runs[2]['dump']):
            assert torch.allclose(one['pred_score'], two['pred_score'], atol=1e-5)


def test_torchrun_train_on_cpu(clean_videos, tmp_path, faults):
    faults.tried(GROUP, 'torchrun --launcher pytorch on a CPU machine (train)')
    videos = clean_videos['videos']
    entries = [ManifestEntry(path=p, label=label, id=id_) for p, label, id_ in videos[:8]]
    manifest = write_entries_manifest(tmp_path / 'train.jsonl', clean_videos['classes'],
                                      entries)
    work = tmp_path / 'work'
    torchrun(['train', SMOKE_CONFIG, '--no-validate', '--work-dir', str(work),
              '--cfg-options', f'train_dataloader.dataset.ann_file={manifest}',
              'train_dataloader.batch_size=2', 'train_cfg.max_epochs=1',
              'default_hooks.checkpoint.save_best=None',
              'default_hooks.checkpoint.interval=1'], tmp_path)
    checkpoint = work / 'epoch_1.pth'
    assert checkpoint.is_file()
    logs = list(work.rglob('*.log'))
    assert logs and any('Epoch(train)' in log.read_text() for log in logs)


VA_CONFIG = str(Path(SMOKE_CONFIG).parent /
                'bike-va_tiny-vit-p16-res64_toy-clip-pre_1xb16-8x1x1-8e_synthetic-rgb.py')


def test_torchrun_video_attributes_accuracy_counts_six_videos_not_seven(
        seven_videos, tmp_path, faults):
    """The V+A smoke case: V+A smoke config (``FusionAccMetric``), 7 videos, one
    unreadable, ``--skip-bad-videos``: every accuracy is k/6 on one process
    and identical on two (it was m/7 there, the padding copy counted)."""
    faults.tried(GROUP, 'V+A accuracy (FusionAccMetric) on two ranks with a skip')
    faults.checked(NO_REPLACEMENT)
    from bike_bench.datasets.manifest import read_manifest
    from bike_bench.models.convert import build_model_from_config
    manifest = seven_videos['seven']
    words = ['red', 'circle', 'moving', 'left', 'small']
    attributes = tmp_path / 'attributes.json'
    attributes.write_text(json.dumps({
        entry.path: {'classname_topk': words, 'scores': [0.2] * 5}
        for entry in read_manifest(manifest).entries}))
    torch.manual_seed(0)
    checkpoint = tmp_path / 'va.pth'
    torch.save({'meta': {}, 'state_dict': build_model_from_config(
        VA_CONFIG, device='cpu').state_dict()}, checkpoint)
    runs = {}
    for nproc in (1, 2):
        out = tmp_path / f'n{nproc}'
        torchrun(['test', VA_CONFIG, str(checkpoint), '--skip-bad-videos',
                  '--work-dir', str(out / 'work'), '--out', str(out / 'results.json'),
                  '--cfg-options', f'test_dataloader.dataset.ann_file={manifest}',
                  f'test_dataloader.dataset.attributes_file={attributes}',
                  'test_dataloader.batch_size=2'], tmp_path, nproc)
        runs[nproc] = json.loads((out / 'results.json').read_text())
    for nproc, data in runs.items():
        assert data['counts'] == dict(expected=7, evaluated=6, skipped=1), nproc
        # Top-k accuracies are fractions of the videos (fused_nll is not).
        accuracies = {k: v for k, v in data['metrics'].items()
                      if re.fullmatch(r'acc/(\w+_)?top\d+', k)}
        assert {'acc/top1', 'acc/video_top1', 'acc/attributes_top1'} <= set(accuracies)
        for key, value in accuracies.items():
            assert value * 6 == pytest.approx(round(value * 6)), (nproc, key, value)
    assert runs[2]['metrics'] == runs[1]['metrics']
