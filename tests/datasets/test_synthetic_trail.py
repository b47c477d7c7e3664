"""One frame of a synthetic clip shows its motion's direction (the trail)."""
from __future__ import annotations

import numpy as np

from bike_bench.datasets.synthetic import SyntheticClass, render_scene, render_video


def _frames(motion, trail=True, seed=7):
    # 17 frames: frame 8 is the middle of the motion, where "moving left" and
    # "moving right" put the shape at the same place.
    return render_video(SyntheticClass('red', 'square', motion), seed, 17, trail=trail)


def _red(frame):
    return (frame[..., 0].astype(int) - frame[..., 1:].max(-1)) > 60


def test_without_trail_the_middle_frames_of_left_and_right_are_the_same_picture():
    assert np.array_equal(_frames('moving left', trail=False)[8],
                          _frames('moving right', trail=False)[8])


def test_the_trail_lies_behind_the_moving_shape():
    left, right = _frames('moving left')[8], _frames('moving right')[8]
    assert not np.array_equal(left, right)
    solid = _red(_frames('moving left', trail=False)[8])
    cols = np.flatnonzero(solid.any(0))
    x0, x1 = cols.min(), cols.max()
    # Moving left, it came from the right: faded red right of the shape only.
    tinted_left = np.abs(left.astype(int) - _frames('moving left', trail=False)[8]).sum(-1) > 0
    assert tinted_left[:, x1 + 1:].any() and not tinted_left[:, :x0].any()
    tinted_right = np.abs(right.astype(int) - _frames('moving right', trail=False)[8]).sum(-1) > 0
    assert tinted_right[:, :x0].any() and not tinted_right[:, x1 + 1:].any()


def test_first_frame_has_no_trail_and_shrinking_leaves_a_halo_growing_does_not():
    for motion in ('moving up', 'growing', 'shrinking'):
        assert np.array_equal(_frames(motion)[0], _frames(motion, trail=False)[0])
    assert np.array_equal(_frames('growing')[8], _frames('growing', trail=False)[8])
    assert not np.array_equal(_frames('shrinking')[8], _frames('shrinking', trail=False)[8])


def test_scenes_draw_the_trail_too():
    spec = SyntheticClass('blue', 'circle', 'moving down')
    with_trail = render_scene([(spec, 4, 20)], seed=3, num_frames=24)
    without = render_scene([(spec, 4, 20)], seed=3, num_frames=24, trail=False)
    assert np.array_equal(with_trail[:5], without[:5])  # before and at its start
    assert not np.array_equal(with_trail[12], without[12])
