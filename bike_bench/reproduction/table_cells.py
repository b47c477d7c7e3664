"""Cells of the paper tables: a run's value for a paper row's metric, its
std and number of seeds, n/a for top-k of k or fewer classes, the
coverage suffix (``bike-bench tables``, reproduction/tables.py)."""
from __future__ import annotations

import re
from typing import Optional, Tuple

from bike_bench.evaluation.fewshot_seeds import is_multi_seed, seed_statistics
from bike_bench.evaluation.results import ResultsFileError


def _metric(metrics: dict, spec, path: str) -> Tuple[Optional[float], Optional[float]]:
    def one(key):
        if key not in metrics:
            raise ResultsFileError(f'{path}: metric {key!r} (named by its paper row) '
                                   'is not in the file\'s metrics')
        return 100.0 * float(metrics[key])
    if isinstance(spec, dict):
        return one(spec['mean']), (one(spec['std']) if spec.get('std') else None)
    return one(spec), None


def _fmt(value: Optional[float], std: Optional[float] = None, approx: bool = False) -> str:
    if value is None:
        return ''
    text = f'{value:.2f}' if std is None else f'{value:.2f} ± {std:.2f}'
    return ('~' + text) if approx else text


_TOPK = re.compile(r'top(\d+)')


def _classes_for(run: dict, key: str) -> Optional[float]:
    """Classes a metric ranks among (half-class: per split; K600: per split)."""
    protocol = run.get('protocol') or {}
    splits = protocol.get('splits') or []
    if key.startswith('half/') and splits:
        return min(len(s['classes']) for s in splits if isinstance(s.get('classes'), list))
    if key.startswith('k600/') and splits:
        return min(s['classes'] for s in splits if isinstance(s.get('classes'), int))
    dataset = run.get('dataset') or {}
    return dataset.get('num_classes')


def _not_applicable(run: dict, key: str) -> str:
    match = _TOPK.search(key.split('/')[-1])
    classes = _classes_for(run, key) if match else None
    if match and classes and int(match.group(1)) >= classes:
        return f'top-{match.group(1)} with {classes} classes'
    return ''


def _n(run: dict, key: str) -> Optional[int]:
    """How many measurements a mean is over (splits, seeds), else 1."""
    if key.startswith('half/'):
        return (run.get('protocol') or {}).get('num_splits')
    if key.startswith('k600/'):
        return len((run.get('protocol') or {}).get('splits') or []) or None
    if is_multi_seed(run):
        return len(run['fewshot_seeds']['per_seed'])
    return 1


def _cell(run: dict, spec) -> dict:
    """value/std (percent), n and n/a reason of a metric spec of a run."""
    mean_key = spec['mean'] if isinstance(spec, dict) else spec
    std_key = spec.get('std') if isinstance(spec, dict) else None
    if std_key is None and f'{mean_key}_std' in run['metrics']:
        std_key = f'{mean_key}_std'
    na = _not_applicable(run, mean_key)
    if na:  # results files leave such metrics out (or hold 1.0 in older ones)
        return dict(value=None, std=None, n=_n(run, mean_key), na=na)
    if is_multi_seed(run):  # few-shot: mean ± std over the seeds' values
        stats = seed_statistics(run, mean_key, run['_path'])
        if stats is None:
            raise ResultsFileError(f'{run["_path"]}: metric {mean_key!r} (named by its '
                                   'paper row) is not in the file\'s fewshot_seeds.per_seed')
        mean, std, n = stats
        return dict(value=100.0 * mean, std=100.0 * std, n=n, na=na)
    value, std = _metric(run['metrics'], dict(mean=mean_key, std=std_key), run['_path'])
    return dict(value=value, std=std, n=_n(run, mean_key), na=na)
