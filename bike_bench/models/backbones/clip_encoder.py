"""CLIP image and text encoders as one registered backbone."""
from __future__ import annotations

from typing import Optional, Tuple

import torch
from torch import nn

from mmaction.registry import MODELS

from bike_bench.models import clip_adapter


@MODELS.register_module()
class CLIPEncoder(nn.Module):
    """An open_clip CLIP exposing what BIKE needs from it.

    Args:
        arch: open_clip architecture name (``'ViT-B-32'``, ``'ViT-L-14-336'``,
            ...) or a dict model config (tiny models for tests).
        pretrained: ``None`` (random), ``'openai'``, or a local checkpoint.
        freeze_text: freeze the text tower except ``logit_scale`` (the
            official ``fix_text``).
        grad_checkpointing: recompute activations in the backward pass.
    """

    def __init__(self, arch='ViT-B-32', pretrained: Optional[str] = None,
                 freeze_text: bool = True, grad_checkpointing: bool = False):
        super().__init__()
        self.arch = arch
        self.clip = clip_adapter.build_clip(arch, pretrained)
        self.freeze_text = freeze_text
        if freeze_text:
            for name, param in self.clip.named_parameters():
                if not name.startswith('visual.') and name != 'logit_scale':
                    param.requires_grad_(False)
        if grad_checkpointing:
            self.clip.set_grad_checkpointing(True)
        self.embed_dim = clip_adapter.embed_dim(self.clip)
        self.text_width = clip_adapter.text_width(self.clip)
        self.image_size = clip_adapter.image_size(self.clip)
        self.context_length = self.clip.context_length

    @property
    def logit_scale(self) -> nn.Parameter:
        return self.clip.logit_scale

    @property
    def text_trainable(self) -> bool:
        return any(p.requires_grad for n, p in self.clip.named_parameters()
                   if not n.startswith('visual.') and n != 'logit_scale')

    def encode_image(self, images: torch.Tensor) -> torch.Tensor:
        """``(N, 3, H, W)`` normalised frames -> ``(N, D)`` features."""
        return self.clip.encode_image(images)

    def encode_text(self, tokens: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """``(A, L)`` token ids -> class ``(A, D)`` and token ``(A, L, D)``."""
        return clip_adapter.encode_text_tokens(self.clip, tokens)

    def tokenize(self, texts) -> torch.Tensor:
        return clip_adapter.tokenize(texts, self.context_length)
