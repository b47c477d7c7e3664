"""A dataset of one's own: `manifests build custom` (folder, csv, MMAction2
lists), a frame-folder dataset through the manifest route, `new-config`,
and the route folder -> manifests -> config -> train -> 4x3 test -> zero-shot
-> report."""
from __future__ import annotations

import json
import os

import cv2
import numpy as np
import pytest

from bike_bench.cli.main import main
from bike_bench.datasets.build import build_custom
from bike_bench.datasets.builders.sources import SourceError
from bike_bench.datasets.manifest import read_manifest
from bike_bench.datasets.synthetic import write_frame_folder, write_mp4

CLASSES = ['cartoon rabbit', 'dog', 'red ball', 'waving']
SMOKE = 'bike_tiny-vit-p16-res64_toy-clip-pre_1xb16-8x1x1-8e_synthetic-rgb'


def _frames(seed: int, count: int = 8, size: int = 32) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 255, (count, size, size, 3), dtype=np.uint8)


def folder_dataset(root, per_split=(('train', 3), ('val', 1)), frames=False):
    """``root/<split>/<class>/<video>`` of the four CLASSES."""
    seed = 0
    for split, count in per_split:
        for name in CLASSES:
            for index in range(count):
                seed += 1
                if frames:
                    write_frame_folder(str(root / split / name / f'clip{index}'),
                                       _frames(seed, count=10))
                else:
                    write_mp4(str(root / split / name / f'clip{index}.mp4'), _frames(seed))
    return root


def test_folder_format_builds_one_manifest_per_split(tmp_path, capsys):
    source = folder_dataset(tmp_path / 'videos')
    (source / 'val' / 'notes.txt').write_text('not a video')
    out = tmp_path / 'data' / 'mydata'
    assert main(['manifests', 'build', 'custom', '--name', 'mydata', '--format', 'folder',
                 '--source', str(source), '--out', str(out)]) == 0
    printed = capsys.readouterr()
    assert 'mydata (folder)' in printed.out
    assert '1 files that are neither videos nor frame folders were not listed (e.g. ' \
        'val/notes.txt)' in printed.out
    train = read_manifest(str(out / 'manifests' / 'train.jsonl'))
    val = read_manifest(str(out / 'manifests' / 'val.jsonl'))
    assert train.dataset == val.dataset == 'mydata'
    assert train.classes == CLASSES and len(train.entries) == 12
    assert {e.split for e in train.entries} == {'train'} and val.entries[0].split == 'val'
    assert val.entries[0].path == 'val/cartoon rabbit/clip0.mp4'
    assert os.path.isfile(val.entry_location(val.entries[0]))  # data_root points at source
    assert (out / 'classes.csv').read_text().startswith('id,name\n0,cartoon rabbit\n')
    assert main(['manifests', 'check', str(out / 'manifests' / 'train.jsonl'),
                 str(out / 'manifests' / 'val.jsonl')]) == 0


def test_class_in_one_split_only_is_reported(tmp_path):
    source = folder_dataset(tmp_path / 'videos')
    write_mp4(str(source / 'train' / 'jumping' / 'a.mp4'), _frames(99))
    outcome = build_custom('mydata', 'folder', str(source), str(tmp_path / 'out'))
    lines = [issue.line() for issue in outcome.issues]
    assert "warning: val: class 'jumping' (id 2 of 5) has no entries; it has entries " \
        'only in other splits (train 1)' in lines


def test_frame_folder_dataset_through_the_manifest_route(tmp_path):
    """build -> check -> the pipeline reads the listed frames."""
    from mmengine.registry import init_default_scope
    from bike_bench.datasets import ManifestVideoDataset
    from bike_bench.datasets.transforms.sampling import val_indices
    init_default_scope('mmaction')
    source = folder_dataset(tmp_path / 'frames', per_split=(('train', 1), ('test', 1)),
                            frames=True)
    (source / 'test' / 'dog' / 'empty_clip').mkdir()
    out = tmp_path / 'out'
    outcome = build_custom('myframes', 'folder', str(source), str(out))
    test = read_manifest(str(out / 'manifests' / 'test.jsonl'))
    entry = test.entries[0]
    assert entry.is_frame_folder and entry.num_frames == 10
    assert entry.filename_tmpl == 'img_{:05d}.jpg' and entry.start_index == 1
    dropped = [d for d in outcome.result.dropped if d.manifest == 'test']
    assert [(d.path, d.reason) for d in dropped] == [
        ('test/dog/empty_clip', 'frame folder without img_00001.jpg (empty)')]
    assert main(['manifests', 'check', str(out / 'manifests' / 'test.jsonl')]) == 0
    pipeline = [dict(type='VideoInit'), dict(type='BIKESampleFrames', num_segments=4,
                                             mode='val'), dict(type='VideoDecode')]
    sample = ManifestVideoDataset(str(out / 'manifests' / 'test.jsonl'), pipeline,
                                  test_mode=True)[0]
    folder = test.entry_location(entry)
    expected = np.stack([cv2.cvtColor(cv2.imread(os.path.join(
        folder, entry.filename_tmpl.format(i + 1))), cv2.COLOR_BGR2RGB)
        for i in val_indices(entry.num_frames, 4)])
    assert np.array_equal(np.stack(sample['imgs']), expected)


