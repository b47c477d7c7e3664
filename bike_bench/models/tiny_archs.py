"""Tiny random models of every text-tower family, for tests and smoke runs.

Each family's tiny architecture is one open_clip model config,
``bike_bench/models/clip/model_configs/bike-tiny-<family>.json``, built from
the same open_clip classes as the full-size family at 64 px with two layers,
so it runs on a CPU in seconds and needs no download:

- ``openai-clip``: OpenAI-style ``CLIP`` (embed 64, ViT 128 wide x 2 layers
  with 16 px patches, text 64 x 2), the parity fixtures' and the smoke
  configs' shape (``mmconfigs/_base_/models/bike_tiny-vit-p16-res64.py``);
- ``siglip``: SigLIP / SigLIP 2 -- timm SigLIP ViT with attention pooling
  (``map``), bidirectional text transformer, last-token pooling, biased
  projection, mean and std 0.5;
- ``eva02``: EVA02-CLIP -- timm EVA02 ViT (rotary positions, SwiGLU), causal
  text transformer with argmax (end-of-text) pooling in ``CustomTextCLIP``;
- ``hf-roberta``: a Hugging Face text tower (roberta-ViT-B-32's family) --
  RoBERTa from a local config, mean pooling over non-padding tokens, MLP
  projection;
- ``coca``: attention-pooled ViT, text transformer with an appended class
  token, multimodal decoder (unused by BIKE).

Text uses CLIP's BPE ids (the real SigLIP / RoBERTa tokenizers live on the
Hugging Face Hub), at the family's context length.
"""
from __future__ import annotations

from typing import Mapping, Tuple, Union

import open_clip

from bike_bench.models.clip import model_configs

#: The tiny families, one model config each.
TINY_FAMILIES: Tuple[str, ...] = tuple(
    name[len(model_configs.PREFIX):] for name in model_configs.ARCHITECTURES)


def tiny_arch(family: str) -> dict:
    """A copy of the tiny architecture of ``family`` as a dict model config
    (its open_clip name is ``'bike-tiny-<family>'``).

    Raises:
        KeyError: no tiny architecture for ``family`` (the known ones named).
    """
    return open_clip.get_model_config(model_configs.name_of(family))


def family_of(arch: Union[str, Mapping, None]) -> str:
    """The tiny family whose towers match those of ``arch`` (a name)."""
    if not isinstance(arch, str):
        return 'openai-clip'
    if model_configs.is_own(arch):
        return arch[len(model_configs.PREFIX):]
    config = open_clip.get_model_config(arch) or {}
    vision, text = config.get('vision_cfg', {}), config.get('text_cfg', {})
    timm_name = str(vision.get('timm_model_name', ''))
    if 'multimodal_cfg' in config:
        return 'coca'
    if text.get('hf_model_name'):
        return 'hf-roberta'
    if 'siglip' in timm_name or 'siglip' in arch.lower():
        return 'siglip'
    if timm_name.startswith('eva'):
        return 'eva02'
    return 'openai-clip'
