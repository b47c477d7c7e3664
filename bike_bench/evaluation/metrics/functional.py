"""Metric arithmetic on numpy arrays: accuracy, AP / mAP, the official figure.

Written here rather than taken from torchnet or scikit-learn (neither is a
runtime dependency): ``average_precision`` equals scikit-learn's
``average_precision_score`` (ties grouped), ``torchnet_average_precision``
reproduces torchnet's ``APMeter`` used by the official code.
"""
from __future__ import annotations

from typing import Dict, Sequence, Tuple

import numpy as np


def as_multi_hot(targets: np.ndarray, num_classes: int) -> np.ndarray:
    """``(N, A)`` 0/1 targets from class ids ``(N,)`` or multi-hot ``(N, A)``."""
    targets = np.asarray(targets)
    if targets.ndim == 1:
        if targets.size and (targets.min() < 0 or targets.max() >= num_classes):
            raise ValueError(f'labels outside 0..{num_classes - 1}')
        hot = np.zeros((targets.size, num_classes), np.int64)
        hot[np.arange(targets.size), targets.astype(np.int64)] = 1
        return hot
    if targets.shape[1] != num_classes:
        raise ValueError(f'targets have {targets.shape[1]} columns for '
                         f'{num_classes} classes')
    if not np.isin(targets, (0, 1)).all():
        raise ValueError('multi-hot targets must be 0 or 1')
    return targets.astype(np.int64)


def _check_scores(scores: np.ndarray) -> np.ndarray:
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 2:
        raise ValueError(f'scores must be (videos, classes), got {scores.shape}')
    if not np.isfinite(scores).all():
        raise ValueError('scores contain NaN or infinite values')
    return scores


