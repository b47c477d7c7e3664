"""CLIP image and text encoders as one registered backbone."""
from __future__ import annotations

from typing import Optional, Tuple

import torch
from torch import nn

from mmaction.registry import MODELS

from bike_bench.models.clip import factory, text_towers, tokenizer


def default_num_heads(embed_dim: int, text_width: int) -> int:
    """Heads of the temporal transformer when a config does not say.

    The official rule is text width / 64 (ViT-B: 8, ViT-L: 12). Where that
    does not divide the joint width (e.g. a 768-wide mT5 text tower with a
    512-wide joint space), joint width / 64, else one head.
    """
    heads = max(1, text_width // 64)
    if embed_dim % heads == 0:
        return heads
    heads = max(1, embed_dim // 64)
    return heads if embed_dim % heads == 0 else 1


@MODELS.register_module()
class CLIPEncoder(nn.Module):
    """An open_clip image-text model exposing what BIKE needs from it.

    Any text-tower family of ``text_towers.TEXT_TOWERS`` works: OpenAI-style
    CLIP, ``CustomTextCLIP`` with a ``TextTransformer`` (SigLIP, EVA02, ...),
    Hugging Face text towers and CoCa.

    Args:
        arch: open_clip architecture name (``'ViT-B-32'``, ``'ViT-L-14-336'``,
            ``'ViT-B-16-SigLIP2'``, ``'EVA02-B-16'``, ..., or bike-bench's
            tiny ``'bike-tiny-openai-clip'``, ...) or a dict model config.
        pretrained: ``None`` (random), a pretrained tag (``'openai'``,
            ``'webli'``, ...), or a local checkpoint.
        load_pretrained: ``False`` builds what ``pretrained`` names without
            its weights, because a checkpoint supplies every weight
            (``bike_bench.models.pretrained.weights_from_checkpoint``).
        freeze_text: freeze the text tower except ``logit_scale`` (the
            official ``fix_text``).
        grad_checkpointing: recompute activations in the backward pass.

    Raises:
        UnsupportedArchitecture: the model's text tower gives no class and
            token features (one line saying why).
    """

    def __init__(self, arch='ViT-B-32', pretrained: Optional[str] = None,
                 load_pretrained: bool = True, freeze_text: bool = True,
                 grad_checkpointing: bool = False):
        super().__init__()
        self.arch = arch
        self.clip = factory.build_clip(arch, pretrained, load_weights=load_pretrained)
        self.text_family = text_towers.text_tower(self.clip).name
        self.freeze_text = freeze_text
        if freeze_text:
            for name, param in self.clip.named_parameters():
                if not name.startswith('visual.') and name != 'logit_scale':
                    param.requires_grad_(False)
        if grad_checkpointing:
            self.clip.set_grad_checkpointing(True)
        self.embed_dim = text_towers.embed_dim(self.clip)
        self.text_width = text_towers.text_width(self.clip)
        self.image_size = factory.image_size(self.clip)
        # Token ids per prompt: the tokenizer's length (SigLIP 64, CoCa 76).
        self.context_length = tokenizer.context_length(arch, self.clip)
        self._uses_clip_bpe = tokenizer.uses_clip_bpe(arch)
        self._tokenizer = None

    @property
    def default_num_heads(self) -> int:
        return default_num_heads(self.embed_dim, self.text_width)

    @property
    def logit_scale(self) -> nn.Parameter:
        return self.clip.logit_scale

    @property
    def text_trainable(self) -> bool:
        return any(p.requires_grad for n, p in self.clip.named_parameters()
                   if not n.startswith('visual.') and n != 'logit_scale')

    def encode_image(self, images: torch.Tensor) -> torch.Tensor:
        """``(N, 3, H, W)`` normalised frames -> ``(N, D)`` features."""
        return factory.encode_image(self.clip, images)

    def encode_text(self, tokens: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """``(A, L)`` token ids -> class ``(A, D)`` and token ``(A, L, D)``."""
        return text_towers.encode_text_tokens(self.clip, tokens)

    def tokenize(self, texts) -> torch.Tensor:
        """Texts -> ``(A, context_length)`` ids with the model's tokenizer."""
        if self._uses_clip_bpe:
            return tokenizer.tokenize(texts, self.context_length)
        if self._tokenizer is None:  # SigLIP / HF: from the HF cache, once
            self._tokenizer = tokenizer.build_tokenizer(self.arch)
        return self._tokenizer(list(texts))
