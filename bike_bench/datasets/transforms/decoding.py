"""Opening and decoding videos and frame folders, with errors that name files.

mmaction's DecordDecode reads the requested indices as given (duplicates
included) and its loaders give no file context on failure; here each video
is opened once, its distinct frames are decoded with one batch call, and any
failure raises ``VideoReadError`` naming the file. Two rules hold for every
backend (``docs/reliability.md``): frames are returned as displayed (the
display rotation applied, ``video_backends``), and a video that decodes to
clearly fewer frames than its header declares (duration x frame rate) is
refused as truncated (``check_decodable_length``).
"""
from __future__ import annotations

import os
import re
from typing import Optional

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from mmaction.registry import TRANSFORMS

from .video_backends import (DEFAULT_BACKEND, ROTATED_DECORD, get_backend,
                             probe_header)


class VideoReadError(RuntimeError):
    """A video or frame folder that cannot be read as the manifest says."""

    kind = 'undecodable'

    def __init__(self, path: str, reason: str):
        super().__init__(f'{path}: {reason}')
        self.path = path
        self.reason = reason


class TruncatedVideoError(VideoReadError):
    """A video with clearly fewer decodable frames than its header declares."""

    kind = 'truncated'

    def __init__(self, path: str, decodable: int, declared: int, seconds: float,
                 fps: float):
        super().__init__(path, f'truncated: {decodable} decodable frames of the '
                         f'{declared} its header declares ({seconds:.2f} s x '
                         f'{fps:.3g} fps)')
        self.decodable = decodable
        self.declared = declared


#: A video counts as truncated below this fraction of its declared frames
#: (less one frame of rounding): audio tracks a little longer than the
#: video and rounded durations stay well inside it.
TRUNCATED_BELOW = 0.95


def check_decodable_length(path: str, decodable: int, seconds, fps) -> None:
    """``TruncatedVideoError`` when ``decodable`` frames fall short of
    ``seconds x fps`` (the header's duration and average rate; either
    ``None``: nothing to check) by more than ``TRUNCATED_BELOW`` allows.

    A webm cut in the middle keeps the duration its header was written
    with, while the decoders count the frames that are still there
    (``docs/reliability.md``).
    """
    if not seconds or not fps:
        return
    declared = int(round(seconds * fps))
    if decodable < TRUNCATED_BELOW * declared - 1:
        raise TruncatedVideoError(path, decodable, declared, seconds, fps)


def _header(reader, path: str):
    """``(seconds, fps)`` from the reader's own container when it has one."""
    if hasattr(reader, 'header_duration'):
        return reader.header_duration(), reader.get_avg_fps()
    try:
        return probe_header(path)
    except Exception:  # noqa: BLE001 - the backend opened it; no header to check
        return None, None


def open_video(path: str, num_threads: int = 1, backend: str = DEFAULT_BACKEND):
    """A reader for ``path`` from the decoding ``backend`` (``'decord'``,
    ``'pyav'``, ``'torchcodec'``; see ``video_backends``).

    Raises:
        VideoReadError: the file is missing, unreadable, undecodable or has
            no frames; ``TruncatedVideoError`` (a subclass) when it decodes
            to clearly fewer frames than its header declares.
        ValueError: an unknown backend.
        VideoBackendUnavailable: the backend's library or FFmpeg is missing.
    """
    opener = get_backend(backend)
    if not os.path.exists(path):
        raise VideoReadError(path, 'file not found')
    if not os.access(path, os.R_OK):
        raise VideoReadError(path, 'file is not readable (permissions)')
    if os.path.getsize(path) == 0:
        raise VideoReadError(path, 'empty file (0 bytes)')
    try:
        reader = opener(path, num_threads=num_threads)
    except Exception as error:  # decord's DECORDError, PyAV's FFmpegError
        raise VideoReadError(path, f'cannot be decoded ({_short(error)})'
                             + _remux_hint(error)) from None
    if len(reader) < 1:
        raise VideoReadError(path, 'video has no frames' + REMUX_HINT)
    check_decodable_length(path, len(reader), *_header(reader, path))
    return reader


