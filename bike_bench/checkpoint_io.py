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
import re
from typing import Any, Iterator, List, Mapping, Optional, Tuple

import torch

from bike_bench import compat as _compat

_compat.allow_mmengine_checkpoint_types()


class UntrustedCheckpointError(RuntimeError):
    """A checkpoint holds pickled objects outside the allow-list."""


class CheckpointMismatchError(ValueError):
    """A checkpoint's weights do not fit the model the config builds."""


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
    meta = checkpoint.get('meta', {}) if isinstance(checkpoint, dict) else {}
    meta = meta if isinstance(meta, dict) else {}
    check_shapes(path, state, model.state_dict(), meta)
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
    return meta


def _shape(tensor) -> Tuple[int, ...]:
    return tuple(getattr(tensor, 'shape', ()))


def _find(state: Mapping[str, Any], suffix: str) -> Optional[Tuple[int, ...]]:
    for key, value in state.items():
        if key.endswith(suffix):
            return _shape(value)
    return None


def describe_weights(state: Mapping[str, Any], meta: Optional[dict] = None) -> str:
    """One line on what a set of weights is: CLIP image-encoder size when it
    is one (width, layers, patch, input size, embedding), tensor and
    parameter counts, and the checkpoint's experiment and epoch if known."""
    parts: List[str] = []
    conv = _find(state, 'visual.conv1.weight')
    if conv and len(conv) == 4:
        layers = {m.group(1) for key in state
                  for m in [re.search(r'visual\.transformer\.resblocks\.(\d+)\.', key)] if m}
        text = f'ViT width {conv[0]}, {len(layers)} layers, patch {conv[2]}'
        tokens = _find(state, 'visual.positional_embedding')
        if tokens and int(round((tokens[0] - 1) ** 0.5)) ** 2 == tokens[0] - 1:
            text += f', {int(round((tokens[0] - 1) ** 0.5)) * conv[2]} px'
        proj = _find(state, 'visual.proj')
        if proj and len(proj) == 2:
            text += f', embedding {proj[1]}'
        parts.append(text)
    count = sum(int(getattr(v, 'numel', lambda: 0)()) for v in state.values())
    parts.append(f'{len(state)} tensors, {count / 1e6:.1f} M parameters')
    meta = meta or {}
    if meta.get('experiment_name'):
        parts.append(f'experiment {meta["experiment_name"]}')
    if meta.get('epoch') is not None:
        parts.append(f'epoch {meta["epoch"]}')
    return '; '.join(parts)


def check_shapes(path: str, state: Mapping[str, Any], model_state: Mapping[str, Any],
                 meta: Optional[dict] = None) -> None:
    """Refuse, with a summary first, a checkpoint whose weights differ in shape.

    ``load_state_dict`` would list every tensor (134 ``size mismatch`` lines
    for a tiny checkpoint under a ViT-B/16 config) without saying what
    either side is.

    Raises:
        CheckpointMismatchError: what the checkpoint is, what the config's
            model expects, and the first differing tensors.
    """
    shared = [key for key in state if key in model_state]
    differ = [(key, _shape(state[key]), _shape(model_state[key])) for key in shared
              if _shape(state[key]) != _shape(model_state[key])]
    if not differ:
        return
    first = '; '.join(f'{key}: checkpoint {list(a)}, model {list(b)}'
                      for key, a, b in differ[:3])
    raise CheckpointMismatchError(
        f'{path} was trained for another architecture than this config builds: '
        f'{len(differ)} of its {len(shared)} shared weights differ in shape. '
        f'Checkpoint: {describe_weights(state, meta)}. Config expects: '
        f'{describe_weights(model_state)}. First differences: {first}'
        + (f' (and {len(differ) - 3} more)' if len(differ) > 3 else ''))


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


