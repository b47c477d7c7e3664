"""Record builders of a results file: checkpoint, dataset, model, counts, keys.

Every results file (test, zero-shot, few-shot, V+A, Charades) is written by
``ResultsFileHook`` from these pieces (layout: ``evaluation/results.py``).
"""
from __future__ import annotations

import os
from typing import Any, Dict

from bike_bench.datasets.coverage import coverage_record
from bike_bench.paths import recorded_path

# Top-level config entries that say how an evaluation is run and where it
# writes, not what it computes: the checkpoint (recorded by its hash) and the
# hooks that load it and write the results file.
RUN_ONLY_HOOKS = ('ResultsFileHook', 'CheckpointLoaderHook')


def checkpoint_record(path: str) -> Dict[str, Any]:
    from bike_bench.utils.hashing import file_sha256
    if not os.path.isfile(path):
        raise FileNotFoundError(f'checkpoint not found: {path}')
    return dict(path=recorded_path(path), sha256=file_sha256(path))


def manifest_identity(manifest) -> Dict[str, Any]:
    """``{'hash', 'videos'}`` of a manifest (a ``Manifest`` or its path) as
    :func:`dataset_record` hashes it (a joined zero-shot manifest by the
    hash of its splits); ``{}`` for a path that is not a manifest file."""
    if isinstance(manifest, str) or manifest is None:
        from bike_bench.datasets.manifest import read_manifest
        if not isinstance(manifest, str) or not os.path.isfile(manifest):
            return {}
        manifest = read_manifest(manifest, check_labels=False)
    joined = (manifest.source or {}).get('zeroshot_splits')
    return dict(hash=manifest.source['joined_hash'] if joined else manifest.content_hash,
                videos=len(manifest.entries))


def dataset_record(dataset) -> Dict[str, Any]:
    manifest = getattr(dataset, 'manifest', None)
    if manifest is None:
        raise ValueError(f'{type(dataset).__name__} has no manifest: results '
                         'files need a ManifestVideoDataset for provenance')
    joined = (manifest.source or {}).get('zeroshot_splits')
    if joined:  # the K600 splits as one pass (evaluation.zeroshot.joined_manifest)
        return dict(name=manifest.dataset, split=manifest.split,
                    manifest=[split['manifest'] for split in joined],
                    manifest_hash=manifest.source['joined_hash'],
                    num_classes=manifest.num_classes, num_videos=len(manifest.entries),
                    joined_manifest=recorded_path(manifest.path), splits=joined)
    return dict(name=manifest.dataset, split=manifest.split,
                manifest=recorded_path(manifest.path),
                manifest_hash=manifest.content_hash,
                num_classes=manifest.num_classes, num_videos=len(manifest.entries),
                **coverage_record(manifest))  # present / listed (datasets.coverage)


def metric_details(metrics) -> Dict[str, Any]:
    """Counts, skipped list, per-class results and options of the metrics.

    Every counting metric saw the same videos; a disagreement is an error.
    A metric may describe its protocol (``details['protocol']``), the
    aggregation it scored with (``details['aggregation']``) and options that
    key its result (``details['key_options']``): ``ZeroShotMetric`` does.
    """
    from bike_bench.evaluation.metrics.base import CountMismatchError
    details = [m for m in metrics if getattr(m, 'details', None)]
    if not details:
        raise CountMismatchError('no bike-bench metric recorded counts')
    counts = details[0].details['counts']
    for metric in details[1:]:
        if metric.details['counts'] != counts:
            raise CountMismatchError(f'metrics disagree on counts: {counts} vs '
                                     f'{metric.details["counts"]}')
    per_class = {}
    for metric in details:
        if metric.details.get('per_class'):
            per_class.update(metric.details['per_class']
                             if metric.details.get('per_class_by_name')
                             else {type(metric).__name__: metric.details['per_class']})
    options = {type(m).__name__: m.details.get('options', {}) for m in details}
    confusion = {type(m).__name__: m.details['confusion'] for m in details
                 if m.details.get('confusion')}
    key_options: Dict[str, Any] = {}
    for metric in details:
        key_options.update(metric.details.get('key_options') or {})
    aggregation = next((m.details['aggregation'] for m in details
                        if m.details.get('aggregation')), None)
    return dict(counts=dict(counts), skipped=details[0].details['skipped'],
                per_class=per_class, metric_options=options, confusion=confusion,
                protocols=[m.details['protocol'] for m in details
                           if m.details.get('protocol')],
                key_options=key_options, aggregation=aggregation)


def default_run_id(kind: str, dataset: Dict[str, Any], views: str,
                   aggregation: str, checkpoint: str) -> str:
    stem = os.path.splitext(os.path.basename(checkpoint))[0]
    name = f'{dataset["name"]}-{dataset["split"]}' if dataset.get('split') else dataset['name']
    return f'{kind}_{name}_{views}_{aggregation}_{stem}'.replace(os.sep, '-')


def model_record(model) -> Dict[str, Any]:
    """The architecture that ran: class, parameter count, and a signature
    (SHA-256 of every state-dict entry's name and shape)."""
    import hashlib
    from mmengine.model import is_model_wrapper
    model = model.module if is_model_wrapper(model) else model
    state = model.state_dict()
    lines = '\n'.join(f'{name}:{tuple(value.shape)}' for name, value in state.items())
    return dict(type=type(model).__name__,
                params=int(sum(p.numel() for p in model.parameters())),
                signature=hashlib.sha256(lines.encode()).hexdigest())


def eval_keys(cfg, checkpoint_sha: str, manifest_hashes, **options) -> Dict[str, str]:
    """Run keys of an evaluation: config content, checkpoint, manifests, options."""
    from bike_bench.evaluation.provenance import config_key_hash, run_key
    return run_key(dict(config=config_key_hash(cfg), checkpoint=checkpoint_sha,
                        manifests=list(manifest_hashes), **options))


def plain_metrics(metrics: Dict[str, Any]) -> Dict[str, Any]:
    return {key: float(value) if isinstance(value, (int, float)) or hasattr(value, 'item')
            else value for key, value in metrics.items()}


def evaluated_config(cfg) -> Dict[str, Any]:
    """``cfg`` without what only says how it runs: ``load_from``/``resume``
    (the checkpoint is keyed by its hash) and the checkpoint-loading and
    results-file hooks (``RUN_ONLY_HOOKS``). The run keys hash this, so a
    results file's ``inputs_key`` does not depend on where it is written."""
    data = cfg.to_dict() if hasattr(cfg, 'to_dict') else dict(cfg)
    data = {k: v for k, v in data.items() if k not in ('load_from', 'resume')}
    hooks = [h for h in (data.get('custom_hooks') or [])
             if not (isinstance(h, dict) and h.get('type') in RUN_ONLY_HOOKS)]
    if 'custom_hooks' in data:
        data['custom_hooks'] = hooks
    return data
