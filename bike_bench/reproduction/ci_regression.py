"""``make ci-regression``: the smoke suite on small subsets vs. a baseline.

A fixed subset of the registry's smoke twins (one per protocol family:
K400 4x3, ActivityNet 4x1 mAP, Charades multi-label mAP, zero-shot
half-class on trimmed and on untrimmed videos, few-shot, video +
attributes) is run from scratch into a
temporary folder; each metric is compared with the shipped baseline
(``results/ci_baseline.json``, package data: ``bike_bench.paths.ci_baseline``)
within its tolerance. Any metric that moved further fails the check with a
table of what moved.

Two kinds of checks:

- metrics, each within its own tolerance. The tolerances are derived from
  measured spread: ``--update-baseline --seeds 0 1 2`` runs the suite once
  per training seed (``SmokeSettings.seed``) and sets each metric's
  tolerance to ``max(TOLERANCE_FLOOR, SPREAD_FACTOR x (max - min over
  seeds))``; the seeds' values are written beside the baseline. A baseline
  written without seeds keeps the per-family defaults of :data:`TOLERANCE`.
- protocol fingerprints, compared exactly: the half-class split classes, the
  few-shot sample manifests (hash per seed), and the test clips' frame
  indices of the run's sampling (for 16- and 32-frame videos). These are
  deterministic on every platform, so any difference is a changed protocol
  (a shifted split seed, few-shot videos drawn from elsewhere, shifted
  test frames), whatever the metrics do.
- model outputs at initialisation (``init_outputs/*``), each within
  :data:`INIT_OUTPUT_TOLERANCE`: the evaluated model built from the run's
  config with a fixed seed and given fixed random clips and class names. They
  depend on no training, dataset or seed, only on the code and the model
  config, so they catch a change in what the model computes (its prompts,
  its temporal modelling, its frame weighting) that the smoke metrics, a few
  dozen test videos, can miss.

The planted-fault tests check that it catches faults: registered components
defined under ``tests/planted/`` that a config transform swaps into the twins
(``ReproduceSettings.eval_transform``).
"""
from __future__ import annotations

import copy
import dataclasses
import json
import os
import tempfile
import time
from typing import Dict, List, Optional, Sequence

from bike_bench import paths
from bike_bench.protocols import Protocol, tolerance_fraction
from bike_bench.reproduction.settings import ReproduceSettings, SmokeSettings
from bike_bench.utils.atomic import atomic_write_json

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
INIT_OUTPUTS = 'init_outputs/'
# fp32 CPU forward of a tiny model: platforms agree to about 1e-6; the
# planted model faults move these outputs by 1e-2 and more (results/README.md).
INIT_OUTPUT_TOLERANCE = 1e-4
# What the model is given for its outputs at initialisation: class names of
# the synthetic vocabulary (docs/toy_clip.md), clips of this many frames.
INIT_CLASS_NAMES = ('red circle moving left', 'red circle moving right',
                    'blue square growing')
INIT_CLIPS, INIT_FRAMES, INIT_SEED = 2, 8, 0
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


SAMPLER = 'BIKESampleFrames'
DECODER = 'VideoDecode'


def _resolved_config(run: dict) -> dict:
    """The resolved config a results file records (``{}`` if none)."""
    return (run.get('config') or {}).get('resolved') or {}


def _import_custom(config: dict) -> None:
    """Import the config's ``custom_imports``, as its Runner did: the
    components it names are then in the registries."""
    if config.get('custom_imports'):
        from mmengine.utils import import_modules_from_strings
        import_modules_from_strings(**config['custom_imports'])


def test_frame_indices(run: dict) -> Optional[list]:
    """Frame indices the run's test sampling picks for 16/32-frame videos.

    The sampling is the test pipeline's steps from the frame sampler up to
    the decoder (in the shipped configs the sampler alone), built from the
    TRANSFORMS registry after the config's ``custom_imports``, so a step a
    config adds there moves the fingerprint too.
    """
    from mmaction.registry import TRANSFORMS
    import bike_bench.datasets  # noqa: F401  (registers the transforms)
    config = _resolved_config(run)
    pipeline = ((config.get('test_dataloader') or {}).get('dataset') or {}).get('pipeline')
    types = [step.get('type') for step in pipeline or []]
    if SAMPLER not in types:
        return None
    first = types.index(SAMPLER)
    last = types.index(DECODER, first) if DECODER in types[first:] else len(types)
    _import_custom(config)
    steps = [TRANSFORMS.build(dict(step)) for step in pipeline[first:last]]
    indices = []
    for total in (16, 32):
        results = dict(total_frames=total)
        for step in steps:
            results = step(results)
        indices.append(results['frame_inds'].tolist())
    return indices


