"""Evaluation: metrics, multi-view settings, protocols and results files.

Importing it registers the metrics, the skip-aware collate function and
loops, and the results-file hook (configs list it in ``custom_imports``).
"""
from bike_bench import compat as _compat

_compat.apply()

from . import (checkpoint_hook, metrics, results_hook, skipping,  # noqa: E402,F401
               view_outputs, zeroshot)
from .evaluator import SampleIndexEvaluator  # noqa: E402
from .fusion_metric import FusionAccMetric  # noqa: E402
from .metrics import (BIKEAccMetric, CharadesMAPMetric, MeanAPMetric,  # noqa: E402
                      VideoCountMetric)
from .views import Views, parse_views, set_views  # noqa: E402

__all__ = ['BIKEAccMetric', 'MeanAPMetric', 'CharadesMAPMetric',
           'VideoCountMetric', 'FusionAccMetric', 'SampleIndexEvaluator', 'Views', 'parse_views',
           'set_views']
