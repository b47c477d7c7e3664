"""The synthetic benchmark: small, deterministic stand-ins for the six
datasets, each written in that dataset's own annotation format and then
turned into manifests by the same builders a user's data goes through.

``write_benchmark(out)`` writes, under ``out/<dataset>/``:

- ``kinetics400``: ``annotations/{train,val}.csv`` (Kinetics CSV) and clips
  ``{split}/{youtube_id}_{start:06d}_{end:06d}.mp4``;
- ``kinetics600``: classes unseen in the ``kinetics400`` flavour, three
  zero-shot splits as official BIKE files (``lists/k160_labels_splitN.csv``,
  ``lists/test_splitN_exist.txt``) and clips under ``test/``;
- ``ucf101``: ``ucfTrainTestlist/{classInd,trainlist0N,testlist0N}.txt``,
  videos ``UCF-101/<Class>/v_<Class>_gGG_c01.avi`` (class names without
  spaces, as UCF's); with ``frames``, official BIKE frame lists instead;
- ``hmdb51``: ``testTrainMulti_7030_splits/<class>_test_splitN.txt`` (0/1/2
  flags), videos ``videos/<class>/<video>.avi``; with ``frames``, official
  BIKE frame lists instead;
- ``activitynet``: ``activity_net.v1-3.min.json``, untrimmed videos
  ``videos/v_<id>.mp4`` where the activity is visible in the annotated
  segments only (and two unlabelled ``testing`` videos);
- ``charades``: ``Charades/Charades_v1_{classes.txt,train.csv,test.csv}``
  (CRLF line ends like the release) and ``lists/Charades_train_split_label.csv``,
  videos ``Charades_v1/<id>.mp4`` with several overlapping actions; one test
  video has no actions and one training instance ends before it starts,
  as in the real files;

plus the class tables and ``manifests/*.jsonl`` of each, and the smoke split
(``out/manifests/smoke_{train,val}.jsonl``, ``smoke.py``). Frame folders
are ``img_{:05d}.jpg`` from 1. Everything follows from the seed.
"""
from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import os
import random
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from bike_bench import catalog
from bike_bench.datasets.build import build_dataset
from bike_bench.datasets.smoke import write_smoke_set
from bike_bench.datasets.synthetic import (SyntheticClass, choose_classes,
                                           render_scene, render_video, video_seed,
                                           write_frame_folder, write_mp4)
from bike_bench.utils.atomic import atomic_write_text

# Flavours whose classes come from the held-out compositions: the datasets
# whose spec has a zero-shot evaluation.
ZEROSHOT_FLAVOURS = catalog.zeroshot_datasets()
FPS = 8
FRAME_TMPL = 'img_{:05d}.jpg'


@dataclasses.dataclass
class SynthConfig:
    """Sizes of the synthetic benchmark (the defaults are the CI size)."""
    classes: int = 8
    videos_per_class: int = 4
    seed: int = 0
    num_frames: int = 16
    size: Tuple[int, int] = (72, 96)   # height, width
    frames: bool = False               # UCF/HMDB as frame folders
    # Classes of the zero-shot flavours (UCF, HMDB, ActivityNet, K600),
    # drawn from the compositions held out of the toy CLIP's pre-training
    # (``synthetic.HELD_OUT_PAIRS``); ``None``: as many as ``classes``. The
    # smoke suite uses 10, so that a half-class split keeps 5 classes.
    zeroshot_classes: Optional[int] = None

    def __post_init__(self):
        # Three videos per class give every one of the three UCF/HMDB splits
        # a test video of each class.
        if self.classes < 2 or self.videos_per_class < 3:
            raise ValueError('the synthetic benchmark needs at least 2 classes '
                             'and 3 videos per class')


