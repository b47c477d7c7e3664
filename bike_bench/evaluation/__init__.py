"""Evaluation: metrics, multi-view aggregation and protocols."""
from bike_bench import compat as _compat

_compat.apply()

from .fusion_metric import FusionAccMetric  # noqa: E402

__all__ = ['FusionAccMetric']