def binary_average_precision(score: np.ndarray, target: np.ndarray) -> float:
    """AP of one class: sum over distinct thresholds of ΔRecall x Precision.

    Videos with equal scores enter together (one threshold), as in
    scikit-learn; ``nan`` when the class has no positive video.
    """
    positives = int(target.sum())
    if positives == 0:
        return float('nan')
    order = np.argsort(-score, kind='mergesort')
    score, target = score[order], target[order]
    # Last position of every group of equal scores.
    ends = np.r_[np.flatnonzero(np.diff(score)), score.size - 1]
    true_pos = np.cumsum(target)[ends].astype(np.float64)
    precision = true_pos / (ends + 1)
    recall = true_pos / positives
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def average_precision(scores: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Per-class AP ``(A,)``; ``nan`` for classes without positives."""
    scores = _check_scores(scores)
    targets = as_multi_hot(targets, scores.shape[1])
    if len(targets) != len(scores):
        raise ValueError(f'{len(scores)} score rows for {len(targets)} targets')
    return np.array([binary_average_precision(scores[:, k], targets[:, k])
                     for k in range(scores.shape[1])])


def mean_average_precision(scores: np.ndarray, targets: np.ndarray,
                           no_positive: str = 'exclude') -> Tuple[float, np.ndarray]:
    """Mean over classes of AP, and the per-class APs.

    Args:
        no_positive: classes without a positive video have no AP.
            ``'exclude'`` leaves them out of the mean; ``'zero'`` counts them
            as 0 (what scikit-learn's macro average and torchnet do).
    """
    per_class = average_precision(scores, targets)
    if no_positive == 'zero':
        return float(np.nan_to_num(per_class, nan=0.0).mean()), per_class
    if no_positive != 'exclude':
        raise ValueError(f'no_positive must be exclude or zero, not {no_positive!r}')
    defined = per_class[~np.isnan(per_class)]
    if defined.size == 0:
        raise ValueError('no class has a positive video: mAP is undefined')
    return float(defined.mean()), per_class


def torchnet_average_precision(scores: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Per-class AP as torchnet's ``APMeter``: mean precision at each positive.

    Ties are not grouped: tied videos count in sorted order (stable here;
    torch's sort is not, so tied scores can differ from the official run).
    Classes without positives give 0.
    """
    scores = _check_scores(scores)
    targets = as_multi_hot(targets, scores.shape[1])
    order = np.argsort(-scores, axis=0, kind='mergesort')
    truth = np.take_along_axis(targets, order, axis=0).astype(np.float64)
    precision = np.cumsum(truth, axis=0) / np.arange(1, len(truth) + 1)[:, None]
    return (precision * truth).sum(axis=0) / np.maximum(truth.sum(axis=0), 1)


def official_running_map(scores: np.ndarray, targets: np.ndarray,
                         batch_size: int) -> float:
    """The figure the official Charades/ANet-mAP evaluation prints.

    After every batch the official loop takes torchnet's mAP of *all* scores
    seen so far and averages these cumulative values, weighted by batch
    size. It depends on the batch size (global: per-GPU batch x GPUs) and
    the order of videos, and is not the mAP of the test set.
    """
    if batch_size < 1:
        raise ValueError('batch_size must be >= 1')
    scores = _check_scores(scores)
    targets = np.asarray(targets)
    total = 0.0
    for start in range(0, len(scores), batch_size):
        end = min(start + batch_size, len(scores))
        cumulative = torchnet_average_precision(scores[:end], targets[:end]).mean()
        total += cumulative * (end - start)
    return float(total / len(scores))


def topk_accuracy(scores: np.ndarray, labels: np.ndarray,
                  topk: Sequence[int] = (1, 5)) -> Dict[int, float]:
    """Fraction of videos whose label is among the ``k`` best scores.

    Ties are broken towards the lower class id. A ``k`` not below the
    number of classes is not applicable (every video would count as a hit):
    its value is ``nan``, and ``topk_not_applicable`` says why.

    Args:
        scores: ``(N, A)`` class scores.
        labels: ``(N,)`` class ids.
        topk: the ``k`` values.

    Returns:
        ``{k: fraction in [0, 1] or nan}``.
    """
    scores = _check_scores(scores)
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    order = np.argsort(-scores, axis=1, kind='mergesort')
    out = {}
    for k in topk:
        if k >= scores.shape[1] > 0 or not len(labels):
            out[k] = float('nan')
            continue
        hits = (order[:, :k] == labels[:, None]).any(axis=1)
        out[k] = float(hits.mean())
    return out


def topk_not_applicable(topk: Sequence[int], num_classes: int) -> Dict[str, str]:
    """``{'top<k>': reason}`` for every ``k`` not below ``num_classes``.

    Top-k over ``A <= k`` classes counts every video as a hit (1.0 whatever
    the model), so metrics leave such keys out and record this reason;
    logs, results files, reports and tables print "n/a" for them.
    """
    return {f'top{k}': f'top-{k} of {num_classes} classes is always 1'
            for k in topk if k >= num_classes}


def per_class_accuracy(predictions: np.ndarray, labels: np.ndarray,
                       num_classes: int) -> Tuple[np.ndarray, np.ndarray]:
    """Top-1 accuracy and video count per class (``nan`` where no video)."""
    predictions = np.asarray(predictions, dtype=np.int64).reshape(-1)
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    counts = np.bincount(labels, minlength=num_classes).astype(np.int64)
    hits = np.bincount(labels[predictions == labels], minlength=num_classes)
    with np.errstate(invalid='ignore', divide='ignore'):
        accuracy = np.where(counts > 0, hits / np.maximum(counts, 1), np.nan)
    return accuracy, counts


def mean_class_accuracy(predictions: np.ndarray, labels: np.ndarray,
                        num_classes: int) -> float:
    """Mean of per-class accuracy over the classes that have videos.

    mmaction's version also averages in a 0 for classes that are predicted
    but never labelled; here only labelled classes count.
    """
    accuracy, _ = per_class_accuracy(predictions, labels, num_classes)
    defined = accuracy[~np.isnan(accuracy)]
    return float(defined.mean()) if defined.size else float('nan')


def softmax(values: np.ndarray, axis: int = -1) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    shifted = np.exp(values - values.max(axis=axis, keepdims=True))
    return shifted / shifted.sum(axis=axis, keepdims=True)
