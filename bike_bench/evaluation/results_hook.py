"""The hook that writes a test run's results file (after the test epoch).

``runner.test()`` with this hook registered leaves one results JSON
(``bike_bench.evaluation.results``) naming the config file the Runner was
built from, the checkpoint, the dataset, the counts and the metrics.
``run_test`` registers it; nothing else has to happen after the Runner.
"""
from __future__ import annotations

import time
from typing import Any, Dict, Optional

from mmengine.hooks import Hook

from mmaction.registry import HOOKS


@HOOKS.register_module()
class ResultsFileHook(Hook):
    """Write the results file of a test run on the main process.

    Args:
        checkpoint: the checkpoint that was loaded (recorded with its hash;
            default: the config's ``load_from``).
        out: the results file (default ``<work_dir>/results/<run_id>_<key8>.json``).
        run_id: the run's name (default from dataset, views, aggregation
            and checkpoint).
        protocol: protocol description (default ``{'name': 'test'}``).
        replace: replace any file at ``out``; otherwise a file of another
            run there is refused (``ResultsConflictError``).
        extra: more top-level fields.
        config: the config to record (default ``runner.cfg``): the file the
            Runner was built from, before the checkpoint took the place of
            its ``load_from``.

    After the test epoch ``self.results`` holds the written dict (with its
    path under ``'path'``); ``None`` on other ranks.
    """

    priority = 'LOW'

    def __init__(self, checkpoint: Optional[str] = None, out: Optional[str] = None,
                 run_id: Optional[str] = None, protocol: Optional[Dict[str, Any]] = None,
                 replace: bool = False, extra: Optional[Dict[str, Any]] = None,
                 config=None):
        self.checkpoint = checkpoint
        self.config = config
        self.out = out
        self.run_id = run_id
        self.protocol = protocol
        self.replace = replace
        self.extra = extra or {}
        self.results: Optional[Dict[str, Any]] = None
        self._start = time.time()

    def before_test(self, runner) -> None:
        self._start = time.time()

    def after_test_epoch(self, runner, metrics: Optional[Dict[str, float]] = None) -> None:
        from mmengine.dist import is_main_process
        from bike_bench.evaluation.harness import (_plain, checkpoint_record,
                                                   dataset_record, default_run_id,
                                                   eval_keys, metric_details,
                                                   model_record)
        from bike_bench.evaluation.provenance import config_record, environment_record
        from bike_bench.evaluation.results import (build_results, check_replace,
                                                   results_path, write_results)
        from bike_bench.evaluation.views import config_views
        if not is_main_process():
            return
        cfg = self.config if self.config is not None else runner.cfg
        checkpoint = self.checkpoint or cfg.get('load_from')
        if not checkpoint:
            raise ValueError('ResultsFileHook: no checkpoint given and the config '
                             'has no load_from')
        views = config_views(cfg)
        aggregation = cfg.model.get('aggregation', 'official')
        ckpt = checkpoint_record(checkpoint)
        details = metric_details(runner.test_loop.evaluator.metrics)
        dataset = dataset_record(runner.test_loop.dataloader.dataset)
        keys = eval_keys(cfg, ckpt['sha256'], [dataset['manifest_hash']])
        run_id = self.run_id or default_run_id('test', dataset, views.label,
                                               aggregation, checkpoint)
        results = build_results(
            run_id=run_id, protocol=self.protocol or dict(name='test'),
            metrics=_plain(metrics or {}), views=views.to_dict(),
            aggregation=aggregation, dataset=dataset, checkpoint=ckpt,
            config=config_record(cfg), environment=environment_record(),
            wall_time_s=time.time() - self._start, counts=details['counts'],
            skipped=details['skipped'], per_class=details['per_class'],
            metric_options=details['metric_options'],
            extra=dict(model=model_record(runner.model), **keys, **self.extra,
                       **({'confusion': details['confusion']} if details.get('confusion')
                          else {})))
        from bike_bench.evaluation.class_set import class_set_record, warn_if_other_classes
        class_set = class_set_record(getattr(runner, 'bike_checkpoint_meta', None),
                                     runner.test_loop.dataloader.dataset.manifest.classes)
        warn_if_other_classes(class_set)
        results['class_set'] = class_set
        path = self.out or results_path(cfg.work_dir, run_id, keys['inputs_key'])
        if not self.replace:
            check_replace(path, results)
        write_results(results, path)
        self.results = dict(results, path=path)
