"""Frame sampling that reproduces the official BIKE indices (docs/method.md#sampling).

mmaction2's ``SampleFrames`` samples segment centres; the official code
samples segment starts for validation and a linspace of starts for multi-clip
testing, so a dedicated transform is needed. Indices here are 0-based (the
fixtures' 1-based indices minus one).

Entries with a ``segment`` (``[start_s, end_s]``, a trimmed instance of a
longer video, e.g. Charades training actions) are sampled inside it, as the
official Charades loader does: the segment starts at frame
``int(start_s * fps)`` and is ``int(min(end_s, duration) * fps - start_s *
fps)`` frames long; the usual train/val/test indices are taken inside it.
"""
from __future__ import annotations

import random
from typing import List, Tuple

import numpy as np
from mmcv.transforms import BaseTransform

from mmaction.registry import TRANSFORMS

from bike_bench.datasets.transforms.decoding import VideoReadError


def val_indices(num_frames: int, num_segments: int) -> List[int]:
    """Single-view validation: segment starts ``int(tick * x) % n``."""
    tick = num_frames / float(num_segments)
    return [int(tick * x) % num_frames for x in range(num_segments)]


def test_indices(num_frames: int, num_segments: int, num_clips: int) -> List[int]:
    """C temporal clips with starts ``linspace(0, tick - 1, C)`` cast to int."""
    tick = num_frames / float(num_segments)
    starts = np.linspace(0, tick - 1, num=num_clips, dtype=int)
    return [int(start + tick * x) % num_frames
            for start in starts.tolist() for x in range(num_segments)]


def train_indices(num_frames: int, num_segments: int,
                  rng: random.Random | None = None,
                  method: str = 'official') -> List[int]:
    """One random frame per segment.

    ``official``: the Kinetics/UCF/HMDB/ANet loader of the official code —
    segment bounds ``round(s * i)`` with ``s = (n - 1) / T``, a random frame
    in ``[start, end]`` inclusive. ``tsn``: the TSN scheme of the official
    Charades loader — integer ticks ``i * n // T`` and a random
    offset inside each; when ``n <= T`` all frames plus random repeats,
    sorted.
    """
    rng = rng or random
    if method == 'official':
        seg = float(num_frames - 1) / num_segments
        return [rng.randint(int(np.round(seg * i)), int(np.round(seg * (i + 1))))
                for i in range(num_segments)]
    if method == 'tsn':
        if num_frames <= num_segments:
            extra = [rng.randrange(num_frames)
                     for _ in range(num_segments - num_frames)]
            return sorted(list(range(num_frames)) + extra)
        ticks = [i * num_frames // num_segments for i in range(num_segments + 1)]
        return [ticks[i] + rng.randrange(max(1, ticks[i + 1] - ticks[i]))
                for i in range(num_segments)]
    raise ValueError(f'unknown train sampling {method!r}; use official or tsn')


class SegmentError(VideoReadError, ValueError):
    """A segment that holds no frame of its video.

    A ``VideoReadError``, so a dataset with ``on_error='skip'`` skips and
    counts the sample like an unreadable video (training does by default).
    """


def segment_range(total_frames: int, segment, fps: float,
                  where: str = 'video') -> Tuple[int, int]:
    """``(first_frame, num_frames)`` of a ``[start_s, end_s]`` segment.

    Raises:
        SegmentError: (naming ``where``) the segment holds no frame of the
            video, or there is no positive ``fps`` to place it.
    """
    start_s, end_s = float(segment[0]), float(segment[1])
    if not fps or fps <= 0:
        raise SegmentError(where, f'segment {list(segment)} needs a positive '
                           'fps (give "fps" in the manifest entry)')
    if end_s <= start_s:
        raise SegmentError(where, f'segment {list(segment)} ends before it '
                           'starts')
    end_s = min(end_s, total_frames / fps)
    first = int(start_s * fps)
    length = min(int(end_s * fps - start_s * fps), total_frames - first)
    if first < 0 or length < 1:
        raise SegmentError(where, f'segment {list(segment)} at {fps} fps has '
                           f'no frames inside the video\'s {total_frames}')
    return first, length


@TRANSFORMS.register_module()
class BIKESampleFrames(BaseTransform):
    """Choose frame indices the way the official BIKE loaders do.

    Required keys: ``total_frames``; optional ``segment`` + ``fps`` (the
    entry's trimmed instance; without ``fps`` the decoded video's own frame
    rate is used). Added keys: ``frame_inds`` (0-based, offset by
    ``start_index`` for frame folders), ``clip_len``, ``num_clips``,
    ``frame_interval``.

    Args:
        num_segments: frames per clip (T).
        mode: ``'train'`` (random per segment), ``'val'`` (one clip of
            segment starts) or ``'test'`` (``num_clips`` clips).
        num_clips: temporal clips for ``mode='test'``.
        train_sampling: ``'official'`` or ``'tsn'`` (see ``train_indices``).
    """

    def __init__(self, num_segments: int = 8, mode: str = 'val',
                 num_clips: int = 1, train_sampling: str = 'official'):
        if mode not in ('train', 'val', 'test'):
            raise ValueError(f'mode must be train, val or test, not {mode!r}')
        if num_segments < 1 or num_clips < 1:
            raise ValueError('num_segments and num_clips must be >= 1')
        self.num_segments = num_segments
        self.mode = mode
        self.num_clips = num_clips if mode == 'test' else 1
        self.train_sampling = train_sampling

    def transform(self, results: dict) -> dict:
        total = int(results['total_frames'])
        where = results.get('filename') or results.get('frame_dir') or 'video'
        if total < 1:
            raise ValueError(f'{where}: video has no frames')
        first = 0
        if results.get('segment') is not None:
            fps = results.get('fps')
            if not fps and results.get('video_reader') is not None:
                fps = results['video_reader'].get_avg_fps()
            first, total = segment_range(total, results['segment'], fps, where)
        if self.mode == 'train':
            inds = train_indices(total, self.num_segments,
                                 method=self.train_sampling)
        elif self.mode == 'val':
            inds = val_indices(total, self.num_segments)
        else:
            inds = test_indices(total, self.num_segments, self.num_clips)
        results['frame_inds'] = np.asarray(inds, dtype=np.int64) + first + int(
            results.get('start_index', 0))
        results['clip_len'] = self.num_segments
        results['num_clips'] = self.num_clips
        results['frame_interval'] = None
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_segments={self.num_segments}, '
                f'mode={self.mode}, num_clips={self.num_clips}, '
                f'train_sampling={self.train_sampling})')
