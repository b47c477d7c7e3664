"""Symmetric video–category losses (docs/method.md#loss).

Every loss takes the scaled ``B x B`` logits ``P[i, j]`` (video i against the
text of sample j's label) and the targets ``G[i, j] = 1 if y_i == y_j``, and
returns ``(loss(P) + loss(P^T)) / 2``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mmaction.registry import MODELS


def same_label_targets(labels: torch.Tensor) -> torch.Tensor:
    """``G[i, j] = 1`` where samples i and j share a label.

    ``labels`` is ``(B,)`` class ids, or ``(B, C)`` multi-hot vectors, where
    two samples count as sharing a label when their label sets are equal.
    """
    if labels.dim() == 1:
        return (labels[:, None] == labels[None, :]).float()
    return (labels[:, None, :] == labels[None, :, :]).all(dim=-1).float()


def kl_to_soft_targets(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The official "NCE" term: ``B * KL(softmax(10 G) || softmax(P))``
    with KL averaged over all ``B*B`` entries."""
    batch = logits.shape[0]
    log_probs = F.log_softmax(logits, dim=1)
    soft = F.softmax(targets * 10, dim=1)
    # "mean" over all B*B entries, as nn.KLDivLoss(reduction='mean') does.
    return F.kl_div(log_probs, soft, reduction='sum') / soft.numel() * batch


class _SymmetricLoss(nn.Module):

    def __init__(self, loss_weight: float = 1.0):
        super().__init__()
        self.loss_weight = loss_weight

    def one_direction(self, logits, targets):  # pragma: no cover - abstract
        raise NotImplementedError

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        forward = self.one_direction(logits, targets)
        backward = self.one_direction(logits.t(), targets.t())
        return self.loss_weight * (forward + backward) / 2


@MODELS.register_module()
class KLNCELoss(_SymmetricLoss):
    """The official default ("NCE" in the BIKE configs)."""

    def one_direction(self, logits, targets):
        return kl_to_soft_targets(logits, targets)


@MODELS.register_module()
class DualSoftmaxLoss(_SymmetricLoss):
    """The official "DS" variant: re-weight logits by a column softmax."""

    def __init__(self, temperature: float = 1000.0, loss_weight: float = 1.0):
        super().__init__(loss_weight)
        self.temperature = temperature

    def one_direction(self, logits, targets):
        batch = logits.shape[0]
        reweighted = logits * F.softmax(logits / self.temperature, dim=0) * batch
        return kl_to_soft_targets(reweighted, targets)


@MODELS.register_module()
class MultiPositiveInfoNCELoss(_SymmetricLoss):
    """The poster's formula: mean over the positives K(i) of -log softmax."""

    def one_direction(self, logits, targets):
        log_probs = F.log_softmax(logits, dim=1)
        positives = targets.sum(dim=1).clamp(min=1)
        return -((log_probs * targets).sum(dim=1) / positives).mean()


# The names the official configs use for ``solver.loss_type``.
LOSS_ALIASES = {'NCE': 'KLNCELoss', 'DS': 'DualSoftmaxLoss',
                'InfoNCE': 'MultiPositiveInfoNCELoss'}
