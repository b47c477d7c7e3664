"""Segment arithmetic: which ``[start_s, end_s]`` instances hold frames.

One set of rules for the builders (ActivityNet, Charades), ``manifests
check`` and the frame sampler, so that a segment is refused at build time
for the same reasons it would fail at load time:

- ``segment_problem``: what the annotation alone says (not two finite
  numbers, negative start, empty (end == start), reversed (end < start),
  starting at or after the annotated duration, shorter than one frame at
  ``MAX_FPS``);
- ``segment_frames_problem``: with the frame rate and frame count of the
  media (entry ``fps`` of frame folders, or the decoded video's), whether
  the official loader's arithmetic (``sampling.segment_range``) leaves at
  least one frame, e.g. ``[0.01, 0.02]`` at 8 fps or ``[300, 310]`` in a
  4 s video do not.

Segments that end after the annotated duration but start inside it are
kept: the official loaders clip the end to the video's length.
"""
from __future__ import annotations

import math
from typing import Optional, Sequence
from bike_bench.datasets.transforms.sampling import SegmentError, segment_range

# Above any frame rate of the benchmark videos: a segment shorter than one
# frame at this rate holds no frame whatever the video's rate.
MAX_FPS = 60.0


def _fmt(value: float) -> str:
    return f'{value:g}'


def segment_problem(segment: Sequence, duration: Optional[float] = None) -> Optional[str]:
    """Why ``segment`` cannot hold a frame, from the annotation alone, or None.

    Args:
        segment: ``[start_s, end_s]`` in seconds.
        duration: the annotated duration of the video in seconds, if known.
    """
    if not isinstance(segment, (list, tuple)) or len(segment) != 2:
        return f'segment {segment!r} is not [start, end]'
    try:
        start, end = float(segment[0]), float(segment[1])
    except (TypeError, ValueError):
        return f'segment {list(segment)} is not two numbers'
    shown = f'[{_fmt(start)}, {_fmt(end)}]'
    if not (math.isfinite(start) and math.isfinite(end)):
        return f'segment {shown} is not finite'
    if start < 0:
        return f'segment {shown} starts before the video'
    if end == start:
        return f'segment {shown} is empty (end == start)'
    if end < start:
        return f'segment {shown} is reversed (end < start)'
    if duration is not None and float(duration) > 0 and start >= float(duration):
        return (f'segment {shown} starts after the annotated duration '
                f'{_fmt(float(duration))} s')
    if end - start < 1.0 / MAX_FPS:
        return (f'segment {shown} is shorter than one frame at {_fmt(MAX_FPS)} fps '
                f'({_fmt(end - start)} s)')
    return None


def segment_frames_problem(segment: Sequence, fps: Optional[float],
                           total_frames: Optional[int]) -> Optional[str]:
    """Why ``segment`` has no frame of a video of ``total_frames`` frames at
    ``fps`` (the sampler's arithmetic), or None (also when either is unknown)."""
    problem = segment_problem(segment)
    if problem:
        return problem
    if not fps or not total_frames:
        return None
    try:
        segment_range(int(total_frames), segment, float(fps))
    except SegmentError as error:
        return error.reason
    return None
