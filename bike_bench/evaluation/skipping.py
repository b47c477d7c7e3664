"""Unreadable videos: dropped from their batch, carried along, and counted.

``ManifestVideoDataset(on_error='skip')`` returns ``{'skipped': {...}}``
for a video it cannot read. ``skip_aware_collate`` keeps those out of the
model's batch and lists them under ``batch['skipped']``; the loops below
hand the batch without that key to the model (and do not call it when the
whole batch was skipped). In evaluation the metrics (``VideoRecordMetric``)
record the skipped videos, so results files list them; in training
``SkippedTrainingSamplesHook`` warns and records them in
``<work_dir>/skipped_samples.json`` (``prepare_train_skipping`` sets this
up). Without ``on_error='skip'`` an unreadable video raises
``VideoReadError`` naming it.
"""
from __future__ import annotations

import json
import logging
import os
from typing import Any, Dict, List, Optional, Sequence

import torch
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.registry import FUNCTIONS
from mmengine.runner.amp import autocast
from mmengine.runner.loops import EpochBasedTrainLoop, TestLoop, ValLoop

from mmaction.registry import HOOKS, LOOPS
from bike_bench.datasets.fast_loading import stack_collate
from bike_bench.utils.atomic import atomic_write_json


def is_skipped(item: Any) -> bool:
    return isinstance(item, dict) and set(item) == {'skipped'}


@FUNCTIONS.register_module()
def skip_aware_collate(data_batch: Sequence[Any]) -> Dict[str, Any]:
    """``stack_collate`` of the readable samples (their uint8 clips stacked into
    one tensor when they share a shape, which the data preprocessor copies
    to the device at once); skipped ones under ``skipped``."""
    kept = [item for item in data_batch if not is_skipped(item)]
    skipped = [item['skipped'] for item in data_batch if is_skipped(item)]
    batch = stack_collate(kept) if kept else dict(inputs=[], data_samples=[])
    if skipped:
        batch['skipped'] = skipped
    return batch


def model_batch(data_batch: Dict[str, Any]) -> Dict[str, Any]:
    """The batch as the model takes it (without the skipped list)."""
    return {key: value for key, value in data_batch.items() if key != 'skipped'}


def _has_samples(batch: Dict[str, Any]) -> bool:
    return len(batch.get('data_samples') or batch.get('inputs') or []) > 0


# MMEngine has no hook between collate and ``model.val_step``/``test_step``
# that could keep a skipped video out of the model's batch, so the loops
# below override the public ``run_iter``. BIKE's models return no loss in
# predict mode, so MMEngine's loss bookkeeping there (a private helper) is
# not repeated.
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
        self.evaluator.process(data_samples=outputs, data_batch=data_batch)
        self.runner.call_hook('after_test_iter', batch_idx=idx,
                              data_batch=data_batch, outputs=outputs)


SKIPPED_FILE = 'skipped_samples.json'


@HOOKS.register_module()
class SkippedTrainingSamplesHook(Hook):
    """Training with ``on_error='skip'``: drop skipped samples, warn, record.

    The model never sees them. Every skipped file is named in the log and
    recorded (epoch, iteration, dataset index, path, reason) in
    ``<work_dir>/skipped_samples.json`` (rank r > 0:
    ``skipped_samples.rank<r>.json``), rewritten atomically whenever
    something is skipped, so a killed job keeps its record. A resumed run
    keeps the records of the epochs its checkpoint completed. Iterations
    whose batch was entirely unreadable are listed too (no update is made
    in them; ``SkipAwareEpochBasedTrainLoop``).

    Args:
        filename: the record's file name in the work dir.
    """

    priority = 'HIGHEST'

    def __init__(self, filename: str = SKIPPED_FILE):
        self.filename = filename
        self.records: List[Dict[str, Any]] = []
        self.empty_iterations: List[Dict[str, int]] = []

    def record_path(self, runner) -> str:
        from mmengine.dist import get_rank
        rank = get_rank()
        name = self.filename if rank == 0 else \
            self.filename.replace('.json', f'.rank{rank}.json')
        return os.path.join(runner.work_dir, name)

    def before_train(self, runner) -> None:
        self.records, self.empty_iterations = [], []
        path = self.record_path(runner)
        if runner.iter > 0 and os.path.isfile(path):
            # Resumed: what the completed epochs skipped still counts; the
            # interrupted epoch is run again and records itself again.
            with open(path, 'r', encoding='utf-8') as handle:
                previous = json.load(handle)
            self.records = [r for r in previous.get('skipped', [])
                            if r['epoch'] <= runner.epoch]
            self.empty_iterations = [r for r in previous.get('empty_iterations', [])
                                     if r['epoch'] <= runner.epoch]
        self._write(runner)

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        if not isinstance(data_batch, dict) or 'skipped' not in data_batch:
            return
        skipped = data_batch.pop('skipped')
        for item in skipped:
            print_log(f'skipped unreadable training video {item.get("path")}: '
                      f'{item.get("reason")} (iteration {runner.iter + 1})',
                      logger='current', level=logging.WARNING)
            self.records.append(dict(epoch=runner.epoch + 1, iter=runner.iter + 1,
                                     index=item.get('index'), path=item.get('path'),
                                     reason=item.get('reason')))
        if not _has_samples(data_batch):
            print_log(f'iteration {runner.iter + 1}: every video of the batch was '
                      'unreadable; no update in this iteration', logger='current',
                      level=logging.WARNING)
            self.empty_iterations.append(dict(epoch=runner.epoch + 1,
                                              iter=runner.iter + 1))
        self._write(runner)

    def after_train_epoch(self, runner) -> None:
        # ``runner.epoch`` is still the 0-based index of the finished epoch.
        count = sum(r['epoch'] == runner.epoch + 1 for r in self.records)
        if count:
            print_log(f'epoch {runner.epoch + 1}: {count} unreadable training '
                      f'video(s) skipped, listed in {self.record_path(runner)}',
                      logger='current', level=logging.WARNING)

    def _write(self, runner) -> None:
        dataset = runner.train_dataloader.dataset
        meta = getattr(dataset, 'metainfo', {}) or {}
        atomic_write_json(self.record_path(runner), dict(
            bike_bench_skipped_samples=1, manifest=meta.get('manifest'),
            manifest_hash=meta.get('manifest_hash'), count=len(self.records),
            unique_videos=len({r['path'] for r in self.records}),
            empty_iterations=self.empty_iterations, skipped=self.records))


