"""``make ci-regression``: the smoke suite on small subsets vs. a baseline.

A fixed subset of the registry's smoke twins (one per protocol family:
K400 4x3, ActivityNet 4x1 mAP, Charades multi-label mAP, zero-shot
half-class, few-shot, video + attributes) is run from scratch into a
temporary folder; each metric is compared with ``results/ci_baseline.json``
within its tolerance. Any metric that moved further fails the check with a
table of what moved.
"""
from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import time
from typing import Dict, List, Optional, Sequence

from bike_bench import paths
from bike_bench.protocols import Protocol, tolerance_fraction
from bike_bench.utils.atomic import atomic_write_json

BASELINE = paths.output_path('results', 'ci_baseline.json')

# Registry entries (name fragments) whose smoke twins make up the suite.
SUITE = (
    'bike_vit-b-p16_clip-openai-pre_8xb32-8x1x1-30e_kinetics400-rgb',
    'bike_vit-l-p14_k400-pre_8xb32-16x1x1-20e_activitynet-rgb',
    'bike_vit-l-p14-res336_k400-pre_32xb8-16x1x1-20e_charades-rgb',
    'bike_vit-l-p14_k400-pre_zeroshot-8x1x1_ucf101-rgb',
    'bike_vit-l-p14_clip-openai-pre_fewshot-2shot-8xb32-8x1x1-20e_ucf101-split1-rgb',
    'bike-va_vit-b-p32_clip-openai-pre_8xb32-8x1x1-30e_kinetics400-rgb',
)
# Absolute tolerance per protocol family as a fraction (the metrics are
# fractions), from the one table in percentage points (bike_bench.protocols).
TOLERANCE = {family: tolerance_fraction(protocol, 'smoke') for family, protocol in (
    ('general', Protocol.GENERAL), ('fewshot', Protocol.FEWSHOT),
    ('zeroshot', Protocol.ZEROSHOT_HALF))}
# Metrics compared per run (the rest are informative only).
COMPARED_PREFIXES = ('acc/top1', 'acc/fused_top1', 'acc/video_top1', 'map/mAP',
                     'charades/mAP', 'full/top1', 'half/top1_mean')


@dataclasses.dataclass
class Change:
    run: str
    metric: str
    baseline: Optional[float]
    measured: Optional[float]
    tolerance: float

    @property
    def delta(self) -> Optional[float]:
        if self.baseline is None or self.measured is None:
            return None
        return self.measured - self.baseline

    @property
    def ok(self) -> bool:
        return self.delta is not None and abs(self.delta) <= self.tolerance + 1e-12


def _tolerance(run_id: str) -> float:
    for family, tolerance in TOLERANCE.items():
        if f'smoke_{family}' in run_id:
            return tolerance
    return min(TOLERANCE.values())


def summarize(runs_dir: str) -> Dict[str, Dict[str, float]]:
    """``{run id: {metric: value}}`` of the compared metrics in ``runs_dir``."""
    from bike_bench.reproduction.tables import load_runs
    summary = {}
    for run in load_runs(runs_dir):
        summary[run['run_id']] = {k: float(v) for k, v in sorted(run['metrics'].items())
                                  if k.startswith(COMPARED_PREFIXES)}
    return summary


def compare(measured: Dict[str, Dict[str, float]],
            baseline: Dict[str, Dict[str, float]]) -> List[Change]:
    """Every baseline metric against its measurement (missing ones fail)."""
    changes = []
    for run_id, metrics in sorted(baseline.items()):
        for metric, value in sorted(metrics.items()):
            got = measured.get(run_id, {}).get(metric)
            changes.append(Change(run_id, metric, value, got, _tolerance(run_id)))
    for run_id in sorted(set(measured) - set(baseline)):
        for metric, value in sorted(measured[run_id].items()):
            changes.append(Change(run_id, metric, None, value, _tolerance(run_id)))
    return changes


def format_changes(changes: Sequence[Change], only_failures: bool = False) -> str:
    from tabulate import tabulate

    def fmt(value):
        return '-' if value is None else f'{value:.4f}'
    rows = [[c.run, c.metric, fmt(c.baseline), fmt(c.measured),
             '-' if c.delta is None else f'{c.delta:+.4f}', f'±{c.tolerance:.2f}',
             'ok' if c.ok else ('NEW' if c.baseline is None else 'MOVED')]
            for c in changes if not (only_failures and c.ok)]
    return tabulate(rows, headers=['run', 'metric', 'baseline', 'measured', 'delta',
                                   'tolerance', 'status'])


def read_baseline(path: str = BASELINE) -> Dict[str, Dict[str, float]]:
    if not os.path.isfile(path):
        raise FileNotFoundError(f'no CI baseline at {path}; create it with '
                                '`bike-bench ci-regression --update-baseline`')
    with open(path, encoding='utf-8') as handle:
        data = json.load(handle)
    return data['runs']


def run_suite(runs_dir: str, work_dir: str, synth_root: str,
              entries: Sequence[str] = SUITE, echo=print) -> Dict[str, Dict[str, float]]:
    """Run the suite's smoke twins into ``runs_dir``; return their metrics."""
    from bike_bench.reproduction.reproduce import reproduce
    reproduce(only=list(entries), runs_dir=runs_dir, work_dir=work_dir,
              synth_root=synth_root, tables_dir=os.path.join(work_dir, 'tables'),
              readme=False, echo=echo)
    return summarize(runs_dir)


def ci_regression(baseline_path: str = BASELINE, update_baseline: bool = False,
                  work_dir: Optional[str] = None, synth_root: Optional[str] = None,
                  echo=print) -> int:
    """Run the suite and compare; returns the exit code (0 = no regression)."""
    start = time.time()
    with tempfile.TemporaryDirectory(prefix='bike-ci-') as scratch:
        work_dir = work_dir or os.path.join(scratch, 'work')
        runs_dir = os.path.join(scratch, 'runs')
        measured = run_suite(runs_dir, work_dir, synth_root or os.path.join(
            scratch, 'synthetic'), echo=echo)
    minutes = (time.time() - start) / 60
    if update_baseline:
        atomic_write_json(baseline_path, {
            'note': 'smoke-suite metrics of bike-bench ci-regression (fractions); '
                    'regenerate with `bike-bench ci-regression --update-baseline`',
            'suite': list(SUITE), 'tolerance': TOLERANCE, 'runs': measured})
        echo(f'ci-regression: baseline written to {baseline_path} ({minutes:.1f} min)')
        return 0
    changes = compare(measured, read_baseline(baseline_path))
    failed = [c for c in changes if not c.ok]
    echo(format_changes(changes))
    if failed:
        echo(f'\nci-regression: FAILED — {len(failed)} of {len(changes)} metrics '
             f'moved beyond tolerance ({minutes:.1f} min):')
        echo(format_changes(failed, only_failures=True))
        return 1
    echo(f'\nci-regression: {len(changes)} metrics within tolerance ({minutes:.1f} min)')
    return 0
