"""Top-k accuracy of the video branch, the attributes branch and their fusion."""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric

from mmaction.evaluation.functional import top_k_accuracy
from mmaction.registry import METRICS

from bike_bench.evaluation.metrics.base import log_not_applicable
from bike_bench.evaluation.metrics.functional import topk_not_applicable

# data-sample field -> metric name
BRANCH_FIELDS = (('video_score', 'video'), ('attribute_score', 'attributes'))


@METRICS.register_module()
class FusionAccMetric(BaseMetric):
    """Top-k accuracy per branch of a ``BIKEVideoAttributeRecognizer``.

    Returns a flat dict (with the ``acc/`` prefix): ``top1``, ``top5`` of the
    model's prediction (``pred_score``: the fused score, or the only branch),
    then ``video_top1``, ``video_top5``, ``attributes_top1``,
    ``attributes_top5`` and, when both branches are present, ``fused_top1``,
    ``fused_top5`` (equal to ``top1``/``top5``, named for results files)
    and ``fused_nll``: the mean negative natural log of the fused score at
    the true class. The fused score is a weighted sum of the branches'
    probabilities, so it is a distribution. Unlike top-1, its NLL moves
    with the fusion weights even when the video branch decides every argmax.
    Scores are clipped at 1e-12 before the log. A ``k`` not below the
    number of classes is left out and logged as n/a (it would be 1.0).

    Args:
        topk: the k values.
        collect_device: ``'cpu'`` or ``'gpu'`` (MMEngine).
        prefix: metric name prefix (default ``acc``).
    """

    default_prefix = 'acc'

    def __init__(self, topk: Sequence[int] = (1, 5), collect_device: str = 'cpu',
                 prefix: Optional[str] = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.topk = tuple(int(k) for k in topk)
        self.not_applicable: Dict[str, str] = {}

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            label = sample['gt_label']
            if label.numel() != 1:
                raise ValueError('FusionAccMetric is for single-label data; got '
                                 f'a label of {label.numel()} entries')
            result = dict(label=int(label.reshape(-1)[0]),
                          pred=sample['pred_score'].float().cpu().numpy())
            for field, name in BRANCH_FIELDS:
                if field in sample:
                    result[name] = sample[field].float().cpu().numpy()
            self.results.append(result)

    def _topk(self, scores: List[np.ndarray], labels: List[int]) -> Dict[int, float]:
        num_classes = scores[0].shape[-1]
        ks = [k for k in self.topk if k < num_classes]  # else always 1.0
        return dict(zip(ks, top_k_accuracy(np.stack(scores), labels, ks)))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        labels = [r['label'] for r in results]
        prefix = f'{self.prefix}/' if self.prefix else ''
        self.not_applicable = {
            f'{prefix}{branch}{key}': reason for key, reason in
            topk_not_applicable(self.topk, results[0]['pred'].shape[-1]).items()
            for branch in ('', 'video_', 'attributes_', 'fused_')}
        log_not_applicable(self.not_applicable)
        metrics = {}
        for k, value in self._topk([r['pred'] for r in results], labels).items():
            metrics[f'top{k}'] = float(value)
        present = [name for _, name in BRANCH_FIELDS
                   if all(name in r for r in results)]
        for name in present:
            for k, value in self._topk([r[name] for r in results], labels).items():
                metrics[f'{name}_top{k}'] = float(value)
        if len(present) == len(BRANCH_FIELDS):
            for k in self.topk:
                if f'top{k}' in metrics:
                    metrics[f'fused_top{k}'] = metrics[f'top{k}']
            true = np.array([r['pred'][r['label']] for r in results], dtype=np.float64)
            metrics['fused_nll'] = float(-np.log(np.clip(true, 1e-12, None)).mean())
        return metrics
