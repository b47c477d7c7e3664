"""Each compatibility fix of bike_bench.compat, shown to be needed and to work."""
from __future__ import annotations

import importlib
import pickle
import sys

import numpy as np
import pytest
import torch

from bike_bench import compat


def test_importing_bike_bench_makes_mmaction_models_importable():
    import bike_bench  # noqa: F401
    models = importlib.import_module('mmaction.models')
    assert hasattr(models, 'Recognizer3D')
    assert 'mmaction_drn' in compat.ACTIVE_FIXES  # the wheel lacks drn here


def test_drn_placeholder_explains_itself():
    from mmaction.models.localizers.drn.drn import DRN
    with pytest.raises(ImportError, match='not included in the mmaction2'):
        DRN()


def test_importlib_metadata_alias(monkeypatch):
    monkeypatch.setitem(sys.modules, 'importlib_metadata', None)  # "not installed"
    monkeypatch.delitem(compat.ACTIVE_FIXES, 'importlib_metadata', raising=False)
    compat.ensure_importlib_metadata()
    import importlib_metadata
    assert importlib_metadata.distribution('numpy').version == np.__version__
    assert 'importlib_metadata' in compat.ACTIVE_FIXES


@pytest.mark.parametrize('labels', [
    list(np.array([0, 1, 2, 0, 1, 2], dtype=np.uint8)),
    [np.array([label]) for label in (0, 1, 2, 0, 1, 2)],
])
def test_mean_class_accuracy_accepts_numpy2_label_types(labels):
    scores = np.eye(3)[[0, 1, 1, 0, 2, 2]]  # per class: 2/2, 1/2, 1/2 correct
    original = compat.ORIGINALS['mean_class_accuracy']
    with pytest.raises((TypeError, ValueError)):
        original(list(scores), labels)
    from mmaction.evaluation.functional import mean_class_accuracy
    assert mean_class_accuracy(list(scores), labels) == pytest.approx(2 / 3)


def test_acc_metric_mean_class_accuracy_end_to_end():
    from mmaction.evaluation.metrics import AccMetric
    metric = AccMetric(metric_list=('top_k_accuracy', 'mean_class_accuracy'))
    metric.dataset_meta = {}
    samples = [{'pred_score': torch.tensor([0.9, 0.1]), 'gt_label': torch.tensor([0])},
               {'pred_score': torch.tensor([0.2, 0.8]), 'gt_label': torch.tensor([0])},
               {'pred_score': torch.tensor([0.3, 0.7]), 'gt_label': torch.tensor([1])}]
    metric.process(None, samples)
    result = metric.compute_metrics(metric.results)
    assert result['mean1'] == pytest.approx((0.5 + 1.0) / 2)


def test_mmengine_checkpoint_types_load_with_weights_only(tmp_path):
    from mmengine.logging import HistoryBuffer
    buffer = HistoryBuffer()
    buffer.update(1.5)
    state = {'message_hub': {'log_scalars': {'loss': buffer}},
             'meta': {'seed': np.int64(3), 'lr': np.float64(0.1),
                      'hist': np.arange(4)}}
    path = tmp_path / 'ckpt.pth'
    torch.save(state, path)
    loaded = torch.load(path, weights_only=True)
    assert loaded['message_hub']['log_scalars']['loss'].current() == 1.5
    assert loaded['meta']['hist'].tolist() == [0, 1, 2, 3]


class _ReachesPrivateAttribute:
    def __reduce__(self):
        from mmengine.logging import HistoryBuffer
        return (getattr, (HistoryBuffer, '__init__'))


class _ArbitraryObject:
    def __init__(self):
        self.payload = 'x'


@pytest.mark.parametrize('payload', [_ReachesPrivateAttribute(), _ArbitraryObject()])
def test_untrusted_pickles_are_still_refused(tmp_path, payload):
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'extra': payload}, path)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path, weights_only=True)
