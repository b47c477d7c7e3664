"""MMAction2 datasets that read a bike-bench manifest.

Two things differ from mmaction's ``VideoDataset`` on purpose:
- a sample that cannot be read is never replaced by another one (MMEngine's
  ``BaseDataset`` re-draws a random index in training); it raises, or with
  ``on_error='skip'`` is dropped from its batch and counted;
- training augmentation is seeded per (sampler seed, epoch, index) through
  ``SeededSampler``, so results do not depend on worker count and a resumed
  run sees exactly the crops an uninterrupted one would.
"""
from __future__ import annotations

import contextlib
import hashlib
import random
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.dataset import DefaultSampler

from mmaction.datasets import BaseActionDataset
from mmaction.registry import DATASETS, DATA_SAMPLERS

from bike_bench.datasets.class_table import resolve_class_names
from bike_bench.datasets.manifest import Manifest, ManifestError, read_manifest
from bike_bench.datasets.transforms.decoding import VideoReadError


class SampleIndex(int):
    """A dataset index that also carries the seed for its augmentation."""

    def __new__(cls, index: int, aug_seed: int):
        obj = super().__new__(cls, index)
        obj.aug_seed = aug_seed
        return obj

    def __reduce__(self):
        return (SampleIndex, (int(self), self.aug_seed))


def augmentation_seed(seed: int, epoch: int, index: int) -> int:
    digest = hashlib.blake2b(f'{seed}:{epoch}:{index}'.encode(), digest_size=8)
    return int.from_bytes(digest.digest(), 'little') % (2 ** 31)


@DATA_SAMPLERS.register_module()
class SeededSampler(DefaultSampler):
    """``DefaultSampler`` whose indices carry a per-(epoch, index) seed."""

    def __iter__(self) -> Iterator[int]:
        for index in super().__iter__():
            yield SampleIndex(index, augmentation_seed(self.seed, self.epoch, index))


@contextlib.contextmanager
def seeded_random_state(seed: Optional[int]):
    """Seed python, numpy and torch RNGs inside the block, restore after."""
    if seed is None:
        yield
        return
    py_state, np_state = random.getstate(), np.random.get_state()
    torch_state = torch.random.get_rng_state()
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    try:
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
        torch.random.set_rng_state(torch_state)


@DATASETS.register_module()
class ManifestVideoDataset(BaseActionDataset):
    """Videos or frame folders listed in a bike-bench manifest.

    Args:
        ann_file: the manifest (``.jsonl``).
        pipeline: transforms.
        media_root: folder the entry paths are relative to; defaults to the
            manifest's own ``data_root``.
        class_table: optional class table (path or names) the manifest's
            classes must equal — a mismatch is an error naming both.
        on_error: ``'raise'`` (default) or ``'skip'``: an unreadable sample is
            dropped from its batch and reported (``skip_aware_collate`` and
            the loops in ``bike_bench.evaluation.skipping``); never
            replaced by another sample.
        test_mode: evaluation dataset.
    """

    def __init__(self, ann_file: str, pipeline: List[Union[dict, Callable]],
                 media_root: Optional[str] = None,
                 class_table: Optional[Union[str, Sequence[str]]] = None,
                 on_error: str = 'raise', test_mode: bool = False, **kwargs):
        if on_error not in ('raise', 'skip'):
            raise ValueError(f'on_error must be raise or skip, not {on_error!r}')
        self.media_root = media_root
        self.expected_classes = class_table
        self.on_error = on_error
        self.manifest: Optional[Manifest] = None
        self._manifest = read_manifest(ann_file)
        if not self._manifest.entries:
            raise ManifestError(f'{ann_file}: the manifest has no entries (an '
                                'empty split): nothing to train or evaluate on')
        self._check_classes(ann_file)
        kwargs.setdefault('metainfo', {})
        kwargs['metainfo'] = dict(kwargs['metainfo'],
                                  classes=tuple(self._manifest.classes))
        super().__init__(ann_file, pipeline=pipeline, test_mode=test_mode,
                         multi_class=self._manifest.multi_label,
                         num_classes=self._manifest.num_classes, **kwargs)

    def _check_classes(self, ann_file: str) -> None:
        if self.expected_classes is None:
            return
        expected = resolve_class_names(self.expected_classes)
        source = self.expected_classes if isinstance(self.expected_classes, str) \
            else 'the configured class list'
        actual = self._manifest.classes
        if expected != actual:
            detail = (f'{len(actual)} vs {len(expected)} classes'
                      if len(expected) != len(actual) else
                      'first difference at class id '
                      f'{next(i for i, (a, b) in enumerate(zip(actual, expected)) if a != b)}')
            raise ValueError(f'class list of {ann_file} does not match '
                             f'{source} ({detail})')

    def load_data_list(self) -> List[Dict]:
        manifest = self._manifest
        self.manifest = manifest
        data_list = []
        for entry in manifest.entries:
            location = manifest.entry_location(entry, self.media_root)
            info = dict(label=entry.label, path=entry.path, video_id=entry.id or entry.path)
            if entry.is_frame_folder:
                info.update(frame_dir=location, total_frames=entry.num_frames,
                            filename_tmpl=entry.filename_tmpl,
                            frame_start_index=entry.start_index)
            else:
                info.update(filename=location)
            if entry.segment is not None:
                info.update(segment=entry.segment, fps=entry.fps)
            data_list.append(info)
        return data_list

    @property
    def metainfo(self) -> dict:
        meta = dict(super().metainfo)
        if self.manifest is not None:
            meta.update(manifest=self.manifest.path,
                        manifest_hash=self.manifest.content_hash,
                        dataset=self.manifest.dataset,
                        split=self.manifest.split)
        return meta

    def get_data_info(self, idx: int) -> dict:
        info = super().get_data_info(idx)
        # Frame folders number their files from the manifest's start index
        # (mmaction sets one index for the whole dataset); decoded videos
        # count from 0.
        info['start_index'] = info.pop('frame_start_index', 0)
        return info

    def __getitem__(self, idx: int):
        if not self._fully_initialized:
            self.full_init()
        aug_seed = getattr(idx, 'aug_seed', None)
        # MMEngine's ``BaseDataset.__getitem__`` would draw a random other
        # index when the pipeline gives None; here a sample is this entry or
        # an error (or, with ``on_error='skip'``, a record of the skip).
        try:
            with seeded_random_state(aug_seed):
                data = self.prepare_data(int(idx))
        except VideoReadError as error:
            if self.on_error == 'skip':
                return dict(skipped=dict(index=int(idx), path=error.path,
                                         reason=error.reason))
            raise
        if data is None:
            info = self.get_data_info(int(idx))
            where = info.get('filename') or info.get('frame_dir') or f'entry {int(idx)}'
            raise RuntimeError(
                f'{where}: a transform of the pipeline returned None (dropped '
                'the sample); bike-bench never replaces a sample by another, '
                'so remove the filtering transform or the entry from the manifest')
        return data
