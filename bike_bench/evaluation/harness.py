"""``bike-bench test`` as a function: evaluate a checkpoint, write a results file.

``run_test`` derives the config (views, aggregation, skip handling, exact
counting), writes it (``engine.run_config.materialize``), builds MMEngine's
Runner from that file, loads the checkpoint strictly and runs
``runner.test()``; the registered ``ResultsFileHook`` writes the results
JSON. The pieces are shared with the zero-shot and few-shot protocols.
"""
from __future__ import annotations

import copy
import os
from typing import Any, Dict, List, Optional, Tuple

from bike_bench.evaluation.views import Views, pack_sample_index, views_from_option

AGGREGATIONS = ('official', 'mean')


def _as_list(value) -> List[dict]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _is_counting(metric_cfg) -> bool:
    from mmaction.registry import METRICS
    from bike_bench.evaluation.metrics.base import VideoRecordMetric
    metric_type = metric_cfg.get('type') if hasattr(metric_cfg, 'get') else None
    cls = METRICS.get(metric_type) if isinstance(metric_type, str) else metric_type
    return isinstance(cls, type) and issubclass(cls, VideoRecordMetric)


def _is_manifest_dataset(dataset_type) -> bool:
    from mmaction.registry import DATASETS
    from bike_bench.datasets.video_dataset import ManifestVideoDataset
    cls = DATASETS.get(dataset_type) if isinstance(dataset_type, str) else dataset_type
    return isinstance(cls, type) and issubclass(cls, ManifestVideoDataset)


def prepare_eval_config(cfg, *, views: Optional[str] = None,
                        aggregation: Optional[str] = None,
                        skip_bad_videos: bool = False,
                        loader: str = 'test_dataloader') -> Tuple[Views, str]:
    """Set views, aggregation and skip handling of ``cfg[loader]`` in place.

    Returns the views and aggregation in effect. Unreadable videos raise
    (naming the file) unless ``skip_bad_videos``; then they are left out of
    the model's batch and listed in the results file.
    """
    import bike_bench.evaluation  # noqa: F401  (registers loops, metrics)
    from bike_bench.engine.run_config import derive
    from bike_bench.evaluation.provenance import config_hash
    views_used = views_from_option(cfg, views, loader)
    after_views = config_hash(cfg)
    pack_sample_index(cfg, loader)
    if aggregation is not None:
        if aggregation not in AGGREGATIONS:
            raise ValueError(f'aggregation must be one of {AGGREGATIONS}, '
                             f'not {aggregation!r}')
        cfg.model.aggregation = aggregation
    aggregation_used = cfg.model.get('aggregation', 'official')
    dataloader = cfg[loader]
    dataset = dataloader['dataset']
    if _is_manifest_dataset(dataset.get('type')):
        if skip_bad_videos:  # otherwise the config's own setting stands
            dataset['on_error'] = 'skip'
    elif skip_bad_videos:
        raise ValueError(f'--skip-bad-videos needs a ManifestVideoDataset, the '
                         f'config\'s {loader} uses {dataset.get("type")}')
    # The configs declare these (_base_/schedules, _base_/datasets); a config
    # that does not gets them here, recorded as a derivation.
    if dict(dataloader.get('collate_fn') or {}).get('type') != 'skip_aware_collate':
        dataloader['collate_fn'] = dict(type='skip_aware_collate')
    # Pinned batches: the data preprocessor's copy to the GPU does not block.
    dataloader.setdefault('pin_memory', _cuda_available())
    loop_key, plain = (('test_cfg', 'TestLoop') if loader == 'test_dataloader'
                       else ('val_cfg', 'ValLoop'))
    loop = dict(cfg.get(loop_key) or {})
    if loop.get('type', plain) not in (plain, f'SkipAware{plain}'):
        raise ValueError(f'{loop_key} uses the custom loop {loop["type"]}; '
                         f'bike-bench evaluation needs SkipAware{plain}')
    if loop.get('type') != f'SkipAware{plain}':
        loop['type'] = f'SkipAware{plain}'
        cfg[loop_key] = loop
    evaluator_key = 'test_evaluator' if loader == 'test_dataloader' else 'val_evaluator'
    metrics = _as_list(cfg.get(evaluator_key))
    if not any(_is_counting(metric) for metric in metrics):
        # The config's own metrics cannot count skipped/padded videos.
        cfg[evaluator_key] = metrics + [dict(type='VideoCountMetric')]
    if config_hash(cfg) != after_views:
        derive(cfg, 'bike-bench evaluation: skip-aware loop and collate, counting '
               f'metric, sample_idx packed, on_error={dataset.get("on_error")}'
               + (f', aggregation={aggregation}' if aggregation else ''))
    return views_used, aggregation_used


def checkpoint_record(path: str) -> Dict[str, Any]:
    from bike_bench.utils.hashing import file_sha256
    if not os.path.isfile(path):
        raise FileNotFoundError(f'checkpoint not found: {path}')
    return dict(path=os.path.abspath(path), sha256=file_sha256(path))


def dataset_record(dataset) -> Dict[str, Any]:
    manifest = getattr(dataset, 'manifest', None)
    if manifest is None:
        raise ValueError(f'{type(dataset).__name__} has no manifest: results '
                         'files need a ManifestVideoDataset for provenance')
    from bike_bench.datasets.coverage import coverage_record  # present / listed
    return dict(name=manifest.dataset, split=manifest.split,
                manifest=os.path.abspath(manifest.path) if manifest.path else None,
                manifest_hash=manifest.content_hash,
                num_classes=manifest.num_classes, num_videos=len(manifest.entries),
                **coverage_record(manifest))