def init_outputs(run: dict) -> Dict[str, float]:
    """The run's evaluated model's cosine logits at initialisation.

    The model of the run's resolved config (after its ``custom_imports``) is
    built under ``torch.manual_seed(INIT_SEED)`` without pretrained weights,
    given :data:`INIT_CLASS_NAMES` and :data:`INIT_CLIPS` normalised clips of
    standard-normal pixels ``(INIT_CLIPS, 1, 3, INIT_FRAMES, S, S)`` (S the
    backbone's input size) and run in eval mode on the CPU. Returns
    ``{'init_outputs/v{clip}c{class}': logit}`` (cosine logits, no
    ``logit_scale``), ``{}`` for a run without a model config.
    """
    import torch
    from mmaction.registry import MODELS
    import bike_bench.models  # noqa: F401  (registers the model components)
    config = _resolved_config(run)
    if not config.get('model'):
        return {}
    _import_custom(config)
    model_cfg = copy.deepcopy(config['model'])
    model_cfg['class_names'], model_cfg['num_classes'] = None, None
    model_cfg['backbone']['load_pretrained'] = False
    with torch.random.fork_rng():
        torch.manual_seed(INIT_SEED)
        model = MODELS.build(model_cfg).eval()
        model.set_class_names(list(INIT_CLASS_NAMES))
        size = model.backbone.image_size
        height, width = (size, size) if isinstance(size, int) else tuple(size)
        clips = torch.randn(INIT_CLIPS, 1, 3, INIT_FRAMES, height, width)
        with torch.no_grad():
            logits = model(clips, mode='tensor')
    if isinstance(logits, dict):  # video + attributes: the video logits
        logits = logits['video']
    logits = logits.reshape(INIT_CLIPS, -1)
    return {f'{INIT_OUTPUTS}v{i}c{j}': round(float(logits[i, j]), 7)
            for i in range(logits.shape[0]) for j in range(logits.shape[1])}


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


def summarize(runs_dir: str, outputs: bool = True) -> Dict[str, Dict[str, float]]:
    """``{run id: {metric: value}}`` of the compared metrics in ``runs_dir``.

    Protocol fingerprints (strings, compared exactly) are included under
    ``fingerprint/...``; with ``outputs``, the model outputs at
    initialisation under ``init_outputs/...`` (computed now, with this code:
    meaningful against a baseline that recorded them with its code, not
    between two folders summarized by the same code).
    """
    from bike_bench.reproduction.tables import load_runs
    summary = {}
    for run in load_runs(runs_dir):
        values = {k: float(v) for k, v in sorted(run['metrics'].items())
                  if k.startswith(COMPARED_PREFIXES) and not k.endswith('_std')}
        values.update(fingerprints(run))
        if outputs:
            values.update(init_outputs(run))
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

    def tolerance(run_id: str, metric: str, value) -> float:
        if isinstance(value, str):
            return 0.0
        if metric.startswith(INIT_OUTPUTS):
            return INIT_OUTPUT_TOLERANCE
        return tolerances.get(run_id, {}).get(metric, _tolerance(run_id))

    for run_id, metrics in sorted(baseline.items()):
        for metric, value in sorted(metrics.items()):
            changes.append(Change(run_id, metric, value, measured.get(run_id, {}).get(metric),
                                  tolerance(run_id, metric, value)))
    # Checks the baseline lacks (a new run, or outputs it predates) are NEW.
    for run_id, metrics in sorted(measured.items()):
        for metric in sorted(set(metrics) - set(baseline.get(run_id, {}))):
            changes.append(Change(run_id, metric, None, metrics[metric],
                                  tolerance(run_id, metric, metrics[metric])))
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
             'exact' if isinstance(c.baseline, str) or isinstance(c.measured, str) else
             (f'±{c.tolerance:.2f}' if c.tolerance >= 0.01 else f'±{c.tolerance:.0e}'),
             'ok' if c.ok else ('NEW' if c.baseline is None else 'MOVED')]
            for c in changes if not (only_failures and c.ok)]
    return tabulate(rows, headers=['run', 'metric', reference, 'measured', 'delta',
                                   'tolerance', 'status'])


