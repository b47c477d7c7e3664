"""The one place where bike_bench touches open_clip.

Backbones are named the open_clip way, as an (architecture, pretrained) pair:
``('ViT-B-16', 'openai')``. ``pretrained`` may also be ``None`` (random
weights), a local OpenAI-layout ``.pt`` (TorchScript archive or a plain state
dict, fp16 allowed), or an open_clip checkpoint.
"""
from __future__ import annotations

import os
import warnings
import zipfile
from typing import Dict, Mapping, Optional, Sequence, Tuple, Union

import open_clip
import torch
from torch import nn

from bike_bench.checkpoint_io import load_untrusted

# OpenAI's CLIP archives carry these non-parameter entries.
_OPENAI_META_KEYS = ('input_resolution', 'context_length', 'vocab_size')
# Wrappers seen around CLIP weights: the parity fixture, BIKE releases,
# open_clip training checkpoints.
_STATE_DICT_WRAPPERS = ('clip_state_dict', 'model_state_dict', 'state_dict')

ArchSpec = Union[str, Mapping]
_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def available_architectures() -> Sequence[str]:
    return open_clip.list_models()


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


def _model_from_config(config: Mapping) -> nn.Module:
    config = dict(config)
    quick_gelu = config.pop('quick_gelu', True)
    return open_clip.CLIP(quick_gelu=quick_gelu, **config)


def build_clip(arch: Optional[ArchSpec] = 'ViT-B-32',
               pretrained: Optional[str] = None) -> nn.Module:
    """Build an open_clip CLIP in fp32.

    Args:
        arch: an open_clip architecture name, a dict model config
            (``embed_dim``, ``vision_cfg``, ``text_cfg``) for custom or tiny
            models, or ``None`` to infer the shape from ``pretrained`` (a
            local OpenAI-layout file).
        pretrained: ``None``, a pretrained tag known to open_clip
            (``'openai'``), or a path to a local checkpoint.
    """
    is_path = isinstance(pretrained, str) and (
        os.path.sep in pretrained or pretrained.endswith(('.pt', '.pth', '.bin'))
        or os.path.exists(pretrained))
    if is_path:
        if not os.path.isabs(pretrained) and not os.path.exists(pretrained):
            # Repository-relative paths (the toy CLIP of the smoke configs)
            # work from any working directory.
            pretrained = os.path.join(_REPO_ROOT, pretrained)
        state = read_clip_state_dict(pretrained)
        if arch is None:
            model = open_clip.model.build_model_from_openai_state_dict(
                dict(state), quick_gelu=True, cast_dtype=None)
            return model.float()
        model = build_clip(arch, None)
        expected = model.state_dict()
        wrong_shape = [f'{k} {tuple(v.shape)} vs {tuple(expected[k].shape)}'
                       for k, v in state.items()
                       if k in expected and v.shape != expected[k].shape]
        if wrong_shape:
            raise ValueError(f'{pretrained} does not match architecture '
                             f'{arch!r}: shapes differ for {wrong_shape[:4]}')
        result = model.load_state_dict(state, strict=False)
        problems = [k for k in result.missing_keys
                    if k not in ('logit_bias', 'attn_mask')]
        if problems or result.unexpected_keys:
            raise ValueError(
                f'{pretrained} does not match architecture {arch!r}: '
                f'missing {problems[:8]}, unexpected '
                f'{result.unexpected_keys[:8]}')
        return model.float()
    if arch is None:
        raise ValueError('arch=None needs a local checkpoint path as '
                         '`pretrained` to infer the architecture from')
    if isinstance(arch, Mapping):
        if pretrained is not None:
            raise ValueError('a dict architecture takes only a local '
                             'checkpoint path as `pretrained`')
        return _model_from_config(arch).float()
    if arch not in open_clip.list_models():
        raise ValueError(
            f'unknown CLIP architecture {arch!r}; open_clip knows e.g. '
            'ViT-B-32, ViT-B-16, ViT-L-14, ViT-L-14-336 (see '
            'open_clip.list_models()), or pass a dict model config')
    # OpenAI's CLIP uses QuickGELU; open_clip's plain configs do not.
    # Honour a `torch.device(...)` context (e.g. 'meta' to inspect shapes).
    device = torch.empty(0).device
    model = open_clip.create_model(arch, pretrained=pretrained,
                                   force_quick_gelu=True, precision='fp32',
                                   device=device)
    return model.float()


def tokenize(texts: Sequence[str], context_length: int = 77) -> torch.Tensor:
    """CLIP's BPE tokenisation (ids identical to OpenAI's tokenizer)."""
    return open_clip.tokenize(list(texts), context_length=context_length)


def encode_text_tokens(clip: nn.Module,
                       tokens: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Text features at every position and at end-of-text.

    open_clip's ``encode_text`` returns only the pooled feature; BIKE's
    concept spotting also needs all 77 projected token features.

    Returns:
        (class embedding ``(N, D)``, token features ``(N, L, D)``)
    """
    cast_dtype = clip.transformer.get_cast_dtype()
    x = clip.token_embedding(tokens).to(cast_dtype)
    x = x + clip.positional_embedding.to(cast_dtype)
    x = clip.transformer(x, attn_mask=clip.attn_mask)
    x = clip.ln_final(x)
    if isinstance(clip.text_projection, nn.Linear):
        x = clip.text_projection(x)
    else:
        x = x @ clip.text_projection
    eot = tokens.argmax(dim=-1)
    cls = x[torch.arange(x.shape[0], device=x.device), eot]
    return cls, x


def text_width(clip: nn.Module) -> int:
    return clip.ln_final.weight.shape[0]


def embed_dim(clip: nn.Module) -> int:
    proj = clip.text_projection
    return proj.out_features if isinstance(proj, nn.Linear) else proj.shape[1]


def image_size(clip: nn.Module) -> int:
    size = clip.visual.image_size
    return size[0] if isinstance(size, (tuple, list)) else int(size)


def pretrained_weights_status(arch: str, tag: str = 'openai') -> str:
    """Whether open_clip can load ``(arch, tag)`` without the network."""
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
    return 'not cached (needs a download or a local checkpoint path)'
