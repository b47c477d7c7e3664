"""The committed smoke results meet the smoke targets (each target a test).

Targets that the toy CLIP cannot reach for a measured reason are listed in
:data:`LIMITED` with that reason (docs/toy_clip.md gives the numbers); they
are strict expected failures, so a change that meets one shows up as an
unexpected pass and the list must be updated.
"""
from __future__ import annotations

import os

import pytest

from bike_bench.reproduction import targets as targets_mod

SMOKE_RUNS = os.path.join(os.path.dirname(__file__), '..', '..', 'results', 'runs', 'smoke')

_SHOTS = ('HMDB few-shot is at its full-data ceiling: with nested draws and the few-shot twins '
          'at 3x the smoke lr, 1 < 2 shots (0.867 < 0.892) but 5 shots 0.883, a third of a test '
          'video below 2; over ten seeds 0.852 / 0.877 / 0.895, and all 7 training videos give '
          '0.890. Every error is one direction pair ("blue triangle moving down" taken for '
          '"... moving left"), and the toy CLIP\'s mean-pooled frame features do not tell the '
          'two apart (linear probe near chance); docs/toy_clip.md'
          '#ten-seeds-the-full-data-ceiling-and-the-frame-features')
LIMITED = {
    'few-shot hmdb51 1 < 2 < 5 shots (mean over seeds)': _SHOTS,
}


def _targets():
    if not os.path.isdir(SMOKE_RUNS):
        return {}
    return {t.name: t for t in targets_mod.check_targets(SMOKE_RUNS)}


TARGETS = _targets()


@pytest.mark.parametrize('name', sorted(TARGETS) or ['(no committed smoke results)'])
def test_committed_smoke_results_meet_the_target(name, request):
    if name not in TARGETS:
        pytest.skip(f'no committed smoke results in {SMOKE_RUNS}')
    if name in LIMITED:
        request.applymarker(pytest.mark.xfail(reason=LIMITED[name], strict=True))
    target = TARGETS[name]
    assert target.ok, (f'target missed: {name}: measured {target.measured}, required '
                       f'{target.required} {target.detail}'.strip())


def test_every_limited_target_is_a_known_target():
    if TARGETS:
        assert set(LIMITED) <= set(TARGETS), set(LIMITED) - set(TARGETS)


def test_a_missed_target_is_named(tmp_path):
    import json
    run = dict(run_id='smoke_zeroshot-half_ucf101_8f_1x1',
               metrics={'half/top1_mean': 0.2, 'half/top1_std': 0.1, 'full/top1': 0.5},
               protocol=dict(splits=[dict(classes=[0, 1, 2, 3, 4])]),
               dataset=dict(num_classes=10))
    (tmp_path / 'a.json').write_text(json.dumps(run))
    targets = {t.name: t for t in targets_mod.check_targets(str(tmp_path))}
    assert not targets['zero-shot ucf101 half-class mean top-1'].ok  # 0.2 < 3 x 0.2
    assert targets['zero-shot ucf101 full top-1'].ok                 # 0.5 >= 3 x 0.1
    # Runs that are not there are missed targets, not silently passed ones.
    assert not targets['few-shot ucf101'].ok and targets['few-shot ucf101'].measured is None
    assert not targets['V+A fused >= video-only (toy CLIP attributes)'].ok
