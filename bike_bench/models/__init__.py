"""BIKE models, registered in MMAction2's ``MODELS`` registry on import."""
from bike_bench import compat as _compat

_compat.apply()

from .backbones import CLIPEncoder  # noqa: E402
from .data_preprocessors import CLIPDataPreprocessor  # noqa: E402
from .heads import (BIKEVideoHead, DPInteraction, NoneHeader,  # noqa: E402
                    SentenceHead, TransfHeader, VCSInteraction)
from .losses import (DualSoftmaxLoss, KLNCELoss,  # noqa: E402
                     MultiPositiveInfoNCELoss)
from .recognizers import (BIKERecognizer,  # noqa: E402
                          BIKEVideoAttributeRecognizer, aggregate_views)

__all__ = [
    'CLIPEncoder', 'CLIPDataPreprocessor', 'BIKEVideoHead', 'TransfHeader',
    'NoneHeader', 'VCSInteraction', 'DPInteraction', 'KLNCELoss',
    'DualSoftmaxLoss', 'MultiPositiveInfoNCELoss', 'BIKERecognizer',
    'aggregate_views', 'SentenceHead', 'BIKEVideoAttributeRecognizer'
]
