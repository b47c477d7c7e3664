"""Every few-shot number shown is the mean over seeds of its results file.

For every committed few-shot run (``results/runs/smoke/smoke_fewshot_*``)
the tables' cell, the ``report`` figure and the smoke targets read the same
value, which equals the mean of the file's ``fewshot_seeds.per_seed`` and
its ``metrics`` to 1e-9. The same check runs on a copy of those runs
re-aggregated by ``fewshot_results``, so the readers are also checked
against files written by the current code.
"""
from __future__ import annotations

import glob
import json
import os
import shutil

import numpy as np
import pytest

from bike_bench import paths
from bike_bench.evaluation.fewshot_seeds import fewshot_results
from bike_bench.reproduction import tables as tables_mod
from bike_bench.reproduction import targets as targets_mod
from bike_bench.visualization.run_report import fewshot_means as report_means

RUNS = str(paths.reference_runs_dir())
COMMITTED = sorted(glob.glob(os.path.join(RUNS, 'smoke', 'smoke_fewshot_*.json')))
TOL = 1e-9


def _check(runs_dir: str) -> int:
    files = sorted(glob.glob(os.path.join(runs_dir, 'smoke', 'smoke_fewshot_*.json')))
    assert files
    table = tables_mod.load_tables()['few_shot']
    frame = tables_mod.build_table(table, tables_mod.load_runs(runs_dir), code_hash='x')[1]
    runs = targets_mod.load_smoke_runs(os.path.join(runs_dir, 'smoke'))
    for path in files:
        data = json.load(open(path))
        per_seed = data['fewshot_seeds']['per_seed']
        assert len(per_seed) >= 3
        expected = float(np.mean([s['metrics']['acc/top1'] for s in per_seed]))
        assert abs(data['metrics']['acc/top1'] - expected) <= TOL, path
        (link,) = [l for l in data['reproduce']['paper_rows'] if l['table'] == 'few_shot']
        (column,) = link['metrics']
        rows = frame[frame.get('run_id') == data['run_id']]
        assert len(rows) == 1, data['run_id']
        assert abs(rows.iloc[0][column] / 100 - expected) <= TOL, (path, 'table')
        assert rows.iloc[0][f'{column}_n'] == len(per_seed)
        shots = data['protocol']['shots']
        assert abs(report_means(path, data)[shots][0] - expected) <= TOL, (path, 'report')
        dataset = data['run_id'].split('_')[2]
        target = targets_mod.fewshot_means(runs, dataset)[shots]
        assert abs(target[0] - expected) <= TOL and target[1] == len(per_seed), (path, 'targets')
    return len(files)


@pytest.mark.skipif(not COMMITTED, reason='no committed few-shot runs')
def test_committed_fewshot_runs_show_the_mean_over_seeds_everywhere():
    assert _check(RUNS) == len(COMMITTED)


@pytest.mark.skipif(not COMMITTED, reason='no committed few-shot runs')
def test_fewshot_runs_written_by_the_aggregation_read_the_same_everywhere(tmp_path):
    shutil.copytree(os.path.join(RUNS, 'smoke'), tmp_path / 'smoke')
    for path in glob.glob(str(tmp_path / 'smoke' / 'smoke_fewshot_*.json')):
        data = json.load(open(path))
        seeds = []
        for record in data['fewshot_seeds']['per_seed']:
            seed = json.loads(json.dumps(data))
            seed.pop('fewshot_seeds')
            seed['protocol'].update(seed=record['seed'],
                                    fewshot_manifest_hash=record['fewshot_manifest_hash'])
            seed['metrics'] = {k: v for k, v in record['metrics'].items()
                               if not k.endswith('_std')}
            seeds.append(seed)
        with open(path, 'w') as handle:
            json.dump(fewshot_results(seeds), handle)
    assert _check(str(tmp_path)) == len(COMMITTED)