# decord needs the container's duration or frame count; a webm/mkv written
# as a live stream has neither although every frame decodes.
REMUX_HINT = ('; the container records no duration or frame count (e.g. a '
              'webm written as a stream): if ffmpeg decodes it, remuxing '
              'fixes it without re-encoding: `ffmpeg -i IN -c copy OUT`')


def _remux_hint(error: Exception) -> str:
    text = str(error)
    return REMUX_HINT if ('duration' in text or 'frame-count' in text
                          or 'broken metadata' in text) else ''


# decord prefixes its messages with a time and its source file.
_DECORD_PREFIX = re.compile(r'^\[\d{2}:\d{2}:\d{2}\] \S+:\d+: ')


def _short(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return _DECORD_PREFIX.sub('', text[0])[:200] if text else type(error).__name__


def check_frame_folder(frame_dir: str, filename_tmpl: str, start_index: int,
                       total_frames: int) -> None:
    """Every listed frame is on disk (one ``listdir``), else ``VideoReadError``.

    Without this a folder with holes would fail only when the random
    training sampler happens to pick a missing frame.
    """
    try:
        names = set(os.listdir(frame_dir))
    except OSError as error:
        raise VideoReadError(frame_dir, f'frame folder cannot be listed ({error.strerror})') \
            from None
    missing = [filename_tmpl.format(i) for i in range(start_index, start_index + total_frames)
               if filename_tmpl.format(i) not in names]
    if missing:
        raise VideoReadError(frame_dir, f'{len(missing)} of the {total_frames} listed '
                             f'frames are missing (first: {missing[0]})')


def to_rgb3(frames: np.ndarray, path: str) -> np.ndarray:
    """``(N, H, W, 3)`` uint8 from grayscale, RGB or RGBA frames."""
    if frames.ndim == 3:
        frames = frames[..., None]
    channels = frames.shape[-1]
    if channels == 1:
        return np.repeat(frames, 3, axis=-1)
    if channels == 4:
        return np.ascontiguousarray(frames[..., :3])
    if channels != 3:
        raise VideoReadError(path, f'unsupported channel count {channels}')
    return frames


def decode_video_frames(reader, frame_inds: np.ndarray, path: str,
                        batch: bool = True) -> np.ndarray:
    """Frames at ``frame_inds`` (any order, repeats allowed).

    ``batch=True`` decodes the distinct frames with one ``get_batch`` call;
    ``False`` reads them one at a time, as the official loader does (kept
    for benchmarking the difference).
    """
    unique, inverse = np.unique(frame_inds, return_inverse=True)
    if unique.size and (unique[0] < 0 or unique[-1] >= len(reader)):
        raise VideoReadError(path, f'frame index {int(unique[-1])} outside the '
                             f'{len(reader)} decodable frames')
    try:
        if batch:
            batch = reader.get_batch(unique.tolist()).asnumpy()
        else:
            batch = np.stack([reader[int(i)].asnumpy() for i in unique])
    except Exception as error:
        raise VideoReadError(path, f'decoding failed ({_short(error)})') from None
    if batch.ndim != 4 or batch.shape[-1] != 3:
        # Every backend converts video frames to RGB24; anything else is a
        # decoder fault (decord 0.6 on some rotated videos), not a pixel format.
        raise VideoReadError(path, f'the decoder returned frames of shape '
                             f'{tuple(batch.shape[1:])}, not (H, W, 3) RGB: '
                             + ROTATED_DECORD)
    return batch[inverse]


def read_frame_folder(frame_dir: str, filename_tmpl: str,
                      frame_inds: np.ndarray) -> np.ndarray:
    """Frames ``frame_dir/filename_tmpl.format(i)`` as RGB, each read once."""
    if not os.path.isdir(frame_dir):
        raise VideoReadError(frame_dir, 'frame folder not found')
    unique, inverse = np.unique(frame_inds, return_inverse=True)
    frames = []
    for index in unique.tolist():
        path = os.path.join(frame_dir, filename_tmpl.format(index))
        image = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        if image is None:
            reason = 'missing frame' if not os.path.exists(path) else \
                'unreadable frame'
            raise VideoReadError(frame_dir, f'{reason} {os.path.basename(path)}')
        if image.ndim == 2:
            image = image[..., None]
        elif image.shape[-1] == 4:
            image = cv2.cvtColor(image, cv2.COLOR_BGRA2RGBA)
        else:
            image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        frames.append(image)
    shapes = {frame.shape[:2] for frame in frames}
    if len(shapes) > 1:
        raise VideoReadError(frame_dir, f'frames differ in size: {sorted(shapes)}')
    return to_rgb3(np.stack(frames), frame_dir)[inverse]


@TRANSFORMS.register_module()
class VideoInit(BaseTransform):
    """Open a video file or check a frame folder; set ``total_frames``.

    Required keys: ``filename`` or ``frame_dir``. Added keys:
    ``video_reader`` and ``video_backend`` (videos), ``total_frames``.

    Args:
        num_threads: decoding threads.
        check_frames: a frame folder must hold every frame the manifest
            lists (one directory listing per sample).
        backend: the decoding backend registered in
            ``video_backends.VIDEO_BACKENDS``: ``'decord'`` (default),
            ``'pyav'`` or ``'torchcodec'`` (same frame indices and, on
            H.264, the same pixels). An unknown name or a backend whose
            library is missing fails when the pipeline is built.
    """

    def __init__(self, num_threads: int = 1, check_frames: bool = True,
                 backend: str = DEFAULT_BACKEND):
        get_backend(backend)  # unknown or unavailable: fails when the pipeline is built
        self.num_threads = num_threads
        self.check_frames = check_frames
        self.backend = backend

    def transform(self, results: dict) -> dict:
        if results.get('frame_dir'):
            if not os.path.isdir(results['frame_dir']):
                raise VideoReadError(results['frame_dir'], 'frame folder not found')
            if not results.get('total_frames'):
                raise VideoReadError(results['frame_dir'],
                                     'the manifest gives no frame count')
            if self.check_frames:
                check_frame_folder(results['frame_dir'],
                                   results.get('filename_tmpl', 'img_{:05d}.jpg'),
                                   int(results.get('start_index', 1)),
                                   int(results['total_frames']))
            return results
        reader = open_video(results['filename'], self.num_threads, self.backend)
        results['video_reader'] = reader
        results['video_backend'] = self.backend
        results['total_frames'] = len(reader)
        return results


@TRANSFORMS.register_module()
class VideoDecode(BaseTransform):
    """Decode ``frame_inds`` into ``imgs`` ``(N, H, W, 3)`` uint8 RGB.

    Args:
        batch: one batch decode call per video (``False``: frame by frame).
    """

    def __init__(self, batch: bool = True):
        self.batch = batch

    def transform(self, results: dict) -> dict:
        inds = np.asarray(results['frame_inds']).reshape(-1)
        if results.get('frame_dir'):
            imgs = read_frame_folder(results['frame_dir'],
                                     results.get('filename_tmpl', 'img_{:05d}.jpg'),
                                     inds)
        else:
            reader: Optional[object] = results.pop('video_reader', None)
            if reader is None:
                reader = open_video(results['filename'],
                                    backend=results.get('video_backend', DEFAULT_BACKEND))
            imgs = decode_video_frames(reader, inds, results['filename'], self.batch)
        results['imgs'] = imgs
        results['original_shape'] = imgs.shape[1:3]
        results['img_shape'] = imgs.shape[1:3]
        return results
