"""UCF-101 (classInd + train/test lists) and HMDB-51 (per-class split files)."""
from __future__ import annotations

import pytest

from bike_bench.datasets.build import build_dataset
from bike_bench.datasets.builders.common import SourceError
from bike_bench.datasets.manifest import read_manifest

CLASS_IND = '1 ApplyEyeMakeup\n2 HandstandPushups\n3 YoYo\n'
TRAIN = ('ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1\n'
         'HandstandPushups/v_HandStandPushups_g08_c01.avi 2 \n'
         'YoYo/v_YoYo_g09_c01.avi 3\n')
TEST = ('ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi\n'
        'YoYo/v_YoYo_g01_c01.avi\nHandstandPushups/v_HandStandPushups_g01_c02.avi\n')


def _ucf(tmp_path, write, class_ind=CLASS_IND, train=TRAIN, test=TEST):
    write('ucfTrainTestlist/classInd.txt', class_ind, crlf=True)
    write('ucfTrainTestlist/trainlist01.txt', train, crlf=True)
    write('ucfTrainTestlist/testlist01.txt', test, crlf=True)
    out = tmp_path / 'ucf'
    outcome = build_dataset('ucf101', source=str(tmp_path), out=str(out))
    return out, outcome


def test_ucf_native_splits(tmp_path, write):
    out, outcome = _ucf(tmp_path, write)
    assert set(outcome.skipped) == {'train_split2', 'train_split3', 'val_split2',
                                    'val_split3'}
    train = read_manifest(str(out / 'manifests' / 'train_split1.jsonl'))
    val = read_manifest(str(out / 'manifests' / 'val_split1.jsonl'))
    full = read_manifest(str(out / 'manifests' / 'zeroshot_full.jsonl'))
    assert train.classes == ['ApplyEyeMakeup', 'HandstandPushups', 'YoYo']
    assert [(e.path, e.label, e.id) for e in train.entries][1] == (
        'UCF-101/HandstandPushups/v_HandStandPushups_g08_c01.avi', 1,
        'v_HandStandPushups_g08_c01')
    assert [e.label for e in val.entries] == [0, 2, 1]
    assert [e.path for e in full.entries] == [e.path for e in train.entries + val.entries]


@pytest.mark.parametrize('where, text, message', [
    ('train', 'YoYo/v_YoYo_g09_c01.avi 1\n', "class id 1 disagrees with the folder 'YoYo'"),
    ('train', 'Juggling/v_Juggling_g09_c01.avi 1\n', "class folder 'Juggling'"),
    ('train', 'YoYo/v_YoYo_g09_c01.avi\n', 'expected `Class/video.avi id`'),
    ('test', 'YoYo/a.avi YoYo/b.avi 3\n', 'expected `Class/video.avi`'),
])
def test_ucf_malformed_lines(tmp_path, write, where, text, message):
    kwargs = {where: 'ApplyEyeMakeup/v_ApplyEyeMakeup_g02_c01.avi' +
              (' 1' if where == 'train' else '') + '\n' + text}
    with pytest.raises(SourceError) as error:
        _ucf(tmp_path, write, **kwargs)
    assert f'{where}list01.txt:2:' in str(error.value) and message in str(error.value)


def test_ucf_empty_class_index(tmp_path, write):
    with pytest.raises(SourceError, match='classInd.txt: empty'):
        _ucf(tmp_path, write, class_ind='\r\n')


def _hmdb(tmp_path, write, files, **kw):
    for name, text in files.items():
        write(f'testTrainMulti_7030_splits/{name}', text)
    out = tmp_path / 'hmdb'
    build_dataset('hmdb51', source=str(tmp_path), out=str(out), **kw)
    return out


HMDB = {
    'brush_hair_test_split1.txt': 'a.avi 1 \nb.avi 2 \nc.avi 0 \n',
    'wave_test_split1.txt': 'd.avi 2\ne.avi 1\n',
    'climb_stairs_test_split1.txt': 'f.avi 1\ng.avi 2\n',
}


def test_hmdb_native_splits(tmp_path, write):
    out = _hmdb(tmp_path, write, HMDB)
    train = read_manifest(str(out / 'manifests' / 'train_split1.jsonl'))
    val = read_manifest(str(out / 'manifests' / 'val_split1.jsonl'))
    full = read_manifest(str(out / 'manifests' / 'zeroshot_full.jsonl'))
    assert train.classes == ['brush hair', 'climb stairs', 'wave']
    assert [(e.path, e.label, e.source_line) for e in train.entries] == [
        ('videos/brush_hair/a.avi', 0, 1), ('videos/climb_stairs/f.avi', 1, 1),
        ('videos/wave/e.avi', 2, 2)]
    assert [e.id for e in val.entries] == ['b', 'g', 'd']
    assert len(full.entries) == 7  # flag 0 videos too
    assert not (out / 'manifests' / 'train_split2.jsonl').exists()


def test_hmdb_class_table_sets_the_order(tmp_path, write):
    write('hmdb51_labels.csv', 'id,name\n0,wave\n1,brush hair\n2,climb stairs\n',
          crlf=True)
    out = _hmdb(tmp_path, write, HMDB)
    train = read_manifest(str(out / 'manifests' / 'train_split1.jsonl'))
    assert train.classes == ['wave', 'brush hair', 'climb stairs']
    assert [e.label for e in train.entries] == [0, 1, 2]


def test_hmdb_bad_flag_and_empty_file(tmp_path, write):
    with pytest.raises(SourceError, match=r'wave_test_split1.txt:2: expected'):
        _hmdb(tmp_path, write, dict(HMDB, **{'wave_test_split1.txt': 'd.avi 2\ne.avi 3\n'}))
    with pytest.raises(SourceError, match='wave_test_split1.txt: empty file'):
        _hmdb(tmp_path, write, dict(HMDB, **{'wave_test_split1.txt': ''}))


def test_hmdb_missing_split_file_of_a_class(tmp_path, write):
    files = dict(HMDB, **{'brush_hair_test_split2.txt': 'a.avi 1\n'})
    with pytest.raises(SourceError, match='no climb_stairs_test_split2.txt'):
        _hmdb(tmp_path, write, files, only=['train_split2'])
