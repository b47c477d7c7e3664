"""Tiny random models of every text-tower family, for tests and smoke runs.

Each is a dict architecture for ``CLIPEncoder`` (see
``clip_adapter._model_from_config``) built from the same open_clip classes
as the full-size family -- same image tower type (open_clip ViT, timm
SigLIP ViT, timm EVA02), same text tower type (OpenAI-style transformer,
``TextTransformer`` with SigLIP's last-token pooling, Hugging Face RoBERTa
from a local config, CoCa) -- at 64 px with two layers, so they run on a
CPU in seconds and need no download. Text uses CLIP's BPE ids (the real
SigLIP / RoBERTa tokenizers live on the Hugging Face Hub), at the family's
context length.
"""
from __future__ import annotations

import copy
from typing import Dict, Mapping, Optional, Union

import open_clip

_VIT = dict(image_size=64, layers=2, width=128, patch_size=16)
_TIMM_TINY = dict(img_size=64, depth=2, embed_dim=64, num_heads=2)

TINY_ARCHS: Dict[str, dict] = {
    # The parity fixtures' shape (mmconfigs/_base_/models/bike_tiny-vit-p16-res64.py).
    'openai-clip': dict(
        embed_dim=64, vision_cfg=dict(_VIT),
        text_cfg=dict(context_length=77, vocab_size=49408, width=64, heads=1,
                      layers=2)),
    # SigLIP / SigLIP 2: timm SigLIP ViT with attention-pool ('map'),
    # bidirectional text transformer, last-token pooling, biased projection.
    'siglip': dict(
        embed_dim=64, custom_text=True, quick_gelu=False, init_logit_bias=-10,
        vision_cfg=dict(image_size=64, timm_model_name='vit_base_patch16_siglip_224',
                        timm_model_pretrained=False, timm_pool='map', timm_proj='none',
                        timm_model_kwargs=dict(_TIMM_TINY)),
        text_cfg=dict(context_length=64, vocab_size=49408, width=64, heads=2,
                      layers=2, no_causal_mask=True, proj_bias=True,
                      pool_type='last', norm_kwargs=dict(eps=1e-6)),
        preprocess_cfg=dict(mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))),
    # EVA02-CLIP: timm EVA02 ViT (rotary positions, SwiGLU), causal text
    # transformer with argmax (end-of-text) pooling inside CustomTextCLIP.
    'eva02': dict(
        embed_dim=64, custom_text=True, quick_gelu=False,
        vision_cfg=dict(image_size=64, timm_model_name='eva02_base_patch16_clip_224',
                        timm_model_pretrained=False, timm_pool='token', timm_proj=None,
                        timm_model_kwargs=dict(_TIMM_TINY)),
        text_cfg=dict(context_length=77, vocab_size=49408, width=64, heads=1,
                      layers=2)),
    # Hugging Face text tower (roberta-ViT-B-32's family): RoBERTa from a
    # local config, mean pooling over non-padding tokens, MLP projection.
    'hf-roberta': dict(
        embed_dim=64, quick_gelu=True, vision_cfg=dict(_VIT),
        text_cfg=dict(context_length=77, hf_model_name='roberta-base',
                      hf_pooler_type='mean_pooler', hf_proj_type='mlp',
                      hf_config=dict(model_type='roberta', vocab_size=49408,
                                     hidden_size=64, num_hidden_layers=2,
                                     num_attention_heads=2, intermediate_size=128,
                                     max_position_embeddings=80, pad_token_id=0,
                                     bos_token_id=49406, eos_token_id=49407))),
    # CoCa: attention-pooled ViT, text transformer with an appended class
    # token, multimodal decoder (unused by BIKE).
    'coca': dict(
        embed_dim=64, custom_text=True, quick_gelu=False,
        vision_cfg=dict(_VIT, attentional_pool=True, attn_pooler_heads=2,
                        output_tokens=True),
        text_cfg=dict(context_length=76, vocab_size=49408, width=64, heads=1,
                      layers=2, embed_cls=True, output_tokens=True),
        multimodal_cfg=dict(context_length=76, vocab_size=49408, width=64,
                            heads=1, layers=1, attn_pooler_heads=2)),
}


def tiny_arch(family: str) -> dict:
    """A copy of the tiny dict architecture of ``family``."""
    if family not in TINY_ARCHS:
        raise KeyError(f'no tiny architecture for {family!r}; known: '
                       f'{", ".join(TINY_ARCHS)}')
    return copy.deepcopy(TINY_ARCHS[family])


def family_of(arch: Union[str, Mapping, None]) -> str:
    """The tiny family whose towers match those of ``arch`` (a name)."""
    if not isinstance(arch, str):
        return 'openai-clip'
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


def tiny_arch_like(arch: Union[str, Mapping, None]) -> Optional[dict]:
    """The tiny architecture of ``arch``'s family."""
    return tiny_arch(family_of(arch))
