"""Stand-in videos named and labelled as an official list (``bike-bench synth
--like LIST``): a rehearsal of the real-size path on a CPU.

``write_like('lists/k400/kinetics_video_val_se320.txt',
'data/k400-like')`` recognises the list by its file name among the source
files of the dataset specs (here: Kinetics-400, format ``official``,
manifest ``val``), reads it with that format's builder (so every entry path
is the one the real manifest will have: media folder, path pattern, frame
template), and writes at each path a tiny clip (``size`` px, ``num_frames``
frames; a frame folder where the list lists frames, with as many frames as
listed). The list and its class table are copied to where the spec looks
for them, so ``bike-bench manifests build kinetics400 --format official
--source OUT --out OUT`` builds the stand-in dataset, and ``manifests check``
and coverage run on it as on the real one. A list no spec knows is read as
an MMAction2 video list (``path label``) and built as a custom dataset.

Each class gets a few distinct clips (colour and motion from the label,
``VARIANTS`` per class), encoded once and written to every path of that
class, so 20,000 stand-ins take seconds, not an encoder run each. Files are
only ever written into a folder this module made (a marker file says so);
an existing file there that differs from its stand-in is replaced and
counted, anywhere else an existing folder is refused.
"""
from __future__ import annotations

import colorsys
import dataclasses
import json
import os
import shutil
import tempfile
import time
from typing import Dict, List, Optional, Tuple

import numpy as np

from bike_bench import catalog
from bike_bench.datasets.build import build_dataset
from bike_bench.datasets.builders.sources import SourceError, parse_list
from bike_bench.datasets.manifest import ManifestEntry
from bike_bench.datasets.synthetic import write_frame_folder, write_mp4

MARKER = '.bike-bench-synth-like.json'
VARIANTS = 4
# A frame list this long would write more frame files than a rehearsal needs.
MAX_FRAMES = 2_000_000


@dataclasses.dataclass
class LikeOutcome:
    """What ``write_like`` did."""
    out: str
    dataset: str          # the spec's dataset, or the custom name
    format: str
    manifest: str
    entries: int
    written: int          # files or frame folders written
    kept: int             # already there, identical
    replaced: int         # there but different (a stand-in folder of ours)
    seconds: float
    build_command: str    # how to build the stand-in's manifests


@dataclasses.dataclass
class ListMatch:
    dataset: str
    format: str
    key: str              # source-file key of the list
    manifest: str
    table_key: Optional[str]


def identify(list_path: str, dataset: Optional[str] = None) -> Optional[ListMatch]:
    """The spec format whose source file has the list's file name.

    Raises:
        SourceError: several datasets' formats name it (give ``dataset``).
    """
    name = os.path.basename(list_path)
    found: List[ListMatch] = []
    for info in catalog.datasets().values():
        if dataset and info.name != catalog.get(dataset).name:
            continue
        for fmt in info.formats.values():
            for key, source in fmt.files.items():
                if name not in (os.path.basename(p) for p in source.paths):
                    continue
                for manifest, build in fmt.builds.items():
                    needs = [k for need in build['needs'] for k in str(need).split('|')]
                    if key in needs:
                        tables = [k for k in needs if k != key and 'class' in k]
                        found.append(ListMatch(info.name, fmt.name, key, manifest,
                                               tables[0] if tables else None))
    kinds = {(m.dataset, m.format, m.manifest) for m in found}
    if len(kinds) > 1:
        raise SourceError(f'{list_path}: the file name fits ' + ', '.join(
            f'{d}/{f}/{m}' for d, f, m in sorted(kinds)) + '; give --dataset')
    return found[0] if found else None


def _class_table_near(list_path: str, match: ListMatch) -> Optional[str]:
    """The format's class table beside the list (by its file names)."""
    source = catalog.get(match.dataset).formats[match.format].files[match.table_key]
    folder = os.path.dirname(os.path.abspath(list_path))
    for candidate in source.paths:
        path = os.path.join(folder, os.path.basename(candidate))
        if os.path.isfile(path):
            return path
    return None


