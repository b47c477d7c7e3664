"""ActivityNet v1.3 JSON and Charades CSVs."""
from __future__ import annotations

import json

import numpy as np
import pytest

from bike_bench.datasets.build import build_dataset
from bike_bench.datasets.builders.common import SourceError
from bike_bench.datasets.manifest import read_manifest


def _anet_json(database):
    return json.dumps({'version': 'VERSION 1.3', 'taxonomy': [], 'database': database},
                      indent=1)


DATABASE = {
    'vid_a': {'subset': 'training', 'duration': 30.0, 'annotations': [
        {'segment': [1.0, 9.5], 'label': 'Zumba'},
        {'segment': [12.0, 20.0], 'label': 'Zumba'},
        {'segment': [22.0, 21.0], 'label': 'Zumba'}]},
    'vid_b': {'subset': 'validation', 'duration': 10.0, 'annotations': [
        {'segment': [0.0, 5.0], 'label': 'Archery'}]},
    'vid_c': {'subset': 'training', 'duration': 10.0, 'annotations': []},
    'vid_d': {'subset': 'testing', 'duration': 10.0, 'annotations': []},
}


def _anet(tmp_path, write, database=DATABASE, text=None):
    write('activity_net.v1-3.min.json', text if text is not None else _anet_json(database))
    out = tmp_path / 'anet'
    build_dataset('activitynet', source=str(tmp_path), out=str(out))
    return {name: read_manifest(str(out / 'manifests' / f'{name}.jsonl'))
            for name in ('train', 'val', 'zeroshot_full')}, out


def test_activitynet_json(tmp_path, write):
    manifests, out = _anet(tmp_path, write)
    train, val, full = manifests['train'], manifests['val'], manifests['zeroshot_full']
    assert train.classes == ['Archery', 'Zumba']
    assert [(e.path, e.label, e.segment, e.id) for e in train.entries] == [
        ('videos/v_vid_a.mp4', 1, [1.0, 9.5], 'vid_a'),
        ('videos/v_vid_a.mp4', 1, [12.0, 20.0], 'vid_a')]
    assert [(e.path, e.label, e.segment) for e in val.entries] == [
        ('videos/v_vid_b.mp4', 0, None)]
    assert [e.id for e in full.entries] == ['vid_a', 'vid_b']
    assert train.source['testing_videos_unused'] == 1
    dropped = (out / 'manifests' / 'train.dropped.csv').read_text()
    assert 'vid_a annotation 2: segment [22, 21] is reversed (end < start)' in dropped
    assert 'vid_c: no annotations' in dropped
    assert train.source['expected_entries'] == 4  # 3 instances + 1 empty video


def test_activitynet_errors(tmp_path, write):
    mixed = dict(DATABASE, vid_b={'subset': 'validation', 'annotations': [
        {'segment': [0, 1], 'label': 'Archery'}, {'segment': [2, 3], 'label': 'Zumba'}]})
    with pytest.raises(SourceError, match=r"database\['vid_b'\]: annotations name several"):
        _anet(tmp_path, write, mixed)
    with pytest.raises(SourceError, match=r'min.json:3: not valid JSON'):
        _anet(tmp_path, write, text='{\n "database": {\n  oops}\n}')
    with pytest.raises(SourceError, match=r"database\['x'\]: needs \"subset\""):
        _anet(tmp_path, write, {'x': {'subset': 'train'}})
    with pytest.raises(SourceError, match='annotation 0 needs "label" and "segment"'):
        _anet(tmp_path, write, {'x': {'subset': 'training', 'annotations': [
            {'segment': [1], 'label': 'Zumba'}]}})
    with pytest.raises(SourceError, match='min.json: empty file'):
        _anet(tmp_path, write, text='')


CLASSES = 'c000 Holding some clothes\nc001 Putting clothes somewhere\nc002 Opening a door\n'
COLUMNS = ('id,subject,scene,quality,relevance,verified,script,objects,descriptions,'
           'actions,length\n')
TEST = COLUMNS + ('YSKX3,CP6Y,Bedroom,5,6,Yes,"A person, then ""another"".",bed,'
                  '"Two lines\nof text",c002 0.00 5.10;c000 1.00 2.00;c002 6.00 7.00,8.5\n'
                  'EMPTY,CP6Y,Bedroom,5,6,Yes,Nothing.,bed,none,,3.0\n')
TRAIN = COLUMNS + ('46GP8,HR43,Kitchen,6,7,Yes,Cooking.,stove,Cooks.,'
                   'c001 11.90 21.20;c000 0.00 12.60,24.83\n'
                   '00SL4,HR43,Kitchen,6,7,Yes,Odd.,stove,Odd.,c002 18.00 10.00,8.96\n')
INSTANCES = ('video_id,label,start_time,end_time,total_time\n'
             '46GP8,c001,11.90,21.20,24.83\n46GP8,c000,0.00,12.60,24.83\n'
             '00SL4,c002,18.00,10.00,8.96\n')


