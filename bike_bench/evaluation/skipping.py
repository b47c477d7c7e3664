"""Unreadable videos: dropped from their batch, carried along, and counted.

``ManifestVideoDataset(on_error='skip')`` returns ``{'skipped': {...}}``
for a video it cannot read. ``skip_aware_collate`` keeps those out of the
model's batch and lists them under ``batch['skipped']``; the loops below
hand the batch without that key to the model (and do not call it when the
whole batch was skipped), and the metrics (``VideoRecordMetric``) record the
skipped videos, so results files list them. Without ``on_error='skip'`` an
unreadable video raises ``VideoReadError`` naming it.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Sequence

import torch
from mmengine.dataset import pseudo_collate
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.registry import FUNCTIONS
from mmengine.runner.amp import autocast
from mmengine.runner.loops import TestLoop, ValLoop, _update_losses

from mmaction.registry import HOOKS, LOOPS


def is_skipped(item: Any) -> bool:
    return isinstance(item, dict) and set(item) == {'skipped'}


@FUNCTIONS.register_module()
def skip_aware_collate(data_batch: Sequence[Any]) -> Dict[str, Any]:
    """``pseudo_collate`` of the readable samples; skipped ones under ``skipped``."""
    kept = [item for item in data_batch if not is_skipped(item)]
    skipped = [item['skipped'] for item in data_batch if is_skipped(item)]
    batch = pseudo_collate(kept) if kept else dict(inputs=[], data_samples=[])
    if skipped:
        batch['skipped'] = skipped
    return batch


def model_batch(data_batch: Dict[str, Any]) -> Dict[str, Any]:
    """The batch as the model takes it (without the skipped list)."""
    return {key: value for key, value in data_batch.items() if key != 'skipped'}


def _has_samples(batch: Dict[str, Any]) -> bool:
    return len(batch.get('data_samples') or batch.get('inputs') or []) > 0


@LOOPS.register_module()
class SkipAwareValLoop(ValLoop):
    """``ValLoop`` for batches from ``skip_aware_collate``."""

    @torch.no_grad()
    def run_iter(self, idx, data_batch: Dict[str, Any]) -> None:
        self.runner.call_hook('before_val_iter', batch_idx=idx, data_batch=data_batch)
        batch = model_batch(data_batch)
        outputs: List[Any] = []
        if _has_samples(batch):
            with autocast(enabled=self.fp16):
                outputs = self.runner.model.val_step(batch)
            outputs, self.val_loss = _update_losses(outputs, self.val_loss)
        self.evaluator.process(data_samples=outputs, data_batch=data_batch)
        self.runner.call_hook('after_val_iter', batch_idx=idx,
                              data_batch=data_batch, outputs=outputs)


@LOOPS.register_module()
class SkipAwareTestLoop(TestLoop):
    """``TestLoop`` for batches from ``skip_aware_collate``."""

    @torch.no_grad()
    def run_iter(self, idx, data_batch: Dict[str, Any]) -> None:
        self.runner.call_hook('before_test_iter', batch_idx=idx, data_batch=data_batch)
        batch = model_batch(data_batch)
        outputs: List[Any] = []
        if _has_samples(batch):
            with autocast(enabled=self.fp16):
                outputs = self.runner.model.test_step(batch)
            outputs, self.test_loss = _update_losses(outputs, self.test_loss)
        self.evaluator.process(data_samples=outputs, data_batch=data_batch)
        self.runner.call_hook('after_test_iter', batch_idx=idx,
                              data_batch=data_batch, outputs=outputs)


@HOOKS.register_module()
class SkippedTrainingSamplesHook(Hook):
    """Training with ``on_error='skip'``: drop skipped samples, log them.

    The model never sees them; every skipped file is named in the log, and
    a batch with nothing left is an error (there is nothing to train on).
    """

    priority = 'HIGHEST'

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        if not isinstance(data_batch, dict) or 'skipped' not in data_batch:
            return
        skipped = data_batch.pop('skipped')
        for item in skipped:
            print_log(f'skipped unreadable training video {item.get("path")}: '
                      f'{item.get("reason")}', logger='current',
                      level=logging.WARNING)
        if not _has_samples(data_batch):
            raise RuntimeError(f'iteration {runner.iter + 1}: every video of the '
                               'batch was unreadable: '
                               + ', '.join(str(i.get('path')) for i in skipped))
