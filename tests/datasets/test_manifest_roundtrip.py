"""Property tests: writing and reading back gives the same thing."""
from __future__ import annotations

import os
import tempfile

from hypothesis import given, settings
from hypothesis import strategies as st

from bike_bench.datasets.builders.common import parse_list
from bike_bench.datasets.class_table import read_class_table, write_class_table
from bike_bench.datasets.manifest import (Manifest, ManifestEntry, read_manifest,
                                          write_manifest)

TEXT = st.text(st.characters(blacklist_categories=('Cs',)), min_size=1, max_size=20)
NAME = st.text(st.characters(blacklist_categories=('Cs', 'Cc', 'Zl', 'Zp')),
               min_size=1, max_size=30).map(str.strip).filter(bool)
SEGMENT_PART = st.text('abcxyz_-.0123456789()', min_size=1, max_size=8).filter(
    lambda part: part not in ('.', '..'))
PATH = st.lists(SEGMENT_PART, min_size=1, max_size=3).map('/'.join)
SECONDS = st.floats(0, 1e5, allow_nan=False, allow_infinity=False)


@st.composite
def entries(draw, num_classes: int, multi_label: bool):
    label_id = st.integers(0, num_classes - 1)
    label = draw(st.lists(label_id, max_size=4, unique=True) if multi_label else label_id)
    folder = draw(st.booleans())
    start, length = draw(SECONDS), draw(SECONDS)
    return ManifestEntry(
        path=draw(TEXT), label=label, split=draw(st.sampled_from(['train', 'val', 'test'])),
        num_frames=draw(st.none() | st.integers(0, 10 ** 6)),
        filename_tmpl=draw(st.sampled_from(['img_{:05d}.jpg', 'X1-{:06d}.jpg'])) if folder
        else None,
        start_index=draw(st.integers(0, 2)) if folder else 1,
        id=draw(st.none() | TEXT),
        segment=draw(st.none() | st.just([start, start + length])),
        fps=draw(st.none() | st.floats(0.5, 120, allow_nan=False)),
        source_line=draw(st.none() | st.integers(1, 10 ** 7)))


@st.composite
def manifests(draw):
    classes = draw(st.lists(NAME, min_size=1, max_size=8, unique=True))
    multi_label = draw(st.booleans())
    items = draw(st.lists(entries(len(classes), multi_label), max_size=12))
    return Manifest(dataset=draw(TEXT), split=draw(TEXT), classes=classes, entries=items,
                    class_table=draw(st.none() | TEXT), multi_label=multi_label,
                    data_root=draw(st.sampled_from(['..', '.', '/abs/root', ''])),
                    source={'note': draw(TEXT)})


@settings(max_examples=60, deadline=None)
@given(manifests())
def test_manifest_write_read_round_trip(manifest):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, 'm.jsonl')
        written_hash = write_manifest(manifest, path)
        back = read_manifest(path)
    assert back.entries == manifest.entries
    assert back.classes == manifest.classes
    assert (back.dataset, back.split, back.class_table, back.multi_label, back.data_root,
            back.source) == (manifest.dataset, manifest.split, manifest.class_table,
                             manifest.multi_label, manifest.data_root, manifest.source)
    assert back.content_hash == written_hash


@settings(max_examples=60, deadline=None)
@given(st.lists(NAME, min_size=1, max_size=12, unique=True))
def test_class_table_round_trip(names):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, 'classes.csv')
        write_class_table(path, names)
        assert read_class_table(path) == names


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(PATH, st.none() | st.integers(0, 9999), st.integers(0, 399)),
                min_size=1, max_size=10), st.booleans())
def test_official_list_round_trip(records, frames):
    lines = [f'{path} {count} {label}' if frames else f'{path} {label}'
             for path, count, label in ((p, c or 0, l) for p, c, l in records)]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, 'list.txt')
        with open(path, 'w') as handle:
            handle.write('\n'.join(lines) + '\n')
        parsed = parse_list(path, num_classes=400)
    assert [(r.path, r.labels[0], r.line) for r in parsed] == [
        (os.path.normpath(p), l, i) for i, (p, _, l) in enumerate(records, start=1)]
    assert [r.num_frames for r in parsed] == [(c or 0) if frames else None
                                              for _, c, _ in records]
