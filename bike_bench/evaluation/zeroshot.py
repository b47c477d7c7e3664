"""Zero-shot protocols (docs/method.md#zeroshot): full, 10 half-class splits, K600.

A zero-shot evaluation is a test (``harness.test_config``: config -> Runner
-> test, results file written by ``ResultsFileHook``) whose loop keeps raw
per-view outputs (``ViewOutputsTestLoop``) and whose metric is
``ZeroShotMetric``. The test set runs through the model once; every class
subset is scored from those outputs, so class texts are encoded once. The
three K600 splits are one pass over their manifests joined (each split's
classes in their own columns) and scored per split over its own classes,
which equals one pass per split (a class's logit depends only on that
class's text).

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
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmaction.registry import METRICS, TASK_UTILS

from bike_bench.paths import recorded_path
from bike_bench.evaluation.metrics.base import VideoRecordMetric, _index
from bike_bench.protocols import ZEROSHOT_VARIANTS

from bike_bench.evaluation.metrics import functional as F

PROTOCOLS = tuple(ZEROSHOT_VARIANTS)
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

    def full(self, num_classes: int) -> Tuple[Dict[str, float], np.ndarray, np.ndarray]:
        """Top-1/top-5 (a top-k of k or fewer classes left out) and mean
        class accuracy over all classes; per-class accuracy ``(A,)`` and the
        confusion matrix ``(A, A)`` (rows: true class)."""
        scores = self.scores()
        metrics = {f'top{k}': v for k, v in
                   F.topk_accuracy(scores, self.labels, (1, 5)).items()
                   if f'top{k}' not in F.topk_not_applicable((k,), num_classes)}
        predictions = scores.argmax(axis=1)
        metrics['mean_class_accuracy'] = F.mean_class_accuracy(
            predictions, self.labels, num_classes)
        confusion = np.zeros((num_classes, num_classes), dtype=np.int64)
        np.add.at(confusion, (self.labels, predictions), 1)
        return (metrics, F.per_class_accuracy(predictions, self.labels, num_classes)[0],
                confusion)

    def split(self, selected: np.ndarray) -> Dict[str, Any]:
        """Top-1/top-5 over a half-class split's subset; a top-k of k or
        fewer classes is left out (``functional.topk_not_applicable``)."""
        mask, subset, labels = split_selection(self.labels, selected)
        accuracy = F.topk_accuracy(self.scores(mask, subset), labels, (1, 5))
        out = dict(classes=subset.tolist(), videos=int(mask.sum()))
        out.update({f'top{k}': value for k, value in accuracy.items()
                    if f'top{k}' not in F.topk_not_applicable((k,), len(subset))})
        return out

    def columns(self, columns: np.ndarray) -> Tuple[Dict[str, float], int]:
        """Top-1/top-5 over the videos of ``columns``' classes scored over
        exactly those classes (a K600 split); and their number of videos."""
        columns = np.asarray(columns, dtype=np.int64)
        mask = np.isin(self.labels, columns)
        labels = np.searchsorted(columns, self.labels[mask])
        accuracy = F.topk_accuracy(self.scores(mask, columns), labels, (1, 5))
        return ({f'top{k}': value for k, value in accuracy.items()
                 if f'top{k}' not in F.topk_not_applicable((k,), len(columns))},
                int(mask.sum()))


def mean_std(values: Sequence[float]) -> Tuple[float, float]:
    """Mean and population standard deviation (as the official code)."""
    return float(np.mean(values)), float(np.std(values))


@METRICS.register_module()
class ZeroShotMetric(VideoRecordMetric):
    """A zero-shot protocol scored from raw per-view outputs (``ViewOutputsTestLoop``).

    Args:
        protocol: ``'full'`` (all classes), ``'half'`` (``num_splits``
            half-class splits drawn by ``split_rule``; the full-class figures
            too) or ``'k600'`` (each of ``class_splits`` consecutive class
            ranges scored over its own classes, e.g. ``[160, 160, 160]``).
        scoring: ``'head'`` or ``'official-frame'`` (module docstring).
        aggregation: multi-view aggregation of ``'head'`` scoring.
        num_splits: half-class splits (the paper: 10).
        split_rule: a ``TASK_UTILS`` split rule config (default
            ``OfficialHalfClassSplits``); ``zeroshot_config`` copies the
            config's top-level ``zeroshot_split_rule`` here.
        class_splits: class counts of the K600 splits, in column order.
        split_manifests: the K600 split manifests (recorded per split).

    Keys: ``full/top1``, ``full/top5``, ``full/mean_class_accuracy``;
    ``half/top{1,5}_{mean,std}`` (mean and population std over splits);
    ``k600/top{1,5}_{mean,std}`` and ``k600/split<n>_top1``, fractions in
    [0, 1]. A top-k of k or fewer classes is left out and recorded as
    ``not_applicable`` (``functional.topk_not_applicable``): no NaN.
    ``details['protocol']`` holds the splits (classes, videos, accuracies),
    ``details['per_class']['full']`` accuracy and videos by class name and
    ``details['confusion']`` the full-class confusion matrix.
    """

    def __init__(self, protocol: str = 'full', scoring: str = 'head',
                 aggregation: str = 'official', num_splits: int = 10,
                 split_rule: Optional[dict] = None,
                 class_splits: Optional[Sequence[int]] = None,
                 split_manifests: Optional[Sequence[str]] = None, **kwargs) -> None:
        super().__init__(**kwargs)
        if protocol not in PROTOCOLS:
            raise ValueError(f'protocol must be one of {PROTOCOLS}, not {protocol!r}')
        if scoring not in SCORINGS:
            raise ValueError(f'scoring must be one of {SCORINGS}, not {scoring!r}')
        if protocol == 'k600' and not class_splits:
            raise ValueError('ZeroShotMetric(protocol="k600") needs class_splits')
        self.protocol = protocol
        self.scoring = scoring
        self.aggregation = aggregation
        self.num_splits = int(num_splits)
        self.split_rule = dict(split_rule or DEFAULT_SPLIT_RULE)
        self.class_splits = [int(n) for n in class_splits or []]
        self.split_manifests = list(split_manifests or [])
        self.class_features: Optional[np.ndarray] = None
        self.text_encoder_calls: Optional[int] = None

    @property
    def options(self) -> Dict[str, Any]:
        return dict(protocol=self.protocol, scoring=self.scoring,
                    **({'num_splits': self.num_splits} if self.protocol == 'half' else {}))

    @property
    def result_aggregation(self) -> str:
        """The aggregation the results file records."""
        return self.aggregation if self.scoring == 'head' else 'frame-softmax-mean'

    @property
    def key_options(self) -> Dict[str, Any]:
        """What keys a zero-shot result besides config, checkpoint, manifests."""
        return dict(protocol=self.protocol, scoring=self.scoring,
                    num_splits=self.num_splits)

    def bind_model(self, model) -> None:
        """Take what scoring needs from the model: the class text features
        (``'official-frame'``) and how often the text encoder ran."""
        if self.scoring == 'official-frame':
            with torch.no_grad():
                self.class_features = model.class_text_features()[0].float().cpu().numpy()
        self.text_encoder_calls = getattr(model, 'text_encoder_calls', None)

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        key = 'logits' if self.scoring == 'head' else 'frames'
        for sample in data_samples:
            self.results.append({'index': sample.get('sample_idx'),
                                 'label': np.asarray(sample['gt_label']).reshape(-1),
                                 key: np.asarray(sample[key])})
        skipped = data_batch.get('skipped', ()) if isinstance(data_batch, dict) else ()
        for item in skipped:
            self.results.append(dict(index=item.get('index'), skipped=dict(
                path=item.get('path'), reason=item.get('reason'))))

    def _summarise(self, records: List[Dict[str, Any]], size: int) -> dict:
        scored = [r for r in records if 'skipped' not in r]
        skipped = [dict(index=_index(r), **r['skipped']) for r in records if 'skipped' in r]
        self.details = dict(
            counts=dict(expected=size, evaluated=len(scored), skipped=len(skipped)),
            skipped=skipped, per_class={}, options=self.options,
            metric=type(self).__name__, aggregation=self.result_aggregation,
            key_options=self.key_options, per_class_by_name=True)
        scorer = OutputScorer(records, self.scoring, self.aggregation, self.class_features)
        num_classes = int(scorer.outputs.shape[-1]) if self.scoring == 'head' else len(
            self.class_features)
        names = self.class_names(num_classes)
        protocol: Dict[str, Any] = dict(name=f'zeroshot-{self.protocol}', scoring=self.scoring)
        metrics: Dict[str, float] = {}
        not_applicable: Dict[str, str] = {}
        if self.protocol == 'k600':
            metrics, splits = self._k600(scorer, not_applicable)
            protocol['splits'] = splits
        else:
            values, accuracy, confusion = scorer.full(num_classes)
            metrics.update({f'full/{key}': value for key, value in values.items()})
            not_applicable.update({f'full/{key}': reason for key, reason in
                                   F.topk_not_applicable((1, 5), num_classes).items()})
            videos = np.bincount(scorer.labels, minlength=num_classes)
            self.details['per_class'] = {'full': {
                name: dict(accuracy=None if np.isnan(acc) else float(acc), videos=int(n))
                for name, acc, n in zip(names, accuracy, videos)}}
            self.details['confusion'] = dict(classes=names, matrix=confusion.tolist())
            if self.protocol == 'half':
                rule = TASK_UTILS.build(dict(self.split_rule, num_splits=self.num_splits))
                splits = [dict(seed=seed, **scorer.split(selected)) for seed, selected
                          in enumerate(rule(num_classes))]
                for k in (1, 5):
                    values_k = [s[f'top{k}'] for s in splits if f'top{k}' in s]
                    if len(values_k) == len(splits):
                        metrics[f'half/top{k}_mean'], metrics[f'half/top{k}_std'] = \
                            mean_std(values_k)
                    else:
                        smallest = min(len(s['classes']) for s in splits)
                        reason = f'top-{k} of {smallest} classes is always 1'
                        not_applicable.update({f'half/top{k}_mean': reason,
                                               f'half/top{k}_std': reason})
                protocol.update(num_splits=self.num_splits,
                                split_rule=getattr(rule, 'rule', type(rule).__name__),
                                splits=splits)
        protocol['text_encoder_calls'] = [self.text_encoder_calls]
        if not_applicable:
            self.details['options'] = dict(self.details['options'],
                                           not_applicable=not_applicable)
        self.details['protocol'] = protocol
        return metrics

    def _k600(self, scorer: OutputScorer, not_applicable: Dict[str, str]):
        splits, offset = [], 0
        for number, count in enumerate(self.class_splits, start=1):
            values, videos = scorer.columns(np.arange(offset, offset + count))
            offset += count
            split = dict(split=number, classes=count, videos=videos, **values)
            if len(self.split_manifests) >= number:
                split['manifest'] = self.split_manifests[number - 1]
            splits.append(split)
        metrics: Dict[str, float] = {}
        for k in (1, 5):
            if all(f'top{k}' in s for s in splits):
                metrics[f'k600/top{k}_mean'], metrics[f'k600/top{k}_std'] = mean_std(
                    [s[f'top{k}'] for s in splits])
            else:
                reason = (f'top-{k} of {min(self.class_splits)} classes is always 1')
                not_applicable.update({f'k600/top{k}_mean': reason,
                                       f'k600/top{k}_std': reason})
        for split in splits:
            if 'top1' in split:
                metrics[f'k600/split{split["split"]}_top1'] = split['top1']
        return metrics, splits


def joined_manifest(manifests: Sequence[str], class_tables: Sequence[Optional[str]],
                    out_dir: str, dataset_name: Optional[str] = None) -> Tuple[str, List[int]]:
    """The K600 split manifests as one manifest (``<out_dir>/<hash8>.jsonl``).

    Each split's classes take the next columns (labels shifted; a class in
    two splits, as the K600 splits share classes, has a column in each),
    paths are made absolute; ``source.zeroshot_splits`` keeps each split's
    dataset record, which the results file shows. Returns the path and the
    class count of each split.

    Raises:
        ValueError: a manifest's classes differ from its class table.
    """
    from bike_bench.datasets.class_table import resolve_class_names
    from bike_bench.datasets.manifest import Manifest, read_manifest, write_manifest
    parts = [read_manifest(m) for m in manifests]
    classes: List[str] = []
    entries = []
    records = []
    for manifest, table in zip(parts, class_tables):
        names = list(manifest.classes)
        if table and resolve_class_names(table) != names:
            raise ValueError(f'class list of {manifest.path} does not match {table}')
        root = manifest.resolve_root()
        for entry in manifest.entries:
            entry = copy.deepcopy(entry)
            entry.path = os.path.join(root, entry.path)
            entry.label = int(entry.label) + len(classes)
            entries.append(entry)
        records.append(dict(name=manifest.dataset, split=manifest.split,
                            manifest=recorded_path(manifest.path),
                            manifest_hash=manifest.content_hash,
                            num_classes=len(names), num_videos=len(manifest.entries)))
        classes.extend(names)
    joined_hash = hashlib.sha256(''.join(r['manifest_hash'] for r in records).encode()
                                 ).hexdigest()
    joined = Manifest(dataset=dataset_name or parts[0].dataset,
                      split='+'.join(r['split'] for r in records), classes=classes,
                      entries=entries, data_root='',
                      source=dict(zeroshot_splits=records, joined_hash=joined_hash))
    path = os.path.join(out_dir, f'zeroshot_joined_{joined_hash[:8]}.jsonl')
    write_manifest(joined, path)
    return path, [r['num_classes'] for r in records]


def zeroshot_config(cfg, manifests: Sequence[str], *, protocol: str = 'full',
                    scoring: str = 'head', num_splits: int = 10,
                    aggregation: Optional[str] = None,
                    class_tables: Optional[Sequence[Optional[str]]] = None,
                    dataset_name: Optional[str] = None):
    """``cfg`` (copied) as a zero-shot evaluation of ``manifests``, before
    ``harness.test_config``: the test set, the raw-outputs loop and
    ``ZeroShotMetric`` (its split rule the config's ``zeroshot_split_rule``).
    Returns the config and the derivation label."""
    if protocol not in PROTOCOLS:
        raise ValueError(f'protocol must be one of {PROTOCOLS}, not {protocol!r}')
    if scoring not in SCORINGS:
        raise ValueError(f'scoring must be one of {SCORINGS}, not {scoring!r}')
    manifests = [manifests] if isinstance(manifests, str) else list(manifests)
    if not manifests:
        raise ValueError('no manifest to evaluate')
    if protocol != 'k600' and len(manifests) != 1:
        raise ValueError(f'protocol {protocol} takes one manifest, got {len(manifests)}')
    class_tables = list(class_tables or [None] * len(manifests))
    cfg = copy.deepcopy(cfg)
    dataset = cfg.test_dataloader.dataset
    metric = dict(type='ZeroShotMetric', protocol=protocol, scoring=scoring,
                  aggregation=aggregation or cfg.model.get('aggregation', 'official'),
                  num_splits=int(num_splits),
                  split_rule=dict(cfg.get(SPLIT_RULE_KEY) or DEFAULT_SPLIT_RULE))
    if protocol == 'k600':
        manifest, counts = joined_manifest(manifests, class_tables,
                                           os.path.join(cfg.work_dir, 'manifests'),
                                           dataset_name)
        dataset.ann_file, dataset.class_table = manifest, None
        metric.update(class_splits=counts,
                      split_manifests=[recorded_path(m) for m in manifests])
    else:
        dataset.ann_file, dataset.class_table = manifests[0], class_tables[0]
    # The class set comes from the evaluated manifest (ClassNamesHook).
    cfg.model.num_classes = None
    cfg.model.class_names = None
    cfg.test_cfg = dict(type='ViewOutputsTestLoop',
                        outputs='logits' if scoring == 'head' else 'frames')
    cfg.test_evaluator = [metric]
    label = (f'zero-shot {protocol} ({scoring} scoring) over {", ".join(manifests)}'
             + (f' with classes {", ".join(t for t in class_tables if t)}'
                if any(class_tables) else ''))
    return cfg, label


def zeroshot_test_config(cfg, checkpoint: str, manifests: Sequence[str], *,
                         protocol: str = 'full', scoring: str = 'head',
                         views: Optional[str] = None, aggregation: Optional[str] = None,
                         num_splits: int = 10, skip_bad_videos: bool = False,
                         class_tables: Optional[Sequence[Optional[str]]] = None,
                         dataset_name: Optional[str] = None, out: Optional[str] = None,
                         run_id: Optional[str] = None, trust_checkpoint: bool = False,
                         replace: bool = False, dump: Optional[str] = None):
    """The config file of a zero-shot evaluation: :func:`zeroshot_config`,
    then ``harness.test_config`` (written, read back; see :func:`run_zeroshot`
    for the arguments)."""
    from bike_bench.evaluation.harness import test_config
    from bike_bench.evaluation.views import parse_views, pipeline_views
    zs_cfg, label = zeroshot_config(cfg, manifests, protocol=protocol, scoring=scoring,
                                    num_splits=num_splits, aggregation=aggregation,
                                    class_tables=class_tables,
                                    dataset_name=dataset_name)
    first = manifests if isinstance(manifests, str) else manifests[0]
    if run_id is None:
        from bike_bench.datasets.manifest import read_manifest
        views_label = (parse_views(views) if views else pipeline_views(
            zs_cfg.test_dataloader.dataset.pipeline)).label
        used = ('frame-softmax-mean' if scoring == 'official-frame'
                else aggregation or zs_cfg.model.get('aggregation', 'official'))
        name = dataset_name or read_manifest(first, check_labels=False).dataset
        stem = os.path.splitext(os.path.basename(checkpoint))[0]
        run_id = f'zeroshot-{protocol}_{name}_{views_label}_{scoring}_{used}_{stem}'
    return test_config(zs_cfg, checkpoint, views=views, aggregation=aggregation,
                       skip_bad_videos=skip_bad_videos, out=out, run_id=run_id,
                       protocol=dict(name=f'zeroshot-{protocol}'), replace=replace,
                       trust_checkpoint=trust_checkpoint, dump=dump,
                       dataset_name=dataset_name, label=label,
                       stem=f'zeroshot_{os.path.splitext(os.path.basename(first))[0]}')


def run_zeroshot(cfg, checkpoint: str, manifests: Sequence[str], **options
                 ) -> Optional[Dict[str, Any]]:
    """Evaluate a checkpoint zero-shot and write one results file.

    :func:`zeroshot_test_config` (``options`` are its keyword arguments),
    then MMEngine's Runner; ``ResultsFileHook`` writes the file.

    Args:
        manifests: one manifest (``full``/``half``) or the K600 split
            manifests (``k600``: each its own class set).
        protocol: ``'full'``, ``'half'`` (``num_splits`` half-class splits;
            the full-class figures are reported too) or ``'k600'``.
        scoring: ``'head'`` or ``'official-frame'`` (module docstring).
        views, aggregation, skip_bad_videos, out, run_id, trust_checkpoint,
            replace: as ``harness.test_config``.
        class_tables: class table of each manifest (checked against it).
        dataset_name: the dataset name the results file records.
        dump: also save per-video raw outputs to this ``.pkl``.

    Returns the results dict on the main process (path under ``'path'``).
    """
    from bike_bench.engine.launch import prepare_launcher
    from bike_bench.evaluation.harness import runner_test
    from bike_bench.evaluation.results_hook import results_of
    zs = zeroshot_test_config(cfg, checkpoint, manifests, **options)
    prepare_launcher(zs)
    return results_of(runner_test(zs))
