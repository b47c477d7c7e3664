"""Official frame indices (docs/method.md#sampling): fixtures, segments,
videos and folders."""
from __future__ import annotations

import random

import numpy as np
import pytest

from mmaction.registry import TRANSFORMS

from bike_bench.datasets.synthetic import render_video, write_frame_folder, write_mp4
from bike_bench.datasets.synthetic import SyntheticClass
from bike_bench.datasets.transforms.sampling import (segment_range,
                                                     train_indices, val_indices)
from bike_bench.datasets.transforms.sampling import test_indices as clip_indices


def sample(mode, total, num_segments=8, num_clips=1, **extra):
    transform = TRANSFORMS.build(dict(type='BIKESampleFrames', mode=mode,
                                      num_segments=num_segments,
                                      num_clips=num_clips))
    return transform(dict(total_frames=total, **extra))['frame_inds'].tolist()


def test_every_fixture_case_matches(protocol_indices):
    cases = protocol_indices['frame_indices_1based']
    checked = 0
    for n, by_key in cases.items():
        for key, expected in by_key.items():
            kind, shape = key.split('_')
            if kind == 'val':
                got = sample('val', int(n), int(shape), start_index=1)
                assert got == expected, (n, key)
                assert [i + 1 for i in val_indices(int(n), int(shape))] == expected
            else:
                segments, clips = map(int, shape.split('x'))
                got = sample('test', int(n), segments, clips, start_index=1)
                assert got == expected, (n, key)
                assert [i + 1 for i in clip_indices(int(n), segments, clips)] == expected
            checked += 1
    assert checked == 4 * len(cases) >= 28


def test_test_mode_one_clip_is_the_validation_clip():
    for n in (5, 8, 37, 300):
        assert clip_indices(n, 8, 1) == val_indices(n, 8)


@pytest.mark.parametrize('n,segments', [(300, 8), (16, 16), (5, 8), (97, 16)])
def test_tsn_train_indices_stay_in_their_segments(n, segments):
    rng = random.Random(0)
    for _ in range(20):
        inds = train_indices(n, segments, rng, method='tsn')
        assert len(inds) == segments and inds == sorted(inds)
        assert 0 <= min(inds) and max(inds) < n
        if n > segments:
            ticks = [i * n // segments for i in range(segments + 1)]
            assert all(ticks[i] <= x < ticks[i + 1] for i, x in enumerate(inds))
        else:
            assert set(range(n)) <= set(inds)


def test_segment_range_follows_the_official_charades_arithmetic():
    # start frame int(start * fps); length int(min(end, duration) * fps - start * fps)
    assert segment_range(2400, [1.03, 2.0], 24) == (24, 23)
    assert segment_range(2400, [0.0, 5.0], 24) == (0, 120)
    # The end is clipped to the video's duration (100 frames = 4.1667 s).
    assert segment_range(100, [2.0, 30.0], 24) == (48, 52)
    with pytest.raises(ValueError, match='clip.mp4.*ends before'):
        segment_range(100, [3.0, 2.0], 24, 'clip.mp4')
    with pytest.raises(ValueError, match='no frames'):
        segment_range(100, [9.0, 10.0], 24, 'clip.mp4')
    with pytest.raises(ValueError, match='fps'):
        segment_range(100, [0.0, 1.0], None, 'clip.mp4')


def test_segment_entries_are_sampled_inside_the_segment():
    first, length = 24, 23
    for _ in range(20):
        inds = sample('train', 2400, 8, segment=[1.03, 2.0], fps=24, start_index=1)
        assert all(first + 1 <= i < first + length + 1 for i in inds)
    # Validation indices of the segment are the usual ones, shifted.
    assert sample('val', 2400, 8, segment=[1.03, 2.0], fps=24) == \
        [first + i for i in val_indices(length, 8)]


def test_tsn_train_sampling_is_selectable():
    transform = TRANSFORMS.build(dict(type='BIKESampleFrames', mode='train',
                                      num_segments=4, train_sampling='tsn'))
    random.seed(3)
    inds = transform(dict(total_frames=40, start_index=0))['frame_inds'].tolist()
    assert [i // 10 for i in inds] == [0, 1, 2, 3]


@pytest.fixture(scope='module')
def one_video(tmp_path_factory):
    folder = tmp_path_factory.mktemp('video')
    frames = render_video(SyntheticClass('red', 'circle', 'growing'), seed=1,
                          num_frames=20, size=(32, 40))
    write_mp4(str(folder / 'v.mp4'), frames)
    write_frame_folder(str(folder / 'frames'), frames)
    return folder


@pytest.mark.parametrize('source', ['video', 'frames'])
def test_multi_clip_sampling_decodes_from_videos_and_frame_folders(one_video, source):
    pipeline = [TRANSFORMS.build(dict(type='VideoInit')),
                TRANSFORMS.build(dict(type='BIKESampleFrames', mode='test',
                                      num_segments=4, num_clips=3)),
                TRANSFORMS.build(dict(type='VideoDecode'))]
    if source == 'video':
        results = dict(filename=str(one_video / 'v.mp4'), start_index=0)
    else:
        results = dict(frame_dir=str(one_video / 'frames'), total_frames=20,
                       filename_tmpl='img_{:05d}.jpg', start_index=1)
    for transform in pipeline:
        results = transform(results)
    expected = np.asarray(clip_indices(20, 4, 3))
    assert results['imgs'].shape == (12, 32, 40, 3)
    assert results['frame_inds'].tolist() == (expected + results['start_index']).tolist()
