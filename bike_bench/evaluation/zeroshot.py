"""Zero-shot protocols (docs/method.md#zeroshot): full, 10 half-class splits, K600.

The test set runs through the model once; every class subset is scored
from those outputs, so class texts are encoded once per class set.

Scoring (``scoring``):
- ``'head'`` (default): the model's own head. Raw per-view logits for all
  classes are kept; a split takes its classes' columns and aggregates them
  (softmax per view over the subset, mean, softmax). A class's VCS/DP logit
  depends only on that class's text, so this equals running the head on the
  subset, without re-encoding.
- ``'official-frame'``: what the official ``test_zeroshot.py`` does for the
  splits: ``100 * frame_feature @ unit(class_feature)`` per frame (raw image
  features, no video head), softmax over the subset, mean over frames.

Half-class split ``s`` selects the first ``N // 2`` class ids of
``arange(N)`` shuffled by ``numpy.random.RandomState(s)`` (what the official
``test_zeroshot.py`` draws after ``numpy.random.seed(s)``); its class subset is the selected
classes that occur among the evaluated videos (``np.unique``, as the
official code). Mean and population standard deviation over splits. The
split rule is a registered component (``TASK_UTILS``) a config may swap:
``zeroshot_split_rule = dict(type='OfficialHalfClassSplits')``, the default.
"""
from __future__ import annotations

import copy
import hashlib
import os
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmaction.registry import TASK_UTILS

from bike_bench.evaluation.metrics import functional as F

PROTOCOLS = ('full', 'half', 'k600')
SCORINGS = ('head', 'official-frame')
SPLIT_RULE = 'numpy.random.seed(s); shuffled arange(N)[:N // 2], s = 0..9'
# The config key naming the half-class split rule, and its default.
SPLIT_RULE_KEY = 'zeroshot_split_rule'
DEFAULT_SPLIT_RULE = dict(type='OfficialHalfClassSplits')


