"""The official training-trajectory fixture: reading and checking it, and
its fixed batches as a dataset.

A trajectory fixture (``training_trajectory.pt``, made by the official BIKE
``train.py`` on a tiny CLIP) holds the initial weights in the release
layout, fixed batches, the settings, per-iteration losses and learning rates,
and the final weights (``bike_bench.tools.parity_train`` replays it).
"""
from __future__ import annotations

import os
from typing import Any, Dict, Mapping

import torch
from mmaction.registry import DATASETS
from mmaction.structures import ActionDataSample
from torch.utils.data import Dataset

REQUIRED_KEYS = ('settings', 'classes', 'init_official_format', 'frames', 'labels',
                 'text_tokens', 'steps', 'final_model_state_dict',
                 'final_fusion_model_state_dict')
REQUIRED_SETTINGS = ('epochs', 'warmup_epochs', 'iters_per_epoch', 'batch', 'frames',
                     'lr', 'clip_ratio', 'weight_decay', 'grad_accumulation_steps',
                     'loss', 'template')


class FixtureError(ValueError):
    """A trajectory fixture that is missing or incomplete (names what)."""


def load_trajectory(path: str) -> Dict[str, Any]:
    """Read and check a trajectory fixture (``weights_only``).

    Raises:
        FixtureError: the file is absent, unreadable, or lacks an entry or a
            setting, or its tensors disagree with its settings.
    """
    if not os.path.isfile(path):
        raise FixtureError(f'trajectory fixture not found: {path}')
    try:
        data = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as error:  # noqa: BLE001 - any unreadable file
        raise FixtureError(f'{path} is not a readable trajectory fixture '
                           f'({type(error).__name__}: {error})') from None
    if not isinstance(data, Mapping):
        raise FixtureError(f'{path} is not a trajectory fixture (not a dict)')
    missing = [k for k in REQUIRED_KEYS if k not in data]
    if missing:
        raise FixtureError(f'{path} lacks {", ".join(missing)}')
    settings = data['settings']
    missing = [k for k in REQUIRED_SETTINGS if k not in settings]
    if missing:
        raise FixtureError(f'{path}: settings lack {", ".join(missing)}')
    iters, batch, frames = (settings['iters_per_epoch'], settings['batch'],
                            settings['frames'])
    shape = tuple(data['frames'].shape)
    if shape[:3] != (iters, batch, frames) or len(shape) != 6:
        raise FixtureError(f'{path}: frames are {shape}, settings say '
                           f'{iters} iterations x {batch} videos x {frames} frames')
    if tuple(data['labels'].shape) != (iters, batch):
        raise FixtureError(f'{path}: labels are {tuple(data["labels"].shape)}, '
                           f'expected ({iters}, {batch})')
    if len(data['steps']) != settings['epochs'] * iters:
        raise FixtureError(f'{path}: {len(data["steps"])} recorded steps, expected '
                           f'{settings["epochs"]} epochs x {iters} iterations')
    if settings['loss'] not in ('NCE', 'DS'):
        raise FixtureError(f'{path}: unknown loss {settings["loss"]!r} (NCE or DS)')
    return dict(data)


@DATASETS.register_module()
class TrajectoryBatchesDataset(Dataset):
    """The fixed batches of a trajectory fixture, one video per item.

    Item ``b * batch + k`` is video ``k`` of batch ``b``: with a sequential
    sampler and the fixture's batch size, every epoch yields the fixture's
    batches in order. ``inputs`` is ``(1, 3, T, H, W)`` float32, already
    normalised (feed it through a data preprocessor with mean 0, std 1).
    """

    def __init__(self, fixture: str):
        data = load_trajectory(fixture)
        frames = data['frames'].float()  # (I, B, T, 3, H, W)
        self.frames = frames.flatten(0, 1).permute(0, 2, 1, 3, 4).contiguous()
        self.labels = data['labels'].flatten().long()
        self.metainfo = dict(classes=list(data['classes']),
                             manifest=f'trajectory fixture {fixture}')

    def __len__(self) -> int:
        return self.labels.numel()

    def __getitem__(self, index: int) -> dict:
        sample = ActionDataSample()
        sample.set_gt_label(self.labels[index:index + 1])
        return dict(inputs=self.frames[index].unsqueeze(0), data_samples=sample)
