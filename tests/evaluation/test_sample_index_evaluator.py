"""SampleIndexEvaluator on one process: results keyed by sample index,
skipped videos left out, configs converted, unkeyable metrics left plain."""
from __future__ import annotations

import pytest
import torch
from mmengine.config import Config
from mmengine.evaluator import BaseMetric

import bike_bench.evaluation  # noqa: F401
from bike_bench.evaluation.evaluator import (SampleIndexEvaluator,
                                             use_sample_index_evaluator)


class Collect(BaseMetric):
    """Returns the labels it was given, in the order given."""

    def process(self, data_batch, data_samples):
        self.results.extend(int(s['gt_label'][0]) for s in data_samples)

    def compute_metrics(self, results):
        Collect.seen = list(results)
        return {'n': len(results)}


def _sample(index):
    sample = dict(gt_label=torch.tensor([10 + index]), pred_score=torch.zeros(3))
    if index is not None:
        sample['sample_idx'] = index
    return sample


def test_results_come_back_once_in_dataset_order_without_skipped_videos():
    evaluator = SampleIndexEvaluator([Collect()])
    # A padding repeat (index 0 again) and a skipped video (index 2).
    evaluator.process([_sample(3), _sample(0)])
    evaluator.process([_sample(1)], dict(skipped=[dict(index=2, path='b.mp4',
                                                       reason='r')]))
    evaluator.process([_sample(0)])
    assert evaluator.evaluate(4) == {'n': 3}
    assert Collect.seen == [10, 11, 13]


def test_a_metric_that_cannot_be_keyed_falls_back_to_mmengine():
    evaluator = SampleIndexEvaluator([Collect()])
    evaluator.process([dict(gt_label=torch.tensor([5]))])  # no sample_idx
    evaluator.process([dict(gt_label=torch.tensor([6]))])
    assert evaluator.evaluate(2) == {'n': 2}
    assert Collect.seen == [5, 6]


@pytest.mark.parametrize('given, expected', [
    (dict(type='FusionAccMetric'), [dict(type='FusionAccMetric')]),
    ([dict(type='A'), dict(type='B')], [dict(type='A'), dict(type='B')]),
    (dict(metrics=dict(type='A')), [dict(type='A')]),
    (dict(type='Evaluator', metrics=[dict(type='A')]), [dict(type='A')]),
])
def test_configs_are_switched_to_it(given, expected):
    cfg = Config(dict(test_evaluator=given, val_evaluator=None))
    use_sample_index_evaluator(cfg)
    assert cfg.test_evaluator == dict(type='SampleIndexEvaluator', metrics=expected)
    assert cfg.val_evaluator is None


def test_a_custom_evaluator_class_is_kept():
    cfg = Config(dict(test_evaluator=dict(type='MyEvaluator', metrics=[dict(type='A')])))
    use_sample_index_evaluator(cfg)
    assert cfg.test_evaluator.type == 'MyEvaluator'
