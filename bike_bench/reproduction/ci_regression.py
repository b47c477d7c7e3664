"""``make ci-regression``: the smoke suite on small subsets vs. a baseline.

A fixed subset of the registry's smoke twins (one per protocol family:
K400 4x3, ActivityNet 4x1 mAP, Charades multi-label mAP, zero-shot
half-class on trimmed and on untrimmed videos, few-shot, video +
attributes) is run from scratch into a
temporary folder; each metric is compared with ``results/ci_baseline.json``
within its tolerance. Any metric that moved further fails the check with a
table of what moved.

Two kinds of checks (issue 13):

- metrics, each within its own tolerance. The tolerances are derived from
  measured spread: ``--update-baseline --seeds 0 1 2`` runs the suite once
  per training seed (``BIKE_BENCH_SMOKE_SEED``) and sets each metric's
  tolerance to ``max(TOLERANCE_FLOOR, SPREAD_FACTOR x (max - min over
  seeds))``; the seeds' values are written beside the baseline. A baseline
  written without seeds keeps the per-family defaults of :data:`TOLERANCE`.
- protocol fingerprints, compared exactly: the half-class split classes, the
  few-shot sample manifests (hash per seed), and the test clips' frame
  indices of the run's sampling (for 16- and 32-frame videos). These are
  deterministic on every platform, so any difference is a changed protocol
  (a shifted split seed, few-shot videos drawn from elsewhere, shifted
  test frames), whatever the metrics do.

``BIKE_BENCH_MUTATION`` (``bike_bench.utils.mutation``) plants faults that
this check must catch; ``tests/reproduction/test_mutations.py`` runs them.
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
    # HMDB: trimmed clips, the strongest zero-shot signal of the toy CLIP,
    # so a broken text path moves it far beyond the seed spread.
    'bike_vit-l-p14_k400-pre_zeroshot-8x1x1_hmdb51-rgb',
    # ActivityNet: untrimmed, background frames between the segments; the
    # one zero-shot twin where VCS's frame weighting matters (mean pooling
    # instead: full top-1 0.54 -> 0.34), at the cost of one evaluation.
    'bike_vit-l-p14_k400-pre_zeroshot-8x1x1_activitynet-rgb',
    'bike_vit-l-p14_clip-openai-pre_fewshot-2shot-8xb32-8x1x1-20e_ucf101-split1-rgb',
    'bike-va_vit-b-p32_clip-openai-pre_8xb32-8x1x1-30e_kinetics400-rgb',
)
# Absolute tolerance per protocol family as a fraction (the metrics are
# fractions), from the one table in percentage points (bike_bench.protocols).
TOLERANCE = {family: tolerance_fraction(protocol, 'smoke') for family, protocol in (
    ('general', Protocol.GENERAL), ('fewshot', Protocol.FEWSHOT),
    ('zeroshot', Protocol.ZEROSHOT_HALF))}
# Seed-derived tolerances: max(floor, factor x range over seeds).
TOLERANCE_FLOOR = 0.03
SPREAD_FACTOR = 1.5
FINGERPRINT = 'fingerprint/'
# Metrics compared per run (the rest are informative only).
COMPARED_PREFIXES = ('acc/top1', 'acc/fused_top1', 'acc/fused_nll', 'acc/video_top1', 'map/mAP',
                     'charades/mAP', 'full/top1', 'half/top1_mean', 'k600/top1_mean',
                     'k600/split')


@dataclasses.dataclass
class Change:
    run: str
    metric: str
    baseline: Optional[float]
    measured: Optional[float]
    tolerance: float

    @property
    def delta(self) -> Optional[float]:
        if self.baseline is None or self.measured is None or \
                isinstance(self.baseline, str) or isinstance(self.measured, str):
            return None
        return self.measured - self.baseline

    @property
    def ok(self) -> bool:
        if isinstance(self.baseline, str):
            return self.measured == self.baseline
        return self.delta is not None and abs(self.delta) <= self.tolerance + 1e-12


def _tolerance(run_id: str) -> float:
    for family, tolerance in TOLERANCE.items():
        if f'smoke_{family}' in run_id:
            return tolerance
    return min(TOLERANCE.values())


def _digest(value) -> str:
    import hashlib
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:16]


def test_frame_indices(run: dict) -> Optional[list]:
    """Frame indices the run's test sampling picks for 16/32-frame videos."""
    from bike_bench.datasets.transforms.sampling import BIKESampleFrames
    config = (run.get('config') or {}).get('resolved') or {}
    pipeline = ((config.get('test_dataloader') or {}).get('dataset') or {}).get('pipeline')
    for step in pipeline or []:
        if step.get('type') == 'BIKESampleFrames':
            kwargs = {k: v for k, v in step.items() if k != 'type'}
            sampler = BIKESampleFrames(**kwargs)
            return [sampler.transform(dict(total_frames=n))['frame_inds'].tolist()
                    for n in (16, 32)]
    return None


