"""ci-regression catches a broken model and says what moved."""
from __future__ import annotations

import copy

from bike_bench.reproduction.ci_regression import compare, format_changes, read_baseline


def test_committed_baseline_covers_every_protocol_family():
    baseline = read_baseline()
    families = {run.split('_')[1] for run in baseline}
    assert families == {'general', 'fewshot', 'zeroshot-half'}
    assert any('charades' in run for run in baseline)
    assert any('VideoAttribute' in run for run in baseline)


def test_identical_results_pass():
    baseline = read_baseline()
    assert all(change.ok for change in compare(copy.deepcopy(baseline), baseline))


def test_a_model_that_ignores_the_video_fails_with_a_table():
    baseline = read_baseline()
    tampered = copy.deepcopy(baseline)
    # What an interaction that ignores the video produces: chance accuracy
    # on the 8-class synthetic K400 flavour.
    tampered['smoke_general_kinetics400_8f_4x3']['acc/top1'] = 1 / 8
    changes = compare(tampered, baseline)
    failed = [c for c in changes if not c.ok]
    assert [(c.run, c.metric) for c in failed] == [
        ('smoke_general_kinetics400_8f_4x3', 'acc/top1')]
    table = format_changes(failed, only_failures=True)
    assert 'MOVED' in table and 'smoke_general_kinetics400_8f_4x3' in table


def test_a_run_that_disappeared_fails():
    baseline = read_baseline()
    measured = copy.deepcopy(baseline)
    zero_shot = next(run for run in baseline if run.startswith('smoke_zeroshot'))
    measured.pop(zero_shot)
    failed = [c for c in compare(measured, baseline) if not c.ok]
    assert {c.run for c in failed} == {zero_shot}
    assert all(c.measured is None for c in failed)


def test_default_baseline_is_the_shipped_one_and_a_missing_one_fails_first(tmp_path):
    import pytest
    from bike_bench import paths
    from bike_bench.reproduction.ci_regression import ci_regression, read_baseline_file
    assert read_baseline_file() == read_baseline_file(str(paths.ci_baseline()))
    missing = tmp_path / 'none.json'
    with pytest.raises(FileNotFoundError, match='none.json'):
        ci_regression(str(missing), echo=lambda _: None)  # before any training
    assert list(tmp_path.iterdir()) == []
