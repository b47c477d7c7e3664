"""Pretrained CLIP weights: not fetched when a checkpoint supplies them, and
one clear error (with the offline recipe) when they are needed but absent.

A bike-bench checkpoint holds every weight of the model, CLIP included, and is
loaded strictly; building the model first with ``pretrained='openai'`` would
only download weights that are then overwritten -- and fail on the offline
compute nodes clusters use. :func:`weights_from_checkpoint` turns a config
into the one that builds the bare architecture; evaluation commands apply it
whenever a checkpoint will be loaded, so the dumped config says what ran.
"""
from __future__ import annotations

import os
from typing import Any, List

BACKBONE_TYPES = ('CLIPEncoder',)


class PretrainedWeightsUnavailable(RuntimeError):
    """Pretrained CLIP weights are needed (training from CLIP) but cannot be
    loaded: not cached and no network. The message says where to put them."""


def _hf_cache() -> str:
    try:
        from huggingface_hub import constants
        return str(constants.HF_HUB_CACHE)
    except Exception:  # noqa: BLE001 - only used in a message
        return os.path.expanduser('~/.cache/huggingface/hub')


def offline_hint(arch: str, tag: str) -> str:
    """Where the weights of ``(arch, tag)`` come from and where to put them so
    that open_clip finds them without the network."""
    try:
        import open_clip
        cfg = open_clip.get_pretrained_cfg(arch, tag) or {}
    except Exception:  # noqa: BLE001 - only used in a message
        cfg = {}
    ways = []
    hub = str(cfg.get('hf_hub', '')).strip('/')
    if hub:
        ways.append(f'run once with internet to fill the Hugging Face cache '
                    f'({_hf_cache()}, repo {hub}; copy that folder to the '
                    'offline machine or set HF_HOME)')
    url = cfg.get('url')
    if url:
        ways.append(f'or download {url} and set the backbone\'s pretrained to '
                    'that file (--cfg-options model.backbone.pretrained=/path/'
                    f'{os.path.basename(url)})')
    if not ways:
        ways.append('set the backbone\'s pretrained to a local open_clip '
                    'checkpoint (--cfg-options model.backbone.pretrained=PATH)')
    return '; '.join(ways)


def unavailable(arch: str, tag: str, cause: BaseException) -> PretrainedWeightsUnavailable:
    """The error for weights that could not be fetched."""
    reason = str(cause).splitlines()[0] if str(cause) else type(cause).__name__
    return PretrainedWeightsUnavailable(
        f'pretrained CLIP weights {arch} / {tag!r} are not available offline '
        f'({type(cause).__name__}: {reason[:160]}); {offline_hint(arch, tag)}')


def _walk(node: Any, path: str, changed: List[str]) -> None:
    if isinstance(node, dict):
        if node.get('type') in BACKBONE_TYPES and node.get('pretrained') is not None \
                and node.get('load_pretrained', True):
            # The tag stays: it says what the weights were trained with
            # (QuickGELU, image statistics); only the fetch is dropped.
            changed.append(f'{path}.load_pretrained = False (pretrained '
                           f'{node["pretrained"]!r} names the weights)')
            node['load_pretrained'] = False
        for key, value in node.items():
            _walk(value, f'{path}.{key}', changed)
    elif isinstance(node, (list, tuple)):
        for index, value in enumerate(node):
            _walk(value, f'{path}[{index}]', changed)


def weights_from_checkpoint(cfg) -> List[str]:
    """Make ``cfg`` build every CLIP backbone without pretrained weights,
    because a checkpoint will supply them (loaded strictly). In place.

    The backbones keep their ``pretrained`` tag (it decides QuickGELU and the
    image statistics the weights were trained with) and get
    ``load_pretrained=False``: a checkpoint of a LAION- or SigLIP-trained
    model is then rebuilt with the activation it was trained with.

    Returns:
        The entries changed, e.g. ``['model.backbone.load_pretrained = False
        (pretrained 'openai' names the weights)']`` (empty when none asked
        for pretrained weights).
    """
    return backbones_from_checkpoint(cfg['model'])


def backbones_from_checkpoint(model_cfg) -> List[str]:
    """:func:`weights_from_checkpoint` on a model config (``cfg.model``)."""
    changed: List[str] = []
    _walk(model_cfg, 'model', changed)
    return changed
