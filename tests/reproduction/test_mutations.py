"""Every planted fault makes ci-regression fail; the unmutated suite passes.

Each fault of ``bike_bench.utils.mutation`` is switched on with
``BIKE_BENCH_MUTATION=<name>`` and the smallest smoke twin it affects is run
and compared with the committed ``results/ci_baseline.json``. Trained
checkpoints are shared between the runs (the mutation is not part of the run
key), so a fault that acts at evaluation is measured on the unmutated model;
few-shot sampling is re-run because it happens at training.

Cost: the unmutated twins once (the K400 8f parent, the V+A twin, the UCF
2-shot twin over its seeds), then one evaluation per fault and one few-shot
run for ``fewshot-from-eval``.
"""
from __future__ import annotations

import os

import pytest

from bike_bench.reproduction import ci_regression
from bike_bench.utils import mutation

pytestmark = pytest.mark.slow

K400 = 'bike_vit-b-p16_clip-openai-pre_8xb32-8x1x1-30e_kinetics400-rgb'
ZEROSHOT = 'bike_vit-l-p14_k400-pre_zeroshot-8x1x1_hmdb51-rgb'
# Untrimmed: VCS's frame weighting only matters where frames differ in
# relevance (background between the segments).
ZEROSHOT_UNTRIMMED = 'bike_vit-l-p14_k400-pre_zeroshot-8x1x1_activitynet-rgb'
FEWSHOT = 'bike_vit-l-p14_clip-openai-pre_fewshot-2shot-8xb32-8x1x1-20e_ucf101-split1-rgb'
VIDEO_ATTRIBUTES = 'bike-va_vit-b-p32_clip-openai-pre_8xb32-8x1x1-30e_kinetics400-rgb'
# fault -> the smallest twin it affects
TWIN_OF = {
    'text-constant': ZEROSHOT,
    'vcs-mean': ZEROSHOT_UNTRIMMED,
    'skip-temporal': K400,
    'permute-labels': ZEROSHOT,
    'prompt-template': K400,
    'split-seed-shift': ZEROSHOT,
    'frame-shift': ZEROSHOT,
    'fusion-swap': VIDEO_ATTRIBUTES,
    'fewshot-from-eval': FEWSHOT,
}


def test_every_mutation_has_a_twin():
    assert set(TWIN_OF) == set(mutation.MUTATIONS)
    assert len(mutation.MUTATIONS) >= 8


def test_mutations_are_off_by_default(monkeypatch):
    monkeypatch.delenv(mutation.ENV, raising=False)
    assert not any(mutation.active(name) for name in mutation.MUTATIONS)
    monkeypatch.setenv(mutation.ENV, 'vcs-mean')
    assert mutation.active('vcs-mean') and not mutation.active('skip-temporal')
    monkeypatch.setenv(mutation.ENV, 'no-such-fault')
    with pytest.raises(ValueError, match='no-such-fault'):
        mutation.check_environment()


@pytest.fixture(scope='module')
def shared(tmp_path_factory):
    if not os.path.isfile(ci_regression.BASELINE):
        pytest.fail(f'no {ci_regression.BASELINE}; create it with '
                    '`bike-bench ci-regression --update-baseline --seeds 0 1 2`')
    root = tmp_path_factory.mktemp('mutations')
    return dict(work=str(root / 'work'), synth=str(root / 'synthetic'), root=root)


def _check(shared, entry: str, name: str, monkeypatch):
    """Run ``entry``'s twin into a fresh runs folder; the checks of its run."""
    if name:
        monkeypatch.setenv(mutation.ENV, name)
    else:
        monkeypatch.delenv(mutation.ENV, raising=False)
    runs = str(shared['root'] / f'runs-{name or "clean"}-{abs(hash(entry))}')
    measured = ci_regression.run_suite(runs, shared['work'], shared['synth'],
                                       entries=[entry], echo=lambda _: None)
    baseline = ci_regression.read_baseline()
    tolerances = ci_regression.read_tolerances()
    subset = {run: baseline[run] for run in measured if run in baseline}
    assert subset, f'{entry}: its run is not in the CI baseline'
    return ci_regression.compare(measured, subset, tolerances)


@pytest.mark.parametrize('entry', [ZEROSHOT, ZEROSHOT_UNTRIMMED, VIDEO_ATTRIBUTES, FEWSHOT])
def test_unmutated_twin_passes(shared, entry, monkeypatch):
    changes = _check(shared, entry, '', monkeypatch)
    failed = [c for c in changes if not c.ok]
    assert not failed, ('the unmutated suite moved (stale baseline? regenerate it with '
                        '`bike-bench ci-regression --update-baseline --seeds 0 1 2`):\n'
                        + ci_regression.format_changes(failed))


@pytest.mark.parametrize('name', sorted(TWIN_OF))
def test_mutation_fails_the_regression_check(shared, name, monkeypatch):
    changes = _check(shared, TWIN_OF[name], name, monkeypatch)
    failed = [c for c in changes if not c.ok]
    assert failed, f'planted fault {name!r} went unnoticed:\n' + \
        ci_regression.format_changes(changes)
    print(f'\n{name}: caught by\n' + ci_regression.format_changes(failed))


# ------------------------------------------------- each switch is live (fast)
def test_split_seed_shift_changes_the_splits(monkeypatch):
    from bike_bench.evaluation.zeroshot import half_class_splits
    clean = [s.tolist() for s in half_class_splits(10)]
    monkeypatch.setenv(mutation.ENV, 'split-seed-shift')
    assert [s.tolist() for s in half_class_splits(10)] != clean


def test_frame_shift_moves_test_frames_only(monkeypatch):
    from bike_bench.datasets.transforms.sampling import BIKESampleFrames
    test = BIKESampleFrames(num_segments=8, mode='test', num_clips=2)
    val = BIKESampleFrames(num_segments=8, mode='val')
    clean = test.transform(dict(total_frames=16))['frame_inds'].tolist()
    clean_val = val.transform(dict(total_frames=16))['frame_inds'].tolist()
    monkeypatch.setenv(mutation.ENV, 'frame-shift')
    assert test.transform(dict(total_frames=16))['frame_inds'].tolist() != clean
    assert val.transform(dict(total_frames=16))['frame_inds'].tolist() == clean_val


def test_model_faults_change_the_model_outputs(monkeypatch):
    import torch
    from bike_bench.models.heads.interactions import VCSInteraction
    from bike_bench.models.heads.temporal import TransfHeader
    torch.manual_seed(0)
    video, tokens, cls = torch.randn(2, 8, 16), torch.randn(3, 5, 16), torch.randn(3, 16)
    vcs = VCSInteraction()
    header = TransfHeader(16, 2, num_layers=1)
    clean_vcs, clean_header = vcs(video, tokens, cls), header(video)
    monkeypatch.setenv(mutation.ENV, 'vcs-mean')
    assert not torch.allclose(vcs(video, tokens, cls), clean_vcs)
    monkeypatch.setenv(mutation.ENV, 'skip-temporal')
    assert torch.equal(header(video), video) and not torch.equal(clean_header, video)
