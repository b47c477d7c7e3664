"""Stacked uint8 batches: same normalised values as mmaction's list path."""
from __future__ import annotations

import pytest
import torch

from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.registry import FUNCTIONS

from bike_bench.datasets.fast_loading import DevicePrefetcher, stack_collate
import bike_bench.models  # noqa: F401  (registers CLIPDataPreprocessor)


def batch(n=3, shape=(2, 3, 4, 8, 8)):
    gen = torch.Generator().manual_seed(0)
    return [{'inputs': torch.randint(0, 256, shape, generator=gen, dtype=torch.uint8),
             'data_samples': ActionDataSample().set_gt_label(i)} for i in range(n)]


def test_stack_collate_stacks_equal_shapes_only():
    assert FUNCTIONS.get('stack_collate') is stack_collate
    stacked = stack_collate(batch())
    assert stacked['inputs'].shape == (3, 2, 3, 4, 8, 8)
    assert stacked['inputs'].dtype == torch.uint8
    assert len(stacked['data_samples']) == 3
    ragged = batch(2) + batch(1, shape=(2, 3, 4, 8, 6))
    assert isinstance(stack_collate(ragged)['inputs'], list)


def test_stacked_path_equals_the_list_path():
    from mmengine.dataset import pseudo_collate
    items = batch()
    official = MODELS.build(dict(type='CLIPDataPreprocessor'))
    reference = official(pseudo_collate(items))['inputs']
    fast = official(stack_collate(items))['inputs']
    assert fast.dtype == torch.float32
    assert torch.equal(fast, reference)  # bit for bit
    half = MODELS.build(dict(type='CLIPDataPreprocessor', compute_dtype='bfloat16'))
    rounded = half(stack_collate(items))['inputs']
    assert rounded.dtype == torch.bfloat16
    assert torch.equal(rounded, reference.to(torch.bfloat16))


def test_prefetcher_yields_every_batch_in_order():
    preprocess = MODELS.build(dict(type='CLIPDataPreprocessor'))
    loader = [stack_collate(batch()), stack_collate(batch(2))]
    got = list(DevicePrefetcher(loader, preprocess, torch.device('cpu')))
    assert [len(d['data_samples']) for d in got] == [3, 2]
    assert torch.equal(got[0]['inputs'], preprocess(stack_collate(batch()))['inputs'])


def test_bad_compute_dtype_is_named():
    with pytest.raises(ValueError, match="compute_dtype must be one of"):
        MODELS.build(dict(type='CLIPDataPreprocessor', compute_dtype='int8'))
