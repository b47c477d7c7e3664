"""Kinetics CSVs (K400 train/val, K600 zero-shot selection)."""
from __future__ import annotations

import pytest

from bike_bench.datasets.build import build_dataset
from bike_bench.datasets.builders.common import SourceError
from bike_bench.datasets.manifest import read_manifest

HEADER = 'label,youtube_id,time_start,time_end,split\n'
TRAIN = HEADER + ('"tying knot (not on a tie)",abcdefghijk,14,24,train\n'
                  'zumba,--07WQ2iBlw,0,10,train\n'
                  '"passing ""ball"", quickly",Z_x-9aaaaaa,1.0,11.0,train  \n')
VAL = HEADER + 'zumba,0wR5jVB-WPk,5,15,val\n'


def _build(tmp_path, write, train=TRAIN, val=VAL, **kw):
    write('annotations/train.csv', train, crlf=True, bom=True)
    write('annotations/val.csv', val)
    out = tmp_path / 'out'
    build_dataset('kinetics400', source=str(tmp_path), out=str(out), **kw)
    return (read_manifest(str(out / 'manifests' / 'train.jsonl')),
            read_manifest(str(out / 'manifests' / 'val.jsonl')))


def test_classes_are_the_sorted_labels_and_paths_follow_the_pattern(tmp_path, write):
    train, val = _build(tmp_path, write)
    assert train.classes == ['passing "ball", quickly', 'tying knot (not on a tie)',
                             'zumba'] == val.classes
    assert [(e.path, e.label, e.id, e.source_line) for e in train.entries] == [
        ('train/abcdefghijk_000014_000024.mp4', 1, 'abcdefghijk_000014_000024', 2),
        ('train/--07WQ2iBlw_000000_000010.mp4', 2, '--07WQ2iBlw_000000_000010', 3),
        ('train/Z_x-9aaaaaa_000001_000011.mp4', 0, 'Z_x-9aaaaaa_000001_000011', 4)]
    assert val.entries[0].path == 'val/0wR5jVB-WPk_000005_000015.mp4'
    assert 'sorted labels' in train.source['classes_from']


def test_user_pattern_and_class_table(tmp_path, write):
    write('kinetics_400_labels.csv', 'id,name\n0,zumba\n1,"tying knot (not on a tie)"\n'
          '2,"passing ""ball"", quickly"\n3,unused\n')
    train, _ = _build(tmp_path, write,
                      pattern='videos_{split}/{label_slug}/{youtube_id}.mp4')
    assert train.classes[0] == 'zumba'
    assert train.entries[0].path == \
        'videos_train/tying_knot_(not_on_a_tie)/abcdefghijk.mp4'
    assert train.entries[0].label == 1


@pytest.mark.parametrize('text, line, message', [
    (HEADER + 'zumba,abc,ten,20,train\n', 2, "time_start 'ten' is not a number"),
    (HEADER + 'zumba,abc,1.5,20,train\n', 2, 'not a whole'),
    (HEADER + 'zumba,abc,1,20\n', 2, '4 fields, the header has 5'),
    (HEADER + 'zumba,,1,20,train\n', 2, 'empty youtube_id'),
    ('label,youtube_id,split\nzumba,abc,train\n', 1, "lacks column(s) ['time_start'"),
])
def test_malformed_csv(tmp_path, write, text, line, message):
    with pytest.raises(SourceError) as error:
        _build(tmp_path, write, train=text)
    assert f'train.csv:{line}:' in str(error.value)
    assert message in str(error.value)


def test_empty_csv(tmp_path, write):
    with pytest.raises(SourceError, match='train.csv: empty file'):
        _build(tmp_path, write, train='')


def test_label_missing_from_given_table(tmp_path, write):
    write('kinetics_400_labels.csv', 'id,name\n0,zumba\n')
    with pytest.raises(SourceError, match=r"train.csv:2: label 'tying knot"):
        _build(tmp_path, write)


def test_kinetics600_zeroshot_from_csv(tmp_path, write):
    write('annotations/test.csv', HEADER + 'zumba,aaaaaaaaaaa,0,10,test\n'
          'yodelling,bbbbbbbbbbb,3,13,test\nwaxing legs,ccccccccccc,1,11,test\n')
    for split, names in ((1, 'yodelling\nzumba'), (2, 'waxing legs'),
                         (3, 'waxing legs\nyodelling')):
        write(f'lists/k160_labels_split{split}.csv', 'id,name\n' + ''.join(
            f'{i},{n}\n' for i, n in enumerate(names.split('\n'))))
    out = tmp_path / 'k600'
    build_dataset('kinetics600', 'kinetics-csv', source=str(tmp_path), out=str(out))
    split1 = read_manifest(str(out / 'manifests' / 'zeroshot_split1.jsonl'))
    assert split1.classes == ['yodelling', 'zumba']
    assert [(e.path, e.label) for e in split1.entries] == [
        ('test/aaaaaaaaaaa_000000_000010.mp4', 1), ('test/bbbbbbbbbbb_000003_000013.mp4', 0)]
    assert split1.source['rows_of_other_classes'] == 1
    assert split1.class_table == '../classes_split1.csv'
    assert (out / 'classes_split2.csv').read_text() == 'id,name\n0,waxing legs\n'


def test_building_one_split_still_uses_the_labels_of_all_csvs(tmp_path, write):
    write('annotations/train.csv', TRAIN)
    write('annotations/val.csv', VAL)
    out = tmp_path / 'only_val'
    build_dataset('kinetics400', source=str(tmp_path), out=str(out), only=['val'])
    val = read_manifest(str(out / 'manifests' / 'val.jsonl'))
    assert val.num_classes == 3 and val.entries[0].label == 2
