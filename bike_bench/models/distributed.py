"""All-gather that keeps the gradient of the local slice."""
from __future__ import annotations

from typing import List

import torch
import torch.distributed as dist


def _row_counts(tensor: torch.Tensor) -> List[int]:
    """Rows of ``tensor`` on every rank (ranks differ once unreadable videos
    are skipped from a training batch)."""
    count = torch.tensor([tensor.shape[0]], dtype=torch.long, device=tensor.device)
    counts = [torch.zeros_like(count) for _ in range(dist.get_world_size())]
    dist.all_gather(counts, count)
    return [int(c.item()) for c in counts]


def _gather_rows(tensor: torch.Tensor, counts: List[int]) -> torch.Tensor:
    """Concatenate every rank's rows; ``all_gather`` needs equal shapes, so
    each rank pads to the largest count and the padding is cut after."""
    most = max(counts)
    if tensor.shape[0] < most:
        pad = tensor.new_zeros((most - tensor.shape[0],) + tuple(tensor.shape[1:]))
        tensor = torch.cat([tensor, pad], dim=0)
    parts = [torch.empty_like(tensor) for _ in counts]
    dist.all_gather(parts, tensor.contiguous())
    return torch.cat([part[:rows] for part, rows in zip(parts, counts)], dim=0)


class _GatherWithLocalGrad(torch.autograd.Function):
    """Concatenate a tensor from every rank along dim 0.

    The backward hands each rank the gradient of its own rows, which is what
    the official training does for its global-batch contrastive loss.
    """

    @staticmethod
    def forward(ctx, tensor: torch.Tensor) -> torch.Tensor:
        counts = _row_counts(tensor)
        ctx.start = sum(counts[:dist.get_rank()])
        ctx.rows = tensor.shape[0]
        return _gather_rows(tensor, counts)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return grad[ctx.start:ctx.start + ctx.rows]


def all_gather_with_grad(tensor: torch.Tensor) -> torch.Tensor:
    if not (dist.is_available() and dist.is_initialized()) \
            or dist.get_world_size() == 1:
        return tensor
    if not tensor.is_floating_point():
        return _gather_rows(tensor, _row_counts(tensor))
    return _GatherWithLocalGrad.apply(tensor)
