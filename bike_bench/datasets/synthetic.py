"""A deterministic synthetic video set whose classes have word names.

Each class is a coloured shape with a motion ("red circle moving left"), so
it can be recognised from appearance and motion, and its name gives CLIP's
text tower something to work with. Videos are real, decodable mp4 files (or
JPEG frame folders) generated from a seed: the same arguments always give
the same pixels.
"""
from __future__ import annotations

import dataclasses
import os
import random
from typing import Iterable, List, Optional, Sequence, Tuple

import cv2
import numpy as np

COLORS = {  # RGB
    'red': (220, 40, 40), 'green': (40, 190, 60), 'blue': (50, 80, 230),
    'yellow': (230, 210, 40), 'purple': (150, 60, 200), 'white': (235, 235, 235),
    'orange': (240, 130, 30), 'cyan': (40, 200, 210),
}
SHAPES = ('circle', 'square', 'triangle')
MOTIONS = ('moving left', 'moving right', 'moving up', 'moving down',
           'growing', 'shrinking')
# Used only once the base vocabulary (144 classes) runs out, so class sets
# drawn from it (the smoke split) stay as they were.
EXTRA_COLORS = {'pink': (245, 140, 190), 'brown': (150, 90, 40)}
EXTRA_SHAPES = ('diamond', 'ring')
# Colour-shape pairs held out of the toy CLIP's pre-training and of the
# "K400" flavour: every class built on them (6 pairs x 6 motions = 36
# classes) is a composition the toy CLIP never saw as such, so the zero-shot
# flavours draw their classes from here. Spread so that every colour keeps
# at least two shapes and every shape six colours in pre-training.
HELD_OUT_PAIRS = (('red', 'circle'), ('green', 'square'), ('blue', 'triangle'),
                  ('yellow', 'square'), ('purple', 'circle'), ('cyan', 'triangle'))


@dataclasses.dataclass(frozen=True)
class SyntheticClass:
    color: str
    shape: str
    motion: str

    @property
    def name(self) -> str:
        return f'{self.color} {self.shape} {self.motion}'

    @property
    def camel_name(self) -> str:
        """``RedCircleMovingLeft``: the name without spaces (UCF-101 style)."""
        return ''.join(word.capitalize() for word in self.name.split())

    @classmethod
    def parse(cls, name: str) -> 'SyntheticClass':
        color, shape, motion = name.split(' ', 2)
        if color not in {**COLORS, **EXTRA_COLORS} or \
                shape not in SHAPES + EXTRA_SHAPES or motion not in MOTIONS:
            raise ValueError(f'{name!r} is not a synthetic class name')
        return cls(color, shape, motion)


def class_vocabulary(seed: int = 0, extended: bool = False) -> List[SyntheticClass]:
    """All colour x shape x motion classes in a seeded, fixed order.

    With ``extended``, the classes that use the extra colours and shapes
    follow the base ones (300 classes in all).
    """
    every = [SyntheticClass(c, s, m) for c in COLORS for s in SHAPES
             for m in MOTIONS]
    random.Random(seed).shuffle(every)
    if extended:
        extra = [SyntheticClass(c, s, m) for c in {**COLORS, **EXTRA_COLORS}
                 for s in SHAPES + EXTRA_SHAPES for m in MOTIONS]
        extra = [c for c in extra if c.color not in COLORS or c.shape not in SHAPES]
        random.Random(seed + 1).shuffle(extra)
        every += extra
    return every


def is_held_out(spec: SyntheticClass) -> bool:
    """Whether ``spec`` is built on a pair of :data:`HELD_OUT_PAIRS`."""
    return (spec.color, spec.shape) in HELD_OUT_PAIRS


