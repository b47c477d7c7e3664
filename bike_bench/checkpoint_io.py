"""Loading checkpoints that came from elsewhere (the web, a colleague).

Checkpoints are pickles, and a pickle can run code. Everything is read with
``torch.load(weights_only=True)``; MMEngine's own plain-data types are on an
explicit allow-list (``bike_bench.compat``). A file that needs anything else
is refused unless the caller says it trusts the file.
"""
from __future__ import annotations

import contextlib
import os
import pickle
from typing import Any, Iterator

import torch

from bike_bench import compat as _compat

_compat.allow_mmengine_checkpoint_types()


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
        raise UntrustedCheckpointError(refusal_message(path, error)) from None


def refusal_message(path: str, error: BaseException) -> str:
    """Why ``path`` was refused, from torch's ``weights_only`` error."""
    reason = str(error).strip().splitlines()
    detail = next((line for line in reason if 'GLOBAL' in line
                   or 'Unsupported' in line), reason[0] if reason else '')
    return (f'refusing to load {path}: it contains pickled objects that are '
            f'not plain tensors or MMEngine state ({detail.strip()}). Loading '
            'it could run code from the file. If you trust where it came '
            'from, pass --trust-checkpoint.')


def state_dict_of(checkpoint: Any) -> dict:
    """The model weights inside an MMEngine (or plain) checkpoint."""
    if isinstance(checkpoint, dict) and isinstance(checkpoint.get('state_dict'), dict):
        return checkpoint['state_dict']
    if isinstance(checkpoint, dict):
        return checkpoint
    raise ValueError('checkpoint holds no state dict')


def load_model_checkpoint(model: torch.nn.Module, path: str, strict: bool = True,
                          trust: bool = False) -> dict:
    """Load weights into ``model``; missing or unexpected keys are an error.

    MMEngine's ``load_checkpoint`` only logs key mismatches, so an evaluation
    could silently run with randomly initialised layers; this names them.
    Returns the checkpoint's ``meta`` (empty if none).
    """
    checkpoint = load_untrusted(path, trust=trust)
    state = {k[len('module.'):] if k.startswith('module.') else k: v
             for k, v in state_dict_of(checkpoint).items()}
    result = model.load_state_dict(state, strict=False)
    missing, unexpected = list(result.missing_keys), list(result.unexpected_keys)
    if strict and (missing or unexpected):
        parts = []
        if missing:
            parts.append(f'missing keys {missing[:10]}'
                         + (f' and {len(missing) - 10} more' if len(missing) > 10 else ''))
        if unexpected:
            parts.append(f'unexpected keys {unexpected[:10]}'
                         + (f' and {len(unexpected) - 10} more'
                            if len(unexpected) > 10 else ''))
        raise ValueError(f'{path} does not match the model: ' + '; '.join(parts))
    meta = checkpoint.get('meta', {}) if isinstance(checkpoint, dict) else {}
    return meta if isinstance(meta, dict) else {}


@contextlib.contextmanager
def trusted_loading(trust: bool) -> Iterator[None]:
    """Within the block, ``torch.load`` (MMEngine's loaders included) reads
    full pickles when ``trust``; otherwise its ``weights_only`` default (and
    the allow-list of ``bike_bench.compat``) stands."""
    flag = 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD'
    previous = os.environ.get(flag)
    if trust:
        os.environ[flag] = '1'
    try:
        yield
    finally:
        if trust:
            if previous is None:
                os.environ.pop(flag, None)
            else:
                os.environ[flag] = previous


def load_into_runner(runner, path: str, trust: bool = False) -> None:
    """``runner.load_checkpoint(path, strict=True)``: MMEngine's loader.

    ``torch.load`` runs weights-only (refusals raise
    ``UntrustedCheckpointError``); a missing or unexpected key raises
    ``ValueError`` naming the file and the keys (MMEngine's message).
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f'checkpoint not found: {path}')
    try:
        with trusted_loading(trust):
            runner.load_checkpoint(path, map_location='cpu', strict=True)
    except pickle.UnpicklingError as error:
        raise UntrustedCheckpointError(refusal_message(path, error)) from None
    except RuntimeError as error:
        if 'state_dict' not in str(error):
            raise
        raise ValueError(f'{path} does not match the model: '
                         f'{str(error).strip()}') from None


def last_checkpoint(work_dir: str) -> str:
    """The checkpoint MMEngine's ``last_checkpoint`` marker in ``work_dir`` names."""
    marker = os.path.join(work_dir, 'last_checkpoint')
    if not os.path.isfile(marker):
        raise FileNotFoundError(f'training wrote no checkpoint in {work_dir}')
    with open(marker) as handle:
        path = handle.read().strip()
    return path if os.path.isabs(path) else os.path.join(work_dir, path)