def _all_ranks_have_samples(batch: Dict[str, Any]) -> bool:
    """Whether every rank's batch kept a sample (one small all-reduce)."""
    from mmengine.dist import all_reduce, get_world_size
    has = _has_samples(batch)
    if get_world_size() == 1:
        return has
    flag = torch.tensor([1 if has else 0])
    all_reduce(flag, op='min')
    return bool(flag.item())


@LOOPS.register_module()
class SkipAwareEpochBasedTrainLoop(EpochBasedTrainLoop):
    """``EpochBasedTrainLoop`` for batches from ``skip_aware_collate``.

    ``SkippedTrainingSamplesHook`` takes the skipped samples out of the
    batch (``before_train_iter``). An iteration where a batch kept no
    sample (on any rank) makes no update on every rank, but still counts as
    an iteration, so schedules, checkpoints and resuming stay aligned with
    the sampler.
    """

    def run_iter(self, idx, data_batch: Dict[str, Any]) -> None:
        self.runner.call_hook('before_train_iter', batch_idx=idx, data_batch=data_batch)
        if isinstance(data_batch, dict) and 'skipped' in data_batch:
            raise RuntimeError('skipped samples reached the training step: '
                               'SkippedTrainingSamplesHook is missing '
                               '(prepare_train_skipping adds it)')
        outputs: Optional[Dict[str, Any]] = None
        if _all_ranks_have_samples(data_batch):
            outputs = self.runner.model.train_step(
                data_batch, optim_wrapper=self.runner.optim_wrapper)
        else:
            if _has_samples(data_batch):
                print_log(f'iteration {self.runner.iter + 1}: the batch of another '
                          'rank was entirely unreadable; no update in this '
                          'iteration', logger='current', level=logging.WARNING)
            # Keep the accumulation counter in step with the iteration, with
            # the public call a resumed run uses to set it.
            wrapper = self.runner.optim_wrapper
            if hasattr(wrapper, 'initialize_count_status'):
                wrapper.initialize_count_status(self.runner.model,
                                                wrapper.inner_count + 1, self.max_iters)
        self.runner.call_hook('after_train_iter', batch_idx=idx,
                              data_batch=data_batch, outputs=outputs)
        self._iter += 1


def prepare_train_skipping(cfg, skip: bool = True) -> bool:
    """Set how unreadable training videos are handled, in place.

    ``skip=True``: they are left out of their batch, named in the log and
    recorded in ``<work_dir>/skipped_samples.json`` (dataset
    ``on_error='skip'``, ``skip_aware_collate``,
    ``SkipAwareEpochBasedTrainLoop``, ``SkippedTrainingSamplesHook``).
    ``skip=False``: the first one stops training with ``VideoReadError``
    naming it. Returns whether skipping is in effect (only a
    ``ManifestVideoDataset`` can skip).
    """
    loader = cfg.get('train_dataloader')
    if not loader or loader.get('dataset', {}).get('type') != 'ManifestVideoDataset':
        return False
    loader['dataset']['on_error'] = 'skip' if skip else 'raise'
    if not skip:
        return False
    collate = loader.get('collate_fn')
    if collate and dict(collate).get('type') not in ('pseudo_collate',
                                                     'skip_aware_collate'):
        raise ValueError(f'train_dataloader uses collate_fn {collate}; skipping '
                         'unreadable videos needs skip_aware_collate')
    loader['collate_fn'] = dict(type='skip_aware_collate')
    loop = dict(cfg.get('train_cfg') or {})
    if loop.get('type', 'EpochBasedTrainLoop') not in (
            'EpochBasedTrainLoop', 'SkipAwareEpochBasedTrainLoop'):
        raise ValueError(f'train_cfg uses the loop {loop["type"]}; skipping '
                         'unreadable videos needs SkipAwareEpochBasedTrainLoop '
                         '(or --fail-on-bad-videos)')
    loop['type'] = 'SkipAwareEpochBasedTrainLoop'
    cfg.train_cfg = loop
    hooks = list(cfg.get('custom_hooks') or [])
    if not any(dict(h).get('type') == 'SkippedTrainingSamplesHook' for h in hooks):
        hooks.append(dict(type='SkippedTrainingSamplesHook'))
    cfg.custom_hooks = hooks
    return True
