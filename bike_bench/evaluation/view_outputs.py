"""A test loop that keeps raw per-view outputs instead of aggregated scores.

Protocols that score one forward pass several ways (zero-shot class
subsets) need what comes before aggregation: the head's raw logits for every
view and class (``outputs='logits'``), or the image encoder's per-frame
features (``outputs='frames'``, the official zero-shot split scoring). The
records are gathered from all ranks and de-duplicated by dataset index like
the metrics' (``gather_records``); skipped videos are carried along.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

import torch
from mmengine.dist import is_main_process
from mmengine.model import is_model_wrapper
from mmengine.runner.loops import TestLoop

from mmaction.registry import LOOPS

from bike_bench.evaluation.metrics.base import gather_records
from bike_bench.evaluation.skipping import model_batch


def unwrap_model(model):
    return model.module if is_model_wrapper(model) else model


@LOOPS.register_module()
class ViewOutputsTestLoop(TestLoop):
    """Runs the test set once and keeps per-video raw outputs.

    Args:
        outputs: ``'logits'`` (``(V, A)`` raw head logits per video) or
            ``'frames'`` (``(V*T, D)`` image features per video).
        evaluator: unused metrics may be given (MMEngine requires one).

    After ``run``, ``self.records`` (main process) holds one dict per
    dataset index: ``index``, ``label`` and ``logits`` / ``frames``, or
    ``skipped``.
    """

    def __init__(self, runner, dataloader, evaluator=None, outputs: str = 'logits',
                 fp16: bool = False):
        if outputs not in ('logits', 'frames'):
            raise ValueError(f'outputs must be logits or frames, not {outputs!r}')
        super().__init__(runner, dataloader, evaluator or [], fp16=fp16)
        self.outputs = outputs
        self.records: Optional[List[Dict[str, Any]]] = None

    def run(self) -> dict:
        self.runner.call_hook('before_test')
        self.runner.call_hook('before_test_epoch')
        self.runner.model.eval()
        local: List[Dict[str, Any]] = []
        for idx, data_batch in enumerate(self.dataloader):
            self.runner.call_hook('before_test_iter', batch_idx=idx, data_batch=data_batch)
            local.extend(self._run_batch(data_batch))
            self.runner.call_hook('after_test_iter', batch_idx=idx,
                                  data_batch=data_batch, outputs=None)
        records = gather_records(local, len(self.dataloader.dataset))
        metrics: Dict[str, Any] = {}
        if is_main_process():  # only the main process scores the protocol
            self.records = records
            metrics = dict(videos=sum('skipped' not in r for r in self.records))
        self.runner.call_hook('after_test_epoch', metrics=metrics)
        self.runner.call_hook('after_test')
        return metrics

    @torch.no_grad()
    def _run_batch(self, data_batch: Dict[str, Any]) -> List[Dict[str, Any]]:
        records = [dict(index=item.get('index'), skipped=dict(
            path=item.get('path'), reason=item.get('reason')))
            for item in data_batch.get('skipped', ())]
        batch = model_batch(data_batch)
        if not batch.get('data_samples'):
            return records
        model = unwrap_model(self.runner.model)
        data = model.data_preprocessor(batch, False)
        inputs = data['inputs']
        if self.outputs == 'logits':
            values = model.view_logits(inputs)  # (B, V, A)
        else:
            features = model.frame_features(inputs)  # (B, V, T, D)
            values = features.flatten(1, 2)
        values = values.float().cpu().numpy()
        for sample, value in zip(data['data_samples'], values):
            records.append({'index': sample.metainfo.get('sample_idx'),
                            'label': sample.gt_label.cpu().numpy().reshape(-1),
                            self.outputs: value})
        return records