class _Writer:
    """Writes one flavour's files under ``root`` (videos, text files)."""

    def __init__(self, root: str, cfg: SynthConfig, name: str):
        self.root, self.cfg, self.name = root, cfg, name

    def seed(self, *parts) -> int:
        return video_seed(self.cfg.seed, f'{self.name}|' + '|'.join(map(str, parts)), 0)

    def text(self, relpath: str, text: str, crlf: bool = False) -> None:
        atomic_write_text(os.path.join(self.root, relpath),
                          text.replace('\n', '\r\n') if crlf else text)

    def csv(self, relpath: str, rows: Sequence[Sequence], crlf: bool = False) -> None:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator='\n').writerows(rows)
        self.text(relpath, buffer.getvalue(), crlf)

    def media(self, relpath: str, frames: np.ndarray, as_frames: bool = False) -> None:
        target = os.path.join(self.root, relpath)
        if as_frames:
            if os.path.isdir(target):  # rewritten whole, never mixed
                import shutil
                shutil.rmtree(target)
            write_frame_folder(target, frames, FRAME_TMPL, 1)
        else:
            write_mp4(target, frames, fps=FPS)

    def clip(self, spec: SyntheticClass, index: int) -> np.ndarray:
        return render_video(spec, self.seed(spec.name, index), self.cfg.num_frames,
                            self.cfg.size)


def youtube_id(*parts, length: int = 11,
               alphabet: str = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
                               '0123456789-_') -> str:
    """A deterministic YouTube-style id (11 characters by default)."""
    digest = hashlib.sha256('|'.join(map(str, parts)).encode()).digest()
    return ''.join(alphabet[b % len(alphabet)] for b in digest[:length])


def _kinetics_rows(w: _Writer, classes, per_class: int, split: str, offset: int):
    rows = []
    for spec in classes:
        for i in range(offset, offset + per_class):
            yid = youtube_id(w.cfg.seed, w.name, spec.name, i)
            start = (i * 7) % 290
            rows.append((spec, i, yid, start, start + 10, split))
    return rows


