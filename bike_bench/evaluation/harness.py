"""``bike-bench test`` as a config: config -> Runner -> test.

As MMAction2's tools/test.py, a test is the config, its ``load_from`` the
checkpoint, built by MMEngine's ``Runner.from_cfg`` and run with
``runner.test()``. :func:`test_config` is the one transform from an
experiment config to that file: test views, aggregation, the unreadable-video
policy, the skip-aware loop and collate, a counting metric under the
sample-index evaluator, CLIP backbones built without a download (the
checkpoint holds every weight), ``load_from`` = the checkpoint with the hook
that loads it strictly and weights-only (``CheckpointLoaderHook``), and the
hook that writes the results file (``ResultsFileHook``) in ``custom_hooks``.
It writes the result (``engine.run_config.materialize``) and returns the
file read back, so ``Runner.from_cfg(Config.fromfile(path)).test()`` with
plain MMEngine reproduces the run and its results file.
"""
from __future__ import annotations

import copy
from typing import Any, Dict, List, Optional, Tuple

from bike_bench.evaluation.evaluator import metric_list, sample_index_evaluator
# The record builders are re-exported for callers of the harness.
from bike_bench.evaluation.records import (checkpoint_record, dataset_record,  # noqa: F401
                                           default_run_id, eval_keys,
                                           metric_details, model_record)
from bike_bench.evaluation.views import (Views, parse_views, pipeline_views,
                                         sample_index_pipeline, views_pipeline)

AGGREGATIONS = ('official', 'mean')
# What every evaluation config imports, so its file runs under plain MMEngine.
EVAL_IMPORTS = ('bike_bench.models', 'bike_bench.datasets', 'bike_bench.engine',
                'bike_bench.evaluation')


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


def _evaluation_settings(cfg, views: Optional[str], aggregation: Optional[str],
                         skip_bad_videos: bool, loader: str
                         ) -> Tuple[Views, str, List[str]]:
    """Views, aggregation, skip handling and exact counting of ``cfg[loader]``,
    in place; returns the views and aggregation in effect and the labels of
    what changed (for ``run_source.derivation``)."""
    import bike_bench.evaluation  # noqa: F401  (registers loops, metrics)
    labels: List[str] = []
    dataloader = cfg.get(loader)
    if not dataloader or 'dataset' not in dataloader:
        raise ValueError(f'the config has no {loader}.dataset')
    dataset = dataloader['dataset']
    if 'pipeline' not in dataset:
        raise ValueError(f'{loader}.dataset ({dataset.get("type")}) has no '
                         'pipeline to set views in')
    views_used = pipeline_views(dataset['pipeline'], loader)
    if views and parse_views(views) != views_used:
        current, views_used = views_used, parse_views(views)
        dataset['pipeline'] = views_pipeline(dataset['pipeline'], views_used, loader)
        labels.append(f'views {views_used.label} ({loader}; the config has '
                      f'{current.label})')
    before = cfg.to_dict()
    dataset['pipeline'] = sample_index_pipeline(dataset['pipeline'])
    if aggregation is not None:
        if aggregation not in AGGREGATIONS:
            raise ValueError(f'aggregation must be one of {AGGREGATIONS}, '
                             f'not {aggregation!r}')
        cfg.model.aggregation = aggregation
    aggregation_used = cfg.model.get('aggregation', 'official')
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
    # Loops that leave skipped videos out of the model's batch and pass them on.
    skip_aware = (f'SkipAware{plain}',) + (('ViewOutputsTestLoop',) if plain == 'TestLoop'
                                            else ())
    if loop.get('type', plain) not in (plain,) + skip_aware:
        raise ValueError(f'{loop_key} uses the custom loop {loop["type"]}; '
                         f'bike-bench evaluation needs SkipAware{plain}')
    if loop.get('type') not in skip_aware:
        loop['type'] = f'SkipAware{plain}'
        cfg[loop_key] = loop
    evaluator_key = 'test_evaluator' if loader == 'test_dataloader' else 'val_evaluator'
    evaluator = cfg.get(evaluator_key)
    metrics = [] if evaluator is None else metric_list(evaluator)
    if metrics is not None and not any(_is_counting(metric) for metric in metrics):
        # The config's own metrics cannot count skipped/padded videos.
        metrics = metrics + [dict(type='VideoCountMetric')]
        cfg[evaluator_key] = (dict(evaluator, metrics=metrics)
                              if isinstance(evaluator, dict) and 'metrics' in evaluator
                              else metrics)
    if cfg.to_dict() != before:
        labels.append('bike-bench evaluation: skip-aware loop and collate, counting '
                      f'metric, sample_idx packed, on_error={dataset.get("on_error")}'
                      + (f', aggregation={aggregation}' if aggregation else ''))
    return views_used, aggregation_used, labels


