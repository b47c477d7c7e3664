"""skip_aware_collate and the training hook: skipped samples never reach the model."""
from __future__ import annotations

from types import SimpleNamespace

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


def test_training_hook_drops_skipped_records_them_and_lets_an_empty_batch_pass(tmp_path):
    import json
    hook = SkippedTrainingSamplesHook()
    runner = SimpleNamespace(iter=4, epoch=0, work_dir=str(tmp_path),
                             train_dataloader=SimpleNamespace(
                                 dataset=SimpleNamespace(metainfo={})))
    batch = skip_aware_collate([good(0), bad(1)])
    hook.before_train_iter(runner, 0, batch)
    assert 'skipped' not in batch and len(batch['inputs']) == 1
    empty = skip_aware_collate([bad(2)])
    hook.before_train_iter(runner, 0, empty)  # no error: the loop makes no update
    record = json.loads((tmp_path / 'skipped_samples.json').read_text())
    assert [r['path'] for r in record['skipped']] == ['v1.mp4', 'v2.mp4']
    assert record['count'] == 2 and record['empty_iterations'] == [dict(epoch=1, iter=5)]
