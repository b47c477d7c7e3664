"""Batching and CLIP normalisation of uint8 clips."""
from __future__ import annotations

from typing import Mapping, Optional

import torch
from mmaction.models.data_preprocessors import ActionDataPreprocessor
from mmaction.registry import MODELS

from bike_bench.models.clip.factory import image_statistics

# CLIP's statistics on RGB in [0, 1], scaled to the uint8 range in which
# mmaction's preprocessor normalises.
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
COMPUTE_DTYPES = {None: torch.float32, 'float32': torch.float32,
                  'bfloat16': torch.bfloat16, 'float16': torch.float16}


@MODELS.register_module()
class CLIPDataPreprocessor(ActionDataPreprocessor):
    """``ActionDataPreprocessor`` with CLIP's mean and std by default.

    A batch whose ``inputs`` is already one stacked uint8 tensor
    ``(B, V, C, T, H, W)`` (``stack_collate`` in the loader workers, pinned
    by the DataLoader) takes a fast path: one non-blocking host-to-device
    copy of the uint8 data, normalisation on the device in fp32, then one
    rounding to ``compute_dtype``. Lists of per-video tensors (MMEngine's
    ``pseudo_collate``) take mmaction's path unchanged.

    Args:
        compute_dtype: dtype of the normalised frames on the fast path:
            ``None`` / ``'float32'`` (the official values), ``'bfloat16'``
            or ``'float16'`` (half the bytes for the image encoder).
    """

    def __init__(self, mean=None, std=None, format_shape: str = 'NCTHW',
                 compute_dtype: Optional[str] = None, **kwargs):
        if compute_dtype not in COMPUTE_DTYPES:
            raise ValueError(f'compute_dtype must be one of float32, bfloat16, float16, '
                             f'not {compute_dtype!r}')
        mean = [255 * m for m in CLIP_MEAN] if mean is None else mean
        std = [255 * s for s in CLIP_STD] if std is None else std
        super().__init__(mean=mean, std=std, format_shape=format_shape,
                         **kwargs)
        self.compute_dtype = compute_dtype

    def forward(self, data, training: bool = False):
        if isinstance(data, dict) and isinstance(data.get('inputs'), torch.Tensor) \
                and data['inputs'].dtype == torch.uint8 and self._enable_normalize \
                and not self.to_rgb and self.blending is None:
            return self._stacked_uint8(data)
        return super().forward(data, training)

    def _stacked_uint8(self, data: dict) -> dict:
        inputs = data['inputs'].to(self.device, non_blocking=True)
        # fp32 arithmetic as mmaction's path (mean and std broadcast over
        # the trailing C, T, H, W), one rounding to the compute dtype.
        inputs = ((inputs.float() - self.mean) / self.std).to(COMPUTE_DTYPES[self.compute_dtype])
        samples = data.get('data_samples')
        if samples is not None:
            samples = self.cast_data(samples)
        return {'inputs': inputs, 'data_samples': samples}


def with_model_statistics(preprocessor: Mapping, backbone: Mapping) -> dict:
    """``preprocessor`` (a config) normalising with the backbone's statistics.

    A ``CLIPDataPreprocessor`` without explicit ``mean``/``std`` gets the
    mean and std of the backbone's pretrained config (SigLIP: 0.5 / 0.5);
    OpenAI-style backbones keep CLIP's constants untouched. Anything else is
    returned as given.
    """
    cfg = dict(preprocessor)
    if cfg.get('type') != 'CLIPDataPreprocessor' or cfg.get('mean') is not None \
            or cfg.get('std') is not None or not isinstance(backbone, Mapping):
        return cfg
    mean, std = image_statistics(backbone.get('arch'), backbone.get('pretrained'))
    if tuple(mean) == CLIP_MEAN and tuple(std) == CLIP_STD:
        return cfg
    cfg.update(mean=[255 * m for m in mean], std=[255 * s for s in std])
    return cfg