def choose_classes(num_classes: int, seed: int = 0,
                   exclude: Iterable[str] = (),
                   held_out: Optional[bool] = None) -> List[SyntheticClass]:
    """``num_classes`` classes, varied in colour, shape and motion.

    Args:
        held_out: ``True``: only classes on :data:`HELD_OUT_PAIRS` (never
            seen by the toy CLIP: the zero-shot flavours); ``False``: none of
            them (pre-training, "K400"); ``None``: any class.

    Raises:
        ValueError: fewer than ``num_classes`` classes qualify.
    """
    excluded = set(exclude)

    def allowed(c: SyntheticClass) -> bool:
        return c.name not in excluded and (held_out is None or
                                           is_held_out(c) == held_out)
    pool = [c for c in class_vocabulary(seed) if allowed(c)]
    if num_classes > len(pool):
        pool = [c for c in class_vocabulary(seed, extended=True) if allowed(c)]
    if num_classes > len(pool):
        raise ValueError(f'only {len(pool)} synthetic classes available, '
                         f'asked for {num_classes}')
    # Prefer classes that differ from those already chosen in every attribute
    # so small sets stay easy to tell apart.
    chosen: List[SyntheticClass] = []
    for strictness in (3, 2, 1, 0):
        for candidate in pool:
            if len(chosen) == num_classes:
                return chosen
            if candidate in chosen:
                continue
            if all(sum(a != b for a, b in zip(dataclasses.astuple(candidate),
                                              dataclasses.astuple(other)))
                   >= strictness for other in chosen):
                chosen.append(candidate)
    return chosen


