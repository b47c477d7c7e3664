"""An evaluator under which every metric counts every video once.

MMEngine's ``BaseMetric.evaluate`` interleaves the ranks' results and cuts
the list at the dataset size. Once an unreadable video is skipped, the
ranks hold different numbers of results and the cut keeps the sampler's
padding copy (a video counted twice) and drops a real one; a dump then has
duplicate rows in a rank-interleaved order. ``SampleIndexEvaluator`` tags
each result a metric appends with the ``sample_idx`` of the video it came
from, and gathers them with ``gather_records`` (the same step the
bike-bench metrics and the zero-shot loop use): one result per dataset
index, in dataset (manifest) order, on any number of ranks. The metric's
own ``compute_metrics`` then sees exactly what one process would have
given it. This covers metrics that know nothing of skipping or padding
(``FusionAccMetric``, mmaction's ``AccMetric``, MMEngine's
``DumpResults``).

``use_sample_index_evaluator(cfg)`` switches a config's evaluators to it;
``bike_bench.evaluation.runner.build_runner`` does this for every training
run, and the evaluation config (``evaluation.harness.test_config``) for
every test.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Sequence, Set

from mmengine.dist import broadcast_object_list, get_world_size, is_main_process
from mmengine.evaluator import Evaluator
from mmengine.logging import print_log
from mmengine.registry import EVALUATOR
from mmengine.structures import BaseDataElement

from bike_bench.evaluation.metrics.base import (CountMismatchError,
                                                VideoRecordMetric, gather_records)

EVALUATOR_TYPE = 'SampleIndexEvaluator'


@EVALUATOR.register_module()
class SampleIndexEvaluator(Evaluator):
    """``Evaluator`` whose metrics see one result per video, in dataset order.

    Metrics derived from ``VideoRecordMetric`` already key their records by
    dataset index and are left as they are. For any other metric, each
    result it appends in ``process`` is stored with the ``sample_idx`` of
    its data sample (the test pipeline packs it, see
    ``views.pack_sample_index``), and skipped videos of the batch are
    stored as such. ``evaluate`` gathers them across ranks, removes padding
    repeats and skipped videos, and calls the metric's ``compute_metrics``
    with the rest in dataset order (main process), like ``BaseMetric``.

    A metric that does not append exactly one result per data sample, or a
    pipeline without ``sample_idx``, cannot be keyed: that metric falls
    back to MMEngine's own gathering, with a warning on several ranks.
    """

    def __init__(self, metrics) -> None:
        super().__init__(metrics)
        self._unkeyed: Set[int] = set()

    def process(self, data_samples: Sequence[BaseDataElement],
                data_batch: Optional[Any] = None) -> None:
        samples = [sample.to_dict() if isinstance(sample, BaseDataElement) else sample
                   for sample in data_samples]
        indices = [sample.get('sample_idx') if isinstance(sample, dict) else None
                   for sample in samples]
        skipped = data_batch.get('skipped', ()) if isinstance(data_batch, dict) else ()
        for metric in self.metrics:
            if isinstance(metric, VideoRecordMetric) or id(metric) in self._unkeyed:
                metric.process(data_batch, samples)
                continue
            start = len(metric.results)
            metric.process(data_batch, samples)
            added = metric.results[start:]
            if len(added) != len(samples) or any(i is None for i in indices):
                self._give_up(metric, start, added)
                continue
            metric.results[start:] = (
                [dict(index=int(i), result=r) for i, r in zip(indices, added)]
                + [dict(index=item.get('index'), skipped=dict(
                    path=item.get('path'), reason=item.get('reason')))
                   for item in skipped])

    def _give_up(self, metric, start: int, added: List[Any]) -> None:
        """Turn ``metric`` back into a plain one (its results unwrapped)."""
        self._unkeyed.add(id(metric))
        earlier = [r['result'] for r in metric.results[:start] if 'result' in r]
        metric.results[:] = earlier + list(added)
        if get_world_size() > 1:
            print_log(f'{type(metric).__name__}: results cannot be matched to '
                      'dataset indices (one result per sample with "sample_idx" '
                      'is needed); it is gathered by MMEngine, which can count '
                      'a padding copy when ranks skipped videos',
                      logger='current', level=logging.WARNING)

    def evaluate(self, size: int) -> dict:
        metrics: Dict[str, Any] = {}
        for metric in self.metrics:
            if isinstance(metric, VideoRecordMetric) or id(metric) in self._unkeyed:
                values = metric.evaluate(size)
            else:
                values = self._evaluate_keyed(metric, size)
            for name in values:
                if name in metrics:
                    raise ValueError(f'two metrics report {name!r}; give them '
                                     'different prefixes')
            metrics.update(values)
        self._unkeyed.clear()
        return metrics

    @staticmethod
    def _evaluate_keyed(metric, size: int) -> dict:
        records = gather_records(metric.results, size, metric.collect_device,
                                 metric.collect_dir)
        values: List[Optional[dict]] = [None]
        if is_main_process():
            results = [r['result'] for r in records if 'skipped' not in r]
            if not results:
                raise CountMismatchError(f'{type(metric).__name__}: every video '
                                         'was skipped; nothing to evaluate')
            computed = metric.compute_metrics(results)
            if metric.prefix:
                computed = {f'{metric.prefix}/{key}': value
                            for key, value in computed.items()}
            values = [computed]
        broadcast_object_list(values)
        metric.results.clear()
        return values[0]


_PLAIN_TYPES = (None, 'Evaluator', Evaluator, EVALUATOR_TYPE, SampleIndexEvaluator)


def metric_list(evaluator) -> Optional[List[Any]]:
    """The metrics of an evaluator config (list, one metric, or a plain
    ``dict(metrics=...)``); None for a built evaluator or a config naming
    its own evaluator class, which are left alone."""
    if evaluator is None:
        return None
    if isinstance(evaluator, (list, tuple)):
        return list(evaluator)
    if not hasattr(evaluator, 'get'):
        return None
    if 'metrics' not in evaluator:
        return [evaluator]  # a single metric config
    if evaluator.get('type') not in _PLAIN_TYPES:
        return None
    metrics = evaluator['metrics']
    return list(metrics) if isinstance(metrics, (list, tuple)) else [metrics]


def sample_index_evaluator(evaluator):
    """The evaluator config ``evaluator`` as a ``SampleIndexEvaluator`` over
    its metrics; a built evaluator, or one naming its own class (other than
    MMEngine's ``Evaluator``), is returned as it is."""
    metrics = metric_list(evaluator)
    return evaluator if metrics is None else dict(type=EVALUATOR_TYPE, metrics=metrics)


def use_sample_index_evaluator(cfg, keys: Sequence[str] = ('val_evaluator',
                                                           'test_evaluator')) -> None:
    """Make ``cfg[key]`` a ``SampleIndexEvaluator`` over its metrics, in place.

    A built evaluator, or a config that names its own evaluator class (other
    than MMEngine's ``Evaluator``), is kept as it is.
    """
    for key in keys:
        if cfg.get(key) is not None:
            cfg[key] = sample_index_evaluator(cfg[key])
