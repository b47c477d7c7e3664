"""CLIP weights: local files (OpenAI's layout) and open_clip's caches.

``pretrained`` may be a local OpenAI-layout ``.pt`` (TorchScript archive or
a plain state dict, fp16 allowed), an open_clip checkpoint, or a pretrained
tag that open_clip downloads into the Hugging Face or ``~/.cache/clip``
cache; this module reads the first two and says whether the third is here.
"""
from __future__ import annotations

import os
import warnings
import zipfile
from typing import Dict, Mapping

import open_clip
import torch

from bike_bench.checkpoint_io import load_untrusted
from bike_bench.models.pretrained import offline_hint

# OpenAI's CLIP archives carry these non-parameter entries.
_OPENAI_META_KEYS = ('input_resolution', 'context_length', 'vocab_size')
# Wrappers seen around CLIP weights: the parity fixture, BIKE releases,
# open_clip training checkpoints.
_STATE_DICT_WRAPPERS = ('clip_state_dict', 'model_state_dict', 'state_dict')


def is_path(pretrained) -> bool:
    """Whether ``pretrained`` names a local file rather than a tag."""
    return isinstance(pretrained, str) and (
        os.path.sep in pretrained or pretrained.endswith(('.pt', '.pth', '.bin'))
        or os.path.exists(pretrained))


def _strip_prefix(state_dict: Mapping[str, torch.Tensor],
                  prefix: str = 'module.') -> Dict[str, torch.Tensor]:
    return {(k[len(prefix):] if k.startswith(prefix) else k): v
            for k, v in state_dict.items()}


def _is_torchscript_archive(path: str) -> bool:
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return any(name.endswith('constants.pkl') for name in archive.namelist())


def read_clip_state_dict(path: str) -> Dict[str, torch.Tensor]:
    """Read CLIP weights from a local file into an fp32 OpenAI-layout dict.

    Accepts OpenAI's TorchScript archives, plain state dicts and the common
    wrappers around them. Pickled files are read with ``weights_only``.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: the file holds no CLIP weights.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f'CLIP checkpoint not found: {path}')
    if _is_torchscript_archive(path):
        # OpenAI's releases are TorchScript archives holding the weights.
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', FutureWarning)
            state = torch.jit.load(path, map_location='cpu').state_dict()
    else:
        state = load_untrusted(path)
    if isinstance(state, Mapping):
        for wrapper in _STATE_DICT_WRAPPERS:
            if wrapper in state and isinstance(state[wrapper], Mapping):
                state = state[wrapper]
                break
    if not isinstance(state, Mapping) or not any(
            k.endswith('visual.proj') or k.endswith('text_projection')
            for k in state):
        raise ValueError(f'{path} does not hold CLIP weights (no '
                         '`visual.proj` / `text_projection` entries)')
    state = _strip_prefix(dict(state))
    for key in _OPENAI_META_KEYS:
        state.pop(key, None)
    # The official BIKE code casts fp16 CLIP weights to fp32 before use.
    return {k: (v.float() if v.is_floating_point() else v)
            for k, v in state.items()}


def hf_config_cached(repo_id: str) -> bool:
    """Whether the Hugging Face cache holds ``repo_id``'s ``config.json``."""
    try:
        from huggingface_hub import try_to_load_from_cache
        return isinstance(try_to_load_from_cache(repo_id, 'config.json'), str)
    except Exception:  # noqa: BLE001 - a cache probe must not fail
        return False


def pretrained_weights_status(arch: str, tag: str = 'openai') -> str:
    """Whether open_clip can load ``(arch, tag)`` without the network.

    Returns ``'unknown tag'``, ``'cached (<file>)'`` or ``'not cached: <where
    to put the file>'``.
    """
    cfg = open_clip.get_pretrained_cfg(arch, tag)
    if not cfg:
        return 'unknown tag'
    try:
        from huggingface_hub import try_to_load_from_cache
        hub = cfg.get('hf_hub', '')
        if hub:
            repo = hub.rstrip('/').split('/')
            repo_id = '/'.join(repo[:2])
            for fname in ('open_clip_pytorch_model.bin',
                          'open_clip_model.safetensors'):
                found = try_to_load_from_cache(repo_id, fname)
                if isinstance(found, str):
                    return f'cached ({found})'
    except Exception:  # noqa: BLE001 - a status probe must not fail
        pass
    url = cfg.get('url', '')
    if url:
        cache = os.path.expanduser('~/.cache/clip')
        local = os.path.join(cache, os.path.basename(url))
        if os.path.exists(local):
            return f'cached ({local})'
    return f'not cached: {offline_hint(arch, tag)}'
