"""All-gather that keeps the gradient of the local slice."""
from __future__ import annotations

import torch
import torch.distributed as dist


class _GatherWithLocalGrad(torch.autograd.Function):
    """Concatenate a tensor from every rank along dim 0.

    The backward hands each rank the gradient of its own rows, which is what
    the official training does for its global-batch contrastive loss.
    """

    @staticmethod
    def forward(ctx, tensor: torch.Tensor) -> torch.Tensor:
        world = dist.get_world_size()
        parts = [torch.empty_like(tensor) for _ in range(world)]
        dist.all_gather(parts, tensor.contiguous())
        ctx.rank = dist.get_rank()
        ctx.rows = tensor.shape[0]
        return torch.cat(parts, dim=0)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        start = ctx.rank * ctx.rows
        return grad[start:start + ctx.rows]


def all_gather_with_grad(tensor: torch.Tensor) -> torch.Tensor:
    if not (dist.is_available() and dist.is_initialized()) \
            or dist.get_world_size() == 1:
        return tensor
    if not tensor.is_floating_point():
        parts = [torch.empty_like(tensor) for _ in range(dist.get_world_size())]
        dist.all_gather(parts, tensor.contiguous())
        return torch.cat(parts, dim=0)
    return _GatherWithLocalGrad.apply(tensor)
