"""The smoke split of the synthetic benchmark: a few classes, mp4 videos."""
from __future__ import annotations

import os
from typing import Dict

from bike_bench.datasets.class_table import write_class_table
from bike_bench.datasets.manifest import Manifest, ManifestEntry, write_manifest
from bike_bench.datasets.synthetic import choose_classes, generate_videos


def write_smoke_set(out_dir: str, num_classes: int = 8, train_per_class: int = 12,
                    val_per_class: int = 4, seed: int = 0,
                    num_frames: int = 16) -> Dict[str, str]:
    """Videos, class table and ``smoke_{train,val}.jsonl`` manifests.

    Returns the paths written, keyed by ``classes``, ``train`` and ``val``.
    """
    classes = choose_classes(num_classes, seed=seed, held_out=False)
    names = [c.name for c in classes]
    classes_path = os.path.join(out_dir, 'smoke_classes.csv')
    write_class_table(classes_path, names)
    paths = {'classes': classes_path}
    for split, per_class, offset in (('train', train_per_class, 0),
                                     ('val', val_per_class, train_per_class)):
        videos = generate_videos(out_dir, classes, per_class, seed=seed,
                                 num_frames=num_frames,
                                 subdir=os.path.join('videos', 'smoke'),
                                 index_offset=offset)
        entries = [ManifestEntry(path=v.relpath, label=v.label, split=split,
                                 id=os.path.splitext(os.path.basename(v.relpath))[0])
                   for v in videos]
        manifest = Manifest(dataset='synthetic-smoke', split=split, classes=names,
                            entries=entries, class_table='../smoke_classes.csv',
                            data_root='..',
                            source={'generator': 'bike_bench.datasets.synthetic',
                                    'seed': seed, 'num_frames': num_frames})
        path = os.path.join(out_dir, 'manifests', f'smoke_{split}.jsonl')
        write_manifest(manifest, path)
        paths[split] = path
    return paths