def fingerprints(run: dict) -> Dict[str, str]:
    """Exactly compared protocol fingerprints of one results file."""
    out = {}
    splits = run.get('protocol', {}).get('splits')
    if splits and 'seed' in splits[0]:
        out[FINGERPRINT + 'half_splits'] = _digest([s['classes'] for s in splits])
    seeds = run.get('fewshot_seeds', {}).get('per_seed')
    if seeds:
        out[FINGERPRINT + 'fewshot_samples'] = _digest(
            [s['fewshot_manifest_hash'] for s in seeds])
    elif 'fewshot_manifest_hash' in run.get('protocol', {}):
        out[FINGERPRINT + 'fewshot_samples'] = _digest(
            [run['protocol']['fewshot_manifest_hash']])
    frames = test_frame_indices(run)
    if frames is not None:
        out[FINGERPRINT + 'test_frames'] = _digest(frames)
    return out


def summarize(runs_dir: str) -> Dict[str, Dict[str, float]]:
    """``{run id: {metric: value}}`` of the compared metrics in ``runs_dir``.

    Protocol fingerprints (strings, compared exactly) are included under
    ``fingerprint/...``.
    """
    from bike_bench.reproduction.tables import load_runs
    summary = {}
    for run in load_runs(runs_dir):
        values = {k: float(v) for k, v in sorted(run['metrics'].items())
                  if k.startswith(COMPARED_PREFIXES) and not k.endswith('_std')}
        values.update(fingerprints(run))
        summary[run['run_id']] = values
    return summary


def compare(measured: Dict[str, Dict[str, float]],
            baseline: Dict[str, Dict[str, float]],
            tolerances: Optional[Dict[str, Dict[str, float]]] = None) -> List[Change]:
    """Every baseline metric against its measurement (missing ones fail).

    ``tolerances``: ``{run: {metric: tolerance}}`` (seed-derived); metrics
    without one use the family default of :data:`TOLERANCE`.
    """
    changes = []
    tolerances = tolerances or {}
    for run_id, metrics in sorted(baseline.items()):
        for metric, value in sorted(metrics.items()):
            got = measured.get(run_id, {}).get(metric)
            tolerance = tolerances.get(run_id, {}).get(metric, _tolerance(run_id))
            if isinstance(value, str):
                tolerance = 0.0
            changes.append(Change(run_id, metric, value, got, tolerance))
    for run_id in sorted(set(measured) - set(baseline)):
        for metric, value in sorted(measured[run_id].items()):
            changes.append(Change(run_id, metric, None, value, _tolerance(run_id)))
    return changes


def format_changes(changes: Sequence[Change], only_failures: bool = False,
                   reference: str = 'baseline') -> str:
    from tabulate import tabulate

    def fmt(value):
        if isinstance(value, str):
            return value
        return '-' if value is None else f'{value:.4f}'
    rows = [[c.run, c.metric, fmt(c.baseline), fmt(c.measured),
             '-' if c.delta is None else f'{c.delta:+.4f}',
             'exact' if isinstance(c.baseline, str) else f'±{c.tolerance:.2f}',
             'ok' if c.ok else ('NEW' if c.baseline is None else 'MOVED')]
            for c in changes if not (only_failures and c.ok)]
    return tabulate(rows, headers=['run', 'metric', reference, 'measured', 'delta',
                                   'tolerance', 'status'])


def read_baseline_file(path: str = BASELINE) -> dict:
    if not os.path.isfile(path):
        raise FileNotFoundError(f'no CI baseline at {path}; create it with '
                                '`bike-bench ci-regression --update-baseline`')
    with open(path, encoding='utf-8') as handle:
        return json.load(handle)


def read_baseline(path: str = BASELINE) -> Dict[str, Dict[str, float]]:
    return read_baseline_file(path)['runs']


def read_tolerances(path: str = BASELINE) -> Dict[str, Dict[str, float]]:
    """Per-metric tolerances of a seed-derived baseline (``{}`` otherwise)."""
    data = read_baseline_file(path)
    tolerance = data.get('tolerance', {})
    return {k: v for k, v in tolerance.items() if isinstance(v, dict)}


