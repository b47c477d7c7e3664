"""The hook that writes an evaluation's results file (after the test epoch).

``runner.test()`` with this hook in the config's ``custom_hooks`` leaves one
results JSON (``bike_bench.evaluation.results``) naming the config file the
Runner was built from, the checkpoint (``load_from``), the dataset, the
counts and the metrics. It is the one writer of results files: a test, a
zero-shot protocol (``ZeroShotMetric``), a few-shot seed, V+A and Charades
runs all end here, built from the same records (``evaluation.records``).
``evaluation.harness.test_config`` adds it to the config before the config
is written, so the written file alone reproduces the run.
"""
from __future__ import annotations

import time
from typing import Any, Dict, Optional

from mmengine.hooks import Hook

from mmaction.registry import HOOKS

from bike_bench.evaluation.records import (checkpoint_record, dataset_record,
                                           default_run_id, eval_keys,
                                           evaluated_config, metric_details,
                                           model_record, plain_metrics)


@HOOKS.register_module()
class ResultsFileHook(Hook):
    """Write the results file of a test run on the main process.

    Args:
        checkpoint: the checkpoint recorded (with its hash; default: the
            config's ``load_from``, the one the Runner loaded).
        out: the results file (default ``<work_dir>/results/<run_id>_<key8>.json``).
        run_id: the run's name (default from dataset, views, aggregation
            and checkpoint).
        protocol: protocol description (default ``{'name': 'test'}``); a
            metric that describes its protocol (``details['protocol']``,
            e.g. ``ZeroShotMetric``) adds to it.
        replace: replace any file at ``out``; otherwise a file of another
            run there is refused (``ResultsConflictError``), before the
            test epoch runs.
        extra: more top-level fields.
        manifest: ``{'hash', 'videos'}`` of the test manifest the config was
            written for (``harness.test_config`` records it); a run on a
            manifest of another hash logs one warning line naming both
            hashes and video counts.

    After the test epoch ``self.results`` holds the written dict (with its
    path under ``'path'``); ``None`` on other ranks.
    """

    priority = 'LOW'

    def __init__(self, checkpoint: Optional[str] = None, out: Optional[str] = None,
                 run_id: Optional[str] = None, protocol: Optional[Dict[str, Any]] = None,
                 replace: bool = False, extra: Optional[Dict[str, Any]] = None,
                 dataset_name: Optional[str] = None,
                 manifest: Optional[Dict[str, Any]] = None):
        self.checkpoint = checkpoint
        self.manifest = dict(manifest or {})
        self.out = out
        self.run_id = run_id
        self.protocol = dict(protocol or dict(name='test'))
        self.replace = replace
        self.extra = dict(extra or {})
        self.dataset_name = dataset_name
        self.results: Optional[Dict[str, Any]] = None
        self._plan: Optional[Dict[str, Any]] = None
        self._start = time.time()

    def _planned(self, runner) -> Dict[str, Any]:
        """Checkpoint, dataset, keys, run id and path: all known before the
        test epoch (the loop, its dataset and its metrics are built)."""
        if self._plan is not None:
            return self._plan
        from bike_bench.evaluation.results import results_path
        from bike_bench.evaluation.views import config_views
        cfg = runner.cfg
        checkpoint = self.checkpoint or cfg.get('load_from')
        if not checkpoint:
            raise ValueError('ResultsFileHook: no checkpoint given and the config '
                             'has no load_from')
        metrics = runner.test_loop.evaluator.metrics
        key_options: Dict[str, Any] = {}
        for metric in metrics:
            key_options.update(getattr(metric, 'key_options', None) or {})
        aggregation = next((m.result_aggregation for m in metrics
                            if hasattr(m, 'result_aggregation')),
                           cfg.model.get('aggregation', 'official'))
        ckpt = checkpoint_record(checkpoint)
        dataset = dataset_record(runner.test_loop.dataloader.dataset)
        if self.dataset_name:
            dataset['name'] = self.dataset_name
        keys = eval_keys(evaluated_config(cfg), ckpt['sha256'], [dataset['manifest_hash']],
                         **key_options)
        views = config_views(cfg)
        run_id = self.run_id or default_run_id(self.protocol['name'], dataset, views.label,
                                               aggregation, checkpoint)
        path = self.out or results_path(cfg.work_dir, run_id, keys['inputs_key'])
        self._plan = dict(checkpoint=checkpoint, ckpt=ckpt, dataset=dataset, keys=keys,
                          views=views, aggregation=aggregation, run_id=run_id, path=path)
        return self._plan

    def before_test(self, runner) -> None:
        """Refuse, before anything is evaluated, to write where a file of
        another run (other inputs key) or no results file is."""
        from mmengine.dist import is_main_process
        from bike_bench.evaluation.results import check_replace
        self._start = time.time()
        self._plan = None
        if not is_main_process():
            return
        plan = self._planned(runner)
        recorded, dataset = self.manifest.get('hash'), plan['dataset']
        if recorded and recorded != dataset['manifest_hash']:
            runner.logger.warning(
                f'{dataset.get("joined_manifest") or dataset["manifest"]}: manifest '
                f'{dataset["manifest_hash"][:12]} ({dataset["num_videos"]} videos) is not '
                f'the one this config was written for, {recorded[:12]} '
                f'({self.manifest.get("videos")} videos): the results describe other data')
        if not self.replace:
            check_replace(plan['path'], dict(plan['keys']), echo=lambda _: None)

    def after_test_epoch(self, runner, metrics: Optional[Dict[str, float]] = None) -> None:
        from mmengine.dist import is_main_process
        from bike_bench.evaluation.class_set import class_set_record, warn_if_other_classes
        from bike_bench.evaluation.provenance import config_record, environment_record
        from bike_bench.evaluation.results import (build_results, check_replace,
                                                   write_results)
        if not is_main_process():
            return
        plan = self._planned(runner)
        details = metric_details(runner.test_loop.evaluator.metrics)
        protocol = dict(self.protocol)
        for described in details['protocols']:
            protocol.update(described)
        extra = dict(model=model_record(runner.model), **plan['keys'])
        extra.update(_fast_path(runner.model))
        extra.update(self.extra)
        if details.get('confusion'):
            extra['confusion'] = details['confusion']
        results = build_results(
            run_id=plan['run_id'], protocol=protocol,
            metrics=plain_metrics(metrics or {}), views=plan['views'].to_dict(),
            aggregation=details.get('aggregation') or plan['aggregation'],
            dataset=plan['dataset'], checkpoint=plan['ckpt'],
            config=config_record(runner.cfg), environment=environment_record(),
            wall_time_s=time.time() - self._start, counts=details['counts'],
            skipped=details['skipped'], per_class=details['per_class'],
            metric_options=details['metric_options'], extra=extra)
        class_set = class_set_record(getattr(runner, 'bike_checkpoint_meta', None),
                                     runner.test_loop.dataloader.dataset.manifest.classes)
        if not protocol['name'].startswith('zeroshot'):  # there it is the point
            warn_if_other_classes(class_set)
        results['class_set'] = class_set
        path = plan['path']
        if not self.replace:
            check_replace(path, results)
        write_results(results, path)
        self.results = dict(results, path=path)


def _fast_path(model) -> Dict[str, Any]:
    """``{'fast_path': ...}``: whether the official fp32 image encoder or the
    GPU fast path (which levers, and their status) computed the results."""
    model = getattr(model, 'module', model)  # DDP wrapper
    record = getattr(model, 'fast_path_record', None)
    return {'fast_path': record()} if record is not None else {}


def results_of(runner) -> Optional[Dict[str, Any]]:
    """The results dict the runner's ``ResultsFileHook`` wrote (``None`` on
    other ranks, or without such a hook)."""
    hook = next((h for h in runner.hooks if isinstance(h, ResultsFileHook)), None)
    return None if hook is None else hook.results
