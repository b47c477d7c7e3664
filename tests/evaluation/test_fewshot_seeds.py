"""One few-shot aggregation over seeds (``evaluation.fewshot_seeds``)."""
from __future__ import annotations

import copy
import glob
import json
import os

import numpy as np
import pytest

from bike_bench.evaluation.fewshot import shot_results, summarise
from bike_bench.evaluation.fewshot_seeds import (aggregate_seeds, fewshot_results,
                                                 seed_statistics)
from bike_bench.evaluation.results import ResultsFileError

SMOKE = os.path.join(os.path.dirname(__file__), '..', '..', 'results', 'runs', 'smoke')
TOP1 = [0.48333333333333334, 0.5666666666666667, 0.6]


def _run(seed, top1, shots=1):
    return dict(run_id=f'fewshot_{shots}shot_seed{seed}',
                protocol=dict(name='fewshot', shots=shots, seed=seed,
                              fewshot_manifest_hash=f'h{seed}'),
                metrics={'acc/top1': top1, 'acc/top5': 1.0},
                per_class={'BIKEAccMetric': {'a': dict(accuracy=top1, videos=6)}})


def test_aggregation_writes_mean_std_n_and_every_seed_unchanged():
    runs = [_run(seed, top1) for seed, top1 in enumerate(TOP1)]
    before = copy.deepcopy(runs)
    agg = aggregate_seeds(runs)
    assert agg['seeds'] == [0, 1, 2] and agg['n'] == 3
    assert [s['metrics']['acc/top1'] for s in agg['per_seed']] == TOP1
    assert agg['mean']['acc/top1'] == pytest.approx(np.mean(TOP1), abs=1e-12)
    assert agg['std']['acc/top1'] == pytest.approx(np.std(TOP1), abs=1e-12)
    assert runs == before


def test_results_file_metrics_are_the_mean_of_its_own_per_seed():
    # Before: the first seed's metrics dict was replaced by the means after
    # per_seed referred to it, so per_seed[0] held the mean (ActivityNet
    # 1-shot: seeds 0.483/0.567/0.567 recorded as 0.539/0.567/0.567).
    runs = [_run(seed, top1) for seed, top1 in enumerate(TOP1)]
    results = fewshot_results(runs)
    per_seed = results['fewshot_seeds']['per_seed']
    assert [s['metrics']['acc/top1'] for s in per_seed] == TOP1
    assert per_seed[0]['metrics'] is not results['metrics']
    assert results['metrics']['acc/top1'] == pytest.approx(np.mean(TOP1), abs=1e-9)
    assert results['fewshot_seeds']['details_seed'] == 0
    assert results['per_class'] == runs[0]['per_class']  # seed 0's, as named
    mean, std, n = seed_statistics(results, 'acc/top1')
    assert (mean, n) == (pytest.approx(np.mean(TOP1), abs=1e-12), 3)
    assert std == pytest.approx(np.std(TOP1), abs=1e-12)


def test_runs_that_cannot_be_aggregated_are_refused():
    with pytest.raises(ValueError, match='no runs'):
        aggregate_seeds([])
    with pytest.raises(ValueError, match='several shot counts'):
        aggregate_seeds([_run(0, 0.5, shots=1), _run(1, 0.5, shots=2)])
    with pytest.raises(ValueError, match='seed given twice'):
        aggregate_seeds([_run(0, 0.5), _run(0, 0.6)])
    odd = _run(1, 0.6)
    del odd['metrics']['acc/top5']
    with pytest.raises(ValueError, match=r"seed 1 and seed 0 differ in metrics \['acc/top5'\]"):
        aggregate_seeds([_run(0, 0.5), odd])


def test_a_file_whose_mean_is_not_its_seeds_mean_is_refused_naming_it():
    results = fewshot_results([_run(seed, top1) for seed, top1 in enumerate(TOP1)])
    results['fewshot_seeds']['per_seed'][0]['metrics'] = dict(results['metrics'])
    with pytest.raises(ResultsFileError, match=r'^a\.json: field metrics\.acc/top1 is '
                                                r'0\.550000 but the mean of its 3 seeds'):
        seed_statistics(results, 'acc/top1', 'a.json')
    results = fewshot_results([_run(seed, top1) for seed, top1 in enumerate(TOP1)])
    results['fewshot_seeds']['n'] = 4
    with pytest.raises(ResultsFileError, match='fewshot_seeds.n is 4 but per_seed holds 3'):
        seed_statistics(results, 'acc/top1', 'a.json')
    assert seed_statistics(dict(metrics={'acc/top1': 0.5}), 'acc/top1') is None


def test_reproduce_writes_the_mean_of_the_seed_files_it_ran(tmp_path):
    """The path ``reproduce`` takes (``shot_results`` of ``summarise``), on
    per-seed files derived from a committed few-shot run."""
    committed = sorted(glob.glob(os.path.join(SMOKE, 'smoke_fewshot_*_1shot.json')))
    if not committed:
        pytest.skip('no committed few-shot runs')
    base = json.load(open(committed[0]))
    base.pop('fewshot_seeds')
    base.pop('reproduce')
    runs = []
    for seed, top1 in enumerate(TOP1):
        run = copy.deepcopy(base)
        run['protocol']['seed'] = seed
        run['metrics'] = {'acc/top1': top1, 'acc/top5': 1.0}
        path = tmp_path / f'fewshot_1shot_seed{seed}.json'
        path.write_text(json.dumps(run))
        runs.append(dict(run, path=str(path)))
    entry = summarise(runs)['1']
    assert entry['n'] == 3 and entry['results'] == [r['path'] for r in runs]
    results = shot_results(entry)
    assert [s['metrics']['acc/top1'] for s in results['fewshot_seeds']['per_seed']] == TOP1
    assert results['metrics']['acc/top1'] == pytest.approx(np.mean(TOP1), abs=1e-9)
    assert 'acc/top1_std' not in results['metrics']  # the std is fewshot_seeds.std
