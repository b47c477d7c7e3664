"""A test loop that keeps raw per-view outputs instead of aggregated scores.

Protocols that score one forward pass several ways (zero-shot class
subsets) need what comes before aggregation: the head's raw logits for every
view and class (``outputs='logits'``), or the image encoder's per-frame
features (``outputs='frames'``, the official zero-shot split scoring). The
metrics it feeds gather them from all ranks and de-duplicate them by dataset
index (``VideoRecordMetric``); skipped videos are carried along.
"""
from __future__ import annotations

from typing import Any, Dict, List

import torch
from mmengine.model import is_model_wrapper
from mmengine.runner.loops import TestLoop

from mmaction.registry import LOOPS

from bike_bench.evaluation.skipping import model_batch


def unwrap_model(model):
    return model.module if is_model_wrapper(model) else model


@LOOPS.register_module()
class ViewOutputsTestLoop(TestLoop):
    """Runs the test set once and hands per-video raw outputs to the metrics.

    Args:
        outputs: ``'logits'`` (``(V, A)`` raw head logits per video) or
            ``'frames'`` (``(V*T, D)`` image features per video).
        evaluator: the metrics (e.g. ``ZeroShotMetric``); each gets, per
            batch, one data sample per video (``sample_idx``, ``gt_label``
            and ``logits`` / ``frames``) and the batch's skipped videos, as
            MMEngine's ``TestLoop`` hands it predictions. A metric with a
            ``bind_model(model)`` method is given the model before it
            evaluates (e.g. for the class text features).

    The metrics' values are the loop's result and reach ``after_test_epoch``
    (where ``ResultsFileHook`` writes the results file).
    """

    def __init__(self, runner, dataloader, evaluator=None, outputs: str = 'logits',
                 fp16: bool = False):
        if outputs not in ('logits', 'frames'):
            raise ValueError(f'outputs must be logits or frames, not {outputs!r}')
        super().__init__(runner, dataloader, evaluator or [], fp16=fp16)
        self.outputs = outputs

    def run(self) -> dict:
        self.runner.call_hook('before_test')
        self.runner.call_hook('before_test_epoch')
        self.runner.model.eval()
        for idx, data_batch in enumerate(self.dataloader):
            self.runner.call_hook('before_test_iter', batch_idx=idx, data_batch=data_batch)
            samples = self._run_batch(data_batch)
            self.evaluator.process(data_samples=samples, data_batch=data_batch)
            self.runner.call_hook('after_test_iter', batch_idx=idx,
                                  data_batch=data_batch, outputs=None)
        model = unwrap_model(self.runner.model)
        for metric in self.evaluator.metrics:
            if hasattr(metric, 'bind_model'):
                metric.bind_model(model)
        metrics = self.evaluator.evaluate(len(self.dataloader.dataset))
        self.runner.call_hook('after_test_epoch', metrics=metrics)
        self.runner.call_hook('after_test')
        return metrics

    @torch.no_grad()
    def _run_batch(self, data_batch: Dict[str, Any]) -> List[Dict[str, Any]]:
        batch = model_batch(data_batch)
        if not batch.get('data_samples'):
            return []
        model = unwrap_model(self.runner.model)
        data = model.data_preprocessor(batch, False)
        inputs = data['inputs']
        if self.outputs == 'logits':
            values = model.view_logits(inputs)  # (B, V, A)
        else:
            features = model.frame_features(inputs)  # (B, V, T, D)
            values = features.flatten(1, 2)
        values = values.float().cpu().numpy()
        return [{'sample_idx': sample.metainfo.get('sample_idx'),
                 'gt_label': sample.gt_label.cpu().numpy().reshape(-1),
                 self.outputs: value}
                for sample, value in zip(data['data_samples'], values)]
