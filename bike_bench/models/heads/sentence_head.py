"""The attributes branch head: attribute sentences scored against categories.

Parameter names (``query_fc.0/2``, ``sentence_fc.0/2``) follow the official
release's sentence head, so its weights load key for key (docs/method.md#attributes).
"""
from __future__ import annotations

import torch
from torch import nn

from mmaction.registry import MODELS

from bike_bench.models.heads.temporal import init_like_official


def _unit(x: torch.Tensor) -> torch.Tensor:
    return x / x.norm(dim=-1, keepdim=True)


def _mlp(dim: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, dim))


@MODELS.register_module()
class SentenceHead(nn.Module):
    """Video-Attribute Association: ``norm(sentence_fc(s)) . norm(query_fc(c))^T``.

    Args:
        embed_dim: CLIP joint embedding width D.
    """

    def __init__(self, embed_dim: int):
        super().__init__()
        self.embed_dim = embed_dim
        self.query_fc = _mlp(embed_dim)
        self.sentence_fc = _mlp(embed_dim)
        self.apply(init_like_official)

    def forward(self, sentences: torch.Tensor, queries: torch.Tensor) -> torch.Tensor:
        """Raw cosine logits ``(N, A)``.

        Args:
            sentences: ``(N, D)`` attribute-sentence embeddings.
            queries: ``(A, D)`` category embeddings.

        Both inputs are unit-normalised here first (as the official code does
        before calling its head), so raw CLIP features may be passed.
        """
        sentences = _unit(self.sentence_fc(_unit(sentences)))
        queries = _unit(self.query_fc(_unit(queries)))
        return sentences @ queries.t()