def _charades(tmp_path, write, test=TEST, train=TRAIN, instances=INSTANCES, **kw):
    write('Charades/Charades_v1_classes.txt', CLASSES, crlf=True)
    write('Charades/Charades_v1_test.csv', test, crlf=True)
    write('Charades/Charades_v1_train.csv', train, crlf=True)
    if instances is not None:
        write('lists/Charades_train_split_label.csv', instances, crlf=True)
    else:
        (tmp_path / 'lists' / 'Charades_train_split_label.csv').unlink(missing_ok=True)
    out = tmp_path / 'charades'
    build_dataset('charades', source=str(tmp_path), out=str(out), **kw)
    return (read_manifest(str(out / 'manifests' / 'train.jsonl')),
            read_manifest(str(out / 'manifests' / 'test.jsonl')), out)


def test_charades_test_is_multi_label(tmp_path, write):
    _, test, _ = _charades(tmp_path, write)
    assert test.multi_label and test.classes[2] == 'Opening a door'
    assert [(e.id, e.label, e.path) for e in test.entries] == [
        ('YSKX3', [0, 2], 'Charades_v1/YSKX3.mp4'), ('EMPTY', [], 'Charades_v1/EMPTY.mp4')]
    assert [e.source_line for e in test.entries] == [2, 4]  # quoted newline


def test_charades_train_instances_from_either_file(tmp_path, write):
    from_instances, _, out = _charades(tmp_path, write)
    assert [(e.id, e.label, e.segment, e.fps) for e in from_instances.entries] == [
        ('46GP8', 1, [11.9, 21.2], None), ('46GP8', 0, [0.0, 12.6], None)]
    assert 'segment [18, 10] is reversed (end < start)' in \
        (out / 'manifests' / 'train.dropped.csv').read_text()
    assert from_instances.source['expected_entries'] == 3
    from_videos, _, _ = _charades(tmp_path, write, instances=None)
    assert [(e.id, e.label, e.segment) for e in from_videos.entries] == \
        [(e.id, e.label, e.segment) for e in from_instances.entries]
    assert 'Charades_v1_train.csv' in from_videos.source['files']['train']['path']


@pytest.mark.parametrize('kwargs, where, message', [
    (dict(test=COLUMNS + 'X,a,b,1,1,Yes,s,o,d,c002 0.0,3\n'), 'test.csv:2',
     "action 'c002 0.0' is not `cNNN start end`"),
    (dict(test=COLUMNS + 'X,a,b,1,1,Yes,s,o,d,c157 0.0 1.0,3\n'), 'test.csv:2',
     'class c157 out of range for 3 classes'),
    (dict(instances='video_id,label,start_time,end_time,total_time\nX,7,1,2,3\n'),
     'Charades_train_split_label.csv:2', "class '7' is not of the form cNNN"),
    (dict(instances='video_id,label,start_time,end_time,total_time\nX,c001,a,2,3\n'),
     'Charades_train_split_label.csv:2', "start_time 'a' is not a number"),
])
def test_charades_malformed(tmp_path, write, kwargs, where, message):
    with pytest.raises(SourceError) as error:
        _charades(tmp_path, write, **kwargs)
    assert where in str(error.value) and message in str(error.value)


def test_charades_empty_test_file(tmp_path, write):
    with pytest.raises(SourceError, match='Charades_v1_test.csv: empty file'):
        _charades(tmp_path, write, test='')


def test_charades_frame_folders(tmp_path, write):
    """--frames: official 24 fps folders, counts read from disk."""
    from bike_bench.datasets.synthetic import write_frame_folder
    out = tmp_path / 'charades'
    frames = np.zeros((5, 8, 8, 3), np.uint8)
    write_frame_folder(str(out / 'Charades_v1_rgb' / '46GP8'), frames, '46GP8-{:06d}.jpg')
    write_frame_folder(str(out / 'Charades_v1_rgb' / 'YSKX3'), frames[:3], 'YSKX3-{:06d}.jpg')
    train, test, _ = _charades(tmp_path, write, frames=True)
    # 5 frames at 24 fps: the instance from 11.9 s on holds none of them.
    assert [(e.path, e.num_frames, e.filename_tmpl, e.fps, e.segment)
            for e in train.entries] == [
        ('Charades_v1_rgb/46GP8', 5, '46GP8-{:06d}.jpg', 24.0, [0.0, 12.6])]
    assert "segment [11.9, 21.2] at 24.0 fps has no frames inside the video's 5" in \
        (tmp_path / 'charades' / 'manifests' / 'train.dropped.csv').read_text()
    assert [(e.id, e.num_frames) for e in test.entries] == [('YSKX3', 3)]
    report = (out / 'manifests' / 'test.dropped.csv').read_text()
    assert 'Charades_v1_rgb/EMPTY' in report and 'cannot be counted' in report