def test_csv_format_labels_splits_segments_and_bad_input(tmp_path):
    source = folder_dataset(tmp_path / 'videos')
    csv = tmp_path / 'videos' / 'annotations.csv'
    csv.write_text('path,label,split,start,end\n'
                   'train/dog/clip0.mp4,dog,train,,\n'
                   'train/dog/clip1.mp4,dog,train,0.0,0.5\n'
                   'train/waving/clip0.mp4,waving,train,,\n'
                   'val/dog/clip0.mp4,dog,val,,\n'
                   'val/waving/clip0.mp4,waving,val,,\n'
                   'val/waving/absent.mp4,waving,val,,\n'
                   'val/waving/clip0.mp4,waving,val,2.0,1.0\n')
    outcome = build_custom('mycsv', 'csv', str(source), str(tmp_path / 'out'))
    train, val = (built.manifest for built in outcome.result.manifests)
    assert train.classes == ['dog', 'waving']
    assert train.entries[1].segment == [0.0, 0.5]
    rows = {row['manifest']: row for row in outcome.rows()}
    assert (rows['val']['entries'], rows['val']['expected'], rows['val']['dropped'],
            rows['val']['missing']) == (3, 4, 1, 1)
    assert any('1 of 3 entries have no file' in i.message and 'val/waving/absent.mp4'
               in i.message for i in outcome.issues)
    table = tmp_path / 'labels.txt'
    table.write_text('dog\nwave\n')
    with pytest.raises(SourceError, match=r"annotations.csv:4: label 'waving' is not in "
                       r"the class table .*labels.txt \(closest: 'wave'\)"):
        build_custom('mycsv', 'csv', str(source), str(tmp_path / 'out2'),
                     classes=str(table))


def test_mmaction_lists_need_a_class_table_and_find_their_splits(tmp_path):
    source = folder_dataset(tmp_path / 'videos')
    (source / 'mydata_train_list_videos.txt').write_text(
        'train/dog/clip0.mp4 1\ntrain/waving/clip0.mp4 3\n')
    (source / 'mydata_val_list_videos.txt').write_text('val/dog/clip0.mp4 1\n')
    with pytest.raises(SourceError, match='give the class table with --classes'):
        build_custom('mylists', 'mmaction-video', str(source), str(tmp_path / 'out'))
    table = tmp_path / 'label_map.txt'
    table.write_text('\n'.join(CLASSES) + '\n')
    outcome = build_custom('mylists', 'mmaction-video', str(source), str(tmp_path / 'out'),
                           classes=str(table))
    assert [b.name for b in outcome.result.manifests] == ['train', 'val']
    assert outcome.result.manifests[1].manifest.entries[0].label == 1
    empty = [i.message for i in outcome.issues if i.kind == 'empty_class']
    assert any("class 'waving' (id 3 of 4) has no entries; it has entries only in other "
               'splits (train 1)' in m for m in empty)


@pytest.mark.parametrize('name, message', [
    ('hmdb51', "'hmdb51' is a dataset with a shipped spec"),
    ('ucf', "'ucf' is a dataset with a shipped spec"),
    ('my_data', 'use lower-case letters, digits and "-"'),
])
def test_custom_names(tmp_path, name, message):
    source = folder_dataset(tmp_path / 'videos', per_split=(('test', 1),))
    with pytest.raises(SourceError, match=message):
        build_custom(name, 'folder', str(source), str(tmp_path / 'out'))


def test_folder_without_split_level_is_refused(tmp_path):
    write_mp4(str(tmp_path / 'videos' / 'dog' / 'a.mp4'), _frames(1))
    with pytest.raises(SourceError, match=r"holds videos directly \(a.mp4, ...\); expected"):
        build_custom('mydata', 'folder', str(tmp_path / 'videos'), str(tmp_path / 'out'))


