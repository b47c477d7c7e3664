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


# ------------------------------------------------- outputs at initialisation
def _reference_run(name):
    import json
    from bike_bench import paths
    return json.loads((paths.reference_runs_dir() / 'smoke' / f'{name}.json').read_text())


def test_committed_baseline_records_init_outputs_of_every_run():
    from bike_bench.reproduction.ci_regression import INIT_OUTPUTS
    for run, metrics in read_baseline().items():
        assert any(m.startswith(INIT_OUTPUTS) for m in metrics), run


def test_init_outputs_depend_on_the_config_only_not_on_threads():
    import torch
    from bike_bench.reproduction.ci_regression import INIT_CLIPS, INIT_CLASS_NAMES, init_outputs
    run = _reference_run('smoke_general_kinetics400_8f_4x3')
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = init_outputs(run)
        torch.set_num_threads(2)
        two = init_outputs(run)
    finally:
        torch.set_num_threads(threads)
    assert len(one) == INIT_CLIPS * len(INIT_CLASS_NAMES)
    assert one == two
    assert len(set(one.values())) == len(one)  # not a constant
    assert init_outputs(dict(config={})) == {}


def test_init_outputs_catch_model_faults_that_leave_smoke_accuracy_alone():
    """The three planted faults the smoke metrics can miss (bare-name
    prompts, no temporal transformer, uniform frame weights) move the outputs
    at initialisation by far more than their tolerance; a fault outside the
    model (shifted labels) does not."""
    from mmengine.config import Config
    from bike_bench.reproduction.ci_regression import INIT_OUTPUT_TOLERANCE, init_outputs
    from planted.faults import FAULTS
    run = _reference_run('smoke_general_kinetics400_8f_4x3')
    clean = init_outputs(run)
    moved = {}
    for name in ('prompt-template', 'skip-temporal', 'vcs-mean', 'permute-labels'):
        cfg = Config(run['config']['resolved'])
        FAULTS[name](cfg)
        faulty = init_outputs(dict(run, config=dict(resolved=cfg.to_dict())))
        moved[name] = max(abs(faulty[k] - clean[k]) for k in clean)
    assert min(moved[n] for n in ('prompt-template', 'skip-temporal', 'vcs-mean')) \
        > 10 * INIT_OUTPUT_TOLERANCE, moved
    assert moved['permute-labels'] == 0.0


def test_init_outputs_are_compared_within_their_own_tolerance():
    from bike_bench.reproduction.ci_regression import INIT_OUTPUT_TOLERANCE, spread_tolerances
    run = 'smoke_general_kinetics400_8f_4x3'
    baseline = {run: {'acc/top1': 0.875, 'init_outputs/v0c0': -0.0080210}}
    near = {run: {'acc/top1': 0.875, 'init_outputs/v0c0': -0.0080210 + INIT_OUTPUT_TOLERANCE / 2}}
    far = {run: {'acc/top1': 0.875, 'init_outputs/v0c0': -0.0080210 + 10 * INIT_OUTPUT_TOLERANCE}}
    # A seed-derived tolerance (the floor, 0.03) is not applied to them.
    tolerances = {run: {'acc/top1': 0.09, 'init_outputs/v0c0': 0.03}}
    assert all(c.ok for c in compare(near, baseline, tolerances))
    failed = [c for c in compare(far, baseline, tolerances) if not c.ok]
    assert [c.metric for c in failed] == ['init_outputs/v0c0']
    assert 'MOVED' in format_changes(failed) and '±1e-04' in format_changes(failed)
    assert 'init_outputs/v0c0' not in spread_tolerances([baseline, far])[run]


def test_a_check_the_baseline_lacks_fails_as_new():
    baseline = read_baseline()
    measured = copy.deepcopy(baseline)
    run = next(iter(measured))
    measured[run]['init_outputs/v9c9'] = 0.5
    failed = [c for c in compare(measured, baseline) if not c.ok]
    assert [(c.run, c.metric, c.baseline) for c in failed] == [(run, 'init_outputs/v9c9', None)]
    assert 'NEW' in format_changes(failed)
