"""Few-shot protocol: K videos per class, seeded, trained and tested
(docs/method.md#fewshot).

The K-per-class subset is drawn with ``numpy.random.default_rng(seed)`` and
written out as a manifest, so the exact videos are pinned, reusable and the
same on every rank (the official code draws them with an unseeded
``random.sample`` on each rank). The draws of one seed are nested
(``sample_fewshot``), so a difference between shot counts is the added
videos', not another draw's. As in the official code the subset is repeated
``len(train) // len(subset)`` times so an epoch keeps the training set's
length. Which videos are drawn is a registered component (``TASK_UTILS``)
the config names: ``fewshot_sampler = dict(type='SeededFewShotSampler')``,
the default, so a test can swap another in.
"""
from __future__ import annotations

import copy
import os
from collections import defaultdict
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
from mmaction.registry import TASK_UTILS

from bike_bench.paths import recorded_path
from bike_bench.datasets.manifest import Manifest, read_manifest, write_manifest
from bike_bench.evaluation.fewshot_seeds import aggregate_seeds, fewshot_results
from bike_bench.utils.atomic import atomic_write_json

# The config key naming the few-shot sampler, and its default.
SAMPLER_KEY = 'fewshot_sampler'
DEFAULT_SAMPLER = dict(type='SeededFewShotSampler')


class FewShotError(ValueError):
    """The training manifest cannot give K videos of every class."""


# How the K videos of each class are repeated into an epoch.
FILLS = ('repeat', 'per_class')