def clip_frames(label: int, variant: int, num_frames: int, size: int) -> np.ndarray:
    """``(num_frames, size, size, 3)`` uint8: a background colour and a bar
    moving at a speed and direction that follow from the label."""
    hue = (label * 0.618034) % 1.0
    background = np.array(colorsys.hsv_to_rgb(hue, 0.6, 0.8)) * 255
    bar = np.array(colorsys.hsv_to_rgb((hue + 0.5) % 1.0, 0.9, 1.0)) * 255
    speed = 1 + label % 3
    direction = 1 if (label // 3) % 2 == 0 else -1
    rng = np.random.default_rng(label * 7919 + variant)
    frames = np.empty((num_frames, size, size, 3), dtype=np.uint8)
    width = max(2, size // 6)
    for t in range(num_frames):
        frame = np.broadcast_to(background, (size, size, 3)).copy()
        start = (variant * 5 + direction * speed * t * 2) % size
        columns = (np.arange(width) + start) % size
        frame[:, columns] = bar
        noise = rng.integers(-12, 13, frame.shape)
        frames[t] = np.clip(frame + noise, 0, 255).astype(np.uint8)
    return frames


def _entries(list_path: str, match: Optional[ListMatch], classes: Optional[str],
             out: str) -> Tuple[List[ManifestEntry], Dict[str, str]]:
    """Entries of the list as its builder makes them, and the files to copy
    (``destination relative to out -> source``)."""
    if match is None:
        records = parse_list(list_path, 'video', multi_label=False)
        entries = [ManifestEntry(r.path, r.labels[0], num_frames=r.num_frames)
                   for r in records]
        copies = {os.path.basename(list_path): list_path}
        if classes:
            copies[os.path.basename(classes)] = classes
        return entries, copies
    files = {match.key: list_path}
    if match.table_key:
        table = classes or _class_table_near(list_path, match)
        if table is None:
            raise SourceError(f'{list_path}: {match.dataset}/{match.format} needs its '
                              f'class table ({match.table_key}) beside the list or '
                              'given with --class-table')
        files[match.table_key] = table
    with tempfile.TemporaryDirectory() as scratch:
        outcome = build_dataset(match.dataset, match.format, source=scratch,
                                out=out, files=files, only=[match.manifest], write=False)
    entries = outcome.result.manifests[0].manifest.entries
    fmt = catalog.get(match.dataset).formats[match.format]
    copies = {}
    for key, path in files.items():
        candidates = fmt.files[key].paths
        same = [c for c in candidates if os.path.basename(c) == os.path.basename(path)]
        copies[(same or candidates)[0]] = path
    return entries, copies


def _prepare(out: str) -> None:
    marker = os.path.join(out, MARKER)
    if os.path.isdir(out) and os.listdir(out) and not os.path.isfile(marker):
        raise SourceError(f'{out}: exists and was not made by `synth --like`; '
                          'give another --out (nothing there is overwritten)')
    os.makedirs(out, exist_ok=True)
    with open(marker, 'w', encoding='utf-8') as handle:
        json.dump({'written_by': 'bike-bench synth --like'}, handle)


def _write_file(path: str, data: bytes) -> str:
    """``written``, ``kept`` or ``replaced``."""
    state = 'written'
    if os.path.isfile(path):
        if os.path.getsize(path) == len(data):
            with open(path, 'rb') as handle:
                if handle.read() == data:
                    return 'kept'
        state = 'replaced'
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = os.path.join(os.path.dirname(path), '.tmp-' + os.path.basename(path))
    with open(tmp, 'wb') as handle:
        handle.write(data)
    os.replace(tmp, path)  # never a half-written file at the path
    return state


def write_like(list_path: str, out: str, classes: Optional[str] = None,
               dataset: Optional[str] = None, num_frames: int = 8,
               size: int = 32) -> LikeOutcome:
    """Write stand-ins for every entry of ``list_path`` under ``out``.

    Args:
        classes: the class table, when it is not beside the list.
        dataset: the dataset whose spec names the list (when ambiguous).
        num_frames, size: frames and pixels of each stand-in video (frame
            folders get the listed number of frames).

    Raises:
        SourceError: the list cannot be read, its class table is missing,
            ``out`` holds other files, or a frame list is too long.
    """
    if not os.path.isfile(list_path):
        raise FileNotFoundError(f'list not found: {list_path}')
    start = time.perf_counter()
    match = identify(list_path, dataset)
    _prepare(out)
    entries, copies = _entries(list_path, match, classes, out)
    frames_total = sum(e.num_frames or 0 for e in entries if e.is_frame_folder)
    if frames_total > MAX_FRAMES:
        raise SourceError(f'{list_path}: its frame folders hold {frames_total:,} frames '
                          f'(more than {MAX_FRAMES:,} stand-in files); rehearse with '
                          'the video list instead')
    counts = {'written': 0, 'kept': 0, 'replaced': 0}
    encoded: Dict[Tuple[int, int], bytes] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for index, entry in enumerate(entries):
            label = entry.labels[0] if entry.labels else 0
            variant = index % VARIANTS
            target = entry.path if os.path.isabs(entry.path) else os.path.join(out, entry.path)
            if entry.is_frame_folder:
                clip = clip_frames(label, variant, entry.num_frames or num_frames, size)
                if os.path.isdir(target):
                    counts['kept'] += 1
                    continue
                write_frame_folder(target, clip, entry.filename_tmpl, entry.start_index)
                counts['written'] += 1
                continue
            key = (label, variant)
            if key not in encoded:
                tmp = os.path.join(scratch, f'{label}_{variant}.mp4')
                write_mp4(tmp, clip_frames(label, variant, num_frames, size))
                with open(tmp, 'rb') as handle:
                    encoded[key] = handle.read()
            counts[_write_file(target, encoded[key])] += 1
    for relative, source in copies.items():
        target = os.path.join(out, relative)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if os.path.abspath(source) != os.path.abspath(target):
            shutil.copyfile(source, target)
    if match is not None:
        command = (f'bike-bench manifests build {match.dataset} --format {match.format} '
                   f'--source {out} --out {out} --only {match.manifest}')
        names = (match.dataset, match.format, match.manifest)
    else:
        stem = os.path.splitext(os.path.basename(list_path))[0]
        name = ''.join(c if c.isalnum() else '-' for c in stem.lower()).strip('-') or 'like'
        table = f' --classes {os.path.join(out, os.path.basename(classes))}' if classes else ''
        command = (f'bike-bench manifests build custom --name {name} --format '
                   f'mmaction-video --source {out} --out {out} --ann test='
                   f'{os.path.join(out, os.path.basename(list_path))}{table}')
        names = (name, 'mmaction-video', 'test')
    return LikeOutcome(out, *names, len(entries), counts['written'], counts['kept'],
                       counts['replaced'], time.perf_counter() - start, command)