def metric_details(metrics) -> Dict[str, Any]:
    """Counts, skipped list, per-class results and options of the metrics.

    Every counting metric saw the same videos; a disagreement is an error.
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
    per_class = {type(m).__name__: m.details['per_class'] for m in details
                 if m.details.get('per_class')}
    options = {type(m).__name__: m.details.get('options', {}) for m in details}
    confusion = {type(m).__name__: m.details['confusion'] for m in details
                 if m.details.get('confusion')}
    return dict(counts=dict(counts), skipped=details[0].details['skipped'],
                per_class=per_class, metric_options=options, confusion=confusion)


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


def _plain(metrics: Dict[str, Any]) -> Dict[str, Any]:
    return {key: float(value) if isinstance(value, (int, float)) or hasattr(value, 'item')
            else value for key, value in metrics.items()}


def build_runner_with_checkpoint(cfg, checkpoint: str, trust: bool = False):
    """A Runner for ``cfg`` whose model holds ``checkpoint``, loaded strictly.

    Official-layout checkpoints are converted first (once, under the work
    dir). As MMAction2's tools/test.py, the checkpoint takes the place of
    the config's ``load_from``; it is loaded with MMEngine's
    ``runner.load_checkpoint(strict=True)``, weights-only
    (``checkpoint_io.load_into_runner``).
    """
    from bike_bench.checkpoint_io import load_into_runner
    from bike_bench.cli.common import build_runner
    from bike_bench.models.convert import prepare_checkpoint_for_test
    if not os.path.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {checkpoint}')
    loadable = prepare_checkpoint_for_test(checkpoint, cfg.work_dir, trust)
    # A copy: the caller's config stays the recorded file.
    cfg = copy.deepcopy(cfg)
    cfg.load_from = None
    cfg.resume = False
    runner = build_runner(cfg)
    # The checkpoint's meta (training classes) is recorded with the results.
    runner.bike_checkpoint_meta = load_into_runner(runner, loadable, trust)
    return runner


def run_test(cfg, checkpoint: str, *, views: Optional[str] = None,
             aggregation: Optional[str] = None, skip_bad_videos: bool = False,
             out: Optional[str] = None, run_id: Optional[str] = None,
             protocol: Optional[Dict[str, Any]] = None,
             trust_checkpoint: bool = False, replace: bool = False,
             extra: Optional[Dict[str, Any]] = None) -> Optional[Dict[str, Any]]:
    """Evaluate ``checkpoint`` on the config's test set; write a results file.

    The checkpoint may be an MMEngine checkpoint or one in the official BIKE
    release layout (converted on the fly). It is loaded strictly: a missing
    or unexpected key is an error naming it, not a warning.

    Args:
        cfg: an MMEngine ``Config`` (copied, not modified).
        checkpoint: the checkpoint to load.
        views: ``'CxS'`` to override the config's test views.
        aggregation: ``'official'`` or ``'mean'`` (default: the config's).
        skip_bad_videos: skip unreadable videos (listed in the results file)
            instead of stopping at the first one.
        out: results file; default ``<work_dir>/results/<run_id>_<key8>.json``
            (``key8``: the start of the inputs key, so runs on different
            manifests that share dataset and split names keep both files).
        protocol: protocol description to record (default ``{'name': 'test'}``).
        trust_checkpoint: load a checkpoint that holds arbitrary pickled
            objects (can run code from the file); refused by default.
        replace: replace whatever file is at the results path (callers that
            decided to rerun); by default a file of another run is refused
            (``ResultsConflictError``).
        extra: more top-level fields for the results file.

    The config is written (``materialize``) before the Runner is built;
    ``config.path`` in the results names that file, so ``bike-bench test
    <config.path> <checkpoint>`` runs the same evaluation again.

    Returns:
        The results dict (main process; ``None`` on other ranks). Its path
        is under the ``'path'`` key.
    """
    from bike_bench.engine.run_config import materialize
    from bike_bench.evaluation.provenance import code_identity
    from bike_bench.evaluation.results_hook import ResultsFileHook

    code_identity()  # before this run writes anything
    cfg = copy.deepcopy(cfg)
    prepare_eval_config(cfg, views=views, aggregation=aggregation,
                        skip_bad_videos=skip_bad_videos)
    cfg = materialize(cfg)  # the file that runs; results point to it
    runner = build_runner_with_checkpoint(cfg, checkpoint, trust_checkpoint)
    fast_path = _fast_path_extra(runner.model)
    if fast_path:
        extra = dict(extra or {}, **fast_path)
    hook = ResultsFileHook(checkpoint=checkpoint, out=out, run_id=run_id,
                           protocol=protocol, replace=replace, extra=extra,
                           config=cfg)
    runner.register_hook(hook)
    runner.test()
    return hook.results


def _fast_path_extra(model) -> Optional[dict]:
    """``{'fast_path': ...}``: whether the official fp32 image encoder or the
    GPU fast path (which levers, and their status) computed the results."""
    model = getattr(model, 'module', model)  # DDP wrapper
    record = getattr(model, 'fast_path_record', None)
    return {'fast_path': record()} if record is not None else None


def _cuda_available() -> bool:
    import torch
    return torch.cuda.is_available()
