"""``bike-bench manifests check``: every problem reported, filtering exact."""
from __future__ import annotations

import csv
import re
import json

import numpy as np
import pytest

from bike_bench.cli.main import main
from bike_bench.datasets.check import check_manifest
from bike_bench.datasets.class_table import write_class_table
from bike_bench.datasets.manifest import (Manifest, ManifestEntry, read_manifest,
                                          write_manifest)
from bike_bench.datasets.synthetic import (choose_classes, render_video,
                                           write_frame_folder, write_mp4)

NAMES = ['red circle moving left', 'blue square growing', 'green triangle moving up']


@pytest.fixture(scope='module')
def videos(tmp_path_factory):
    root = tmp_path_factory.mktemp('media')
    for index, spec in enumerate(choose_classes(4, seed=3)):
        write_mp4(str(root / 'videos' / f'good{index}.mp4'), render_video(spec, index, 12))
    (root / 'videos' / 'corrupt.mp4').write_bytes(b'\x00\x00\x00\x18ftypmp42' + b'\x07' * 500)
    write_frame_folder(str(root / 'frames' / 'f1'), render_video(choose_classes(1)[0], 9, 6))
    return root


def _manifest(videos, entries, name='m.jsonl', classes=NAMES, multi_label=False,
              table=True):
    folder = videos / 'manifests'
    if table:
        write_class_table(str(videos / 'classes.csv'), classes)
    manifest = Manifest('toy', 'val', classes, entries, class_table='../classes.csv',
                        multi_label=multi_label, data_root='..',
                        source={'expected_entries': len(entries) + 1})
    path = folder / name
    write_manifest(manifest, str(path))
    return path


THREE_PROBLEMS = [
    ManifestEntry('videos/good0.mp4', 0, 'val'),
    ManifestEntry('videos/missing.mp4', 0, 'val', id='gone'),
    ManifestEntry('videos/good1.mp4', 1, 'val'),
    ManifestEntry('videos/corrupt.mp4', 1, 'val'),
    ManifestEntry('videos/good2.mp4', 2, 'val'),
    ManifestEntry('videos/good3.mp4', 5, 'val'),
]


def test_missing_corrupt_and_bad_label_are_all_reported(videos, capsys):
    path = _manifest(videos, THREE_PROBLEMS)
    assert main(['manifests', 'check', str(path), '--probe-decode']) == 1
    out = capsys.readouterr().out
    assert f'[missing] {path}:3: video not found' in out
    assert f'[undecodable] {path}:5: ' in out
    assert f'[label] {path}:7: videos/good3.mp4: label 5 out of range for 3 classes' in out
    row = check_manifest(str(path), probe_decode=True).summary()
    assert (row['expected'], row['entries'], row['on disk'], row['missing'],
            row['corrupt'], row['bad label'], row['errors']) == (7, 6, 5, 1, 1, 1, 3)


def test_skip_missing_writes_filtered_manifest_and_exact_report(videos, tmp_path, capsys):
    path = _manifest(videos, THREE_PROBLEMS)
    out = tmp_path / 'elsewhere' / 'clean.jsonl'
    assert main(['manifests', 'check', str(path), '--probe-decode',
                 '--skip-missing', str(out)]) == 0
    with open(tmp_path / 'elsewhere' / 'clean.dropped.csv', newline='') as handle:
        rows = list(csv.DictReader(handle))
    assert [(r['line'], r['path'], r['kind']) for r in rows] == [
        ('3', 'videos/missing.mp4', 'missing'), ('5', 'videos/corrupt.mp4', 'undecodable'),
        ('7', 'videos/good3.mp4', 'label')]
    assert rows[0]['id'] == 'gone'
    clean = read_manifest(str(out))
    assert [e.path for e in clean.entries] == ['videos/good0.mp4', 'videos/good1.mp4',
                                               'videos/good2.mp4']
    assert clean.source['filtered_out'] == 3 and clean.source['expected_entries'] == 7
    # data_root rewritten: the filtered manifest still finds the videos.
    again = check_manifest(str(out), probe_decode=True)
    assert again.ok and again.found == 3


