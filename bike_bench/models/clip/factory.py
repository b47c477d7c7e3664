"""Building open_clip models for BIKE: ``build_clip``.

Backbones are named the open_clip way, as an (architecture, pretrained) pair:
``('ViT-B-16', 'openai')``. ``pretrained`` may also be ``None`` (random
weights), a local OpenAI-layout ``.pt`` (TorchScript archive or a plain state
dict, fp16 allowed), or an open_clip checkpoint (``weights``); the
architecture may be an open_clip name, one of bike-bench's own model configs
(``model_configs``) or a dict model config. ``build_clip`` is the one place
where ``pretrained`` is resolved; every model it returns has a text tower
BIKE can read (``text_towers``).
"""
from __future__ import annotations

import contextlib
import copy
from typing import Mapping, Optional, Tuple, Union

import open_clip
import open_clip.timm_model as open_clip_timm_model
import torch
from open_clip.constants import OPENAI_DATASET_MEAN, OPENAI_DATASET_STD
from open_clip.hf_model import HFTextEncoder
from torch import nn

from bike_bench import paths
from bike_bench.models.clip import model_configs
from bike_bench.models.clip.text_towers import UnsupportedArchitecture, text_tower
from bike_bench.models.clip.weights import (hf_config_cached, is_path,
                                            pretrained_weights_status,
                                            read_clip_state_dict)
from bike_bench.models.pretrained import unavailable

ArchSpec = Union[str, Mapping]


def _quick_gelu_for(arch: str, pretrained: Optional[str]) -> bool:
    """Whether to force QuickGELU: what the weights were trained with.

    A known pretrained tag decides (``'openai'``, MetaCLIP and DFN say yes;
    SigLIP, EVA and LAION tags no); without a tag, plain OpenAI-style
    configs keep QuickGELU (as OpenAI's CLIP, and as bike-bench always did)
    and every other family its own activation.
    """
    if isinstance(pretrained, str):
        tag = open_clip.get_pretrained_cfg(arch, pretrained)
        if tag:
            return bool(tag.get('quick_gelu', False))
    config = open_clip.get_model_config(arch) or {}
    return _is_openai_style(config)


def _is_openai_style(config: Mapping) -> bool:
    text_cfg = config.get('text_cfg', {})
    return not (config.get('custom_text') or 'multimodal_cfg' in config
                or 'hf_model_name' in text_cfg
                or 'timm_model_name' in config.get('vision_cfg', {}))


@contextlib.contextmanager
def _timm_overrides(kwargs: Optional[Mapping]):
    """Pass extra keyword arguments to timm while open_clip builds a timm
    image tower (tiny EVA / SigLIP towers: depth, width, image size)."""
    if not kwargs:
        yield
        return
    real = open_clip_timm_model.timm

    class _Timm:
        def __getattr__(self, name):
            return getattr(real, name)

        @staticmethod
        def create_model(*args, **options):
            return real.create_model(*args, **{**options, **kwargs})

    open_clip_timm_model.timm = _Timm()
    try:
        yield
    finally:
        open_clip_timm_model.timm = real


def _hf_text_from_config(embed_dim: int, hf_config: Mapping,
                         pooler_type: Optional[str], proj_type: Optional[str]
                         ) -> nn.Module:
    """An ``HFTextEncoder`` from a local Hugging Face config (no download)."""
    try:  # optional: only Hugging Face text towers need it
        import transformers
    except ImportError:
        raise UnsupportedArchitecture(
            'Hugging Face text towers need `transformers` (pip install '
            'transformers)') from None
    options = dict(hf_config)
    model_type = options.pop('model_type')
    config = transformers.AutoConfig.for_model(model_type, **options)
    tower = HFTextEncoder(model_type, output_dim=embed_dim, config=config,
                          pooler_type=pooler_type, proj_type=proj_type,
                          pretrained=False)
    if getattr(config, 'is_encoder_decoder', False):
        # open_clip keeps only the encoder of encoder-decoder models (mT5).
        tower.transformer = tower.transformer.get_encoder()
    return tower


def _model_from_config(config: Mapping) -> nn.Module:
    """A model from a dict config (bike-bench's model configs, custom models).

    Beyond open_clip's keys (``embed_dim``, ``vision_cfg``, ``text_cfg``,
    ``custom_text``, ``multimodal_cfg``) it takes
    ``vision_cfg.timm_model_kwargs`` (extra timm arguments, e.g. a 2-layer
    EVA) and ``text_cfg.hf_config`` (a local Hugging Face config dict with
    ``model_type``: the tower is built from it, nothing is downloaded).
    ``quick_gelu`` defaults to True (OpenAI's CLIP).
    """
    config = copy.deepcopy(dict(config))
    config.pop('preprocess_cfg', None)
    quick_gelu = config.pop('quick_gelu', True)
    text_cfg = dict(config.get('text_cfg', {}))
    vision_cfg = dict(config.get('vision_cfg', {}))
    timm_kwargs = vision_cfg.pop('timm_model_kwargs', None)
    hf_config = text_cfg.pop('hf_config', None)
    custom = bool(config.pop('custom_text', False) or hf_config is not None
                  or 'hf_model_name' in text_cfg)
    if hf_config is not None:
        hf = (text_cfg.pop('hf_pooler_type', None), text_cfg.pop('hf_proj_type', 'mlp'))
        # A throw-away one-layer tower; replaced by the local HF one below.
        text_cfg = dict(context_length=text_cfg.get('context_length', 77),
                        vocab_size=8, width=8, heads=1, layers=1)
    config.update(text_cfg=text_cfg, vision_cfg=vision_cfg)
    if 'multimodal_cfg' in config:
        model_class = open_clip.CoCa
    elif custom:
        model_class = open_clip.CustomTextCLIP
    else:
        model_class = open_clip.CLIP
    with _timm_overrides(timm_kwargs):
        model = model_class(quick_gelu=quick_gelu, **config)
    if hf_config is not None:
        model.text = _hf_text_from_config(config['embed_dim'], hf_config, *hf)
        model.context_length = text_cfg['context_length']
    return model


