"""Group 2: messy annotation files, handled correctly or refused with file:line.

Handled: CRLF line ends, a UTF-8 BOM, trailing spaces, class names with
commas, parentheses and quotes (built, then loaded with real videos), an
exact duplicate record (kept once, reported as dropped). Refused, naming
the file and line: the same video with two labels, a duplicate class id, a
duplicate video id in ActivityNet's JSON (a JSON reader would silently keep
the last), a label id out of range (source list and hand-edited manifest),
an empty split (empty list, header-only CSV, entry-less manifest).
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from mmengine.registry import init_default_scope

from bike_bench.datasets import ManifestVideoDataset
from bike_bench.datasets.build import build_dataset
from bike_bench.datasets.builders.common import SourceError
from bike_bench.datasets.class_table import ClassTableError, read_class_table
from bike_bench.datasets.manifest import ManifestError, read_manifest
from bike_bench.datasets.synthetic import choose_classes, render_video, write_mp4

GROUP = 'bad annotations'
# Real Kinetics names and worse: parentheses, commas, quotes, an apostrophe.
AWKWARD = ['tying knot (not on a tie)', 'passing "ball", quickly (in game)',
           "massaging person's head", 'zumba']
PIPELINE = [dict(type='VideoInit'), dict(type='BIKESampleFrames', num_segments=4, mode='val'),
            dict(type='VideoDecode'), dict(type='FormatShape', input_format='NCTHW'),
            dict(type='PackActionInputs', meta_keys=('video_id',))]


@pytest.fixture(autouse=True, scope='module')
def mmaction_scope():
    init_default_scope('mmaction')


def write(path: Path, text: str, crlf: bool = False, bom: bool = False) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    if crlf:
        text = text.replace('\n', '\r\n')
    path.write_bytes((b'\xef\xbb\xbf' if bom else b'') + text.encode('utf-8'))
    return str(path)


def csv_text(rows) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator='\n').writerows(rows)
    return buffer.getvalue()


def dataset(manifest: str, **kw) -> ManifestVideoDataset:
    return ManifestVideoDataset(manifest, PIPELINE, test_mode=True, serialize_data=False,
                                **kw)


def test_kinetics_csv_with_bom_crlf_trailing_spaces_and_awkward_names_end_to_end(
        tmp_path, faults):
    """Built from a messy CSV, then read with real videos: every clip gets the
    class its row names, and the class names reach the model unchanged."""
    for kind in ('CRLF line endings', 'UTF-8 BOM', 'trailing spaces',
                 'class names with commas, parentheses and quotes'):
        faults.tried(GROUP, kind)
    rows = [['label', 'youtube_id', 'time_start', 'time_end', 'split']]
    videos = {}
    for index, name in enumerate(AWKWARD):
        youtube_id = f'vid{index:08d}'
        rows.append([name + '  ', youtube_id, str(index), str(index + 10), 'val'])
        videos[f'{youtube_id}_{index:06d}_{index + 10:06d}'] = index
    source = tmp_path / 'k400'
    text = csv_text(rows).replace('\n', '   \n')  # trailing spaces after every record
    write(source / 'annotations' / 'val.csv', text, crlf=True, bom=True)
    build_dataset('kinetics400', source=str(source), out=str(source), only=['val'])
    manifest_path = source / 'manifests' / 'val.jsonl'
    manifest = read_manifest(str(manifest_path))
    assert manifest.classes == sorted(AWKWARD)
    table = source / 'classes.csv'
    assert read_class_table(str(table)) == sorted(AWKWARD)
    # One distinguishable real video per row, at the path the pattern gives.
    specs = choose_classes(len(AWKWARD), seed=11)
    for entry in manifest.entries:
        write_mp4(str(source / entry.path), render_video(specs[videos[entry.id]], 1, 8))
    data = dataset(str(manifest_path), class_table=str(table))
    assert data.metainfo['classes'] == tuple(sorted(AWKWARD))
    for index in range(len(data)):
        sample = data[index]['data_samples']
        name = AWKWARD[videos[sample.metainfo['video_id']]]
        assert data.metainfo['classes'][int(sample.gt_label)] == name


def test_official_list_and_quoted_class_table_with_crlf_and_bom(tmp_path, faults):
    faults.tried(GROUP, 'quoted id,name class table with CRLF and BOM')
    table = write(tmp_path / 'labels.csv', csv_text([['id', 'name'], *enumerate(AWKWARD)]),
                  crlf=True, bom=True)
    listing = write(tmp_path / 'val.txt', 'a.mp4 0  \nb.mp4 1\n\nc.mp4 3 \n',
                    crlf=True, bom=True)
    build_dataset('kinetics400', 'official', out=str(tmp_path / 'out'),
                  files={'val': listing, 'classes': table}, only=['val'])
    manifest = read_manifest(str(tmp_path / 'out' / 'manifests' / 'val.jsonl'))
    assert manifest.classes == AWKWARD
    assert [(e.path, e.label, e.source_line) for e in manifest.entries] == [
        ('val/a.mp4', 0, 1), ('val/b.mp4', 1, 2), ('val/c.mp4', 3, 4)]


def test_an_exact_duplicate_record_is_kept_once_and_reported(tmp_path, faults):
    faults.tried(GROUP, 'duplicate record (same video, same label)')
    table = write(tmp_path / 'labels.csv', csv_text([['id', 'name'], *enumerate(AWKWARD)]))
    listing = write(tmp_path / 'val.txt', 'a.mp4 0\nb.mp4 1\na.mp4 0\n')
    out = tmp_path / 'out'
    build_dataset('kinetics400', 'official', out=str(out),
                  files={'val': listing, 'classes': table}, only=['val'])
    manifest = read_manifest(str(out / 'manifests' / 'val.jsonl'))
    assert [e.path for e in manifest.entries] == ['val/a.mp4', 'val/b.mp4']
    assert manifest.source['dropped_entries'] == 1 and manifest.source['expected_entries'] == 3
    report = (out / 'manifests' / 'val.dropped.csv').read_text()
    assert '3,val/a.mp4,duplicate of line 1' in report


def refused(error, path: str, line) -> str:
    message = str(error.value)
    assert message.startswith(f'{path}:{line}:'), message
    return message


def test_the_same_video_with_two_labels_is_refused_naming_both_lines(tmp_path, faults):
    faults.tried(GROUP, 'duplicate video id with conflicting labels')
    table = write(tmp_path / 'labels.csv', csv_text([['id', 'name'], *enumerate(AWKWARD)]))
    listing = write(tmp_path / 'val.txt', 'a.mp4 0\nb.mp4 1\nc.mp4 2\na.mp4 3\n')
    with pytest.raises(SourceError) as error:
        build_dataset('kinetics400', 'official', out=str(tmp_path / 'out'),
                      files={'val': listing, 'classes': table}, only=['val'])
    assert 'listed with label 3, and with label 0 on line 1' in refused(error, listing, 4)
    assert not (tmp_path / 'out' / 'manifests' / 'val.jsonl').exists()


def test_duplicate_class_id_is_refused(tmp_path, faults):
    faults.tried(GROUP, 'duplicate class id in a class table')
    table = write(tmp_path / 'labels.csv', 'id,name\n0,zumba\n1,"tying knot (not on a tie)"\n'
                  '1,archery\n', crlf=True)
    with pytest.raises(ClassTableError) as error:
        read_class_table(table)
    assert 'duplicate class id 1' in refused(error, table, 4)


def test_duplicate_video_id_in_activitynet_json_is_refused(tmp_path, faults):
    faults.tried(GROUP, 'duplicate video id in a JSON annotation file')
    entry = '{"subset": "validation", "duration": 10.0, "annotations": [' \
            '{"segment": [0.0, 5.0], "label": "%s"}]}'
    text = ('{"version": "VERSION 1.3", "database": {\n'
            f'"vid_a": {entry % "Zumba"},\n'
            f'"vid_b": {entry % "Archery"},\n'
            f'"vid_a": {entry % "Archery"}\n'
            '}}\n')
    source = write(tmp_path / 'activity_net.v1-3.min.json', text)
    with pytest.raises(SourceError) as error:
        build_dataset('activitynet', source=str(tmp_path), out=str(tmp_path / 'out'))
    assert "key 'vid_a' appears twice" in refused(error, source, 4)


def test_label_id_out_of_range_is_refused_in_lists_and_manifests(tmp_path, faults):
    faults.tried(GROUP, 'label id out of range (source list)')
    faults.tried(GROUP, 'label id out of range (hand-edited manifest)')
    table = write(tmp_path / 'labels.csv', csv_text([['id', 'name'], *enumerate(AWKWARD)]))
    listing = write(tmp_path / 'val.txt', 'a.mp4 0\nb.mp4 4\n')
    with pytest.raises(SourceError) as error:
        build_dataset('kinetics400', 'official', out=str(tmp_path / 'out'),
                      files={'val': listing, 'classes': table}, only=['val'])
    assert 'label 4 out of range for 4 classes' in refused(error, listing, 2)
    # A manifest edited by hand to a label id past the class list.
    good = write(tmp_path / 'ok.txt', 'a.mp4 0\nb.mp4 3\n')
    build_dataset('kinetics400', 'official', out=str(tmp_path / 'out'),
                  files={'val': good, 'classes': table}, only=['val'])
    path = tmp_path / 'out' / 'manifests' / 'val.jsonl'
    lines = path.read_text().splitlines()
    header, entry = json.loads(lines[0]), json.loads(lines[2])
    header.pop('content_hash')
    entry['label'] = 7
    path.write_text('\n'.join([json.dumps(header), lines[1], json.dumps(entry)]) + '\n')
    with pytest.raises(ManifestError) as error:
        dataset(str(path))
    assert 'label 7 out of range for 4 classes' in refused(error, str(path), 3)


def test_an_empty_split_is_refused(tmp_path, faults):
    faults.tried(GROUP, 'empty split (empty list file)')
    faults.tried(GROUP, 'empty split (header-only CSV)')
    faults.tried(GROUP, 'empty split (manifest without entries)')
    table = write(tmp_path / 'labels.csv', csv_text([['id', 'name'], *enumerate(AWKWARD)]))
    empty = write(tmp_path / 'val.txt', '\r\n  \n')
    with pytest.raises(SourceError, match=f'{empty}: empty file'):
        build_dataset('kinetics400', 'official', out=str(tmp_path / 'o1'),
                      files={'val': empty, 'classes': table}, only=['val'])
    header_only = write(tmp_path / 'k' / 'annotations' / 'val.csv',
                        'label,youtube_id,time_start,time_end,split\n', bom=True)
    with pytest.raises(SourceError, match=f"{header_only}: manifest 'val' would be empty"):
        build_dataset('kinetics400', source=str(tmp_path / 'k'), out=str(tmp_path / 'o2'),
                      only=['val'])
    # A manifest reduced to its header (e.g. filtered down to nothing).
    good = write(tmp_path / 'ok.txt', 'a.mp4 0\n')
    build_dataset('kinetics400', 'official', out=str(tmp_path / 'o3'),
                  files={'val': good, 'classes': table}, only=['val'])
    path = tmp_path / 'o3' / 'manifests' / 'val.jsonl'
    header = json.loads(path.read_text().splitlines()[0])
    header.pop('content_hash')
    path.write_text(json.dumps(header) + '\n')
    with pytest.raises(ManifestError, match='no entries'):
        dataset(str(path))


def test_instances_of_different_actions_on_one_segment_are_not_duplicates(tmp_path, faults):
    """Charades lists 4,132 training instances whose video and segment are
    those of an instance of another action; only a repeat of the same action
    is a duplicate (``manifests check``)."""
    faults.tried(GROUP, 'two actions sharing a segment (Charades) vs a repeated instance')
    from bike_bench.datasets.check import check_manifest
    from bike_bench.datasets.manifest import Manifest, ManifestEntry, write_manifest
    video = tmp_path / 'v.mp4'
    video.write_bytes(b'x')
    entries = [ManifestEntry(path=str(video), label=label, split='train', segment=[1.0, 4.0],
                             fps=24.0) for label in (0, 1, 1)]
    path = tmp_path / 'train.jsonl'
    write_manifest(Manifest(dataset='charades', split='train', classes=AWKWARD,
                            entries=entries, data_root='/'), str(path))
    report = check_manifest(str(path))
    assert [(issue.kind, issue.line) for issue in report.issues
            if issue.kind == 'duplicate'] == [('duplicate', 4)]