def load_into_runner(runner, path: str, trust: bool = False) -> dict:
    """``runner.load_checkpoint(path, strict=True)``: MMEngine's loader.

    ``torch.load`` runs weights-only (refusals raise
    ``UntrustedCheckpointError``); weights of another architecture raise
    ``CheckpointMismatchError`` with a summary of both sides first
    (:func:`check_shapes`); a missing or unexpected key raises ``ValueError``
    naming the file and the keys (MMEngine's message).

    Returns:
        The checkpoint's ``meta`` (e.g. ``dataset_meta`` with the training
        classes); empty if none.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f'checkpoint not found: {path}')
    try:
        with trusted_loading(trust):
            checkpoint = runner.load_checkpoint(path, map_location='cpu', strict=True)
    except pickle.UnpicklingError as error:
        raise UntrustedCheckpointError(refusal_message(path, error)) from None
    except RuntimeError as error:
        if 'size mismatch' in str(error):
            from mmengine.model import is_model_wrapper
            model = runner.model.module if is_model_wrapper(runner.model) else runner.model
            loaded = load_untrusted(path, trust=trust)
            state = {k[len('module.'):] if k.startswith('module.') else k: v
                     for k, v in state_dict_of(loaded).items()}
            meta = loaded.get('meta', {}) if isinstance(loaded, dict) else {}
            check_shapes(path, state, model.state_dict(),
                         meta if isinstance(meta, dict) else {})
        if 'state_dict' not in str(error) and 'size mismatch' not in str(error):
            raise
        raise ValueError(f'{path} does not match the model: '
                         f'{str(error).strip()}') from None
    meta = checkpoint.get('meta', {}) if isinstance(checkpoint, dict) else {}
    return meta if isinstance(meta, dict) else {}


def last_checkpoint(work_dir: str) -> str:
    """The checkpoint MMEngine's ``last_checkpoint`` marker in ``work_dir`` names.

    MMEngine writes the marker with an absolute path; a checkpoint inside
    ``work_dir`` is returned under ``work_dir`` as given (a relative work
    dir gives a relative path, so a config that loads it holds no machine's
    absolute path)."""
    marker = os.path.join(work_dir, 'last_checkpoint')
    if not os.path.isfile(marker):
        raise FileNotFoundError(f'training wrote no checkpoint in {work_dir}')
    with open(marker) as handle:
        path = handle.read().strip()
    if not os.path.isabs(path):
        return os.path.join(work_dir, path)
    inside = os.path.relpath(path, os.path.abspath(work_dir))
    return path if inside.startswith('..') else os.path.join(work_dir, inside)


def resume_checkpoint(work_dir: str) -> Tuple[Optional[str], Optional[str]]:
    """The checkpoint ``train --resume`` continues from, and a note when
    MMEngine's ``last_checkpoint`` marker points outside ``work_dir``.

    MMEngine writes the marker with the absolute path of the checkpoint it
    saved (``CheckpointHook``), so a copied or moved work dir still points
    to the original. The file is looked up inside ``work_dir`` first:

    * the marker's path lies inside ``work_dir``: that file, no note;
    * it lies outside and ``work_dir`` holds a file of the same name (a
      copy): that file, and a note saying so;
    * it lies outside and no such file is here: the marker's file, and a
      note saying so.

    Returns ``(None, None)`` without a marker (MMEngine then starts from
    scratch and warns).

    Raises:
        FileNotFoundError: the marker names a file that exists neither in
            ``work_dir`` nor where it points (message names both).
    """
    marker = os.path.join(work_dir, 'last_checkpoint')
    if not os.path.isfile(marker):
        return None, None
    with open(marker) as handle:
        pointer = handle.read().strip()
    if not os.path.isabs(pointer):
        pointer = os.path.join(work_dir, pointer)
    here = os.path.realpath(work_dir)
    if os.path.commonpath([here, os.path.realpath(pointer)]) == here:
        if not os.path.isfile(pointer):
            raise FileNotFoundError(f'{marker} names {pointer}, which does not exist')
        return pointer, None
    local = os.path.join(work_dir, os.path.basename(pointer))
    if os.path.isfile(local):
        return local, (f'resume: {marker} points outside the work dir ({pointer}); '
                       f'resuming from {local} in it (--resume-from PATH to choose)')
    if os.path.isfile(pointer):
        return pointer, (f'resume: {marker} points outside the work dir; resuming '
                         f'from {pointer} (--resume-from PATH to choose)')
    raise FileNotFoundError(f'{marker} names {pointer}, which does not exist, and '
                            f'{work_dir} has no {os.path.basename(pointer)}; give '
                            '--resume-from PATH')
