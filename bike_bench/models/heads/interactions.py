"""Video–category interactions that turn video and text features into logits.

Both return raw cosine-scale logits ``(B, A)``; the temperature is applied by
the caller (training) or not at all (evaluation), as in the official code.
"""
from __future__ import annotations

from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from mmaction.registry import MODELS


def _unit(x: torch.Tensor) -> torch.Tensor:
    return x / x.norm(dim=-1, keepdim=True)


@MODELS.register_module()
class DPInteraction(nn.Module):
    """Mean pooling over frames, then cosine similarity with each class."""

    uses_token_features = False

    def forward(self, video: torch.Tensor, tokens: Optional[torch.Tensor],
                cls: torch.Tensor) -> torch.Tensor:
        return _unit(video.mean(dim=1)) @ _unit(cls).t()


@MODELS.register_module()
class VCSInteraction(nn.Module):
    """Video Concept Spotting: text-guided temporal saliency (docs/method.md#vcs).

    For each category ``a`` and video ``b`` the frames are weighted by
    ``alpha[a, b, t] = mean_k softmax_t(w[a, k] . v[b, t] / tau)`` over all
    token positions ``k`` (padding included), and the weighted sum of the
    unit frame features is scored against the category embedding.
    """

    uses_token_features = True

    def __init__(self, temperature: float = 0.01):
        super().__init__()
        self.temperature = temperature

    def saliency(self, video: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        """Temporal saliency ``(A, B, T)``; sums to 1 over frames."""
        sims = torch.einsum('akd,btd->abkt', _unit(tokens), _unit(video))
        return F.softmax(sims / self.temperature, dim=-1).mean(dim=2)

    def forward(self, video: torch.Tensor, tokens: torch.Tensor,
                cls: torch.Tensor, return_saliency: bool = False
                ) -> torch.Tensor | Tuple[torch.Tensor, torch.Tensor]:
        unit_video = _unit(video)
        alpha = self.saliency(video, tokens)
        pooled = torch.einsum('abt,btd->abd', alpha, unit_video)
        logits = torch.einsum('abd,ad->ba', pooled, _unit(cls))
        return (logits, alpha) if return_saliency else logits
