"""Loader-only decode throughput at Kinetics resolution, per CPU core.

Stand-in videos encoded as Kinetics clips are (340x256, 10 s at 25 fps,
H.264 High profile with B-frames, one keyframe per 250 frames), written
here with PyAV's libx264. Per registered backend and view layout, one core
(torch, OpenCV and the decoder on one thread) runs the evaluation pipeline
up to the model's input -- open, official test indices (``BIKESampleFrames``
test mode: 8 segments x 1 clip for 1x1, x 4 clips for 4x3,
``docs/method.md``), decode, short-side resize to 256 and the centre or
three crops of 224 -- over every stand-in video. Five timed passes (after
one warm-up), the backends interleaved within each pass; the figure is
the median videos/s of one core.

From those figures and the model throughput in ``docs/gpu_speed.md``
(ViT-L/14 224 8-frame bf16 on one H200: eager 1,754 frames/s, compiled
2,745), ``projection`` gives the wall time of the full K400 val 4x3
evaluation (19,796 videos, 96 frames each) with 16 loader cores: the
slower of the loader (16 x per-core rate) and the model.
"""
from __future__ import annotations

import os
import time
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np

from bike_bench.benchmark.measure import add_rate, summarize

#: Kinetics-like encoding of the stand-in videos.
STANDIN = dict(height=256, width=340, seconds=10, fps=25, gop=250, bframes=3,
               profile='High', crf=23, preset='medium')
#: View layouts: (clips, crops), the official test arithmetic.
LAYOUTS = ((1, 1), (4, 3))
SEGMENTS = 8
#: docs/gpu_speed.md: ViT-L/14 224 8-frame bf16 on one H200 (torch 2.11).
VIT_L14_FRAMES_PER_S = {'eager': 1754.0, 'compiled': 2745.0}
K400_VAL_VIDEOS = 19796
LOADER_CORES = 16


def _standin_frames(index: int, count: int, height: int, width: int) -> np.ndarray:
    """Frames of a camera pan over a blocky random scene with fine texture,
    a moving block and per-frame noise: motion that H.264 predicts, detail
    and noise that cost bits (a few hundred kbit/s, as Kinetics clips)."""
    rng = np.random.default_rng(1000 + index)
    coarse = rng.integers(0, 256, (height // 8 + 8, (width + 4 * count) // 8 + 8, 3),
                          dtype=np.uint8)
    scene = np.repeat(np.repeat(coarse, 8, axis=0), 8, axis=1).astype(np.int16)
    scene += rng.integers(-12, 13, scene.shape, dtype=np.int16)
    scene = np.clip(scene, 0, 255).astype(np.uint8)
    out = np.empty((count, height, width, 3), np.uint8)
    for t in range(count):
        shift = 2 * t
        # Sensor-like noise that changes every frame (not predictable).
        noise = rng.integers(-10, 11, (height, width, 1), dtype=np.int16)
        out[t] = np.clip(scene[:height, shift:shift + width] + noise, 0, 255)
        y, x = (t * 3) % (height - 40), (t * 5) % (width - 40)
        out[t, y:y + 40, x:x + 40] = (255 - t) % 256
    return out


def write_standin(path: str, index: int, spec: Dict[str, object] = STANDIN) -> str:
    """One stand-in video at ``path`` (H.264 High, B-frames, GOP ``gop``)."""
    import av
    count = int(spec['seconds']) * int(spec['fps'])
    frames = _standin_frames(index, count, int(spec['height']), int(spec['width']))
    temporary = path + '.part.mp4'
    with av.open(temporary, 'w') as container:
        stream = container.add_stream('libx264', rate=int(spec['fps']))
        stream.width, stream.height = int(spec['width']), int(spec['height'])
        stream.pix_fmt = 'yuv420p'
        stream.profile = str(spec['profile'])
        stream.options = {'crf': str(spec['crf']), 'preset': str(spec['preset']),
                          'x264-params': f"keyint={spec['gop']}:min-keyint={spec['gop']}:"
                                         f"scenecut=0:bframes={spec['bframes']}"}
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format='rgb24')))
        container.mux(stream.encode())
    os.replace(temporary, path)
    return path


