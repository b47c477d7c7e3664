"""Feeding a GPU: batches stacked in the loader workers, pinned, and copied
to the device one batch ahead on a side stream.

- ``stack_collate``: like MMEngine's ``pseudo_collate`` but stacks the
  per-video uint8 ``inputs`` into one ``(B, V, C, T, H, W)`` tensor inside
  the worker, so the main process receives one block of memory that the
  DataLoader can pin (``pin_memory=True``) and copy with one non-blocking
  transfer. Registered in MMEngine's ``FUNCTIONS`` as ``stack_collate``
  (``collate_fn=dict(type='stack_collate')`` in a dataloader config).
- ``DevicePrefetcher``: wraps a loader and a data preprocessor; while the
  model runs batch ``i`` on the current stream, batch ``i + 1`` is copied
  and normalised on a side stream (CUDA), so transfer overlaps compute.
  On CPU it just calls the preprocessor in order.
"""
from __future__ import annotations

from typing import Callable, Iterable, Iterator, List, Optional

import torch
from mmengine.dataset import pseudo_collate
from mmengine.registry import FUNCTIONS


@FUNCTIONS.register_module()
def stack_collate(batch: List[dict]) -> dict:
    """Stack equal-shaped ``inputs`` tensors; everything else as ``pseudo_collate``.

    Videos of different shapes (no fixed crop) stay a list, as before.
    """
    collated = pseudo_collate(batch)
    inputs = collated.get('inputs') if isinstance(collated, dict) else None
    if isinstance(inputs, list) and inputs and all(
            isinstance(x, torch.Tensor) and x.shape == inputs[0].shape
            and x.dtype == inputs[0].dtype for x in inputs):
        collated['inputs'] = torch.stack(inputs)
    return collated


class DevicePrefetcher:
    """Iterate preprocessed batches, the next one prepared while this one runs.

    Args:
        loader: yields collated batches (``stack_collate`` + pinned memory for
            a real overlap).
        preprocess: ``data -> data`` on the device (the model's data
            preprocessor, ``training=False``).
        device: where the model runs.

    Each item is the preprocessed batch; ``wait_s`` of the last item is how
    long ``next`` waited for the loader (host time), for time splits.
    """

    def __init__(self, loader: Iterable, preprocess: Callable[[dict], dict],
                 device: torch.device):
        self.loader = loader
        self.preprocess = preprocess
        self.device = torch.device(device)
        self.stream = torch.cuda.Stream(self.device) if self.device.type == 'cuda' else None
        self.wait_s = 0.0

    def _prepare(self, iterator: Iterator):
        import time
        start = time.perf_counter()
        try:
            data = next(iterator)
        except StopIteration:
            return None
        self.wait_s = time.perf_counter() - start
        if self.stream is None:
            return self.preprocess(data), None
        with torch.cuda.stream(self.stream):
            data = self.preprocess(data)
            ready = torch.cuda.Event()
            ready.record(self.stream)
        return data, ready

    def __iter__(self) -> Iterator[dict]:
        iterator = iter(self.loader)
        pending: Optional[tuple] = self._prepare(iterator)
        while pending is not None:
            data, ready = pending
            if ready is not None:
                torch.cuda.current_stream(self.device).wait_event(ready)
                _record_stream(data, torch.cuda.current_stream(self.device))
            pending = self._prepare(iterator)
            yield data


def _record_stream(data, stream) -> None:
    """Tensors made on the side stream are used on ``stream`` now: tell the
    caching allocator, so their memory is not reused too early."""
    if isinstance(data, torch.Tensor):
        if data.is_cuda:
            data.record_stream(stream)
    elif isinstance(data, dict):
        for value in data.values():
            _record_stream(value, stream)
    elif isinstance(data, (list, tuple)):
        for value in data:
            _record_stream(value, stream)
