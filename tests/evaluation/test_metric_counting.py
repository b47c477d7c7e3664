"""Metrics as MMEngine metrics: every video counted once, on any rank count."""
from __future__ import annotations

from itertools import chain, zip_longest

import numpy as np
import pytest
import torch
from mmengine.dataset import DefaultSampler

from mmaction.registry import METRICS

import bike_bench.evaluation  # noqa: F401
from bike_bench.evaluation.metrics import CountMismatchError, merge_records
from bike_bench.evaluation.metrics import functional as F


def sample(index, score, label):
    return dict(sample_idx=index, pred_score=torch.tensor(score, dtype=torch.float32),
                gt_label=torch.as_tensor(label))


def rank_indices(size, world_size, batch_size, monkeypatch):
    """Indices per rank and batch as DefaultSampler gives them (with padding)."""
    out = []
    for rank in range(world_size):
        monkeypatch.setattr('mmengine.dataset.sampler.get_dist_info',
                            lambda rank=rank: (rank, world_size))
        indices = list(DefaultSampler(list(range(size)), shuffle=False))
        out.append([indices[i:i + batch_size] for i in range(0, len(indices), batch_size)])
    return out


def gathered(parts):
    """What MMEngine's collect_results hands rank 0 (zip_longest, no cut)."""
    return [r for r in chain.from_iterable(zip_longest(*parts)) if r is not None]


def test_official_k400_padding_is_removed(monkeypatch):
    # 19,795 videos on 8 GPUs: the sampler pads to 19,800 entries.
    per_rank = rank_indices(19795, 8, 32, monkeypatch)
    assert sum(len(b) for batches in per_rank for b in batches) == 19800
    parts = [[dict(index=i) for batch in batches for i in batch] for batches in per_rank]
    merged = merge_records(gathered(parts), 19795)
    assert [r['index'] for r in merged] == list(range(19795))


def test_two_ranks_with_a_skipped_video_count_exactly(monkeypatch):
    size, rng = 11, np.random.default_rng(0)
    scores = rng.random((size, 4))
    labels = rng.integers(4, size=size)
    bad = {3}
    parts = []
    for batches in rank_indices(size, 2, 4, monkeypatch):
        metric = METRICS.build(dict(type='BIKEAccMetric', topk=(1,)))
        for batch in batches:
            data_samples = [sample(i, scores[i], labels[i]) for i in batch if i not in bad]
            skipped = [dict(index=i, path=f'v{i}.mp4', reason='cannot be decoded')
                       for i in batch if i in bad]
            metric.process(dict(skipped=skipped) if skipped else {}, data_samples)
        parts.append(metric.results)
    # A metric that drops skipped videos (mmaction's AccMetric) leaves rank 1
    # one record short, and MMEngine's cut at `size` then keeps the padding
    # repeat of video 0: 10 real videos counted as 11.
    naive = [[r for r in part if 'skipped' not in r] for part in parts]
    cut = [r['index'] for r in gathered(naive)[:size]]
    assert len(cut) == 11 and cut.count(0) == 2
    metric = METRICS.build(dict(type='BIKEAccMetric', topk=(1,)))
    values = metric._summarise(merge_records(gathered(parts), size), size)
    assert metric.details['counts'] == dict(expected=11, evaluated=10, skipped=1)
    assert metric.details['skipped'] == [dict(index=3, path='v3.mp4',
                                              reason='cannot be decoded')]
    keep = [i for i in range(size) if i not in bad]
    expected = F.topk_accuracy(scores[keep], labels[keep], (1,))[1]
    assert values['acc/top1'] == pytest.approx(expected)


def test_missing_or_foreign_indices_are_errors():
    with pytest.raises(CountMismatchError, match='1 of 3 videos produced no result'):
        merge_records([dict(index=0), dict(index=2)], 3)
    with pytest.raises(CountMismatchError, match='index 5 outside'):
        merge_records([dict(index=5)], 3)


def run_metric(cfg, samples, skipped=(), meta=None):
    metric = METRICS.build(cfg)
    metric.dataset_meta = meta or {}
    metric.process(dict(skipped=list(skipped)), samples)
    return metric, metric.evaluate(len(samples) + len(skipped))


def test_acc_metric_per_class_and_counts():
    samples = [sample(0, [.9, .1, 0], [0]), sample(1, [.2, .8, 0], [0]),
               sample(3, [.1, .2, .7], [2])]
    metric, values = run_metric(dict(type='BIKEAccMetric'), samples,
                                [dict(index=2, path='x.mp4', reason='empty file (0 bytes)')],
                                dict(classes=('a', 'b', 'c')))
    # Top-5 of 3 classes would be 1.0 whatever the model: left out, said why.
    assert values == {'acc/top1': pytest.approx(2 / 3),
                      'acc/mean_class_accuracy': pytest.approx(0.75)}
    assert metric.details['options']['not_applicable'] == {
        'acc/top5': 'top-5 of 3 classes is always 1'}
    assert metric.details['per_class']['a'] == dict(accuracy=0.5, videos=2)
    assert metric.details['per_class']['b'] == dict(accuracy=None, videos=0)
    assert metric.details['counts'] == dict(expected=4, evaluated=3, skipped=1)


def test_map_metric_single_and_multi_label():
    rng = np.random.default_rng(1)
    scores = rng.random((12, 3))
    labels = np.r_[0, 1, 2, rng.integers(3, size=9)]
    single = [sample(i, scores[i], [labels[i]]) for i in range(12)]
    _, values = run_metric(dict(type='MeanAPMetric'), single)
    assert values['map/mAP'] == pytest.approx(F.mean_average_precision(scores, labels)[0])
    _, values = run_metric(dict(type='MeanAPMetric', extra_softmax=True), single)
    assert values['map/mAP'] == pytest.approx(
        F.mean_average_precision(F.softmax(scores.astype(np.float32).astype(np.float64)),
                                 labels)[0])
    hot = (rng.random((12, 3)) < .5).astype(np.float32)
    hot[0] = 1
    multi = [sample(i, scores[i], hot[i]) for i in range(12)]  # as mmaction packs it
    metric, values = run_metric(dict(type='CharadesMAPMetric', running_batch_size=4), multi)
    assert values['charades/mAP'] == pytest.approx(F.mean_average_precision(scores, hot)[0])
    assert values['charades/official_running_avg_mAP_bs4'] == pytest.approx(
        F.official_running_map(scores.astype(np.float32), hot, 4))
    assert metric.details['options']['running_batch_size'] == 4


def test_accuracy_refuses_multi_label_targets():
    with pytest.raises(ValueError, match='multi-label'):
        run_metric(dict(type='BIKEAccMetric'), [sample(0, [.5, .5], [1., 1.])])


def test_not_applicable_topk_reads_n_a_in_the_summary_line_and_report(tmp_path):
    from bike_bench.evaluation.results import format_metrics, not_applicable_metrics
    data = dict(run_id='r', views=dict(label='1x1'), aggregation='official',
                counts=dict(expected=3, evaluated=3, skipped=0),
                metrics={'acc/top1': 0.5},
                metric_options={'BIKEAccMetric': dict(topk=[1, 5], not_applicable={
                    'acc/top5': 'top-5 of 3 classes is always 1'})})
    assert not_applicable_metrics(data) == {'acc/top5': 'top-5 of 3 classes is always 1'}
    line = format_metrics(data)
    assert line.endswith('acc/top1 0.5000, acc/top5 n/a (top-5 of 3 classes is always 1)')
    assert '1.0000' not in line