def read_baseline_file(path: Optional[str] = None) -> dict:
    """The baseline JSON at ``path`` (default: the shipped one,
    ``bike_bench.paths.ci_baseline()``).

    Raises:
        FileNotFoundError: there is no file at ``path``.
    """
    path = str(path or paths.ci_baseline())
    if not os.path.isfile(path):
        raise FileNotFoundError(f'no CI baseline at {path}; create it with '
                                '`bike-bench ci-regression --update-baseline`')
    with open(path, encoding='utf-8') as handle:
        return json.load(handle)


def read_baseline(path: Optional[str] = None) -> Dict[str, Dict[str, float]]:
    """``{run: {metric: value}}`` of the baseline (default: the shipped one)."""
    return read_baseline_file(path)['runs']


def read_tolerances(path: Optional[str] = None) -> Dict[str, Dict[str, float]]:
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
            if isinstance(value, str) or metric.startswith(INIT_OUTPUTS):
                continue  # exact / fixed tolerance, not a seed spread
            values = [s.get(run_id, {}).get(metric) for s in per_seed]
            values = [v for v in values if isinstance(v, float)]
            spread = max(values) - min(values) if values else 0.0
            out.setdefault(run_id, {})[metric] = round(
                max(TOLERANCE_FLOOR, SPREAD_FACTOR * spread), 4)
    return out


def run_suite(settings: ReproduceSettings, entries: Sequence[str] = SUITE,
              echo=print) -> Dict[str, Dict[str, float]]:
    """Run the suite's smoke twins with ``settings``; return their metrics
    (``summarize`` of ``settings.runs_dir``)."""
    from bike_bench.reproduction.reproduce import reproduce
    reproduce(settings, only=list(entries), echo=echo)
    return summarize(settings.runs_dir)


def seed_settings(settings: ReproduceSettings, seed: int, scratch: str,
                  work_dir: Optional[str] = None) -> ReproduceSettings:
    """``settings`` for the suite with training seed ``seed``: its own runs
    and work folders (under ``scratch``, or ``work_dir`` for the work)."""
    work = os.path.join(work_dir or scratch, f'work_seed{seed}')
    return settings.replace(runs_dir=os.path.join(scratch, f'runs_seed{seed}'),
                            work_dir=work, tables_dir=os.path.join(work, 'tables'),
                            readme=None,
                            smoke=dataclasses.replace(settings.smoke, seed=seed))


def ci_regression(baseline_path: Optional[str] = None, update_baseline: bool = False,
                  work_dir: Optional[str] = None, synth_root: Optional[str] = None,
                  seeds: Sequence[int] = (0,), entries: Sequence[str] = SUITE,
                  smoke: Optional[SmokeSettings] = None, echo=print) -> int:
    """Run the suite and compare; returns the exit code (0 = no regression).

    ``baseline_path`` defaults to the shipped baseline when checking and to
    ``<output root>/results/ci_baseline.json`` when writing one (the
    maintainers pass the checkout's ``results/ci_baseline.json``). With
    ``update_baseline``, the suite runs once per seed of ``seeds``; the first
    seed's metrics become the baseline and the spread over seeds the
    tolerances (one seed: the family defaults). Checking runs seed
    ``seeds[0]`` only. ``smoke``: how the twins train (default
    ``SmokeSettings()``; its seed is replaced by each of ``seeds``).
    """
    start = time.time()
    if update_baseline:
        baseline_path = baseline_path or paths.output_path('results', 'ci_baseline.json')
    else:
        baseline_path = str(baseline_path or paths.ci_baseline())
        read_baseline_file(baseline_path)  # before minutes of training
    with tempfile.TemporaryDirectory(prefix='bike-ci-') as scratch:
        settings = ReproduceSettings.under(
            scratch, synth_root=synth_root or os.path.join(scratch, 'synthetic'),
            smoke=smoke)
        runs = [run_suite(seed_settings(settings, seed, scratch, work_dir), entries, echo)
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
    echo(f'\nci-regression: {len(changes)} checks within tolerance ({minutes:.1f} min)'
         f' against {baseline_path}')
    return 0
