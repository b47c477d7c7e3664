"""Evaluation metrics (registered in mmaction's METRICS on import)."""
from .acc_metric import BIKEAccMetric, VideoCountMetric
from .base import CountMismatchError, VideoRecordMetric, merge_records
from .map_metric import CharadesMAPMetric, MeanAPMetric

__all__ = ['BIKEAccMetric', 'VideoCountMetric', 'MeanAPMetric',
           'CharadesMAPMetric', 'VideoRecordMetric', 'CountMismatchError',
           'merge_records']
