"""Temporal modelling headers applied to per-frame CLIP features
(docs/method.md#temporal).

Parameter names follow the official release's ``fusion_model_state_dict``
(``frame_position_embeddings``, ``transformer.resblocks.N...``) so released
checkpoints map onto these modules key for key.
"""
from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from mmaction.registry import MODELS


class QuickGELU(nn.Module):
    """CLIP's sigmoid approximation of GELU."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(1.702 * x)


class TemporalBlock(nn.Module):
    """Pre-norm residual block: self-attention over frames, then an MLP."""

    def __init__(self, width: int, heads: int, ln_eps: float = 1e-12):
        super().__init__()
        self.attn = nn.MultiheadAttention(width, heads)
        self.ln_1 = nn.LayerNorm(width, eps=ln_eps)
        self.mlp = nn.Sequential(OrderedDict([
            ('c_fc', nn.Linear(width, width * 4)),
            ('gelu', QuickGELU()),
            ('c_proj', nn.Linear(width * 4, width)),
        ]))
        self.ln_2 = nn.LayerNorm(width, eps=ln_eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (T, B, D), sequence first as nn.MultiheadAttention expects.
        h = self.ln_1(x)
        x = x + self.attn(h, h, h, need_weights=False)[0]
        return x + self.mlp(self.ln_2(x))


class TemporalTransformer(nn.Module):

    def __init__(self, width: int, layers: int, heads: int):
        super().__init__()
        self.resblocks = nn.Sequential(
            *[TemporalBlock(width, heads) for _ in range(layers)])
        self.grad_checkpointing = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.resblocks:
            if self.grad_checkpointing and self.training:
                x = checkpoint(block, x, use_reentrant=False)
            else:
                x = block(x)
        return x


def init_like_official(module: nn.Module) -> None:
    """N(0, 0.02) for Linear/Embedding weights, zero biases, unit LayerNorms."""
    if isinstance(module, (nn.Linear, nn.Embedding)):
        nn.init.normal_(module.weight, mean=0.0, std=0.02)
    if isinstance(module, nn.Linear) and module.bias is not None:
        nn.init.zeros_(module.bias)
    if isinstance(module, nn.LayerNorm):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)


@MODELS.register_module()
class TransfHeader(nn.Module):
    """The "Transf" header: position table + 6-layer temporal transformer.

    ``v = transformer(x + P[:T]) + x`` — the residual skips the position
    embedding, as in the official code.
    """

    def __init__(self, embed_dim: int, num_heads: int, num_layers: int = 6,
                 context_length: int = 77):
        super().__init__()
        self.context_length = context_length
        self.frame_position_embeddings = nn.Embedding(context_length, embed_dim)
        self.transformer = TemporalTransformer(embed_dim, num_layers, num_heads)
        self.apply(init_like_official)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        num_frames = x.shape[1]
        if num_frames > self.context_length:
            raise ValueError(f'{num_frames} frames exceed the temporal '
                             f'position table ({self.context_length})')
        h = x + self.frame_position_embeddings.weight[:num_frames].unsqueeze(0)
        h = self.transformer(h.transpose(0, 1)).transpose(0, 1)
        return h.to(x.dtype) + x


@MODELS.register_module()
class NoneHeader(nn.Module):
    """The "None" header: frame features pass through unchanged."""

    def __init__(self, **unused):
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x