def _shape_mask(shape: str, height: int, width: int, cx: float, cy: float,
                radius: float) -> np.ndarray:
    canvas = np.zeros((height, width), np.uint8)
    if shape == 'circle':
        cv2.circle(canvas, (int(round(cx)), int(round(cy))), max(2, int(radius)), 1, -1)
    elif shape == 'square':
        r = max(2, int(radius * 0.9))
        cv2.rectangle(canvas, (int(cx) - r, int(cy) - r), (int(cx) + r, int(cy) + r), 1, -1)
    elif shape == 'triangle':
        r = max(3, radius * 1.1)
        points = np.array([[cx, cy - r], [cx - r, cy + r * 0.8],
                           [cx + r, cy + r * 0.8]], np.int32)
        cv2.fillPoly(canvas, [points], 1)
    elif shape == 'diamond':
        r = max(3, radius * 1.2)
        points = np.array([[cx, cy - r], [cx - r, cy], [cx, cy + r],
                           [cx + r, cy]], np.int32)
        cv2.fillPoly(canvas, [points], 1)
    else:  # ring
        r = max(3, int(radius))
        cv2.circle(canvas, (int(round(cx)), int(round(cy))), r, 1,
                   max(2, r // 3))
    return canvas.astype(bool)


def _pose(motion: str, phase: float, cx: float, cy: float, radius: float,
          travel: float) -> Tuple[float, float, float]:
    """Centre and radius at ``phase`` (-0.5 .. 0.5) of a motion."""
    x, y, r = cx, cy, radius
    if motion == 'moving left':
        x = cx - phase * travel
    elif motion == 'moving right':
        x = cx + phase * travel
    elif motion == 'moving up':
        y = cy - phase * travel
    elif motion == 'moving down':
        y = cy + phase * travel
    elif motion == 'growing':
        r = radius * (1.0 + 1.2 * (phase + 0.5))
    else:  # shrinking
        r = radius * (2.2 - 1.2 * (phase + 0.5))
    return x, y, r


# The fading trail behind a moving shape (docs/toy_clip.md#direction-in-a-frame):
# the shape's last TRAIL_STEPS poses, TRAIL_SPACING of the motion apart, drawn
# under it and blended towards the background, the oldest the faintest. A
# single frame then shows where the shape came from, as motion blur does in a
# real video still, so an image-text model trained on frames can tell "moving
# left" from "moving right"; a shrinking shape leaves a faint halo, a growing
# one none.
TRAIL_STEPS = 5
TRAIL_SPACING = 0.08    # of the motion's phase range (-0.5 .. 0.5)
TRAIL_OPACITY = 0.6     # of the newest trail pose; the oldest gets 1/TRAIL_STEPS of it


def _draw_shape(frame: np.ndarray, shape: str, motion: str, phase: float,
                start: float, cx: float, cy: float, radius: float, travel: float,
                color: np.ndarray, trail: bool) -> None:
    """Draw the shape at ``phase`` on ``frame`` in place; with ``trail``, its
    poses since ``start`` (at most :data:`TRAIL_STEPS`) fade behind it."""
    height, width = frame.shape[:2]
    if trail:
        for k in range(TRAIL_STEPS, 0, -1):
            past = phase - k * TRAIL_SPACING
            if past < start:
                continue
            x, y, r = _pose(motion, past, cx, cy, radius, travel)
            mask = _shape_mask(shape, height, width, x, y, r)
            alpha = TRAIL_OPACITY * (TRAIL_STEPS + 1 - k) / TRAIL_STEPS
            frame[mask] = np.clip((1 - alpha) * frame[mask] + alpha * color, 0, 255)
    x, y, r = _pose(motion, phase, cx, cy, radius, travel)
    frame[_shape_mask(shape, height, width, x, y, r)] = np.clip(color, 0, 255)


def _all_colors() -> dict:
    return {**COLORS, **EXTRA_COLORS}


def render_video(spec: SyntheticClass, seed: int, num_frames: int = 16,
                 size: Tuple[int, int] = (72, 96), trail: bool = True) -> np.ndarray:
    """``(T, H, W, 3)`` uint8 RGB frames of one video of class ``spec``.

    ``trail``: draw the fading trail of the shape's past poses
    (:data:`TRAIL_STEPS`); without it a frame does not show the direction.
    """
    height, width = size
    rng = np.random.default_rng(seed)
    background = rng.integers(20, 70, size=3)
    noise = rng.integers(-12, 13, size=(num_frames, height, width, 3))
    radius = min(height, width) * rng.uniform(0.14, 0.2)
    cx = width * rng.uniform(0.35, 0.65)
    cy = height * rng.uniform(0.35, 0.65)
    travel = min(height, width) * rng.uniform(0.35, 0.5)
    color = np.array(_all_colors()[spec.color]) + rng.integers(-15, 16, size=3)
    frames = np.empty((num_frames, height, width, 3), np.uint8)
    for t in range(num_frames):
        phase = t / max(1, num_frames - 1) - 0.5  # -0.5 .. 0.5
        frame = np.clip(background + noise[t], 0, 255)
        _draw_shape(frame, spec.shape, spec.motion, phase, -0.5, cx, cy, radius,
                    travel, color, trail)
        frames[t] = frame
    return frames


Event = Tuple[SyntheticClass, int, int]  # class, first frame, last frame


def render_scene(events: Sequence[Event], seed: int, num_frames: int = 32,
                 size: Tuple[int, int] = (72, 96), trail: bool = True) -> np.ndarray:
    """An untrimmed video: each event's shape is visible only in its frames.

    Every event runs its whole motion between its first and last frame, so
    a trimmed instance looks like a ``render_video`` clip; overlapping
    events give multi-label scenes (Charades-like), frames without events
    are background only (ActivityNet-like); ``trail`` as in ``render_video``.
    """
    height, width = size
    rng = np.random.default_rng(seed)
    background = rng.integers(20, 70, size=3)
    noise = rng.integers(-12, 13, size=(num_frames, height, width, 3))
    frames = np.clip(background + noise, 0, 255).astype(np.uint8)
    for spec, first, last in events:
        radius = min(height, width) * rng.uniform(0.12, 0.17)
        cx = width * rng.uniform(0.3, 0.7)
        cy = height * rng.uniform(0.3, 0.7)
        travel = min(height, width) * rng.uniform(0.35, 0.5)
        color = np.clip(np.array(_all_colors()[spec.color]) +
                        rng.integers(-15, 16, size=3), 0, 255)
        first, last = max(0, first), min(num_frames - 1, last)
        for t in range(first, last + 1):
            phase = (t - first) / max(1, last - first) - 0.5
            _draw_shape(frames[t], spec.shape, spec.motion, phase, -0.5, cx, cy,
                        radius, travel, color, trail)
    return frames


def write_mp4(path: str, frames: np.ndarray, fps: int = 8) -> None:
    """Write RGB frames as an MPEG-4 (mp4v) file decord can read."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    height, width = frames.shape[1:3]
    # Written under a temporary name and renamed, so an interrupted run never
    # leaves a truncated video that a re-run would take as done. Not through
    # utils.atomic: OpenCV picks the container from the name's .mp4 ending.
    tmp = os.path.join(os.path.dirname(os.path.abspath(path)),
                       '.tmp-' + os.path.basename(path))
    writer = cv2.VideoWriter(tmp, cv2.VideoWriter_fourcc(*'mp4v'), fps,
                             (width, height))
    if not writer.isOpened():
        raise RuntimeError(f'OpenCV cannot write mp4 files here ({path})')
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    os.replace(tmp, path)


def write_frame_folder(folder: str, frames: np.ndarray,
                       filename_tmpl: str = 'img_{:05d}.jpg',
                       start_index: int = 1) -> None:
    folder = os.path.abspath(folder)
    tmp = os.path.join(os.path.dirname(folder), '.tmp-' + os.path.basename(folder))
    os.makedirs(tmp, exist_ok=True)
    for offset, frame in enumerate(frames):
        cv2.imwrite(os.path.join(tmp, filename_tmpl.format(start_index + offset)),
                    cv2.cvtColor(frame, cv2.COLOR_RGB2BGR),
                    [cv2.IMWRITE_JPEG_QUALITY, 95])
    os.replace(tmp, folder)


def video_seed(base_seed: int, class_name: str, index: int) -> int:
    """A stable per-video seed (independent of Python's hash salt)."""
    text = f'{base_seed}|{class_name}|{index}'.encode()
    value = 0
    for byte in text:
        value = (value * 131 + byte) % (2 ** 32 - 5)
    return value


@dataclasses.dataclass
class SyntheticVideo:
    relpath: str
    label: int
    class_name: str
    num_frames: int


def generate_videos(out_dir: str, classes: Sequence[SyntheticClass],
                    videos_per_class: int, seed: int = 0, num_frames: int = 16,
                    size: Tuple[int, int] = (72, 96), as_frames: bool = False,
                    subdir: str = '', index_offset: int = 0,
                    name_fn=None) -> List[SyntheticVideo]:
    """Render ``videos_per_class`` videos of each class under ``out_dir``.

    Existing files are kept (generation is deterministic), so an interrupted
    run can simply be repeated.

    Args:
        name_fn: ``(class_index, class, video_index) -> relative path`` of a
            video (without extension for frame folders); default
            ``{subdir}/{class_slug}/{class_slug}_{index:03d}.mp4``.
    """
    videos = []
    for label, spec in enumerate(classes):
        slug = spec.name.replace(' ', '_')
        for index in range(index_offset, index_offset + videos_per_class):
            if name_fn is not None:
                relpath = name_fn(label, spec, index)
            else:
                relpath = os.path.join(subdir, slug, f'{slug}_{index:03d}')
                relpath += '' if as_frames else '.mp4'
            target = os.path.join(out_dir, relpath)
            done = os.path.isdir(target) if as_frames else os.path.isfile(target)
            if not done:
                frames = render_video(spec, video_seed(seed, spec.name, index),
                                      num_frames, size)
                if as_frames:
                    write_frame_folder(target, frames)
                else:
                    write_mp4(target, frames)
            videos.append(SyntheticVideo(relpath, label, spec.name, num_frames))
    return videos
