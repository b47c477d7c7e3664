"""Mean average precision: ActivityNet (single-label) and Charades (multi-label)."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

import numpy as np

from mmaction.registry import METRICS

from bike_bench.evaluation.metrics import functional as F
from bike_bench.evaluation.metrics.base import VideoRecordMetric, target_matrix


@METRICS.register_module()
class MeanAPMetric(VideoRecordMetric):
    """mAP over classes: per class, AP of its scores over all videos.

    Targets are class ids (one-hot, ActivityNet) or multi-hot vectors
    (Charades, as mmaction packs multi-label samples). Key: ``mAP``
    (fraction). Per-class AP goes to ``details['per_class']``.

    Args:
        extra_softmax: apply one more softmax over classes to the video
            scores before AP, as the official ActivityNet evaluation does.
            It changes the ranking of videos within a class, so the value.
        no_positive: classes without a positive video have no AP:
            ``'exclude'`` them from the mean, or count them as ``'zero'``
            (scikit-learn's and torchnet's convention).
    """

    default_prefix = 'map'

    def __init__(self, extra_softmax: bool = False, no_positive: str = 'exclude',
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if no_positive not in ('exclude', 'zero'):
            raise ValueError(f'no_positive must be exclude or zero, not {no_positive!r}')
        self.extra_softmax = extra_softmax
        self.no_positive = no_positive

    @property
    def options(self) -> Dict[str, Any]:
        return dict(extra_softmax=self.extra_softmax, no_positive=self.no_positive)

    def _inputs(self, scores: np.ndarray, labels: List[np.ndarray]):
        targets = target_matrix(labels, scores.shape[1])
        if self.extra_softmax:
            scores = F.softmax(scores, axis=1)
        return scores, targets

    def compute(self, scores: np.ndarray, labels: List[np.ndarray],
                records) -> Dict[str, float]:
        scores, targets = self._inputs(scores, labels)
        value, per_class = F.mean_average_precision(scores, targets, self.no_positive)
        positives = targets.sum(axis=0)
        self.details['per_class'] = {
            name: dict(ap=None if np.isnan(ap) else float(ap), positives=int(n))
            for name, ap, n in zip(self.class_names(scores.shape[1]), per_class,
                                   positives)}
        self.details['classes_without_positives'] = int((positives == 0).sum())
        return {'mAP': value}


@METRICS.register_module()
class CharadesMAPMetric(MeanAPMetric):
    """Charades: the true mAP and, labelled, the official running figure.

    Keys: ``mAP`` (over the whole test set) and
    ``official_running_avg_mAP_bs{B}``: the batch-size-weighted average of
    torchnet's cumulative mAP after each batch of ``B`` videos (``B`` = the
    official global batch, per-GPU batch x GPUs), which is what the official
    code prints. It depends on ``B`` and the video order and is reported
    only to compare with the official logs.

    Args:
        running_batch_size: ``B`` for the official figure; ``None`` leaves
            it out. Default 256: the official Charades log runs 8 test
            iterations of 8 videos per GPU over the 1,863 test videos, which
            takes 30-32 GPUs (32 x 8 = 256).
    """

    default_prefix = 'charades'

    def __init__(self, running_batch_size: Optional[int] = 256, **kwargs) -> None:
        super().__init__(**kwargs)
        self.running_batch_size = running_batch_size

    @property
    def options(self) -> Dict[str, Any]:
        return dict(super().options, running_batch_size=self.running_batch_size)

    def compute(self, scores: np.ndarray, labels: List[np.ndarray],
                records) -> Dict[str, float]:
        values = super().compute(scores, labels, records)
        if self.running_batch_size:
            scores, targets = self._inputs(scores, labels)
            key = f'official_running_avg_mAP_bs{self.running_batch_size}'
            values[key] = F.official_running_map(scores, targets,
                                                 self.running_batch_size)
        return values