def kinetics400(w: _Writer, classes: List[SyntheticClass]) -> None:
    per = w.cfg.videos_per_class
    for split, count, offset in (('train', per, 0), ('val', max(1, per // 2), per)):
        rows = _kinetics_rows(w, classes, count, split, offset)
        w.csv(f'annotations/{split}.csv', [('label', 'youtube_id', 'time_start',
                                            'time_end', 'split')] +
              [(s.name, yid, a, b, split) for s, _, yid, a, b, _ in rows])
        for spec, i, yid, a, b, _ in rows:
            w.media(f'{split}/{yid}_{a:06d}_{b:06d}.mp4', w.clip(spec, i))


def kinetics600(w: _Writer, unseen: List[SyntheticClass]) -> None:
    per = max(2, w.cfg.videos_per_class // 2)
    rows = _kinetics_rows(w, unseen, per, 'test', 0)
    for spec, i, yid, a, b, _ in rows:
        w.media(f'test/{yid}_{a:06d}_{b:06d}.mp4', w.clip(spec, i))
    size = max(2, (3 * len(unseen) + 3) // 4)
    for split in (1, 2, 3):
        chosen = sorted(s.name for s in random.Random(w.seed('split', split)).sample(
            unseen, size))
        w.csv(f'lists/k160_labels_split{split}.csv',
              [('id', 'name')] + list(enumerate(chosen)))
        w.text(f'lists/test_split{split}_exist.txt', ''.join(
            f'{yid}_{a:06d}_{b:06d}.mp4 {chosen.index(s.name)}\n'
            for s, _, yid, a, b, _ in rows if s.name in chosen))


def _split_of(index: int, split: int, per: int) -> str:
    """``'test'``, ``'train'`` or ``'none'`` for video ``index`` in split."""
    if index % 3 == split - 1:
        return 'test'
    return 'none' if per >= 4 and index == per - 1 else 'train'


def ucf101(w: _Writer, classes: List[SyntheticClass]) -> None:
    per, frames = w.cfg.videos_per_class, w.cfg.frames
    videos = []  # (class id, folder, stem, group)
    for label, spec in enumerate(classes):
        for g in range(1, per + 1):
            stem = f'v_{spec.camel_name}_g{g:02d}_c01'
            videos.append((label, spec.camel_name, stem, g))
            clip = w.clip(spec, g)
            if frames:
                w.media(f'frames/{spec.camel_name}/{stem}', clip, as_frames=True)
            else:
                w.media(f'UCF-101/{spec.camel_name}/{stem}.avi', clip)
    n = w.cfg.num_frames
    if frames:
        w.csv('lists/ucf_labels.csv', [('id', 'name')] +
              [(i, s.camel_name) for i, s in enumerate(classes)])
    else:
        w.text('ucfTrainTestlist/classInd.txt', ''.join(
            f'{i + 1} {s.camel_name}\n' for i, s in enumerate(classes)), crlf=True)
    for split in (1, 2, 3):
        # UCF holds out whole groups; group g is a test group of split (g-1)%3+1.
        train = [v for v in videos if (v[3] - 1) % 3 != split - 1]
        test = [v for v in videos if (v[3] - 1) % 3 == split - 1]
        if frames:
            w.text(f'lists/train_rgb_split_{split}.txt', ''.join(
                f'{f}/{s} {n} {c}\n' for c, f, s, _ in train))
            w.text(f'lists/val_rgb_split_{split}.txt', ''.join(
                f'{f}/{s} {n} {c}\n' for c, f, s, _ in test))
        else:
            w.text(f'ucfTrainTestlist/trainlist0{split}.txt', ''.join(
                f'{f}/{s}.avi {c + 1}\n' for c, f, s, _ in train), crlf=True)
            w.text(f'ucfTrainTestlist/testlist0{split}.txt', ''.join(
                f'{f}/{s}.avi\n' for _, f, s, _ in test), crlf=True)
    if frames:
        w.text('lists/ucf_full_for_zeroshot.txt', ''.join(
            f'{f}/{s} {n} {c}\n' for c, f, s, _ in videos))


def hmdb51(w: _Writer, classes: List[SyntheticClass]) -> None:
    per, frames, n = w.cfg.videos_per_class, w.cfg.frames, w.cfg.num_frames
    folders = sorted(s.name.replace(' ', '_') for s in classes)
    by_folder = {s.name.replace(' ', '_'): s for s in classes}
    lists: Dict[str, List[str]] = {}
    for label, folder in enumerate(folders):
        spec = by_folder[folder]
        stems = [f'{folder}_clip{i}_u_nm_np1_fr_goo_{i}' for i in range(per)]
        for i, stem in enumerate(stems):
            clip = w.clip(spec, i)
            if frames:
                w.media(f'frames/{folder}/{stem}', clip, as_frames=True)
            else:
                w.media(f'videos/{folder}/{stem}.avi', clip)
        for split in (1, 2, 3):
            flags = [_split_of(i, split, per) for i in range(per)]
            w.text(f'testTrainMulti_7030_splits/{folder}_test_split{split}.txt', ''.join(
                f'{stem}.avi {dict(train=1, test=2, none=0)[flag]} \n'
                for stem, flag in zip(stems, flags)))
            for kind, flag_name in (('train', 'train'), ('val', 'test')):
                lists.setdefault(f'{kind}_rgb_split_{split}', []).extend(
                    f'{folder}/{stem} {n} {label}\n'
                    for stem, flag in zip(stems, flags) if flag == flag_name)
        lists.setdefault('hmdb_full_for_zeroshot', []).extend(
            f'{folder}/{stem} {n} {label}\n' for stem in stems)
    if frames:
        w.csv('lists/hmdb51_labels.csv', [('id', 'name')] +
              [(i, f.replace('_', ' ')) for i, f in enumerate(folders)])
        for name, lines in lists.items():
            w.text(f'lists/{name}.txt', ''.join(lines))


def activitynet(w: _Writer, classes: List[SyntheticClass]) -> None:
    per, length = w.cfg.videos_per_class, 2 * w.cfg.num_frames
    database = {}
    plan = [(spec, 'training', i) for spec in classes for i in range(per)] + \
        [(spec, 'validation', per + i) for spec in classes
         for i in range(max(1, per // 2))] + \
        [(classes[i], 'testing', 10_000 + i) for i in range(2)]
    for spec, subset, i in plan:
        vid = youtube_id(w.cfg.seed, w.name, spec.name, i)
        rng = random.Random(w.seed(vid))
        # One or two instances of the activity, background in between.
        if rng.random() < 0.5:
            segments = [(rng.randint(0, length // 4), rng.randint(length // 2, length - 1))]
        else:
            segments = [(rng.randint(0, 3), rng.randint(length // 3, length // 2 - 1)),
                        (rng.randint(length // 2 + 2, length // 2 + 5), length - 1)]
        frames = render_scene([(spec, a, b) for a, b in segments], w.seed('scene', vid),
                              length, w.cfg.size)
        w.media(f'videos/v_{vid}.mp4', frames)
        annotations = [] if subset == 'testing' else [
            {'segment': [round(a / FPS, 3), round((b + 1) / FPS, 3)], 'label': spec.name}
            for a, b in segments]
        database[vid] = {'subset': subset, 'duration': length / FPS,
                         'resolution': f'{w.cfg.size[1]}x{w.cfg.size[0]}',
                         'url': f'https://www.youtube.com/watch?v={vid}',
                         'annotations': annotations}
    taxonomy = [{'nodeId': i + 1, 'nodeName': s.name, 'parentId': 0,
                 'parentName': 'Root'} for i, s in enumerate(classes)]
    w.text('activity_net.v1-3.min.json', json.dumps(
        {'version': 'VERSION 1.3', 'taxonomy': taxonomy, 'database': database}))


def charades(w: _Writer, classes: List[SyntheticClass]) -> None:
    length, per = 2 * w.cfg.num_frames, w.cfg.videos_per_class
    w.text('Charades/Charades_v1_classes.txt', ''.join(
        f'c{i:03d} {s.name}\n' for i, s in enumerate(classes)), crlf=True)
    header = ('id', 'subject', 'scene', 'quality', 'relevance', 'verified',
              'script', 'objects', 'descriptions', 'actions', 'length')
    instances = [('video_id', 'label', 'start_time', 'end_time', 'total_time')]
    counts = {'train': max(2, len(classes) * per // 2), 'test': max(2, len(classes))}
    used = set()
    for subset, count in counts.items():
        rows = [header]
        for v in range(count):
            salt = 0
            while True:  # Charades ids: 5 characters, A-Z and 0-9, unique
                vid = youtube_id(w.cfg.seed, w.name, subset, v, salt, length=5,
                                 alphabet='ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')
                salt += 1
                if vid not in used:
                    used.add(vid)
                    break
            # Two or three actions per video, cycling so every class occurs.
            k = 2 + v % 2
            labels = [(v * 2 + j) % len(classes) for j in range(k)]
            rng = random.Random(w.seed(vid))
            events = []
            for label in dict.fromkeys(labels):
                a = rng.randint(0, length // 2)
                events.append((label, a, rng.randint(a + 4, length - 1)))
            if subset == 'test' and v == count - 1:
                events = []  # a test video without actions, as in Charades
            frames = render_scene([(classes[c], a, b) for c, a, b in events],
                                  w.seed('scene', vid), length, w.cfg.size)
            w.media(f'Charades_v1/{vid}.mp4', frames)
            actions = ';'.join(f'c{c:03d} {a / FPS:.2f} {(b + 1) / FPS:.2f}'
                               for c, a, b in events)
            total = f'{length / FPS:.2f}'
            rows.append((vid, 'S0' + str(v), 'Kitchen', 6, 7, 'Yes',
                         f'A "{classes[labels[0]].name}", then more.', 'shape;screen',
                         'Shapes move.\nSome, quickly.', actions, total))
            if subset == 'train':
                instances.extend((vid, f'c{c:03d}', f'{a / FPS:.2f}',
                                  f'{(b + 1) / FPS:.2f}', total) for c, a, b in events)
        w.csv(f'Charades/Charades_v1_{subset}.csv', rows, crlf=True)
    # An instance whose end precedes its start (the real file has 7).
    instances.append((instances[1][0], instances[1][1], '3.00', '1.00', instances[1][4]))
    w.csv('lists/Charades_train_split_label.csv', instances, crlf=True)


WRITERS = {'kinetics400': kinetics400, 'kinetics600': kinetics600,
           'ucf101': ucf101, 'hmdb51': hmdb51, 'activitynet': activitynet,
           'charades': charades}
FORMATS = {'kinetics400': 'kinetics-csv', 'kinetics600': 'official',
           'ucf101': 'ucf101-splits', 'hmdb51': 'hmdb51-splits',
           'activitynet': 'activitynet-json', 'charades': 'charades-csv'}
# The datasets with a synthetic writer, in the specs' listing order (the
# order also seeds each flavour's classes).
FLAVOURS = tuple(name for name in catalog.dataset_names() if name in WRITERS)


def flavour_classes(cfg: SynthConfig = SynthConfig()) -> Dict[str, List[SyntheticClass]]:
    """The classes of every flavour.

    "K400" never sees the compositions held out of the toy CLIP's
    pre-training (``synthetic.HELD_OUT_PAIRS``); the zero-shot flavours
    (:data:`ZEROSHOT_FLAVOURS`) use only them, ``cfg.zeroshot_classes`` each,
    and K600 only those unseen in K400 (disjoint by construction).
    """
    k400 = choose_classes(cfg.classes, seed=cfg.seed, held_out=False)
    unseen = cfg.zeroshot_classes or cfg.classes
    out = {'kinetics400': k400}
    for name in FLAVOURS[1:]:
        if name == 'kinetics600':
            out[name] = choose_classes(unseen, seed=cfg.seed,
                                       exclude=[c.name for c in k400], held_out=True)
        elif name in ZEROSHOT_FLAVOURS:
            out[name] = choose_classes(unseen, seed=cfg.seed + FLAVOURS.index(name),
                                       held_out=True)
        else:
            out[name] = choose_classes(cfg.classes, seed=cfg.seed + FLAVOURS.index(name))
    return out


def write_benchmark(out: str, cfg: SynthConfig = SynthConfig(),
                    flavours: Sequence[str] = FLAVOURS,
                    smoke: bool = True) -> Dict[str, object]:
    """Write the chosen flavours (sources, media, manifests) under ``out``.

    Returns ``{flavour: BuildOutcome}`` (and ``'smoke'``: its paths).
    """
    unknown = set(flavours) - set(FLAVOURS)
    if unknown:
        raise ValueError(f'unknown flavour(s) {sorted(unknown)}; use {FLAVOURS}')
    chosen = flavour_classes(cfg)
    outcomes: Dict[str, object] = {}
    for name in FLAVOURS:
        if name not in flavours:
            continue
        root = os.path.join(out, name)
        w = _Writer(root, cfg, name)
        classes = chosen[name]
        WRITERS[name](w, classes)
        fmt = FORMATS[name]
        if cfg.frames and name in ('ucf101', 'hmdb51'):
            fmt = 'official'
        outcomes[name] = build_dataset(name, fmt, out=root, filename_tmpl=(
            FRAME_TMPL if fmt == 'official' and name != 'kinetics600' else None))
    if smoke:
        outcomes['smoke'] = write_smoke_set(out, seed=cfg.seed)
    return outcomes
