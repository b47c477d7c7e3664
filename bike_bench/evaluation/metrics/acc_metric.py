"""Top-k and mean class accuracy over videos, with per-class results."""
from __future__ import annotations

from typing import Any, Dict, List, Sequence

import numpy as np

from mmaction.registry import METRICS

from bike_bench.evaluation.metrics import functional as F
from bike_bench.evaluation.metrics.base import (VideoRecordMetric, log_not_applicable,
                                                 single_labels)


@METRICS.register_module()
class BIKEAccMetric(VideoRecordMetric):
    """Top-1 / top-k accuracy and mean class accuracy (fractions in [0, 1]).

    Keys: ``top1``, ``top5`` (one per ``topk``), ``mean_class_accuracy``.
    A ``k`` not below the number of classes is left out (it would be 1.0
    whatever the model), logged as n/a and recorded in the metric's
    options as ``not_applicable`` (``functional.topk_not_applicable``).
    Per-class accuracy and video counts go to ``details['per_class']``.
    Replaces mmaction's ``AccMetric`` because that one counts padding
    repeats and skipped videos wrongly on several ranks (see ``base``).
    """

    default_prefix = 'acc'

    def __init__(self, topk: Sequence[int] = (1, 5), **kwargs) -> None:
        super().__init__(**kwargs)
        self.topk = tuple(int(k) for k in topk)

    @property
    def options(self) -> Dict[str, Any]:
        return dict(topk=list(self.topk))

    def compute(self, scores: np.ndarray, labels: List[np.ndarray],
                records) -> Dict[str, float]:
        ids = single_labels(labels, type(self).__name__)
        num_classes = scores.shape[1]
        not_applicable = F.topk_not_applicable(self.topk, num_classes)
        values = {f'top{k}': acc for k, acc in F.topk_accuracy(scores, ids, self.topk).items()
                  if f'top{k}' not in not_applicable}
        if not_applicable:
            named = {f'{self.prefix}/{key}' if self.prefix else key: reason
                     for key, reason in not_applicable.items()}
            self.details['options'] = dict(self.details.get('options') or {},
                                           not_applicable=named)
            log_not_applicable(named)
        predictions = scores.argmax(axis=1)
        accuracy, counts = F.per_class_accuracy(predictions, ids, num_classes)
        values['mean_class_accuracy'] = F.mean_class_accuracy(predictions, ids, num_classes)
        self.details['per_class'] = {
            name: dict(accuracy=None if np.isnan(acc) else float(acc), videos=int(n))
            for name, acc, n in zip(self.class_names(num_classes), accuracy, counts)}
        # Rows: true class, columns: predicted class (for `bike-bench report`).
        confusion = np.zeros((num_classes, num_classes), dtype=np.int64)
        np.add.at(confusion, (np.asarray(ids, dtype=np.int64), predictions), 1)
        self.details['confusion'] = dict(classes=list(self.class_names(num_classes)),
                                         matrix=confusion.tolist())
        return values


@METRICS.register_module()
class VideoCountMetric(VideoRecordMetric):
    """Only counts evaluated and skipped videos (added when a config's own
    metrics cannot count, so every results file has exact counts)."""

    default_prefix = 'count'

    def compute(self, scores, labels, records) -> Dict[str, float]:
        return dict(evaluated=len(records))