def describe(path: str) -> Dict[str, object]:
    """What the encoder produced: profile, size, frames, B-frames, keyframes."""
    import av
    with av.open(path) as container:
        stream = container.streams.video[0]
        keyframes, packets, reordered = 0, 0, False
        last_pts = None
        for packet in container.demux(stream):
            if packet.pts is None:
                continue
            packets += 1
            keyframes += bool(packet.is_keyframe)
            if last_pts is not None and packet.pts < last_pts:
                reordered = True  # decode order differs from display order: B-frames
            last_pts = packet.pts
        return dict(codec=stream.codec_context.name, profile=stream.profile,
                    width=stream.width, height=stream.height, frames=packets,
                    fps=float(stream.average_rate), keyframes=keyframes,
                    b_frames=reordered, kbit_per_s=round(os.path.getsize(path) * 8 / 1000
                                                         / (packets / float(
                                                             stream.average_rate)), 1))


def ensure_standins(cache_dir: str, count: int,
                    spec: Dict[str, object] = STANDIN) -> List[str]:
    folder = os.path.join(cache_dir, 'kinetics_standin_{width}x{height}_{seconds}s_'
                          '{fps}fps_gop{gop}'.format(**spec))
    os.makedirs(folder, exist_ok=True)
    paths = []
    for index in range(count):
        path = os.path.join(folder, f'standin_{index:02d}.mp4')
        if not os.path.isfile(path):
            write_standin(path, index, spec)
        paths.append(path)
    return paths


def _pipeline(backend: str, clips: int, crops: int) -> Callable[[str], object]:
    from mmengine.registry import DefaultScope

    import bike_bench.datasets  # noqa: F401  (registers transforms)
    from mmaction.registry import TRANSFORMS

    from bike_bench.benchmark.bench_data import test_pipeline
    steps = test_pipeline(224, 256, clips, crops, frames=SEGMENTS)
    steps[0] = dict(type='VideoInit', backend=backend, num_threads=1)
    with DefaultScope.overwrite_default_scope('mmaction'):
        transforms = [TRANSFORMS.build(step) for step in steps]

    def run(path: str):
        results = {'filename': path, 'start_index': 0, 'modality': 'RGB'}
        for transform in transforms:
            results = transform(results)
        return results
    return run


def decode_throughput(cache_dir: str, backends: Sequence[str], videos: int = 4,
                      repeats: int = 5, warmup: int = 1,
                      log: Optional[Callable[[str], None]] = None,
                      spec: Dict[str, object] = STANDIN) -> Dict[str, object]:
    """Per backend and layout: one core's loader-only videos/s (median of
    ``repeats`` passes over ``videos`` stand-ins) and the K400 projection."""
    import cv2
    import torch
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    cv2_threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        if log:
            log(f'decode throughput: writing {videos} Kinetics-like stand-in videos')
        paths = ensure_standins(cache_dir, videos, spec)
        runners = {(b, c, k): _pipeline(b, c, k) for b in backends for c, k in LAYOUTS}
        samples: Dict[tuple, List[float]] = {key: [] for key in runners}
        for run in range(warmup + repeats):
            if log:
                log(f'decode throughput: pass {run + 1} of {warmup + repeats}')
            for key, runner in runners.items():
                start = time.perf_counter()
                for path in paths:
                    runner(path)
                if run >= warmup:
                    samples[key].append(time.perf_counter() - start)
    finally:
        torch.set_num_threads(threads)
        cv2.setNumThreads(cv2_threads)
    from bike_bench.datasets.transforms.video_backends import library_info
    per_backend: Dict[str, object] = {}
    for (backend, clips, crops), timed in samples.items():
        entry = per_backend.setdefault(backend, {'library': library_info(backend)})
        entry[f'{clips}x{crops}'] = add_rate(summarize(timed, warmup), len(paths),
                                             'videos')
    out: Dict[str, object] = {
        'videos': describe(paths[0]) | {'count': len(paths)},
        'encoding': dict(spec),
        'cores': 1, 'segments': SEGMENTS,
        'what': 'open + official test indices + decode + resize 256 + crops 224, '
                'one thread; videos/s of one core, median of the passes',
        'backends': per_backend}
    out['projection'] = projection(per_backend)
    out['backend_order_in_each_pass'] = list(backends)
    return out