def sample_fewshot(manifest: Manifest, shots: int, seed: int,
                   fill: str = 'repeat') -> Manifest:
    """K videos of every class of ``manifest``, repeated to about its length.

    The K videos of a class are the first K of a permutation drawn from
    ``numpy.random.default_rng(seed)`` (one per class, in class order), so
    for one seed the draws of 1, 2 and 5 shots are nested.

    ``fill``: ``'repeat'`` (the official code): the whole K-per-class subset
    repeated ``len(train) // len(subset)`` times, so an epoch is shorter
    than the training set by up to a subset's length; ``'per_class'``: each
    class's K videos cycled to that class's number of training videos, so
    an epoch has exactly the training set's length and class counts, for
    every K (with 8 videos a class, the official 5-shot epoch is 5/8 of the
    1- and 2-shot ones; docs/toy_clip.md#k400-few-shot).

    Raises:
        FewShotError: ``shots`` < 1, a multi-label manifest, a class with
            fewer than ``shots`` videos, or an unknown ``fill``.
    """
    if shots < 1:
        raise FewShotError(f'shots must be >= 1, got {shots}')
    if fill not in FILLS:
        raise FewShotError(f'few-shot fill must be one of {FILLS}, got {fill!r}')
    if manifest.multi_label:
        raise FewShotError(f'{manifest.path}: few-shot sampling needs a '
                           'single-label manifest')
    by_class: Dict[int, List[int]] = defaultdict(list)
    for position, entry in enumerate(manifest.entries):
        by_class[int(entry.label)].append(position)
    rng = np.random.default_rng(seed)
    chosen: List[int] = []
    filled: List[int] = []
    for label, name in enumerate(manifest.classes):
        pool = by_class.get(label, [])
        if len(pool) < shots:
            raise FewShotError(f'{manifest.path}: class {label} ({name!r}) has '
                               f'{len(pool)} training videos, fewer than {shots} shots')
        picks = [pool[i] for i in sorted(rng.permutation(len(pool))[:shots].tolist())]
        chosen.extend(picks)
        filled.extend(picks[i % shots] for i in range(len(pool)))
    if fill == 'repeat':
        repeats = max(1, len(manifest.entries) // len(chosen))
        order = chosen * repeats
    else:
        repeats = round(len(filled) / len(chosen), 3)
        order = filled
    entries = [copy.deepcopy(manifest.entries[i]) for i in order]
    source_root = manifest.resolve_root()
    return Manifest(
        dataset=manifest.dataset, split=f'{manifest.split}_{shots}shot_seed{seed}',
        classes=list(manifest.classes), entries=entries,
        class_table=manifest.class_table, multi_label=False,
        data_root=os.path.abspath(source_root),
        source=dict(fewshot=dict(shots=shots, seed=seed, rng='numpy.random.default_rng',
                                 fill=fill, repeats=repeats, videos=len(chosen),
                                 from_manifest=manifest.path,
                                 from_hash=manifest.content_hash)))


@TASK_UTILS.register_module()
class SeededFewShotSampler:
    """K videos of every class of the training manifest (``sample_fewshot``).

    Called with the training and the evaluation manifest (paths), the shot
    count and the seed; returns the few-shot training ``Manifest``. The
    evaluation manifest is not sampled from: it is passed so that every
    sampler sees what a few-shot run tests on.

    Args:
        fill: how the K videos fill an epoch (``sample_fewshot``):
            ``'repeat'``, the official code's and the default, or
            ``'per_class'``.

    Raises:
        FewShotError: an unknown ``fill``.
    """

    def __init__(self, fill: str = 'repeat'):
        if fill not in FILLS:
            raise FewShotError(f'{SAMPLER_KEY}.fill must be one of {FILLS}, got {fill!r}')
        self.fill = fill

    def __call__(self, train_manifest: str, test_manifest: Optional[str],
                 shots: int, seed: int) -> Manifest:
        return sample_fewshot(read_manifest(train_manifest), shots, seed, self.fill)


def build_sampler(cfg=None):
    """The config's few-shot sampler (``fewshot_sampler``; default
    ``SeededFewShotSampler``)."""
    spec = (cfg.get(SAMPLER_KEY) if cfg is not None else None) or DEFAULT_SAMPLER
    return TASK_UTILS.build(copy.deepcopy(dict(spec)))


def write_fewshot_manifest(train_manifest: str, shots: int, seed: int,
                           out_dir: str, test_manifest: Optional[str] = None,
                           sampler=None) -> str:
    """Sample and write ``<out_dir>/<stem>_<K>shot_seed<S>.jsonl``.

    ``sampler``: a few-shot sampler (default ``SeededFewShotSampler``),
    called with ``train_manifest`` and ``test_manifest``. The manifest's
    ``data_root`` is made relative to where it is written, so the dataset
    folder and the few-shot manifest can move together.
    """
    sampler = sampler or build_sampler()
    fewshot = sampler(train_manifest, test_manifest, shots, seed)
    stem = os.path.splitext(os.path.basename(train_manifest))[0]
    path = os.path.join(out_dir, f'{stem}_{shots}shot_seed{seed}.jsonl')
    fewshot.data_root = os.path.relpath(fewshot.data_root,
                                        os.path.dirname(os.path.abspath(path)))
    write_manifest(fewshot, path)
    return path


def train_and_test(cfg, fewshot_manifest: str, *, shots: int, seed: int,
                   work_dir: str, val_manifest: Optional[str] = None,
                   views: Optional[str] = None, aggregation: Optional[str] = None,
                   validate: bool = True, max_epochs: Optional[int] = None,
                   reuse_key: Optional[str] = None, train=None) -> Dict[str, Any]:
    """Train on one few-shot manifest, test the last checkpoint.

    The config that trains and tests is derived from ``cfg`` and written
    to ``<work_dir>/configs/`` first; the results file points to it.
    ``train`` (default ``build_runner(cfg).train()``) trains that config:
    a requeueable job passes its own, which resumes after preemption
    (``reproduction.executors.resumable_train``).
    """
    from bike_bench.checkpoint_io import last_checkpoint
    from bike_bench.engine.run_config import derive, materialize
    from bike_bench.evaluation.harness import prepare_eval_config, run_test
    from bike_bench.evaluation.runner import build_runner
    cfg = copy.deepcopy(cfg)
    cfg.work_dir = work_dir
    cfg.train_dataloader.dataset.ann_file = fewshot_manifest
    if val_manifest:
        if cfg.get('val_dataloader'):
            cfg.val_dataloader.dataset.ann_file = val_manifest
        cfg.test_dataloader.dataset.ann_file = val_manifest
    if not validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
        hooks = cfg.get('default_hooks') or {}
        if 'checkpoint' in hooks:
            hooks['checkpoint']['save_best'] = None
    if max_epochs:
        cfg.train_cfg.max_epochs = max_epochs
    # Environment and config dump in the log file, off the console
    # (engine/runner.py); a config's own runner type is kept.
    cfg.setdefault('runner_type', 'BIKERunner')
    cfg.randomness = dict(cfg.get('randomness') or {}, seed=seed)
    derive(cfg, f'fewshot {shots}-shot seed {seed}: trains on {fewshot_manifest}'
           + (f', tests on {val_manifest}' if val_manifest else '')
           + ('' if validate else ', no validation')
           + (f', {max_epochs} epochs' if max_epochs else ''))
    prepare_eval_config(cfg, views=views, aggregation=aggregation)
    cfg = materialize(cfg, stem=f'fewshot_{shots}shot_seed{seed}')
    if train is None:
        build_runner(cfg).train()
    else:  # e.g. a requeueable job's training, resumed after preemption
        train(cfg)
    checkpoint = last_checkpoint(work_dir)
    manifest = read_manifest(fewshot_manifest)
    protocol = dict(name='fewshot', shots=shots, seed=seed,
                    fewshot_manifest=recorded_path(fewshot_manifest),
                    fewshot_manifest_hash=manifest.content_hash,
                    train_videos=manifest.source['fewshot']['videos'],
                    repeats=manifest.source['fewshot']['repeats'],
                    max_epochs=cfg.train_cfg.get('max_epochs'))
    return run_test(cfg, checkpoint, protocol=protocol,
                    run_id=f'fewshot_{shots}shot_seed{seed}',
                    out=os.path.join(work_dir, 'results',
                                     f'fewshot_{shots}shot_seed{seed}.json'),
                    replace=True, extra=dict(reuse_key=reuse_key))


def fewshot_reuse_key(cfg, train_manifest: str, val_manifest: Optional[str], *,
                      shots: int, seed: int, **options) -> str:
    """What determines a few-shot result: the contents of the manifest it
    samples from and of the one it tests on, the config (without where it
    writes), shots, seed, evaluation and training options, and the code."""
    from bike_bench.evaluation.provenance import config_key_hash, run_key
    test_manifest = val_manifest or cfg.test_dataloader.dataset.ann_file
    inputs = dict(train=read_manifest(train_manifest, check_labels=False).content_hash,
                  test=read_manifest(test_manifest, check_labels=False).content_hash,
                  config=config_key_hash(cfg), shots=shots, seed=seed,
                  options={k: options[k] for k in sorted(options)})
    return run_key(inputs)['run_key']


def _difference(done: Dict[str, Any], train_manifest: str) -> str:
    """What differs from a previous few-shot results file (for the message)."""
    from bike_bench.evaluation.provenance import code_identity, describe_code_change
    source = read_manifest(train_manifest, check_labels=False)
    old_source = None
    fewshot = done['protocol'].get('fewshot_manifest')
    if fewshot and os.path.isfile(fewshot):
        old_source = read_manifest(fewshot, check_labels=False).source.get(
            'fewshot', {}).get('from_hash')
    if old_source is not None and old_source != source.content_hash:
        return 'another training manifest'
    code = done['environment'].get('code', {})
    if code.get('hash') != code_identity()['hash']:
        return (f'{describe_code_change(code)} (commit '
                f'{str(done["environment"]["git_commit"])[:10]})')
    return 'other inputs (config, manifests or options)'


def summarise(runs: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
    """``{shots: aggregation}`` of per-seed results (each with ``path``).

    Each shot count's entry is :func:`~bike_bench.evaluation.fewshot_seeds.aggregate_seeds`
    (``seeds``, ``n``, ``per_seed``, ``mean``, ``std`` with ``ddof=0``) plus
    ``results``, the per-seed results files in seed order.
    """
    by_shot: Dict[int, List[Dict[str, Any]]] = defaultdict(list)
    for run in runs:
        by_shot[run['protocol']['shots']].append(run)
    return {str(shots): dict(aggregate_seeds(group), results=[run['path'] for run in group])
            for shots, group in sorted(by_shot.items())}


def shot_results(entry: Dict[str, Any]) -> Dict[str, Any]:
    """The results file of one shot count of a summary (``summarise``):
    its per-seed results files read back and aggregated by
    :func:`~bike_bench.evaluation.fewshot_seeds.fewshot_results`."""
    from bike_bench.evaluation.results import validate_results
    return fewshot_results([validate_results(path) for path in entry['results']])


def format_summary(summary: Dict[str, Any]) -> str:
    from tabulate import tabulate
    rows = []
    for shots, entry in summary.items():
        for key, mean in entry['mean'].items():
            rows.append([shots, key, f'{100 * mean:.2f} ± {100 * entry["std"][key]:.2f}',
                         len(entry['seeds'])])
    return tabulate(rows, headers=['shots', 'metric', 'mean ± std (%)', 'seeds'])


def run_fewshot(cfg, *, shots: Sequence[int], seeds: Sequence[int],
                train_manifest: Optional[str] = None,
                val_manifest: Optional[str] = None, work_dir: Optional[str] = None,
                views: Optional[str] = None, aggregation: Optional[str] = None,
                validate: bool = True, max_epochs: Optional[int] = None,
                resume: bool = True, echo=print, train=None) -> Dict[str, Any]:
    """Every (shots, seed): sample, train, test; then mean ± std over seeds.

    A (shots, seed) run is reused when ``resume`` and its results file
    carries the same reuse key (``fewshot_reuse_key``: manifests' contents,
    config, options, code); a results file with another key is run again,
    with a line saying why. Writes ``<work_dir>/fewshot_summary.json``.
    """
    from bike_bench.evaluation.provenance import code_identity
    from bike_bench.evaluation.results import read_valid_results
    from mmengine.dist import is_main_process
    code_identity()  # before this run writes anything
    work_dir = work_dir or cfg.work_dir
    train_manifest = train_manifest or cfg.train_dataloader.dataset.ann_file
    test_manifest = val_manifest or cfg.test_dataloader.dataset.ann_file
    sampler = build_sampler(cfg)
    runs = []
    for k in shots:
        for seed in seeds:
            run_dir = os.path.join(work_dir, f'{k}shot_seed{seed}')
            out = os.path.join(run_dir, 'results', f'fewshot_{k}shot_seed{seed}.json')
            key = fewshot_reuse_key(cfg, train_manifest, val_manifest, shots=k,
                                    seed=seed, views=views, aggregation=aggregation,
                                    validate=validate, max_epochs=max_epochs)
            done = read_valid_results(out) if resume else None
            if done is not None and done.get('reuse_key') == key:
                runs.append(dict(done, path=out))
                continue
            if done is not None and is_main_process():
                echo(f'fewshot {k}-shot seed {seed}: {out} was measured with '
                     f'{_difference(done, train_manifest)}; running again')
            manifest = write_fewshot_manifest(train_manifest, k, seed,
                                              os.path.join(work_dir, 'manifests'),
                                              test_manifest=test_manifest, sampler=sampler)
            result = train_and_test(cfg, manifest, shots=k, seed=seed, work_dir=run_dir,
                                    val_manifest=val_manifest, views=views,
                                    aggregation=aggregation, validate=validate,
                                    max_epochs=max_epochs, reuse_key=key, train=train)
            if result is not None:
                runs.append(result)
    summary = dict(train_manifest=recorded_path(train_manifest),
                   val_manifest=val_manifest and recorded_path(val_manifest),
                   shots=list(shots), seeds=list(seeds), by_shots=summarise(runs))
    if is_main_process():
        atomic_write_json(os.path.join(work_dir, 'fewshot_summary.json'), summary)
    summary['path'] = os.path.join(work_dir, 'fewshot_summary.json')
    return summary
