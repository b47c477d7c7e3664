"""Spatial views (docs/method.md#views): resize, centre crop and the
official 3 crops."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from torchvision.transforms import CenterCrop

from mmaction.registry import TRANSFORMS

from bike_bench.datasets.transforms.spatial import (center_crop_offset,
                                                    short_side_size,
                                                    three_crop_offsets)


def coordinate_frames(height, width, frames=2):
    """Frames whose pixels encode their own (y, x) position."""
    ys, xs = np.mgrid[0:height, 0:width]
    image = np.stack([ys % 256, xs % 256, (ys // 256) * 16 + xs // 256], -1)
    return np.repeat(image[None].astype(np.uint8), frames, axis=0)


def test_three_crop_offsets_match_the_fixture(protocol_indices):
    cases = protocol_indices['three_crop_offsets_224_after_short_side_256']
    for size, expected in cases.items():
        width, height = map(int, size.split('x'))
        assert [list(o) for o in three_crop_offsets(height, width, 224)] == expected, size
    assert len(cases) >= 3


def test_three_crop_transform_cuts_at_the_fixture_offsets(protocol_indices):
    cases = protocol_indices['three_crop_offsets_224_after_short_side_256']
    for size, expected in cases.items():
        width, height = map(int, size.split('x'))
        results = TRANSFORMS.build(dict(type='OfficialThreeCrop', crop_size=224))(
            dict(imgs=coordinate_frames(height, width)))
        crops = results['imgs'].reshape(3, 2, 224, 224, 3)
        for crop, (x, y) in zip(crops, expected):
            assert crop[0, 0, 0, 0] == y % 256 and crop[0, 0, 0, 1] == x % 256
            assert crop[0, -1, -1, 0] == (y + 223) % 256


def test_resize_then_three_crop_of_a_4_by_3_video():
    # 320x240 -> short side 256 gives 341x256, one of the fixture sizes.
    assert short_side_size(240, 320, 256) == (256, 341)
    frames = np.zeros((2, 240, 320, 3), np.uint8)
    results = dict(imgs=frames)
    for cfg in (dict(type='ShortSideResize', size=256),
                dict(type='OfficialThreeCrop', crop_size=224)):
        results = TRANSFORMS.build(cfg)(results)
    assert results['imgs'].shape == (6, 224, 224, 3)
    assert results['crop_offsets'] == [(0, 16), (116, 16), (58, 16)]


@pytest.mark.parametrize('height,width', [(256, 341), (256, 298), (300, 256), (257, 256)])
def test_centre_crop_is_torchvisions(height, width):
    frames = coordinate_frames(height, width, frames=1)
    ours = TRANSFORMS.build(dict(type='BIKECenterCrop', crop_size=224))(
        dict(imgs=frames))['imgs'][0]
    theirs = np.asarray(CenterCrop(224)(Image.fromarray(frames[0])))
    assert np.array_equal(ours, theirs)
    x, y = center_crop_offset(height, width, 224)
    assert ours[0, 0, 1] == x % 256 and ours[0, 0, 0] == y % 256


def test_crop_larger_than_the_frame_is_an_error_naming_the_video():
    with pytest.raises(ValueError, match='a.mp4.*smaller'):
        TRANSFORMS.build(dict(type='OfficialThreeCrop', crop_size=64))(
            dict(imgs=np.zeros((1, 32, 48, 3), np.uint8), filename='a.mp4'))
