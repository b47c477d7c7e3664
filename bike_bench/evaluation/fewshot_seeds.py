"""Few-shot results over sampling seeds: one aggregation and one reader.

A few-shot figure is the mean over sampling seeds of one shot count
(``docs/method.md``, few-shot protocol). Every few-shot number a user sees
comes from here:

- :func:`aggregate_seeds` turns the per-seed results files of one shot
  count into ``{seeds, n, per_seed, mean, std}``;
- :func:`fewshot_results` builds the results file of that shot count
  (``bike-bench reproduce``'s ``smoke_fewshot_*``): ``metrics`` are the
  means over seeds and ``fewshot_seeds`` the aggregation above;
- :func:`seed_statistics` reads ``(mean, std, n)`` of one metric back from
  such a file, computed from ``per_seed``, for the tables, the ``report``
  figure and the smoke targets; a file whose ``metrics`` or
  ``fewshot_seeds.mean`` disagree with the mean of its ``per_seed`` is
  refused.

``std`` is the population standard deviation over seeds (``numpy.std``,
``ddof=0``), as for the zero-shot splits. Pure functions of JSON-like dicts:
nothing here reads or writes files.
"""
from __future__ import annotations

import copy
import math
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from bike_bench.evaluation.results import ResultsFileError

# How far a stored mean may lie from the mean of ``per_seed`` (absolute,
# in the metric's unit: fractions).
TOLERANCE = 1e-9
FIELD = 'fewshot_seeds'


def _numbers(metrics: Mapping[str, Any]) -> Dict[str, float]:
    return {k: float(v) for k, v in metrics.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool)}


def aggregate_seeds(runs: Sequence[Mapping[str, Any]]) -> Dict[str, Any]:
    """Mean, std, n and per-seed values of the few-shot runs of one shot count.

    ``runs``: per-seed results (each with ``protocol.seed``, ``protocol.shots``,
    ``protocol.fewshot_manifest_hash`` and ``metrics``), in seed order.
    Returns ``{seeds: [int], n: int, per_seed: [{seed, metrics,
    fewshot_manifest_hash}], mean: {metric: float}, std: {metric: float}}``,
    ``std`` over seeds with ``ddof=0``; the inputs are not modified (the
    per-seed metrics are copies). Raises ``ValueError`` for no runs, runs of
    different shot counts, a seed given twice, or a numeric metric that
    some seeds have and others not.
    """
    if not runs:
        raise ValueError('few-shot aggregation: no runs')
    shots = {run['protocol'].get('shots') for run in runs}
    if len(shots) != 1:
        raise ValueError(f'few-shot aggregation: runs of several shot counts {sorted(shots)}')
    seeds = [int(run['protocol']['seed']) for run in runs]
    if len(set(seeds)) != len(seeds):
        raise ValueError(f'few-shot aggregation: a seed given twice in {seeds}')
    values = [_numbers(run['metrics']) for run in runs]
    keys = list(values[0])
    for seed, metrics in zip(seeds, values):
        if set(metrics) != set(keys):
            odd = sorted(set(metrics) ^ set(keys))
            raise ValueError(f'few-shot aggregation: seed {seed} and seed {seeds[0]} '
                             f'differ in metrics {odd}')
    return dict(
        seeds=seeds, n=len(runs),
        per_seed=[dict(seed=seed, metrics=copy.deepcopy(dict(run['metrics'])),
                       fewshot_manifest_hash=run['protocol'].get('fewshot_manifest_hash'))
                  for seed, run in zip(seeds, runs)],
        mean={k: float(np.mean([m[k] for m in values])) for k in keys},
        std={k: float(np.std([m[k] for m in values])) for k in keys})


def fewshot_results(runs: Sequence[Mapping[str, Any]]) -> Dict[str, Any]:
    """The results file of one shot count from its per-seed results.

    A deep copy of the first seed's results whose ``metrics`` are the means
    over seeds and whose ``fewshot_seeds`` is :func:`aggregate_seeds`; its
    other per-run fields (``protocol``'s manifest, ``checkpoint``,
    ``per_class``, ``confusion``, ``counts``) stay the first seed's, which
    ``fewshot_seeds.details_seed`` names. The inputs are not modified.
    Raises ``ValueError`` as :func:`aggregate_seeds`.
    """
    aggregate = aggregate_seeds(runs)
    results = copy.deepcopy(dict(runs[0]))
    results['metrics'] = dict(aggregate['mean'])
    results[FIELD] = dict(aggregate, details_seed=aggregate['seeds'][0])
    return results


def is_multi_seed(run: Mapping[str, Any]) -> bool:
    """Whether ``run`` is a few-shot record over seeds (has ``per_seed``)."""
    return bool((run.get(FIELD) or {}).get('per_seed'))


def seed_statistics(run: Mapping[str, Any], key: str,
                    path: str = '') -> Optional[Tuple[float, float, int]]:
    """``(mean, std, n)`` of metric ``key`` over the seeds of a few-shot record.

    Computed from ``fewshot_seeds.per_seed`` (fractions; ``std`` with
    ``ddof=0``); None when ``run`` holds no ``per_seed`` or no seed has
    ``key``. Raises ``ResultsFileError`` naming ``path`` (default: the run
    id) when some seeds lack ``key``, when ``n`` differs from the number of
    seeds, or when ``metrics[key]`` or ``fewshot_seeds.mean[key]`` lies
    more than :data:`TOLERANCE` from the mean of the seeds' values (files
    written before the aggregation was one function: their first seed's
    metrics were the mean's own dict; regenerate them).
    """
    record = run.get(FIELD) or {}
    per_seed = record.get('per_seed') or []
    if not per_seed:
        return None
    where = path or str(run.get('run_id', '?'))
    present = [s for s in per_seed if key in (s.get('metrics') or {})]
    if not present:
        return None
    if len(present) != len(per_seed):
        missing = [s.get('seed') for s in per_seed if s not in present]
        raise ResultsFileError(f'{where}: field {FIELD}.per_seed: metric {key!r} is '
                               f'missing for seeds {missing}')
    if record.get('n') is not None and record['n'] != len(per_seed):
        raise ResultsFileError(f'{where}: field {FIELD}.n is {record["n"]} but per_seed '
                               f'holds {len(per_seed)} seeds')
    values: List[float] = [float(s['metrics'][key]) for s in per_seed]
    mean, std = float(np.mean(values)), float(np.std(values))
    for field, stored in ((f'metrics.{key}', (run.get('metrics') or {}).get(key)),
                          (f'{FIELD}.mean.{key}', (record.get('mean') or {}).get(key))):
        if stored is not None and not math.isclose(float(stored), mean, rel_tol=0,
                                                    abs_tol=TOLERANCE):
            raise ResultsFileError(
                f'{where}: field {field} is {float(stored):.6f} but the mean of its '
                f'{len(values)} seeds in {FIELD}.per_seed is {mean:.6f}; the file was '
                'written with a broken few-shot aggregation, measure it again')
    return mean, std, len(values)