def test_new_config_inherits_the_shipped_config(tmp_path, monkeypatch, capsys):
    from mmengine.config import Config
    monkeypatch.chdir(tmp_path)
    folder_dataset(tmp_path / 'videos')
    build_custom('mydata', 'folder', 'videos', 'data/mydata')
    assert main(['new-config', 'bike_tiny_mydata', '--from', SMOKE,
                 '--manifests', 'data/mydata', '--max-epochs', '2']) == 0
    assert 'wrote bike_tiny_mydata.py' in capsys.readouterr().out
    text = (tmp_path / 'bike_tiny_mydata.py').read_text()
    assert "__import__('bike_bench.paths'" in text and str(tmp_path) not in text
    cfg = Config.fromfile(str(tmp_path / 'bike_tiny_mydata.py'))  # plain MMEngine
    assert cfg.train_dataloader.dataset.ann_file == 'data/mydata/manifests/train.jsonl'
    assert cfg.test_dataloader.dataset.ann_file == 'data/mydata/manifests/val.jsonl'
    assert cfg.train_dataloader.dataset.class_table == 'data/mydata/classes.csv'
    assert cfg.model.num_classes == 4 and cfg.class_names == CLASSES
    assert cfg.model.backbone.type == 'CLIPEncoder'  # inherited
    assert cfg.train_cfg.max_epochs == 2
    # the inherited tail cosine states no end: it follows max_epochs, so the
    # new config does not restate the schedule
    assert 'param_scheduler' not in text
    cosine = cfg.param_scheduler[-1]
    assert cosine.type == 'CosineAnnealingToEndLR' and cosine.begin == 1
    assert 'end' not in cosine and 'T_max' not in cosine
    assert main(['new-config', 'bike_tiny_mydata', '--from', SMOKE,
                 '--manifests', 'data/mydata']) == 1
    assert 'exists; give --force' in capsys.readouterr().err
    assert main(['new-config', 'x', '--from', SMOKE, '--manifests', 'data/mydata',
                 '--max-epochs', '1']) == 1
    assert 'warms up for 1 epochs' in capsys.readouterr().err


def test_route_folder_to_manifests_to_config_to_train_to_4x3_test(tmp_path, monkeypatch,
                                                                   capsys):
    monkeypatch.chdir(tmp_path)
    folder_dataset(tmp_path / 'videos')
    assert main(['manifests', 'build', 'custom', '--name', 'mydata', '--format', 'folder',
                 '--source', 'videos', '--out', 'data/mydata']) == 0
    assert main(['new-config', 'bike_tiny_mydata', '--from', SMOKE,
                 '--manifests', 'data/mydata', '--max-epochs', '2']) == 0
    assert main(['train', 'bike_tiny_mydata.py']) == 0
    work = tmp_path / 'work_dirs' / 'bike_tiny_mydata'
    assert (work / 'epoch_2.pth').is_file() and not (work / 'epoch_3.pth').exists()
    capsys.readouterr()
    assert main(['test', 'bike_tiny_mydata.py', str(work / 'epoch_2.pth'),
                 '--views', '4x3']) == 0
    results = [json.loads(p.read_text()) for p in (work / 'results').glob('*.json')]
    assert len(results) == 1
    assert results[0]['dataset']['name'] == 'mydata'
    assert results[0]['run_id'].startswith('test_mydata-val_4x3_')
    assert results[0]['views']['label'] == '4x3'
    assert results[0]['dataset']['num_videos'] == 4
    # zero-shot on the same manifest, and a report of the test run
    assert main(['zeroshot', 'bike_tiny_mydata.py', str(work / 'epoch_2.pth'),
                 '--manifest', 'data/mydata/manifests/val.jsonl']) == 0
    zeroshot = [json.loads(p.read_text()) for p in (work / 'results').glob('zeroshot*.json')]
    assert zeroshot[0]['dataset']['name'] == 'mydata'
    assert zeroshot[0]['run_id'].startswith('zeroshot-full_mydata_')
    test_file = next((work / 'results').glob('test_*.json'))
    assert main(['report', str(test_file), '--out', 'report']) == 0
    assert 'mydata' in (tmp_path / 'report' / 'index.md').read_text()


def test_an_unknown_dataset_name_points_at_custom(capsys):
    with pytest.raises(SystemExit):
        main(['manifests', 'build', 'myset', '--source', '../myset'])
    assert "unknown dataset 'myset'; known: kinetics400" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(['manifests', 'build', 'custm'])
    assert 'did you mean custom, a dataset of your own?' in capsys.readouterr().err
