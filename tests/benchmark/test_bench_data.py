"""The bench's synthetic video cache and test pipelines."""
from __future__ import annotations

import numpy as np
import pytest

from bike_bench.datasets import read_manifest
from bike_bench.benchmark import bench_data, bench_models


def test_video_cache_cycles_over_distinct_files(tmp_path):
    path = bench_data.ensure_videos(str(tmp_path), (72, 96), count=10, num_frames=16,
                                    distinct=4)
    manifest = read_manifest(path)
    assert len(manifest.entries) == 10
    files = [e.path for e in manifest.entries]
    assert len(set(files)) == 4 and files[4:8] == files[:4]
    # Reused, not regenerated: same manifest content on a second call.
    again = read_manifest(bench_data.ensure_videos(str(tmp_path), (72, 96), count=10,
                                                   num_frames=16, distinct=4))
    assert again.content_hash == manifest.content_hash


@pytest.mark.parametrize('views, expected', [((1, 1), 1), ((4, 3), 12)])
def test_test_pipeline_gives_clips_times_crops_views(tmp_path, views, expected):
    spec = bench_models.get('tiny')
    manifest = bench_data.ensure_videos(str(tmp_path), spec.video_size, 2, num_frames=32)
    dataset = bench_data.build_dataset(manifest, bench_data.test_pipeline(
        spec.image_size, spec.resize, *views))
    inputs = dataset[0]['inputs']
    assert tuple(inputs.shape) == (expected, 3, 8, 64, 64)


def test_resize_backends_and_decode_modes_agree_on_shape(tmp_path):
    spec = bench_models.get('tiny')
    manifest = bench_data.ensure_videos(str(tmp_path), spec.video_size, 1, num_frames=32)
    outputs = []
    for options in ({}, {'resize_backend': 'cv2'}, {'decode_batch': False}):
        dataset = bench_data.build_dataset(manifest, bench_data.test_pipeline(
            spec.image_size, spec.resize, 1, 1, **options))
        outputs.append(dataset[0]['inputs'].numpy())
    assert all(o.shape == outputs[0].shape for o in outputs)
    # Frame-by-frame decoding returns the same pixels as one batch call.
    np.testing.assert_array_equal(outputs[0], outputs[2])


def test_decoding_benchmark_reports_both_access_modes(tmp_path):
    manifest = bench_data.ensure_videos(str(tmp_path), (72, 96), 2, num_frames=32)
    result = bench_data.decoding_benchmark(manifest, repeats=1, warmup=0)
    entry = result['32_frames']
    assert entry['sampled_frames'] == 32
    assert entry['batch']['frames_per_s'] > 0
    assert entry['frame_by_frame']['frames_per_s'] > 0
    assert result['open_per_video']['median_s'] > 0


def test_bad_crop_count_is_refused():
    with pytest.raises(ValueError, match='crops must be 1 or 3'):
        bench_data.test_pipeline(224, 256, 1, 2)
