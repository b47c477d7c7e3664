"""Two real ranks (gloo on the CPU): padding removed, skipped videos kept."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

SIZE, BAD = 13, {4, 11}


def _worker(rank: int, rendezvous: str, out: str) -> None:
    # A file rendezvous: no TCP port that another process could take first.
    torch.set_num_threads(1)  # two ranks on a 2-core machine
    dist.init_process_group('gloo', init_method=f'file://{rendezvous}',
                            rank=rank, world_size=2)
    try:
        from mmengine.dataset import DefaultSampler
        from mmaction.registry import METRICS
        import bike_bench.evaluation  # noqa: F401
        rng = np.random.default_rng(0)
        scores, labels = rng.random((SIZE, 5)), rng.integers(5, size=SIZE)
        metric = METRICS.build(dict(type='BIKEAccMetric', topk=(1,)))
        indices = list(DefaultSampler(list(range(SIZE)), shuffle=False))
        for start in range(0, len(indices), 3):
            batch = indices[start:start + 3]
            samples = [dict(sample_idx=i, pred_score=torch.tensor(scores[i]),
                            gt_label=torch.tensor([labels[i]])) for i in batch if i not in BAD]
            skipped = [dict(index=i, path=f'v{i}.mp4', reason='r') for i in batch if i in BAD]
            metric.process(dict(skipped=skipped), samples)
        values = metric.evaluate(SIZE)
        if rank == 0:
            with open(out, 'w') as handle:
                json.dump(dict(values=values, details=metric.details,
                               padded=len(indices) * 2), handle)
    finally:
        # Neither rank tears the group down while the other still uses it.
        dist.barrier()
        dist.destroy_process_group()


@pytest.mark.skipif(not dist.is_available(), reason='torch.distributed unavailable')
def test_two_ranks_count_every_video_once(tmp_path):
    out = str(tmp_path / 'rank0.json')
    mp.spawn(_worker, args=(str(tmp_path / 'rendezvous'), out), nprocs=2, join=True)
    result = json.loads(open(out).read())
    assert result['padded'] == 14  # the sampler repeats one video
    assert result['details']['counts'] == dict(expected=13, evaluated=11, skipped=2)
    assert [s['index'] for s in result['details']['skipped']] == sorted(BAD)
    rng = np.random.default_rng(0)
    scores, labels = rng.random((SIZE, 5)), rng.integers(5, size=SIZE)
    keep = [i for i in range(SIZE) if i not in BAD]
    expected = float((scores[keep].argmax(1) == labels[keep]).mean())
    assert result['values']['acc/top1'] == pytest.approx(expected)
