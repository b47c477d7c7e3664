"""Loading checkpoints that came from elsewhere (the web, a colleague).

Checkpoints are pickles, and a pickle can run code. Everything is read with
``torch.load(weights_only=True)``; MMEngine's own plain-data types are on an
explicit allow-list (``bike_bench.compat``). A file that needs anything else
is refused unless the caller says it trusts the file.
"""
from __future__ import annotations

import os
import pickle
from typing import Any

import torch


class UntrustedCheckpointError(RuntimeError):
    """A checkpoint holds pickled objects outside the allow-list."""


def load_untrusted(path: str, map_location: str = 'cpu',
                   trust: bool = False) -> Any:
    """``torch.load`` a checkpoint safely.

    Args:
        path: the file.
        map_location: passed to ``torch.load``.
        trust: load the full pickle (may execute code from the file). Only
            for files whose origin the user vouches for.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f'checkpoint not found: {path}')
    if trust:
        return torch.load(path, map_location=map_location, weights_only=False)
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        reason = str(error).strip().splitlines()
        detail = next((line for line in reason if 'GLOBAL' in line
                       or 'Unsupported' in line), reason[0] if reason else '')
        raise UntrustedCheckpointError(
            f'refusing to load {path}: it contains pickled objects that are '
            f'not plain tensors or MMEngine state ({detail.strip()}). Loading '
            'it could run code from the file. If you trust where it came '
            'from, pass --trust-checkpoint.') from None
