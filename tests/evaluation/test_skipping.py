"""skip_aware_collate and the training hook: skipped samples never reach the model."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from mmaction.structures import ActionDataSample

from bike_bench.evaluation.skipping import (SkippedTrainingSamplesHook, model_batch,
                                            skip_aware_collate)


def good(label):
    return dict(inputs=torch.zeros(1, 3, 2, 4, 4),
                data_samples=ActionDataSample().set_gt_label(label))


def bad(index):
    return dict(skipped=dict(index=index, path=f'v{index}.mp4', reason='file not found'))


def test_collate_keeps_readable_samples_and_lists_skipped_ones():
    batch = skip_aware_collate([good(0), bad(1), good(2)])
    assert len(batch['inputs']) == 2 and len(batch['data_samples']) == 2
    assert batch['skipped'] == [bad(1)['skipped']]
    assert 'skipped' not in model_batch(batch)
    assert 'skipped' not in skip_aware_collate([good(0)])
    empty = skip_aware_collate([bad(3)])
    assert empty['inputs'] == [] and empty['data_samples'] == [] and len(empty['skipped']) == 1


def test_training_hook_drops_skipped_and_refuses_an_empty_batch():
    hook, runner = SkippedTrainingSamplesHook(), SimpleNamespace(iter=4)
    batch = skip_aware_collate([good(0), bad(1)])
    hook.before_train_iter(runner, 0, batch)
    assert 'skipped' not in batch and len(batch['inputs']) == 1
    with pytest.raises(RuntimeError, match='iteration 5: every video.*v2.mp4'):
        hook.before_train_iter(runner, 0, skip_aware_collate([bad(2)]))
