"""Official BIKE lists and MMAction2 lists: parsing and building."""
from __future__ import annotations

import pytest

from bike_bench.datasets.build import build_dataset
from bike_bench.datasets.builders.common import SourceError, parse_list
from bike_bench.datasets.manifest import read_manifest

AWKWARD = ['tying knot (not on a tie)', 'passing "ball", quickly',
           "massaging person's head"]


def _table(write, names=AWKWARD, **kw):
    import csv
    import io
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator='\n')
    writer.writerow(['id', 'name'])
    writer.writerows(enumerate(names))
    return write('classes.csv', buffer.getvalue(), **kw)


def test_bike_frame_list_with_crlf_bom_trailing_spaces(write):
    path = write('list.txt', 'a/x 30 0  \nb//y 12 2\n\n./c/z 8 1\n', crlf=True, bom=True)
    records = parse_list(path)
    assert [(r.path, r.num_frames, r.labels, r.line) for r in records] == [
        ('a/x', 30, [0], 1), ('b/y', 12, [2], 2), ('c/z', 8, [1], 4)]


def test_bike_video_list(write):
    records = parse_list(write('list.txt', 'v1.mp4 3\nv2.mp4 0\n'))
    assert [(r.path, r.num_frames, r.labels) for r in records] == [
        ('v1.mp4', None, [3]), ('v2.mp4', None, [0])]


@pytest.mark.parametrize('text, line, message', [
    ('a 10 0\nb 0\n', 2, 'mixed video and frame lines'),
    ('a 10 0\nb 10 x\n', 2, "label 'x' is not an integer"),
    ('a ten 0\n', 1, "frame count 'ten' is not an integer"),
    ('a 10 0 4\n', 1, 'expected `path label` or `path num_frames label`'),
    ('a 10 -1\n', 1, 'label -1 is below 0'),
    ('a 10 0\nb 10 3\n', 2, 'label 3 out of range for 3 classes'),
])
def test_bike_list_errors_name_file_and_line(write, text, line, message):
    path = write('bad.txt', text)
    with pytest.raises(SourceError) as error:
        parse_list(path, num_classes=3)
    assert f'{path}:{line}:' in str(error.value)
    assert message in str(error.value)


def test_empty_list_is_an_error(write):
    path = write('empty.txt', '\n  \n')
    with pytest.raises(SourceError, match='empty file'):
        parse_list(path)


def test_mmaction_formats(write):
    video = parse_list(write('v.txt', 'a.mp4 1 4\nb.mp4 2\n'), 'video', multi_label=True)
    assert [r.labels for r in video] == [[1, 4], [2]]
    frames = parse_list(write('f.txt', 'a 40 1 3\n'), 'rawframes', multi_label=True)
    assert frames[0].num_frames == 40 and frames[0].labels == [1, 3]
    with pytest.raises(SourceError, match='2 labels in a single-label list'):
        parse_list(write('s.txt', 'a.mp4 1 4\n'), 'video')
    with pytest.raises(SourceError, match=r'r\.txt:1: expected `frame_dir total_frames'):
        parse_list(write('r.txt', 'a 40\n'), 'rawframes')


def test_bike_list_builder_end_to_end(tmp_path, write):
    """Awkward class names survive, paths go under the media folder."""
    table = _table(write, crlf=True)
    listing = write('val.txt', 'clip_a 20 0\nclip_b 9 2\nclip_c 5 1\n')
    out = tmp_path / 'k400'
    outcome = build_dataset('kinetics400', 'official', out=str(out),
                            files={'val': listing, 'classes': table}, only=['val'],
                            min_frames=8)
    manifest = read_manifest(str(out / 'manifests' / 'val.jsonl'))
    assert manifest.classes == AWKWARD
    assert manifest.class_table == '../classes.csv'
    assert [(e.path, e.label, e.num_frames, e.filename_tmpl, e.id, e.source_line)
            for e in manifest.entries] == [
        ('val/clip_a', 0, 20, 'img_{:05d}.jpg', 'clip_a', 1),
        ('val/clip_b', 2, 9, 'img_{:05d}.jpg', 'clip_b', 2)]
    # --min-frames leaves clip_c out and says so.
    assert manifest.source['expected_entries'] == 3
    assert manifest.source['dropped_entries'] == 1
    report = (out / 'manifests' / 'val.dropped.csv').read_text()
    assert 'clip_c' in report and '5 frames < --min-frames 8' in report
    assert outcome.rows()[0]['covered'] == 2
    from bike_bench.datasets.class_table import read_class_table
    assert read_class_table(str(out / 'classes.csv')) == AWKWARD


def test_mmaction_video_builder_and_label_map(tmp_path, write):
    write('label_map_k400.txt', 'abseiling\nair drumming\n')  # found beside the list
    listing = write('kinetics400_val_list_videos.txt', 'abseiling/x.mp4 0\nair/y.mp4 1\n')
    out = tmp_path / 'out'
    build_dataset('kinetics400', 'mmaction-video', source=str(tmp_path), out=str(out),
                  only=['val'])
    manifest = read_manifest(str(out / 'manifests' / 'val.jsonl'))
    assert manifest.classes == ['abseiling', 'air drumming']
    assert [e.path for e in manifest.entries] == ['videos_val/abseiling/x.mp4',
                                                  'videos_val/air/y.mp4']
    assert manifest.source['files']['val']['path'].endswith(
        'kinetics400_val_list_videos.txt')
    assert listing


def test_missing_source_files_are_named(tmp_path):
    with pytest.raises(SourceError) as error:
        build_dataset('ucf101', 'official', source=str(tmp_path), out=str(tmp_path / 'o'))
    assert 'ucf_labels.csv' in str(error.value)
