"""The official BIKE lists (in the reference data, tests/conftest.py) build
with the right counts and full class coverage. Skipped where it is absent."""
from __future__ import annotations

import collections
import csv

import pytest

from bike_bench.datasets.build import build_dataset
from bike_bench.datasets.check import check_manifest
from bike_bench.datasets.class_table import read_class_table

SOURCES = {'kinetics400': 'k400', 'kinetics600': 'k600', 'ucf101': 'ucf101',
           'hmdb51': 'hmdb51', 'activitynet': 'anet', 'charades': 'charades'}


@pytest.fixture(scope='module')
def built(lists_dir, tmp_path_factory):
    """``{dataset: {manifest name: Manifest}}`` built from the real lists."""
    root = tmp_path_factory.mktemp('real')
    manifests = {}
    for dataset, folder in SOURCES.items():
        fmt = 'charades-csv' if dataset == 'charades' else 'official'
        outcome = build_dataset(dataset, fmt, source=str(lists_dir / folder),
                                out=str(root / dataset))
        manifests[dataset] = {b.name: b.manifest for b in outcome.result.manifests}
        manifests[dataset]['_outcome'] = outcome
    return manifests


def _covered(manifest) -> int:
    return len({label for entry in manifest.entries for label in entry.labels})


def test_kinetics400_val(built, lists_dir, tmp_path):
    val = built['kinetics400']['val']
    assert len(val.entries) == 19796
    assert val.num_classes == _covered(val) == 400
    # The official class order is the alphabetical order of the names, which
    # the Kinetics-CSV builder relies on.
    table = read_class_table(str(lists_dir / 'k400' / 'kinetics_400_labels.csv'))
    assert table == sorted(table) == val.classes
    assert built['kinetics400']['_outcome'].skipped == {'train': ['train']}
    k400 = lists_dir / 'k400'
    videos = build_dataset('kinetics400', 'official', out=str(tmp_path),
                           files={'val': str(k400 / 'kinetics_video_val_se320.txt'),
                                  'classes': str(k400 / 'kinetics_400_labels.csv')},
                           only=['val'], write=False).result.manifests[0].manifest
    assert not videos.entries[0].is_frame_folder
    by_id = {e.id: e.label for e in val.entries}
    assert len(videos.entries) == 19796
    assert all(by_id[e.id] == e.label for e in videos.entries)


def test_kinetics600_zeroshot_splits(built):
    counts = {name: (len(m.entries), m.num_classes, _covered(m))
              for name, m in built['kinetics600'].items() if name != '_outcome'}
    assert counts == {'zeroshot_split1': (14119, 160, 160),
                      'zeroshot_split2': (14067, 160, 160),
                      'zeroshot_split3': (14161, 160, 160)}
    split1 = built['kinetics600']['zeroshot_split1']
    assert split1.class_table == '../classes_split1.csv'
    assert split1.entries[0].path == 'test/-aNccq2jvUA_000055_000065.mp4'


def test_ucf101(built):
    ucf = built['ucf101']
    sizes = {name: len(ucf[name].entries) for name in ucf if name != '_outcome'}
    assert sizes == {'train_split1': 9537, 'train_split2': 9586, 'train_split3': 9624,
                     'val_split1': 3783, 'val_split2': 3734, 'val_split3': 3696,
                     'zeroshot_full': 13320}
    for split in (1, 2, 3):
        assert _covered(ucf[f'val_split{split}']) == 101
        assert sizes[f'train_split{split}'] + sizes[f'val_split{split}'] == 13320
    assert _covered(ucf['zeroshot_full']) == 101
    entry = ucf['val_split1'].entries[0]
    assert (entry.path, entry.num_frames, entry.filename_tmpl) == (
        'frames/ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01', 163, 'image_{:04d}.jpg')


def test_hmdb51(built, lists_dir):
    hmdb = built['hmdb51']
    for split in (1, 2, 3):
        assert len(hmdb[f'train_split{split}'].entries) == 3570
        assert len(hmdb[f'val_split{split}'].entries) == 1530
        assert _covered(hmdb[f'val_split{split}']) == 51
    assert len(hmdb['zeroshot_full'].entries) == 6766
    assert _covered(hmdb['zeroshot_full']) == 51
    # The native builder names classes by their folders, '_' as ' ', sorted:
    # that is exactly the official table.
    folders = sorted({e.path.split('/')[1] for e in hmdb['zeroshot_full'].entries})
    assert [f.replace('_', ' ') for f in folders] == hmdb['zeroshot_full'].classes


def test_activitynet(built, lists_dir):
    anet = built['activitynet']
    assert len(anet['train'].entries) == 15410
    assert len({e.id for e in anet['train'].entries}) == 10024
    assert anet['train'].entries[0].id == '4k-F7EXpcrM'
    assert len(anet['val'].entries) == 4926
    assert len(anet['zeroshot_full'].entries) == 14950
    assert not any('//' in e.path for e in anet['zeroshot_full'].entries)
    for name in ('train', 'val', 'zeroshot_full'):
        assert anet[name].num_classes == _covered(anet[name]) == 200
    assert anet['val'].classes == sorted(anet['val'].classes)


def test_charades(built, lists_dir):
    charades = built['charades']
    test, train = charades['test'], charades['train']
    assert test.multi_label and test.num_classes == 157 == _covered(test)
    assert test.classes[0] == 'Holding some clothes'  # CRLF stripped
    with open(lists_dir / 'charades' / 'Charades_v1_test.csv', newline='') as handle:
        rows = list(csv.DictReader(handle))
    expected = {row['id']: sorted({int(a.split()[0][1:]) for a in row['actions'].split(';')
                                   if a.strip()}) for row in rows}
    assert {e.id: e.label for e in test.entries} == expected
    assert len(test.entries) == 1863
    assert sum(not e.label for e in test.entries) == 49
    assert len(train.entries) == 49809 - 7
    assert _covered(train) == 157
    assert all(e.segment[1] > e.segment[0] for e in train.entries)


def test_charades_expansion_equals_instance_list(lists_dir, tmp_path):
    import shutil
    for name in ('Charades_v1_classes.txt', 'Charades_v1_train.csv'):
        shutil.copy(lists_dir / 'charades' / name, tmp_path / name)
    expanded = build_dataset('charades', source=str(tmp_path), out=str(tmp_path / 'o'),
                             only=['train'], write=False).result.manifests[0].manifest
    listed = build_dataset('charades', source=str(lists_dir / 'charades'),
                           out=str(tmp_path / 'o'), only=['train'],
                           write=False).result.manifests[0].manifest
    assert [(e.id, e.label, e.segment) for e in expanded.entries] == \
        [(e.id, e.label, e.segment) for e in listed.entries]


def test_real_manifests_have_no_list_errors(built, tmp_path):
    """Without media every entry is 'missing', and nothing else is wrong."""
    outcome = built['ucf101']['_outcome']
    for path in outcome.written.values():
        report = check_manifest(path)
        kinds = collections.Counter(issue.kind for issue in report.issues)
        assert set(kinds) == {'missing'}
        assert kinds['missing'] == len(report.manifest.entries)
