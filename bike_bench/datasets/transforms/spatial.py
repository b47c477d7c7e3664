"""Spatial transforms with the official BIKE geometry (docs/method.md#views).

They work on ``imgs`` as an ``(N, H, W, 3)`` uint8 array (a list of frames is
accepted too). Crops are array slices; resizing uses Pillow by default
because the official pipeline resizes PIL images (bicubic, with Pillow's
antialiasing), and OpenCV optionally (faster, not bit-identical).

Why not mmaction's own: its ``Resize`` rounds the long side and its
``CenterCrop``/``ThreeCrop`` place crops differently from torchvision's
``Resize``/``CenterCrop`` and the official 3-crop, which moves pixels.
"""
from __future__ import annotations

import math
import random
from typing import List, Sequence, Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from PIL import Image

from mmaction.registry import TRANSFORMS

_PIL_FILTERS = {'bicubic': Image.BICUBIC, 'bilinear': Image.BILINEAR,
                'nearest': Image.NEAREST}
_CV2_FILTERS = {'bicubic': cv2.INTER_CUBIC, 'bilinear': cv2.INTER_LINEAR,
                'nearest': cv2.INTER_NEAREST, 'area': cv2.INTER_AREA}


def _as_array(imgs) -> np.ndarray:
    return imgs if isinstance(imgs, np.ndarray) else np.stack(list(imgs))


def short_side_size(height: int, width: int, size: int) -> Tuple[int, int]:
    """``(h, w)`` with the short side ``size``, as torchvision's ``Resize(int)``."""
    if width <= height:
        return int(size * height / width), size
    return size, int(size * width / height)


def resize_frames(imgs: np.ndarray, height: int, width: int,
                  interpolation: str = 'bicubic', backend: str = 'pillow') -> np.ndarray:
    if imgs.shape[1:3] == (height, width):
        return imgs
    if backend == 'pillow':
        resample = _PIL_FILTERS[interpolation]
        return np.stack([np.asarray(Image.fromarray(frame).resize(
            (width, height), resample)) for frame in imgs])
    if backend == 'cv2':
        flag = _CV2_FILTERS[interpolation]
        return np.stack([cv2.resize(frame, (width, height), interpolation=flag)
                         for frame in imgs])
    raise ValueError(f'unknown resize backend {backend!r}; use pillow or cv2')


def center_crop_offset(height: int, width: int, crop: int) -> Tuple[int, int]:
    """``(x, y)`` of a centred crop, rounded as torchvision does."""
    return int(round((width - crop) / 2.0)), int(round((height - crop) / 2.0))


def three_crop_offsets(height: int, width: int, crop: int) -> List[Tuple[int, int]]:
    """Official left, right and centre ``(x, y)`` offsets (docs/method.md#views)."""
    w_step, h_step = (width - crop) // 4, (height - crop) // 4
    return [(0, 2 * h_step), (4 * w_step, 2 * h_step), (2 * w_step, 2 * h_step)]


def _check_fits(results: dict, height: int, width: int, crop: int) -> None:
    if height < crop or width < crop:
        name = results.get('filename') or results.get('frame_dir') or 'video'
        raise ValueError(f'{name}: frames of {width}x{height} are smaller '
                         f'than the {crop}x{crop} crop')


@TRANSFORMS.register_module()
class ShortSideResize(BaseTransform):
    """Resize so the short side is ``size`` (256 for 224 crops, else the crop)."""

    def __init__(self, size: int = 256, interpolation: str = 'bicubic',
                 backend: str = 'pillow'):
        self.size = size
        self.interpolation = interpolation
        self.backend = backend

    def transform(self, results: dict) -> dict:
        imgs = _as_array(results['imgs'])
        height, width = short_side_size(imgs.shape[1], imgs.shape[2], self.size)
        results['imgs'] = resize_frames(imgs, height, width, self.interpolation,
                                        self.backend)
        results['img_shape'] = (height, width)
        return results