def test_frame_folders_duplicates_segments_and_short(videos):
    entries = [
        ManifestEntry('frames/f1', 0, 'val', num_frames=6, filename_tmpl='img_{:05d}.jpg'),
        ManifestEntry('frames/f1', 1, 'val', num_frames=8, filename_tmpl='img_{:05d}.jpg'),
        ManifestEntry('videos/good0.mp4', 2, 'val', segment=[3.0, 1.0]),
        ManifestEntry('videos/good0.mp4', 2, 'val', segment=[0.0, 1.0]),
        ManifestEntry('videos/good0.mp4', 2, 'val', segment=[0.0, 1.0]),
    ]
    path = _manifest(videos, entries)
    report = check_manifest(str(path), min_frames=7)
    kinds = sorted((issue.kind, issue.line) for issue in report.issues)
    assert kinds == [('duplicate', 3), ('duplicate', 6), ('frame_count', 3),
                     ('segment', 4), ('too_short', 2), ('too_short', 3)]
    message = next(i.message for i in report.issues if i.kind == 'frame_count')
    assert '8 frames listed, 6 consecutive frames from img_00001.jpg on disk' in message


def test_class_table_mismatch_and_empty_classes(videos):
    entries = [ManifestEntry('videos/good0.mp4', 0, 'val')]
    path = _manifest(videos, entries, classes=NAMES)
    write_class_table(str(videos / 'classes.csv'), NAMES[:2])
    report = check_manifest(str(path))
    kinds = {issue.kind for issue in report.issues}
    assert kinds == {'class_table', 'empty_class'}
    assert 'the header has 3 classes' in next(
        i.message for i in report.issues if i.kind == 'class_table')
    assert report.summary()['empty classes'] == 2


def test_hand_edited_manifest_and_malformed(videos, capsys):
    path = _manifest(videos, [ManifestEntry('videos/good0.mp4', 0, 'val'),
                              ManifestEntry('videos/good1.mp4', 1, 'val'),
                              ManifestEntry('videos/good2.mp4', 2, 'val')])
    lines = path.read_text().splitlines()
    entry = json.loads(lines[1])
    entry['label'] = 2
    lines[1] = json.dumps(entry)
    path.write_text('\n'.join(lines) + '\n')
    assert {i.kind for i in check_manifest(str(path)).issues} == {'hash', 'empty_class'}
    path.write_text(lines[0] + '\nnot json\n')
    assert main(['manifests', 'check', str(path)]) == 1
    assert f'[malformed] {path}:2:' in capsys.readouterr().out


def test_multi_label_without_labels_is_a_warning(videos, capsys):
    entries = [ManifestEntry('videos/good0.mp4', [0, 1], 'test'),
               ManifestEntry('videos/good1.mp4', [], 'test'),
               ManifestEntry('videos/good2.mp4', [2], 'test')]
    path = _manifest(videos, entries, multi_label=True)
    assert main(['manifests', 'check', str(path)]) == 0
    assert f'warning [no_labels] {path}:3' in capsys.readouterr().out


def test_decoded_frame_count_is_compared(videos):
    entries = [ManifestEntry('videos/good0.mp4', 0, 'val', num_frames=12),
               ManifestEntry('videos/good1.mp4', 1, 'val', num_frames=99),
               ManifestEntry('videos/good2.mp4', 2, 'val')]
    report = check_manifest(str(_manifest(videos, entries)), probe_decode=True)
    assert [(i.kind, i.line) for i in report.issues] == [('frame_count', 3)]
    assert np.isscalar(report.found) and report.found == 3


def test_truncated_webm_is_reported_with_decodable_and_declared_counts(videos, tmp_path,
                                                                       capsys):
    """A webm cut in half keeps its header (10 s at 25 fps = 250 frames)
    while about half of the frames decode: reported ``truncated`` with both
    counts, not passed as readable."""
    from tests.reliability.faults import truncated_webm
    truncated_webm(videos / 'videos' / 'cut.webm')
    entries = [ManifestEntry('videos/good0.mp4', 0, 'val'),
               ManifestEntry('videos/cut.webm', 1, 'val')]
    path = _manifest(videos, entries, name='cut.jsonl')
    report = check_manifest(str(path), probe_decode=True)
    row = report.summary()
    assert (row['truncated'], row['corrupt']) == (1, 0)
    assert sorted(report.bad_lines()) == [3]
    [issue] = report.bad_lines()[3]
    assert issue.kind == 'truncated'
    assert re.search(r'cut\.webm: truncated: 1[0-9]{2} decodable frames of the 250 its '
                     r'header declares \(10\.00 s x 25 fps\)', issue.message)
    assert main(['manifests', 'check', str(path), '--probe-decode']) == 1
    assert f'[truncated] {path}:3: ' in capsys.readouterr().out
