"""Per-video records that count every video exactly once, on any number of ranks.

MMEngine's ``BaseMetric.evaluate`` interleaves the ranks' results and cuts
the list at the dataset size, which assumes every rank produced one result
per sampler index in order. That breaks once unreadable videos are skipped
(a rank then has fewer results, and the cut drops real videos instead of the
sampler's padding). Here every record carries its dataset index
(``sample_idx``): records are gathered whole, padding repeats are removed by
index, and the counts are checked against the dataset length.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
from mmengine.dist import (broadcast_object_list, collect_results,
                           get_world_size, is_main_process)
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log


class CountMismatchError(RuntimeError):
    """The gathered records do not cover the dataset exactly once."""


def _index(record: Dict[str, Any]) -> Optional[int]:
    index = record.get('index')
    return None if index is None else int(index)


def merge_records(records: Sequence[Dict[str, Any]], size: int) -> List[Dict[str, Any]]:
    """One record per dataset index ``0..size-1``, sorted by index.

    Records without an index (a pipeline that does not pack ``sample_idx``)
    are taken in gathered order and cut at ``size``, as MMEngine does.

    Raises:
        CountMismatchError: an index outside the dataset, or one never seen.
    """
    if any(_index(record) is None for record in records):
        if get_world_size() > 1:
            print_log('records carry no sample_idx; counting them in gathered '
                      'order (add "sample_idx" to PackActionInputs meta_keys)',
                      logger='current', level=logging.WARNING)
        return list(records)[:size]
    merged: Dict[int, Dict[str, Any]] = {}
    for record in records:
        index = _index(record)
        if not 0 <= index < size:
            raise CountMismatchError(f'record for dataset index {index} outside '
                                     f'the {size} videos evaluated')
        # Padding repeats a video: keep the first, prefer a scored record.
        if index not in merged or ('skipped' in merged[index] and 'skipped' not in record):
            merged[index] = record
    missing = size - len(merged)
    if missing:
        absent = sorted(set(range(size)) - set(merged))[:5]
        raise CountMismatchError(f'{missing} of {size} videos produced no result '
                                 f'(e.g. dataset indices {absent})')
    return [merged[index] for index in sorted(merged)]


def gather_records(local: List[Dict[str, Any]], size: int,
                   collect_device: str = 'cpu',
                   collect_dir: Optional[str] = None) -> Optional[List[Dict[str, Any]]]:
    """Every rank's records, one per dataset index, in dataset order.

    The one place where bike-bench gathers per-video outputs across ranks:
    the metrics (``VideoRecordMetric``), every other metric and the dumps
    (through ``SampleIndexEvaluator``) and the zero-shot loop all go
    through it. Everything is gathered (no cut at ``size``) and
    ``merge_records`` removes the sampler's padding by dataset index, so a
    skipped video that leaves the ranks uneven cannot let a padding copy
    in. Returns the list on the main process, ``None`` on the others.
    """
    if collect_device == 'cpu':
        gathered = collect_results(local, None, 'cpu', tmpdir=collect_dir)
    else:
        gathered = collect_results(local, None, collect_device)
    if not is_main_process():
        return None
    return merge_records(gathered, size)


class VideoRecordMetric(BaseMetric):
    """Base of bike-bench metrics: one record per video or skipped video.

    Subclasses implement ``compute(scores, labels, records)`` and may put
    per-class results in ``self.details['per_class']``. After ``evaluate``,
    ``self.details`` (main process) holds ``counts`` (expected, evaluated,
    skipped), the ``skipped`` list and any per-class results; the results
    file is written from it.
    """

    def __init__(self, collect_device: str = 'cpu', prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix,
                         collect_dir=collect_dir)
        self.details: Dict[str, Any] = {}

    @property
    def options(self) -> Dict[str, Any]:
        """The metric's settings, recorded in results files."""
        return {}

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            score = sample['pred_score']
            label = sample['gt_label']
            self.results.append(dict(
                index=sample.get('sample_idx'),
                score=np.asarray(score.detach().cpu() if hasattr(score, 'detach')
                                 else score, dtype=np.float32),
                label=np.asarray(label.detach().cpu() if hasattr(label, 'detach')
                                 else label).reshape(-1)))
        skipped = data_batch.get('skipped', ()) if isinstance(data_batch, dict) else ()
        for item in skipped:
            self.results.append(dict(index=item.get('index'), skipped=dict(
                path=item.get('path'), reason=item.get('reason'))))

    def evaluate(self, size: int) -> dict:
        records = gather_records(self.results, size, self.collect_device,
                                 self.collect_dir)
        metrics: List[Optional[dict]] = [None]
        if is_main_process():
            metrics = [self._summarise(records, size)]
        broadcast_object_list(metrics)
        self.results.clear()
        return metrics[0]

    def _summarise(self, records: List[Dict[str, Any]], size: int) -> dict:
        scored = [r for r in records if 'skipped' not in r]
        skipped = [dict(index=_index(r), **r['skipped']) for r in records
                   if 'skipped' in r]
        self.details = dict(
            counts=dict(expected=size, evaluated=len(scored), skipped=len(skipped)),
            skipped=skipped, per_class={}, options=self.options,
            metric=type(self).__name__)
        if len(scored) + len(skipped) != size:
            raise CountMismatchError(f'{len(scored)} evaluated + {len(skipped)} '
                                     f'skipped videos for a dataset of {size}')
        if not scored:
            raise CountMismatchError('every video was skipped: nothing to evaluate')
        scores = np.stack([r['score'] for r in scored]).astype(np.float64)
        labels = [r['label'] for r in scored]
        values = self.compute(scores, labels, scored)
        if self.prefix:
            values = {f'{self.prefix}/{key}': value for key, value in values.items()}
        return values

    def compute_metrics(self, results: list) -> dict:  # pragma: no cover
        raise NotImplementedError('VideoRecordMetric computes in evaluate()')

    def compute(self, scores: np.ndarray, labels: List[np.ndarray],
                records: List[Dict[str, Any]]) -> Dict[str, float]:
        raise NotImplementedError

    # ------------------------------------------------------------- helpers
    def class_names(self, num_classes: int) -> List[str]:
        classes = (self.dataset_meta or {}).get('classes')
        if classes and len(classes) == num_classes:
            return [str(name) for name in classes]
        return [str(i) for i in range(num_classes)]


