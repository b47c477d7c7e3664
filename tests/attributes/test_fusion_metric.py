"""FusionAccMetric: per-branch and fused accuracy as a flat dict."""
from __future__ import annotations

import pytest
import torch

from bike_bench.evaluation import FusionAccMetric


def sample(label, video, attribute, weights=(0.7, 0.3)):
    video, attribute = torch.tensor(video), torch.tensor(attribute)
    return dict(gt_label=torch.tensor([label]), video_score=video,
                attribute_score=attribute,
                pred_score=weights[0] * video + weights[1] * attribute)


def test_reports_video_attributes_and_fused():
    metric = FusionAccMetric(topk=(1, 2))
    metric.dataset_meta = {}
    samples = [
        # video right, attributes wrong, fused right
        sample(0, [0.7, 0.2, 0.1], [0.1, 0.8, 0.1]),
        # video wrong, attributes right, fused right
        sample(1, [0.45, 0.4, 0.15], [0.0, 1.0, 0.0]),
        # all wrong at top-1
        sample(2, [0.2, 0.5, 0.3], [0.5, 0.4, 0.1]),
    ]
    metric.process({}, samples)
    result = metric.evaluate(3)
    assert result['acc/video_top1'] == pytest.approx(1 / 3)
    assert result['acc/attributes_top1'] == pytest.approx(1 / 3)
    assert result['acc/fused_top1'] == pytest.approx(2 / 3)
    assert result['acc/top1'] == result['acc/fused_top1']
    assert result['acc/video_top2'] == 1.0
    assert list(result)[0] == 'acc/top1'  # what save_best='auto' picks


def test_attributes_only_has_no_video_or_fused_keys():
    metric = FusionAccMetric()
    metric.dataset_meta = {}
    attr = torch.tensor([0.2, 0.7, 0.1])
    metric.process({}, [dict(gt_label=torch.tensor([1]), attribute_score=attr,
                             pred_score=attr)])
    result = metric.evaluate(1)
    assert result == {'acc/top1': 1.0, 'acc/attributes_top1': 1.0}


def test_fused_nll_moves_with_the_fusion_weights_when_top1_does_not():
    """Video decides every argmax; only the NLL sees swapped weights."""
    import math
    rows = [(0, [0.9, 0.05, 0.05], [0.3, 0.4, 0.3]), (1, [0.1, 0.8, 0.1], [0.3, 0.3, 0.4])]
    results = {}
    for weights in ((0.7, 0.3), (0.3, 0.7)):
        metric = FusionAccMetric(topk=(1,))
        metric.dataset_meta = {}
        metric.process({}, [sample(label, v, a, weights) for label, v, a in rows])
        results[weights] = metric.evaluate(2)
    official, swapped = results[(0.7, 0.3)], results[(0.3, 0.7)]
    assert official['acc/fused_top1'] == swapped['acc/fused_top1'] == 1.0
    expected = -(math.log(0.7 * 0.9 + 0.3 * 0.3) + math.log(0.7 * 0.8 + 0.3 * 0.3)) / 2
    assert official['acc/fused_nll'] == pytest.approx(expected, rel=1e-6)
    assert swapped['acc/fused_nll'] > official['acc/fused_nll'] + 0.3


def test_topk_of_all_classes_is_left_out_and_said_so():
    metric = FusionAccMetric(topk=(1, 2))
    metric.dataset_meta = {}
    metric.process({}, [sample(0, [0.7, 0.3], [0.4, 0.6]), sample(1, [0.6, 0.4], [0.2, 0.8])])
    result = metric.evaluate(2)
    assert not any(key.endswith('top2') for key in result)  # was 1.0000
    assert metric.not_applicable['acc/fused_top2'] == 'top-2 of 2 classes is always 1'
