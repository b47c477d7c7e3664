"""Segment arithmetic shared by the builders, check and the sampler."""
from __future__ import annotations

import pytest

from bike_bench.datasets.segments import segment_frames_problem, segment_problem


@pytest.mark.parametrize('segment, duration, reason', [
    ([1.0, 2.0], 4.0, None),
    ([1.0, 9.0], 4.0, None),  # ends late: clipped at load, kept
    ([2.0, 2.0], None, 'is empty'),
    ([3.0, 1.0], None, 'is reversed'),
    ([-1.0, 1.0], None, 'starts before the video'),
    ([300, 310], 4.0, 'starts after the annotated duration 4 s'),
    ([4.0, 5.0], 4.0, 'starts after the annotated duration'),
    ([0.01, 0.02], None, 'shorter than one frame at 60 fps'),
    ([0.0, float('nan')], None, 'not finite'),
    ([1.0], None, 'is not [start, end]'),
])
def test_segment_problem(segment, duration, reason):
    problem = segment_problem(segment, duration)
    assert (problem is None) if reason is None else (reason in problem)


def test_segment_frames_problem_uses_the_sampler_arithmetic():
    assert segment_frames_problem([0.5, 1.5], 8.0, 16) is None
    assert 'at 8.0 fps has no frames' in segment_frames_problem([0.01, 0.1], 8.0, 16)
    assert "no frames inside the video's 16" in segment_frames_problem([300, 310], 8.0, 16)
    # Unknown rate or length: only the annotation is judged.
    assert segment_frames_problem([300, 310], None, None) is None