def spread_tolerances(per_seed: Sequence[Dict[str, Dict[str, float]]]
                      ) -> Dict[str, Dict[str, float]]:
    """``max(TOLERANCE_FLOOR, SPREAD_FACTOR x range)`` of each metric over seeds."""
    out: Dict[str, Dict[str, float]] = {}
    for run_id, metrics in per_seed[0].items():
        for metric, value in metrics.items():
            if isinstance(value, str):
                continue
            values = [s.get(run_id, {}).get(metric) for s in per_seed]
            values = [v for v in values if isinstance(v, float)]
            spread = max(values) - min(values) if values else 0.0
            out.setdefault(run_id, {})[metric] = round(
                max(TOLERANCE_FLOOR, SPREAD_FACTOR * spread), 4)
    return out


def run_suite(runs_dir: str, work_dir: str, synth_root: str,
              entries: Sequence[str] = SUITE, echo=print) -> Dict[str, Dict[str, float]]:
    """Run the suite's smoke twins into ``runs_dir``; return their metrics."""
    from bike_bench.reproduction.reproduce import reproduce
    reproduce(only=list(entries), runs_dir=runs_dir, work_dir=work_dir,
              synth_root=synth_root, tables_dir=os.path.join(work_dir, 'tables'),
              readme=False, echo=echo)
    return summarize(runs_dir)


def _run_seed(seed: int, scratch: str, work_dir: Optional[str], synth_root: str,
              entries: Sequence[str], echo) -> Dict[str, Dict[str, float]]:
    """The suite with training seed ``seed`` (``BIKE_BENCH_SMOKE_SEED``)."""
    import importlib
    from bike_bench.reproduction import smoke_twins
    previous = os.environ.get('BIKE_BENCH_SMOKE_SEED')
    os.environ['BIKE_BENCH_SMOKE_SEED'] = str(seed)
    try:
        importlib.reload(smoke_twins)
        return run_suite(os.path.join(scratch, f'runs_seed{seed}'),
                         os.path.join(work_dir or scratch, f'work_seed{seed}'),
                         synth_root, entries, echo)
    finally:
        if previous is None:
            os.environ.pop('BIKE_BENCH_SMOKE_SEED', None)
        else:
            os.environ['BIKE_BENCH_SMOKE_SEED'] = previous
        importlib.reload(smoke_twins)


def ci_regression(baseline_path: str = BASELINE, update_baseline: bool = False,
                  work_dir: Optional[str] = None, synth_root: Optional[str] = None,
                  seeds: Sequence[int] = (0,), entries: Sequence[str] = SUITE,
                  echo=print) -> int:
    """Run the suite and compare; returns the exit code (0 = no regression).

    With ``update_baseline``, the suite runs once per seed of ``seeds``; the
    first seed's metrics become the baseline and the spread over seeds the
    tolerances (one seed: the family defaults). Checking runs seed
    ``seeds[0]`` only.
    """
    start = time.time()
    with tempfile.TemporaryDirectory(prefix='bike-ci-') as scratch:
        synth = synth_root or os.path.join(scratch, 'synthetic')
        runs = [_run_seed(seed, scratch, work_dir, synth, entries, echo)
                for seed in (seeds if update_baseline else seeds[:1])]
    measured = runs[0]
    minutes = (time.time() - start) / 60
    if update_baseline:
        derived = len(runs) > 1
        atomic_write_json(baseline_path, {
            'note': 'smoke-suite metrics of bike-bench ci-regression (fractions) and '
                    'protocol fingerprints (compared exactly); regenerate with '
                    '`bike-bench ci-regression --update-baseline --seeds 0 1 2`',
            'tolerance_rule': (f'per metric: max({TOLERANCE_FLOOR}, {SPREAD_FACTOR} x '
                               f'(max - min) over training seeds {list(seeds)}) on this '
                               'platform; fingerprints exact' if derived else
                               'per protocol family (no seed spread measured)'),
            'suite': list(entries),
            'tolerance': spread_tolerances(runs) if derived else TOLERANCE,
            'seeds': {str(seed): run for seed, run in zip(seeds, runs)} if derived else {},
            'runs': measured})
        echo(f'ci-regression: baseline written to {baseline_path} ({minutes:.1f} min)')
        return 0
    changes = compare(measured, read_baseline(baseline_path),
                      read_tolerances(baseline_path))
    failed = [c for c in changes if not c.ok]
    echo(format_changes(changes))
    if failed:
        echo(f'\nci-regression: FAILED — {len(failed)} of {len(changes)} checks '
             f'moved beyond tolerance ({minutes:.1f} min):')
        echo(format_changes(failed, only_failures=True))
        return 1
    echo(f'\nci-regression: {len(changes)} checks within tolerance ({minutes:.1f} min)')
    return 0
