"""Results files: layout, validation that names file and field, atomic writes."""
from __future__ import annotations

import copy
import json
import os

import pytest

from bike_bench.evaluation.results import (ResultsFileError, build_results,
                                           validate_results, write_results)


def example(**changes):
    fields = dict(
        run_id='test_x', protocol=dict(name='test'), metrics={'acc/top1': 0.5},
        views=dict(clips=1, crops=1, label='1x1', views_per_video=1),
        aggregation='official',
        dataset=dict(name='d', split='val', manifest='/m.jsonl', manifest_hash='ab' * 32,
                     num_classes=2),
        checkpoint=dict(path='/c.pth', sha256='cd' * 32),
        config=dict(path='c.py', hash='ef' * 32, resolved={'a': 1}),
        environment=dict(git_commit='0' * 40, git_dirty=False, packages={'torch': 'x'},
                         device={'type': 'cpu'}),
        wall_time_s=1.5, counts=dict(expected=3, evaluated=2, skipped=1),
        skipped=[dict(index=1, path='v.mp4', reason='empty file (0 bytes)')])
    fields.update(changes)
    return build_results(**fields)


def test_written_file_round_trips(tmp_path):
    path = write_results(example(), str(tmp_path / 'results' / 'r.json'))
    assert validate_results(path)['counts']['skipped'] == 1
    assert not [p for p in os.listdir(tmp_path / 'results') if p.endswith('.tmp')]


@pytest.mark.parametrize('field', ['checkpoint.sha256', 'environment.git_commit',
                                   'dataset.manifest_hash', 'config.resolved', 'counts.expected'])
def test_missing_provenance_is_refused_naming_file_and_field(tmp_path, field):
    data = example()
    section, key = field.split('.')
    del data[section][key]
    path = tmp_path / 'incomplete.json'
    path.write_text(json.dumps(data))
    with pytest.raises(ResultsFileError, match=f"incomplete.json: missing field '{field}'"):
        validate_results(str(path))


def test_counts_must_add_up():
    with pytest.raises(ResultsFileError, match='counts do not add up'):
        example(counts=dict(expected=4, evaluated=2, skipped=1))
    with pytest.raises(ResultsFileError, match="'skipped' lists 1 videos"):
        example(counts=dict(expected=3, evaluated=3, skipped=0))


def test_not_a_results_file(tmp_path):
    path = tmp_path / 'x.json'
    path.write_text('{"a": 1}')
    with pytest.raises(ResultsFileError, match='x.json: not a bike-bench results file'):
        validate_results(str(path))
    path.write_text('{')
    with pytest.raises(ResultsFileError, match='x.json: not JSON'):
        validate_results(str(path))


def test_empty_field_is_refused():
    data = copy.deepcopy(example())
    data['checkpoint']['sha256'] = None
    with pytest.raises(ResultsFileError, match="'checkpoint.sha256' is empty"):
        validate_results(data)