def projection(per_backend: Dict[str, object], cores: int = LOADER_CORES,
               videos: int = K400_VAL_VIDEOS) -> Dict[str, object]:
    """Wall time of the K400 val 4x3 ViT-L/14 evaluation on one GPU with
    ``cores`` loader cores: videos / min(loader rate, model rate)."""
    frames_per_video = 4 * 3 * SEGMENTS
    rows: Dict[str, object] = {}
    for backend, entry in per_backend.items():
        loader = cores * entry['4x3']['videos_per_s']
        for mode, frames_per_s in VIT_L14_FRAMES_PER_S.items():
            model = frames_per_s / frames_per_video
            rate = min(loader, model)
            rows[f'{backend}, {mode} model'] = dict(
                loader_videos_per_s=loader, model_videos_per_s=model,
                bound='loader' if loader < model else 'model',
                minutes=videos / rate / 60)
    return dict(videos=videos, loader_cores=cores, frames_per_video=frames_per_video,
                model_frames_per_s=VIT_L14_FRAMES_PER_S,
                model_source='docs/gpu_speed.md (H200, torch 2.11)', rows=rows)


def render(result: Dict[str, object]) -> str:
    """Markdown of the ``decode_throughput`` section."""
    data = result.get('sections', {}).get('decode_throughput')
    if not data:
        return ''
    video = data['videos']
    lines = ['## Decode throughput at Kinetics resolution (loader only, one core)', '',
             f"{video['count']} stand-in videos: {video['codec']} {video['profile']}, "
             f"{video['width']}x{video['height']}, {video['frames']} frames at "
             f"{video['fps']:g} fps, {video['keyframes']} keyframe(s), B-frames "
             f"{'yes' if video['b_frames'] else 'no'}, {video['kbit_per_s']} kbit/s. "
             f"{data['what']}.", '',
             '| backend | version | 1x1 videos/s per core | 4x3 videos/s per core |',
             '| --- | --- | --- | --- |']
    for backend, entry in data['backends'].items():
        library = entry['library']
        version = library['version'] + (f", FFmpeg {library['ffmpeg']}"
                                         if library.get('ffmpeg') else '')
        cells = [f"{entry[k]['videos_per_s']:.2f} ({entry[k]['videos_per_s_range'][0]:.2f}"
                 f"-{entry[k]['videos_per_s_range'][1]:.2f})" for k in ('1x1', '4x3')]
        lines.append(f'| {backend} | {version} | {cells[0]} | {cells[1]} |')
    proj = data['projection']
    lines += ['', f"Projected K400 val 4x3 ViT-L/14 ({proj['videos']:,} videos, "
              f"{proj['frames_per_video']} frames each) on one GPU with "
              f"{proj['loader_cores']} loader cores (model: {proj['model_source']}):", '',
              '| backend, model | loader videos/s | model videos/s | bound | minutes |',
              '| --- | --- | --- | --- | --- |']
    for key, row in proj['rows'].items():
        lines.append(f"| {key} | {row['loader_videos_per_s']:.1f} | "
                     f"{row['model_videos_per_s']:.1f} | {row['bound']} | "
                     f"{row['minutes']:.1f} |")
    return '\n'.join(lines) + '\n'
