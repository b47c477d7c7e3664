"""The metafile loader: records, and the checks against the config folder."""
from __future__ import annotations

import pytest

from bike_bench.metafile import (MetafileError, find_model,
                                         load_metafile, validate_metafile)

ENTRY = """\
  - Name: {name}
    Config: mmconfigs/{name}.py
    In Collection: BIKE
    Metadata:
      Frames: 8
      Input Size: 224
      Views: {views}
    Results:
      - Dataset: Kinetics-400
        Task: Action Recognition
        Metrics:
          top1: 84.0
    Weights: k400-vit-b-16-f8.pt
    Training Log: null
"""


def write_repo(tmp_path, entries, configs):
    folder = tmp_path / 'mmconfigs'
    (folder / '_base_').mkdir(parents=True)
    (folder / '_base_' / 'ignored.py').write_text('x = 1\n')
    for name in configs:
        (folder / f'{name}.py').write_text('x = 1\n')
    path = folder / 'metafile.yml'
    path.write_text('Models:\n' + ''.join(entries))
    return path


def test_records_of_the_project_metafile():
    records = {r.name: r for r in load_metafile()}
    b16 = records['bike_vit-b-p16_clip-openai-pre_8xb32-8x1x1-30e_kinetics400-rgb']
    assert (b16.dataset, b16.views, b16.num_clips, b16.num_crops) == ('Kinetics-400', '4x3', 4, 3)
    assert b16.metrics == {'top1': 84.0}
    assert b16.weights == 'k400-vit-b-16-f8.pt'
    assert b16.training_log == 'k400_vit-B_16_8f_log.txt'
    assert b16.config_path().is_file()
    anet = records['bike_vit-l-p14_k400-pre_8xb32-16x1x1-20e_activitynet-rgb']
    assert anet.metrics == {'top1': 94.4, 'mAP': 96.3} and anet.views == '4x1'
    ucf_zs = records['bike_vit-l-p14_k400-pre_zeroshot-8x1x1_ucf101-rgb']
    assert ucf_zs.metrics['top1_half_classes'] == 86.63 and ucf_zs.protocol == 'zero-shot'


def test_validate_accepts_a_complete_metafile(tmp_path):
    path = write_repo(tmp_path, [ENTRY.format(name='a', views='4x3')], ['a'])
    [record] = validate_metafile(path)
    assert record.name == 'a' and record.metrics == {'top1': 84.0}
    assert find_model([record], 'mmconfigs/a.py') is record
    with pytest.raises(KeyError, match='b'):
        find_model([record], 'b')


def test_validate_names_unlisted_and_missing_configs(tmp_path):
    path = write_repo(tmp_path, [ENTRY.format(name='a', views='4x3')], ['b'])
    with pytest.raises(MetafileError) as info:
        validate_metafile(path)
    assert 'config mmconfigs/a.py does not exist' in str(info.value)
    assert 'mmconfigs/b.py is not listed' in str(info.value)
    assert 'ignored.py' not in str(info.value)


def test_bad_entries_are_named(tmp_path):
    path = write_repo(tmp_path, [ENTRY.format(name='a', views='four')], ['a'])
    with pytest.raises(MetafileError, match=r'Models\[0\] \(a\): Views'):
        load_metafile(path)
    path.write_text('Models:\n' + ENTRY.format(name='a', views='1x1') * 2)
    with pytest.raises(MetafileError, match='appears twice'):
        load_metafile(path)
    path.write_text('Models:\n  - Name: a\n')
    with pytest.raises(MetafileError, match='missing Config, Metadata'):
        load_metafile(path)