@TASK_UTILS.register_module()
class OfficialHalfClassSplits:
    """The half-class splits of the official ``test_zeroshot.py`` (whwu95/BIKE).

    Split ``s`` (``s = 0 .. num_splits - 1``) selects the first ``N // 2``
    ids of ``arange(N)`` shuffled by ``numpy.random.RandomState(s)``: the
    official draw after ``numpy.random.seed(s)`` (NumPy draws a random
    order of ``N`` items by shuffling ``arange(N)``).

    Args:
        num_splits: how many splits (the paper: 10).

    Raises:
        ValueError: ``num_splits`` < 1.
    """

    rule = SPLIT_RULE

    def __init__(self, num_splits: int = 10):
        if num_splits < 1:
            raise ValueError(f'num_splits must be >= 1, got {num_splits}')
        self.num_splits = int(num_splits)

    def __call__(self, num_classes: int) -> List[np.ndarray]:
        """The selected class ids ``(N // 2,)`` of each split, in order."""
        splits = []
        for seed in range(self.num_splits):
            order = np.arange(num_classes)
            np.random.RandomState(seed).shuffle(order)
            splits.append(order[:num_classes // 2])
        return splits


def build_split_rule(cfg=None, num_splits: Optional[int] = None):
    """The config's half-class split rule (``zeroshot_split_rule``; default
    ``OfficialHalfClassSplits``), with ``num_splits`` when given."""
    spec = dict((cfg.get(SPLIT_RULE_KEY) if cfg is not None else None) or DEFAULT_SPLIT_RULE)
    if num_splits is not None:
        spec['num_splits'] = int(num_splits)
    return TASK_UTILS.build(spec)


def half_class_splits(num_classes: int, num_splits: int = 10) -> List[np.ndarray]:
    """The selected class ids of each official half-class split."""
    return OfficialHalfClassSplits(num_splits)(num_classes)


def split_selection(labels: np.ndarray, selected: np.ndarray
                    ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Videos of a split, its class subset and the labels within the subset."""
    labels = np.asarray(labels, dtype=np.int64)
    mask = np.isin(labels, selected)
    subset = np.unique(labels[mask])
    return mask, subset, np.searchsorted(subset, labels[mask])


def head_scores(view_logits: np.ndarray, columns: Optional[np.ndarray] = None,
                aggregation: str = 'official') -> np.ndarray:
    """Video scores from raw per-view logits ``(N, V, A)`` over ``columns``."""
    from bike_bench.models import aggregate_views
    logits = view_logits if columns is None else view_logits[..., columns]
    return aggregate_views(torch.from_numpy(np.ascontiguousarray(logits)),
                           aggregation).numpy()


def frame_scores(frame_features: np.ndarray, class_features: np.ndarray,
                 columns: Optional[np.ndarray] = None) -> np.ndarray:
    """Official split scoring from raw frame features ``(N, F, D)``."""
    text = torch.as_tensor(class_features, dtype=torch.float32)
    text = text / text.norm(dim=-1, keepdim=True)
    if columns is not None:
        text = text[torch.as_tensor(columns)]
    frames = torch.as_tensor(frame_features, dtype=torch.float32)
    return (100.0 * frames @ text.T).softmax(dim=-1).mean(dim=1).numpy()


class OutputScorer:
    """Scores any class subset from one pass's outputs."""

    def __init__(self, records: List[Dict[str, Any]], scoring: str,
                 aggregation: str, class_features: Optional[np.ndarray] = None):
        if scoring not in SCORINGS:
            raise ValueError(f'scoring must be one of {SCORINGS}, not {scoring!r}')
        scored = [r for r in records if 'skipped' not in r]
        if not scored:
            raise ValueError('every video was skipped: nothing to evaluate')
        self.labels = np.array([int(r['label'][0]) for r in scored], dtype=np.int64)
        key = 'logits' if scoring == 'head' else 'frames'
        self.outputs = np.stack([r[key] for r in scored])
        self.scoring = scoring
        self.aggregation = aggregation
        self.class_features = class_features

    def scores(self, mask: Optional[np.ndarray] = None,
               columns: Optional[np.ndarray] = None) -> np.ndarray:
        outputs = self.outputs if mask is None else self.outputs[mask]
        if self.scoring == 'head':
            return head_scores(outputs, columns, self.aggregation)
        return frame_scores(outputs, self.class_features, columns)

    def full(self, num_classes: int) -> Tuple[Dict[str, float], np.ndarray]:
        scores = self.scores()
        metrics = {f'top{k}': v for k, v in
                   F.topk_accuracy(scores, self.labels, (1, 5)).items()}
        predictions = scores.argmax(axis=1)
        metrics['mean_class_accuracy'] = F.mean_class_accuracy(
            predictions, self.labels, num_classes)
        return metrics, F.per_class_accuracy(predictions, self.labels, num_classes)[0]

    def split(self, selected: np.ndarray) -> Dict[str, Any]:
        mask, subset, labels = split_selection(self.labels, selected)
        accuracy = F.topk_accuracy(self.scores(mask, subset), labels, (1, 5))
        return dict(classes=subset.tolist(), videos=int(mask.sum()),
                    top1=accuracy[1], top5=accuracy[5])


def mean_std(values: Sequence[float]) -> Tuple[float, float]:
    """Mean and population standard deviation (as the official code)."""
    return float(np.mean(values)), float(np.std(values))


def collect_outputs(cfg, checkpoint: str, manifest: str, *, scoring: str,
                    views: Optional[str], aggregation: Optional[str],
                    skip_bad_videos: bool, class_table: Optional[str] = None,
                    trust_checkpoint: bool = False):
    """One pass over ``manifest``: records, text features and provenance."""
    from bike_bench.evaluation.harness import (build_runner_with_checkpoint,
                                               dataset_record, prepare_eval_config)
    from bike_bench.engine.run_config import derive, materialize
    from bike_bench.evaluation.view_outputs import unwrap_model
    cfg = copy.deepcopy(cfg)
    dataset = cfg.test_dataloader.dataset
    dataset.ann_file = manifest
    dataset.class_table = class_table
    # The class set comes from the evaluated manifest (ClassNamesHook).
    cfg.model.num_classes = None
    cfg.model.class_names = None
    views_used, aggregation_used = prepare_eval_config(
        cfg, views=views, aggregation=aggregation, skip_bad_videos=skip_bad_videos)
    cfg.test_cfg = dict(type='ViewOutputsTestLoop',
                        outputs='logits' if scoring == 'head' else 'frames')
    derive(cfg, f'zero-shot pass ({scoring} scoring) over {manifest}'
           + (f' with classes {class_table}' if class_table else ''))
    cfg = materialize(cfg, stem=f'zeroshot_{os.path.splitext(os.path.basename(manifest))[0]}')
    runner = build_runner_with_checkpoint(cfg, checkpoint, trust_checkpoint)
    runner.test()
    model = unwrap_model(runner.model)
    class_features = None
    if scoring == 'official-frame':
        with torch.no_grad():
            class_features = model.class_text_features()[0].float().cpu().numpy()
    return dict(records=runner.test_loop.records, class_features=class_features,
                model=model, cfg=cfg, views=views_used, aggregation=aggregation_used,
                dataset=dataset_record(runner.test_loop.dataloader.dataset))


def _counts(records: List[Dict[str, Any]]) -> Tuple[Dict[str, int], List[Dict[str, Any]]]:
    skipped = [dict(index=r['index'], **r['skipped']) for r in records if 'skipped' in r]
    return (dict(expected=len(records), evaluated=len(records) - len(skipped),
                 skipped=len(skipped)), skipped)


def run_zeroshot(cfg, checkpoint: str, manifests: Sequence[str], *,
                 protocol: str = 'full', scoring: str = 'head',
                 views: Optional[str] = None, aggregation: Optional[str] = None,
                 num_splits: int = 10, skip_bad_videos: bool = False,
                 class_tables: Optional[Sequence[Optional[str]]] = None,
                 dataset_name: Optional[str] = None, out: Optional[str] = None,
                 run_id: Optional[str] = None, trust_checkpoint: bool = False,
                 replace: bool = False) -> Optional[Dict[str, Any]]:
    """Evaluate a checkpoint zero-shot and write one results file.

    Args:
        manifests: one manifest (``full``/``half``) or the K600 split
            manifests (``k600``: each its own class set).
        protocol: ``'full'``, ``'half'`` (``num_splits`` half-class splits;
            the full-class figures are reported too) or ``'k600'``.
        scoring: ``'head'`` or ``'official-frame'`` (module docstring).

    Returns the results dict on the main process (path under ``'path'``).
    """
    from mmengine.dist import is_main_process
    from bike_bench.evaluation.harness import checkpoint_record, eval_keys, model_record
    from bike_bench.evaluation.provenance import (code_identity, config_record,
                                                  environment_record)
    from bike_bench.evaluation.results import (build_results, check_replace,
                                               results_path, write_results)
    code_identity()  # before this run writes anything

    if protocol not in PROTOCOLS:
        raise ValueError(f'protocol must be one of {PROTOCOLS}, not {protocol!r}')
    if scoring not in SCORINGS:
        raise ValueError(f'scoring must be one of {SCORINGS}, not {scoring!r}')
    manifests = [manifests] if isinstance(manifests, str) else list(manifests)
    if protocol != 'k600' and len(manifests) != 1:
        raise ValueError(f'protocol {protocol} takes one manifest, got {len(manifests)}')
    if not manifests:
        raise ValueError('no manifest to evaluate')
    class_tables = list(class_tables or [None] * len(manifests))
    start = time.time()
    if not os.path.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {checkpoint}')
    passes = [collect_outputs(cfg, checkpoint, manifest, scoring=scoring, views=views,
                              aggregation=aggregation, skip_bad_videos=skip_bad_videos,
                              class_table=table, trust_checkpoint=trust_checkpoint)
              for manifest, table in zip(manifests, class_tables)]
    if not is_main_process():
        return None
    ckpt = checkpoint_record(checkpoint)
    first = passes[0]
    aggregation_used = first['aggregation'] if scoring == 'head' else 'frame-softmax-mean'
    metrics: Dict[str, float] = {}
    per_class: Dict[str, Any] = {}
    details: Dict[str, Any] = dict(name=f'zeroshot-{protocol}', scoring=scoring)
    if protocol == 'k600':
        splits = []
        for number, run in enumerate(passes, start=1):
            scorer = OutputScorer(run['records'], scoring, first['aggregation'],
                                  run['class_features'])
            values, _ = scorer.full(run['dataset']['num_classes'])
            splits.append(dict(split=number, manifest=run['dataset']['manifest'],
                               classes=run['dataset']['num_classes'],
                               videos=len(scorer.labels), top1=values['top1'],
                               top5=values['top5']))
        for k in (1, 5):
            metrics[f'k600/top{k}_mean'], metrics[f'k600/top{k}_std'] = mean_std(
                [s[f'top{k}'] for s in splits])
        for split in splits:
            metrics[f'k600/split{split["split"]}_top1'] = split['top1']
        details['splits'] = splits
    else:
        run = first
        num_classes = run['dataset']['num_classes']
        scorer = OutputScorer(run['records'], scoring, first['aggregation'],
                              run['class_features'])
        values, accuracy = scorer.full(num_classes)
        metrics.update({f'full/{key}': value for key, value in values.items()})
        names = run['model'].class_names
        per_class['full'] = {name: None if np.isnan(acc) else float(acc)
                             for name, acc in zip(names, accuracy)}
        if protocol == 'half':
            rule = build_split_rule(cfg, num_splits)
            splits = [dict(seed=seed, **scorer.split(selected)) for seed, selected
                      in enumerate(rule(num_classes))]
            for k in (1, 5):
                metrics[f'half/top{k}_mean'], metrics[f'half/top{k}_std'] = mean_std(
                    [s[f'top{k}'] for s in splits])
            details.update(num_splits=num_splits,
                           split_rule=getattr(rule, 'rule', type(rule).__name__),
                           splits=splits)
    details['text_encoder_calls'] = [run['model'].text_encoder_calls for run in passes]
    counts = dict(expected=0, evaluated=0, skipped=0)
    skipped: List[Dict[str, Any]] = []
    for run in passes:
        run_counts, run_skipped = _counts(run['records'])
        counts = {key: counts[key] + run_counts[key] for key in counts}
        skipped.extend(dict(item, manifest=run['dataset']['manifest'])
                       for item in run_skipped)
    dataset = dict(first['dataset'])
    if len(passes) > 1:
        dataset = dict(
            name=dataset_name or first['dataset']['name'],
            split='+'.join(run['dataset']['split'] for run in passes),
            manifest=[run['dataset']['manifest'] for run in passes],
            manifest_hash=hashlib.sha256(''.join(
                run['dataset']['manifest_hash'] for run in passes).encode()).hexdigest(),
            splits=[run['dataset'] for run in passes])
    elif dataset_name:
        dataset['name'] = dataset_name
    stem = os.path.splitext(os.path.basename(checkpoint))[0]
    run_id = run_id or (f'zeroshot-{protocol}_{dataset["name"]}_{first["views"].label}_'
                        f'{scoring}_{aggregation_used}_{stem}')
    config = config_record(first['cfg'])
    config['passes'] = [config_record(run['cfg'])['path'] for run in passes]
    keys = eval_keys(first['cfg'], ckpt['sha256'],
                     [run['dataset']['manifest_hash'] for run in passes],
                     protocol=protocol, scoring=scoring, num_splits=num_splits,
                     passes=[config_record(run['cfg'])['key_hash'] for run in passes])
    results = build_results(
        run_id=run_id, protocol=details, metrics=metrics,
        views=first['views'].to_dict(), aggregation=aggregation_used,
        dataset=dataset, checkpoint=ckpt, config=config,
        environment=environment_record(), wall_time_s=time.time() - start,
        counts=counts, skipped=skipped, per_class=per_class,
        extra=dict(model=model_record(first['model']), **keys))
    path = out or results_path(first['cfg'].work_dir, run_id, keys['inputs_key'])
    if not replace:
        check_replace(path, results)
    write_results(results, path)
    results['path'] = path
    return results