def build_clip(arch: Optional[ArchSpec] = 'ViT-B-32',
               pretrained: Optional[str] = None, load_weights: bool = True) -> nn.Module:
    """Build an open_clip model (``CLIP``, ``CustomTextCLIP`` or ``CoCa``) in fp32.

    Args:
        arch: an open_clip architecture name, one of bike-bench's model
            configs (``'bike-tiny-openai-clip'``, ...; see ``model_configs``),
            a dict model config (``embed_dim``, ``vision_cfg``,
            ``text_cfg``; see ``_model_from_config``), or ``None`` to infer
            the shape from ``pretrained`` (a local OpenAI-layout file).
        pretrained: ``None``, a pretrained tag known to open_clip
            (``'openai'``, ``'webli'``, ``'metaclip_fullcc'``, ...), or a path
            to a local checkpoint.
        load_weights: ``False`` builds the architecture that ``pretrained``
            names without reading or fetching its weights (a checkpoint will
            supply them); the tag still decides what the weights were trained
            with (QuickGELU), so the model computes what it was trained as.

    Raises:
        UnsupportedArchitecture: the model's text tower cannot give BIKE
            class and token features (one line saying why).
        ValueError: unknown architecture, or a checkpoint of another shape.
    """
    label = arch if isinstance(arch, str) else 'the dict architecture'
    arch = model_configs.resolve(arch)
    if is_path(pretrained):  # the smoke configs' toy CLIP is package data
        pretrained = paths.shipped_file(pretrained)
    if is_path(pretrained) and not load_weights and arch is not None:
        return build_clip(arch, None)
    if is_path(pretrained):
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
        model = _model_from_config(arch).float()
        text_tower(model, label)
        return model
    if arch not in open_clip.list_models():
        raise ValueError(
            f'unknown CLIP architecture {arch!r}; open_clip knows e.g. '
            'ViT-B-32, ViT-B-16, ViT-L-14, ViT-L-14-336 (see '
            'open_clip.list_models()), or pass a dict model config')
    _check_builds_offline(arch)
    # Honour a `torch.device(...)` context (e.g. 'meta' to inspect shapes).
    device = torch.empty(0).device
    try:
        model = open_clip.create_model(
            arch, pretrained=pretrained if load_weights else None,
            force_quick_gelu=_quick_gelu_for(arch, pretrained),
            precision='fp32', device=device)
    except Exception as error:  # a download that could not happen
        if pretrained is None or not pretrained_weights_status(
                arch, pretrained).startswith('not cached'):
            raise
        raise unavailable(arch, pretrained, error) from error
    text_tower(model, arch)
    return model.float()


def _check_builds_offline(arch: str) -> None:
    """Hugging Face text towers fetch their config from the Hub when built."""
    text_cfg = (open_clip.get_model_config(arch) or {}).get('text_cfg', {})
    name = text_cfg.get('hf_model_name')
    if not name:
        return
    try:
        import transformers  # noqa: F401
    except ImportError:
        raise UnsupportedArchitecture(
            f'{arch}: its Hugging Face text tower ({name}) needs '
            '`transformers` (pip install transformers)') from None
    if not hf_config_cached(name):
        raise UnsupportedArchitecture(
            f'{arch}: its Hugging Face text tower ({name}) needs the Hub '
            'config, which is not in the local Hugging Face cache (build it '
            'once online, or use a dict config with text_cfg.hf_config)')


# ------------------------------------------------------------ image tower
def encode_image(clip: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """``(N, 3, H, W)`` -> unnormalised image embeddings ``(N, D)``."""
    return clip.encode_image(images, normalize=False)


def image_size(clip: nn.Module) -> int:
    """Side of the square images the image tower takes (pixels)."""
    size = getattr(clip.visual, 'image_size', None)
    if size is None:
        size = getattr(clip.visual, 'preprocess_cfg', {}).get('size', 224)
    return size[0] if isinstance(size, (tuple, list)) else int(size)


def image_statistics(arch: Optional[ArchSpec], pretrained: Optional[str] = None
                     ) -> Tuple[Tuple[float, ...], Tuple[float, ...]]:
    """Mean and std (RGB in [0, 1]) the weights of ``(arch, pretrained)``
    expect: the pretrained tag's, else (random weights) the first tag's of
    the architecture, else CLIP's; a dict architecture may carry
    ``preprocess_cfg=dict(mean=..., std=...)``.
    """
    arch = model_configs.resolve(arch)
    if isinstance(arch, Mapping):
        cfg = arch.get('preprocess_cfg') or {}
        if cfg.get('mean') and cfg.get('std'):
            return tuple(cfg['mean']), tuple(cfg['std'])
    elif isinstance(arch, str) and not is_path(pretrained):
        tags = ([pretrained] if isinstance(pretrained, str)
                else list(open_clip.list_pretrained_tags_by_model(arch))[:1])
        for tag in tags:
            cfg = open_clip.get_pretrained_cfg(arch, tag) or {}
            if cfg.get('mean') and cfg.get('std'):
                return tuple(cfg['mean']), tuple(cfg['std'])
    return tuple(OPENAI_DATASET_MEAN), tuple(OPENAI_DATASET_STD)
