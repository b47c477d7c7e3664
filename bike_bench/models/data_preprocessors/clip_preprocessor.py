"""Batching and CLIP normalisation of uint8 clips."""
from __future__ import annotations

from typing import Mapping

from mmaction.models.data_preprocessors import ActionDataPreprocessor
from mmaction.registry import MODELS

# CLIP's statistics on RGB in [0, 1], scaled to the uint8 range in which
# mmaction's preprocessor normalises.
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


@MODELS.register_module()
class CLIPDataPreprocessor(ActionDataPreprocessor):
    """``ActionDataPreprocessor`` with CLIP's mean and std by default."""

    def __init__(self, mean=None, std=None, format_shape: str = 'NCTHW',
                 **kwargs):
        mean = [255 * m for m in CLIP_MEAN] if mean is None else mean
        std = [255 * s for s in CLIP_STD] if std is None else std
        super().__init__(mean=mean, std=std, format_shape=format_shape,
                         **kwargs)


def with_model_statistics(preprocessor: Mapping, backbone: Mapping) -> dict:
    """``preprocessor`` (a config) normalising with the backbone's statistics.

    A ``CLIPDataPreprocessor`` without explicit ``mean``/``std`` gets the
    mean and std of the backbone's pretrained config (SigLIP: 0.5 / 0.5);
    OpenAI-style backbones keep CLIP's constants untouched. Anything else is
    returned as given.
    """
    from bike_bench.models import clip_adapter
    cfg = dict(preprocessor)
    if cfg.get('type') != 'CLIPDataPreprocessor' or cfg.get('mean') is not None \
            or cfg.get('std') is not None or not isinstance(backbone, Mapping):
        return cfg
    mean, std = clip_adapter.image_statistics(backbone.get('arch'),
                                              backbone.get('pretrained'))
    if tuple(mean) == CLIP_MEAN and tuple(std) == CLIP_STD:
        return cfg
    cfg.update(mean=[255 * m for m in mean], std=[255 * s for s in std])
    return cfg
