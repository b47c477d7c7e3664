"""Data-side measurements for ``make bench``.

- ``bench_manifest_build``: time to turn a Kinetics-400-sized list (the
  official validation frame list when given, else a generated list of the
  same size: 19,796 lines, 400 classes) into a manifest, writing included;
- ``bench_decode``: frames per second when sampling T frames per video (the
  validation indices) with decord's batch access, through the same
  ``open_video``/``decode_video_frames`` calls the data pipeline makes.
  Without videos given it writes synthetic ones (MPEG-4 part 2, OpenCV's
  ``mp4v``; real datasets are mostly H.264, which decodes at another speed).

Each returns a plain dict (JSON-ready).
"""
from __future__ import annotations

import os
import statistics
import tempfile
import time
from typing import Dict, List, Optional, Sequence, Tuple
from bike_bench.datasets.build import build_dataset
from bike_bench.datasets.class_table import write_class_table
from bike_bench.datasets.synthetic import choose_classes, render_video, write_mp4
from bike_bench.datasets.synthetic_benchmark import youtube_id
from bike_bench.datasets.transforms.decoding import decode_video_frames, open_video
from bike_bench.datasets.transforms.sampling import val_indices

K400_VAL_ENTRIES = 19796
K400_CLASSES = 400


def _write_k400_sized_list(folder: str, entries: int = K400_VAL_ENTRIES,
                           classes: int = K400_CLASSES) -> Tuple[str, str]:
    table = os.path.join(folder, 'classes.csv')
    write_class_table(table, [f'class number {i}' for i in range(classes)])
    path = os.path.join(folder, 'val_list.txt')
    with open(path, 'w', encoding='utf-8') as handle:
        for i in range(entries):
            handle.write(f'{youtube_id("bench", i)} {100 + i % 200} {i % classes}\n')
    return path, table


def bench_manifest_build(list_path: Optional[str] = None,
                         classes_path: Optional[str] = None,
                         repeats: int = 3) -> Dict[str, object]:
    """Median time to build (parse, validate, write) a K400-sized manifest."""
    with tempfile.TemporaryDirectory() as tmp:
        source = 'official K400 validation list'
        if list_path is None:
            list_path, classes_path = _write_k400_sized_list(tmp)
            source = 'generated K400-sized list'
        if classes_path is None:
            raise ValueError('give classes_path with list_path')
        times, entries = [], 0
        for _ in range(max(1, repeats)):
            start = time.perf_counter()
            outcome = build_dataset('kinetics400', 'official', out=os.path.join(tmp, 'out'),
                                    files={'val': list_path, 'classes': classes_path},
                                    only=['val'])
            times.append(time.perf_counter() - start)
            entries = len(outcome.result.manifests[0].manifest.entries)
    seconds = statistics.median(times)
    return {'source': source, 'entries': entries, 'repeats': len(times),
            'seconds': round(seconds, 4), 'entries_per_s': round(entries / seconds, 1)}


def write_bench_videos(folder: str, count: int = 6, num_frames: int = 300,
                       size: Tuple[int, int] = (256, 340), seed: int = 0) -> List[str]:
    """``count`` synthetic videos of ``num_frames`` frames (height, width)."""
    paths = []
    for index, spec in enumerate(choose_classes(count, seed=seed)):
        path = os.path.join(folder, f'bench_{index:02d}.mp4')
        write_mp4(path, render_video(spec, seed + index, num_frames, size), fps=30)
        paths.append(path)
    return paths


def bench_decode(videos: Optional[Sequence[str]] = None,
                 frames_per_video: Sequence[int] = (8, 32), repeats: int = 2,
                 num_threads: int = 1, bench_videos: int = 6,
                 bench_frames: int = 300,
                 bench_size: Tuple[int, int] = (256, 340)) -> Dict[str, object]:
    """Decoded frames per second for each T in ``frames_per_video``.

    Each measurement opens every video and decodes its T validation-sampled
    frames with one batch call (what ``VideoInit`` + ``VideoDecode`` do);
    the best of ``repeats`` passes is kept (the first pass also warms the
    file cache).
    """
    import numpy as np
    with tempfile.TemporaryDirectory() as tmp:
        described = 'given videos'
        if videos is None:
            videos = write_bench_videos(tmp, bench_videos, bench_frames, bench_size)
            described = (f'{bench_videos} synthetic mp4v videos, {bench_frames} '
                         f'frames of {bench_size[1]}x{bench_size[0]}')
        results = {}
        for frames in frames_per_video:
            best = None
            for _ in range(max(1, repeats)):
                decoded = 0
                start = time.perf_counter()
                for path in videos:
                    reader = open_video(path, num_threads)
                    inds = np.asarray(val_indices(len(reader), frames))
                    decoded += len(decode_video_frames(reader, inds, path))
                elapsed = time.perf_counter() - start
                best = elapsed if best is None else min(best, elapsed)
            results[f'T={frames}'] = {
                'frames_per_s': round(decoded / best, 1),
                'videos_per_s': round(len(videos) / best, 2),
                'seconds': round(best, 4)}
    return {'videos': described, 'count': len(videos), 'num_threads': num_threads,
            'decoder': 'decord get_batch', **results}
