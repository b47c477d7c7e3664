"""Broken (and merely unusual) media, made for real from synthetic videos.

What could be produced here (OpenCV 4 + decord 0.6 wheels, no ffmpeg
binary): decord always hands back 3-channel RGB for a video file, whatever
its pixel format — a true grayscale video (FFV1, ``gray`` pixels) and a
4-channel one (uncompressed 32-bit BGRA AVI, written by hand below) both
decode to ``(H, W, 3)``. Frame folders are where other channel counts
reach bike-bench: grayscale JPEGs read as ``(H, W)`` and RGBA PNGs as
``(H, W, 4)``; ``to_rgb3`` turns both into RGB. A colour AVI with the
``png`` codec opens in decord but its frames fail to decode (its frames
come out 4 bytes per pixel), which gives a "decodes nothing" fault
distinct from "cannot be opened".
"""
from __future__ import annotations

import os
import shutil
import struct
from pathlib import Path

import cv2
import numpy as np

from bike_bench.datasets.synthetic import (SyntheticClass, render_video,
                                           write_frame_folder, write_mp4)

SPEC = SyntheticClass('red', 'circle', 'moving left')


def frames(num_frames: int = 16, seed: int = 5) -> np.ndarray:
    """``(T, 72, 96, 3)`` RGB frames of a moving red circle."""
    return render_video(SPEC, seed, num_frames)


def truncated_mp4(good: str, out: Path) -> str:
    """The first half of the bytes of a readable mp4."""
    data = Path(good).read_bytes()
    out.write_bytes(data[:len(data) // 2])
    return str(out)


_WEBM_WRITER = """
import sys
import av
import numpy as np
path, count, fps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(0)
with av.open(path, 'w') as container:
    stream = container.add_stream('libvpx', rate=fps)
    stream.width, stream.height, stream.pix_fmt = 64, 48, 'yuv420p'
    for _ in range(count):
        image = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
        container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format='rgb24')))
    container.mux(stream.encode())
"""


def truncated_webm(out: Path, num_frames: int = 250, fps: int = 25) -> str:
    """A VP8 webm of ``num_frames`` at ``fps`` (header: ``num_frames / fps``
    seconds) cut to the first half of its bytes: the header keeps its
    duration while only about half of the frames are left.

    Written by PyAV in a fresh interpreter: once decord is imported, its
    bundled libvpx takes the place of the one PyAV's encoder needs and
    ``libvpx`` fails to open (``avcodec_open2`` returns EINVAL).
    """
    import subprocess
    import sys
    full = out.with_name(out.stem + '.full.webm')
    subprocess.run([sys.executable, '-c', _WEBM_WRITER, str(full), str(num_frames),
                    str(fps)], check=True, capture_output=True)
    data = full.read_bytes()
    full.unlink()
    out.write_bytes(data[:len(data) // 2])
    return str(out)


def zero_byte(out: Path) -> str:
    out.write_bytes(b'')
    return str(out)


def text_as_mp4(out: Path) -> str:
    out.write_text('This is a download error page, not a video.\n' * 20)
    return str(out)


def short_mp4(out: Path, num_frames: int = 3) -> str:
    """A readable video with fewer frames than segments."""
    write_mp4(str(out), frames(num_frames))
    return str(out)


def frame_folder(out: Path, num_frames: int = 16) -> str:
    write_frame_folder(str(out), frames(num_frames))
    return str(out)


def frame_folder_missing(out: Path, missing: int = 5) -> str:
    """A 16-frame folder with ``img_{missing:05d}.jpg`` deleted."""
    frame_folder(out)
    os.remove(out / f'img_{missing:05d}.jpg')
    return str(out)


def frame_folder_truncated(out: Path, keep: int = 12) -> str:
    """A 16-frame folder whose frames after ``keep`` are gone."""
    frame_folder(out)
    for index in range(keep + 1, 17):
        os.remove(out / f'img_{index:05d}.jpg')
    return str(out)


def gray_video(out: Path) -> str:
    """A single-channel video (FFV1 with gray pixels) as ``.avi``."""
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*'FFV1'), 8, (96, 72),
                             isColor=False)
    if not writer.isOpened():
        raise RuntimeError('OpenCV cannot write FFV1 here')
    for frame in frames():
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY))
    writer.release()
    return str(out)


def _chunk(tag: bytes, data: bytes) -> bytes:
    return tag + struct.pack('<I', len(data)) + data + (b'\0' if len(data) % 2 else b'')


def rgba_avi(out: Path, alpha: int = 77, fps: int = 8) -> str:
    """An uncompressed 32-bit BGRA AVI (4 channels) of the usual frames.

    OpenCV writes 3-channel video only, so the RIFF structure is written
    here: ``avih``, one ``vids`` stream with a 32-bit ``BI_RGB`` bitmap
    header, ``movi`` frames (bottom-up rows) and an ``idx1`` index.
    """
    rgb = frames()
    count, height, width, _ = rgb.shape
    size = width * height * 4
    avih = struct.pack('<IIIIIIIIII4I', 1000000 // fps, size * fps, 0, 0x10, count,
                       0, 1, size, width, height, 0, 0, 0, 0)
    strh = struct.pack('<4s4sIHHIIIIIIIIhhhh', b'vids', b'\0\0\0\0', 0, 0, 0, 0, 1,
                       fps, 0, count, size, 0xFFFFFFFF, 0, 0, 0, width, height)
    strf = struct.pack('<IiiHHIIiiII', 40, width, height, 1, 32, 0, size, 0, 0, 0, 0)
    strl = _chunk(b'LIST', b'strl' + _chunk(b'strh', strh) + _chunk(b'strf', strf))
    hdrl = _chunk(b'LIST', b'hdrl' + _chunk(b'avih', avih) + strl)
    items = []
    for frame in rgb:
        bgra = np.concatenate([frame[..., ::-1], np.full((height, width, 1), alpha,
                                                         np.uint8)], axis=-1)
        items.append(_chunk(b'00db', np.ascontiguousarray(bgra[::-1]).tobytes()))
    index, offset = b'', 4
    for item in items:
        index += struct.pack('<4sIII', b'00db', 0x10, offset, size)
        offset += len(item)
    body = (b'AVI ' + hdrl + _chunk(b'LIST', b'movi' + b''.join(items))
            + _chunk(b'idx1', index))
    out.write_bytes(b'RIFF' + struct.pack('<I', len(body)) + body)
    return str(out)


def gray_frame_folder(out: Path) -> str:
    """Single-channel JPEG frames."""
    out.mkdir(parents=True)
    for i, frame in enumerate(frames(), start=1):
        cv2.imwrite(str(out / f'img_{i:05d}.jpg'), cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY))
    return str(out)


def rgba_frame_folder(out: Path, alpha: int = 77) -> str:
    """4-channel PNG frames (``img_00001.png`` ...)."""
    out.mkdir(parents=True)
    for i, frame in enumerate(frames(), start=1):
        bgra = np.concatenate([frame[..., ::-1], np.full(frame.shape[:2] + (1,), alpha,
                                                         np.uint8)], axis=-1)
        cv2.imwrite(str(out / f'img_{i:05d}.png'), bgra)
    return str(out)


def png_coded_avi(out: Path) -> str:
    """A colour AVI with the ``png`` codec: opens, its frames do not decode."""
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*'png '), 8, (96, 72))
    if not writer.isOpened():
        raise RuntimeError('OpenCV cannot write png-coded AVI here')
    for frame in frames():
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    return str(out)


def copy_video(good: str, out: Path) -> str:
    shutil.copyfile(good, out)
    return str(out)