@TRANSFORMS.register_module()
class BIKECenterCrop(BaseTransform):
    """One centred ``crop_size`` square crop."""

    def __init__(self, crop_size: int = 224):
        self.crop_size = crop_size

    def transform(self, results: dict) -> dict:
        imgs = _as_array(results['imgs'])
        height, width = imgs.shape[1:3]
        _check_fits(results, height, width, self.crop_size)
        x, y = center_crop_offset(height, width, self.crop_size)
        results['imgs'] = imgs[:, y:y + self.crop_size, x:x + self.crop_size]
        results['img_shape'] = (self.crop_size, self.crop_size)
        results['crop_offsets'] = [(x, y)]
        return results


@TRANSFORMS.register_module()
class OfficialThreeCrop(BaseTransform):
    """Left, right and centre crops of every frame (no flips).

    Output frames are crop-major: all ``N`` frames of crop 0, then crop 1,
    then crop 2, so ``FormatShape`` groups them into ``3 x num_clips`` views.
    """

    def __init__(self, crop_size: int = 224):
        self.crop_size = crop_size

    def transform(self, results: dict) -> dict:
        imgs = _as_array(results['imgs'])
        height, width = imgs.shape[1:3]
        _check_fits(results, height, width, self.crop_size)
        size = self.crop_size
        offsets = three_crop_offsets(height, width, size)
        results['imgs'] = np.concatenate(
            [imgs[:, y:y + size, x:x + size] for x, y in offsets])
        results['img_shape'] = (size, size)
        results['crop_offsets'] = offsets
        return results


@TRANSFORMS.register_module()
class OfficialRandomResizedCrop(BaseTransform):
    """Inception-style crop (area 0.08–1, aspect 3/4–4/3), resized to a square.

    Same crop for every frame; 10 attempts, then resize + random crop, as the
    official training augmentation does.
    """

    def __init__(self, size: int = 224, area_range: Sequence[float] = (0.08, 1.0),
                 aspect_range: Sequence[float] = (3 / 4, 4 / 3),
                 interpolation: str = 'bilinear', backend: str = 'pillow'):
        self.size = size
        self.area_range = area_range
        self.aspect_range = aspect_range
        self.interpolation = interpolation
        self.backend = backend

    def _box(self, height: int, width: int):
        for _ in range(10):
            area = random.uniform(*self.area_range) * height * width
            aspect = random.uniform(*self.aspect_range)
            w = int(round(math.sqrt(area * aspect)))
            h = int(round(math.sqrt(area / aspect)))
            if random.random() < 0.5:
                w, h = h, w
            if w <= width and h <= height:
                return random.randint(0, width - w), random.randint(0, height - h), w, h
        return None

    def transform(self, results: dict) -> dict:
        imgs = _as_array(results['imgs'])
        height, width = imgs.shape[1:3]
        box = self._box(height, width)
        if box is not None:
            x, y, w, h = box
            imgs = resize_frames(imgs[:, y:y + h, x:x + w], self.size, self.size,
                                 self.interpolation, self.backend)
        else:
            new_h, new_w = short_side_size(height, width, self.size)
            imgs = resize_frames(imgs, new_h, new_w, self.interpolation, self.backend)
            x = random.randint(0, new_w - self.size)
            y = random.randint(0, new_h - self.size)
            imgs = imgs[:, y:y + self.size, x:x + self.size]
        results['imgs'] = np.ascontiguousarray(imgs)
        results['img_shape'] = (self.size, self.size)
        return results


@TRANSFORMS.register_module()
class RandomHorizontalFlip(BaseTransform):
    """Flip every frame of the clip left-right with probability ``p``."""

    def __init__(self, p: float = 0.5):
        self.p = p

    def transform(self, results: dict) -> dict:
        if random.random() < self.p:
            results['imgs'] = np.ascontiguousarray(_as_array(results['imgs'])[:, :, ::-1])
            results['flip'] = True
        return results


@TRANSFORMS.register_module()
class RandomGrayscale(BaseTransform):
    """Turn the whole clip grey (kept as 3 channels) with probability ``p``."""

    def __init__(self, p: float = 0.2):
        self.p = p

    def transform(self, results: dict) -> dict:
        if random.random() < self.p:
            imgs = _as_array(results['imgs'])
            grey = np.stack([cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY) for frame in imgs])
            results['imgs'] = np.repeat(grey[..., None], 3, axis=-1)
        return results