def log_not_applicable(not_applicable: Dict[str, str]) -> None:
    """One log line per reason for the metrics left out as not applicable
    (e.g. ``acc/top5: n/a (top-5 of 4 classes is always 1)``), where the
    metric line would otherwise show 1.0000."""
    by_reason: Dict[str, List[str]] = {}
    for name, reason in not_applicable.items():
        by_reason.setdefault(reason, []).append(name)
    for reason, names in by_reason.items():
        print_log(f'{", ".join(names)}: n/a ({reason})', logger='current',
                  level=logging.INFO)


def single_labels(labels: List[np.ndarray], metric: str) -> np.ndarray:
    """Class ids ``(N,)``; an error for multi-label targets."""
    if any(label.size != 1 for label in labels):
        raise ValueError(f'{metric} needs one label per video; this dataset is '
                         'multi-label (use MeanAPMetric / CharadesMAPMetric)')
    return np.array([int(label[0]) for label in labels], dtype=np.int64)


def target_matrix(labels: List[np.ndarray], num_classes: int) -> np.ndarray:
    """``(N, A)`` 0/1 targets from class ids or one-/multi-hot vectors."""
    if all(label.size == 1 for label in labels) and num_classes > 1:
        ids = np.array([int(label[0]) for label in labels], dtype=np.int64)
        hot = np.zeros((len(ids), num_classes), np.int64)
        hot[np.arange(len(ids)), ids] = 1
        return hot
    matrix = np.stack([label.astype(np.float64) for label in labels])
    if matrix.shape[1] != num_classes:
        raise ValueError(f'multi-hot targets of {matrix.shape[1]} classes for '
                         f'scores of {num_classes}')
    return (matrix > 0.5).astype(np.int64)