def prepare_eval_config(cfg, *, views: Optional[str] = None,
                        aggregation: Optional[str] = None,
                        skip_bad_videos: bool = False,
                        loader: str = 'test_dataloader') -> Tuple[Views, str]:
    """Set views, aggregation and skip handling of ``cfg[loader]`` in place.

    Returns the views and aggregation in effect. Unreadable videos raise
    (naming the file) unless ``skip_bad_videos``; then they are left out of
    the model's batch and listed in the results file. (A test's whole
    config: :func:`test_config`.)
    """
    from bike_bench.engine.run_config import derive
    views_used, aggregation_used, labels = _evaluation_settings(
        cfg, views, aggregation, skip_bad_videos, loader)
    for label in labels:
        derive(cfg, label)
    return views_used, aggregation_used


def test_config(cfg, checkpoint: str, *, views: Optional[str] = None,
                aggregation: Optional[str] = None, skip_bad_videos: bool = False,
                out: Optional[str] = None, run_id: Optional[str] = None,
                protocol: Optional[Dict[str, Any]] = None,
                trust_checkpoint: bool = False, replace: bool = False,
                extra: Optional[Dict[str, Any]] = None, dump: Optional[str] = None,
                stem: Optional[str] = None, label: Optional[str] = None,
                dataset_name: Optional[str] = None):
    """The config file that tests ``checkpoint``: written, and read back.

    ``cfg`` is copied, not modified. The transform (module docstring) is
    applied before the file is written, so the file holds all of it:
    ``load_from`` is the checkpoint, ``custom_hooks`` ends with
    ``CheckpointLoaderHook`` and ``ResultsFileHook``.

    Args:
        cfg: an MMEngine ``Config``.
        checkpoint: the checkpoint to test: an MMEngine checkpoint or one in
            the official BIKE release layout (converted on the fly), loaded
            strictly (a missing or unexpected key is an error naming it).
        views: ``'CxS'`` to override the config's test views.
        aggregation: ``'official'`` or ``'mean'`` (default: the config's).
        skip_bad_videos: skip unreadable videos (listed in the results file)
            instead of stopping at the first one.
        out: results file; default ``<work_dir>/results/<run_id>_<key8>.json``
            (``key8``: the start of the inputs key, so runs on different
            manifests that share dataset and split names keep both files).
        run_id, protocol, replace, extra, dataset_name: ``ResultsFileHook`` arguments
            (protocol default ``{'name': 'test'}``; ``replace``: replace
            whatever file is at the results path, for callers that decided to
            rerun; by default a file of another run is refused).
        trust_checkpoint: load a checkpoint that holds arbitrary pickled
            objects (can run code from the file); refused by default.
        dump: also save per-video scores to this ``.pkl`` (MMEngine's
            ``DumpResults``).
        stem, label: the written file's name stem and the derivation label.

    Returns:
        The ``Config`` read back from the written file (``filename`` is it).

    Raises:
        FileNotFoundError: no file at ``checkpoint``.
        ValueError: views, aggregation or skip policy the config cannot take.
    """
    import os
    from bike_bench.engine.run_config import materialize
    from bike_bench.evaluation.provenance import code_identity
    from bike_bench.models.pretrained import backbones_from_checkpoint
    if not os.path.isfile(checkpoint):
        raise FileNotFoundError(f'checkpoint not found: {checkpoint}')
    code_identity()  # before this run writes anything
    cfg = copy.deepcopy(cfg)
    given = cfg.to_dict()
    views_used, aggregation_used, labels = _evaluation_settings(
        cfg, views, aggregation, skip_bad_videos, 'test_dataloader')
    # The checkpoint holds every weight: no CLIP download.
    backbones_from_checkpoint(cfg.model)
    for key in ('val_evaluator', 'test_evaluator'):
        if cfg.get(key) is not None:  # every metric counts each video once
            cfg[key] = sample_index_evaluator(cfg[key])
    if dump:
        evaluator = cfg.test_evaluator
        metrics = _as_list(evaluator['metrics'])
        if dict(type='DumpResults', out_file_path=dump) not in metrics:
            evaluator['metrics'] = metrics + [dict(type='DumpResults', out_file_path=dump)]
    cfg.load_from = checkpoint
    cfg.resume = False
    # A config written here before keeps its hooks' settings where no option
    # is given (options merge into the config, as --cfg-options do).
    hooks = _as_list(cfg.get('custom_hooks'))
    kept = {h.get('type'): dict(h) for h in hooks
            if h.get('type') in ('CheckpointLoaderHook', 'ResultsFileHook')}
    loader = kept.get('CheckpointLoaderHook') or dict(type='CheckpointLoaderHook')
    if trust_checkpoint or 'trust' not in loader:
        loader['trust'] = bool(trust_checkpoint)
    results = kept.get('ResultsFileHook') or dict(type='ResultsFileHook')
    for name, value in dict(out=out, run_id=run_id, protocol=protocol, extra=extra,
                            dataset_name=dataset_name).items():
        if value is not None:
            results[name] = value
    # Whether to replace another run's file is this call's decision, never
    # inherited from the config a rerun starts from (a reproduce-written
    # config says True for its own scratch file).
    results['replace'] = bool(replace)
    if 'manifest' not in results:  # what the file is written for: a rerun on
        # other data warns (ResultsFileHook)
        from bike_bench.evaluation.records import manifest_identity
        recorded = manifest_identity((cfg.test_dataloader.get('dataset') or {}).get('ann_file'))
        if recorded:
            results['manifest'] = recorded
    cfg.custom_hooks = [h for h in hooks if h.get('type') not in kept] + [loader, results]
    imports = dict(cfg.get('custom_imports') or {})
    names = _as_list(imports.get('imports'))
    imports['imports'] = names + [name for name in EVAL_IMPORTS if name not in names]
    imports.setdefault('allow_failed_imports', False)
    cfg.custom_imports = imports
    cfg.default_scope = cfg.get('default_scope') or 'mmaction'
    if cfg.to_dict() != given:  # not already this test's file
        labels.append(label or f'bike-bench test of {os.path.basename(checkpoint)} '
                      f'(views {views_used.label}, aggregation {aggregation_used})')
    return materialize(cfg, stem=stem, derivation=labels)


def runner_test(cfg):
    """``Runner.from_cfg(cfg).test()`` (or the config's ``runner_type``);
    returns the runner."""
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner
    runner = RUNNERS.build(cfg) if 'runner_type' in cfg else Runner.from_cfg(cfg)
    runner.test()
    return runner


def run_test(cfg, checkpoint: str, **options) -> Optional[Dict[str, Any]]:
    """Evaluate ``checkpoint`` on the config's test set; write a results file.

    :func:`test_config` (``options`` are its keyword arguments), then
    MMEngine's Runner. ``config.path`` in the results names the written
    file, so ``bike-bench test <config.path> <checkpoint>`` (or plain
    MMEngine on that file) runs the same evaluation again.

    Returns:
        The results dict (main process; ``None`` on other ranks). Its path
        is under the ``'path'`` key.
    """
    from bike_bench.engine.launch import prepare_launcher
    from bike_bench.evaluation.results_hook import results_of
    cfg = test_config(cfg, checkpoint, **options)
    prepare_launcher(cfg)
    return results_of(runner_test(cfg))


def _cuda_available() -> bool:
    import torch
    return torch.cuda.is_available()
