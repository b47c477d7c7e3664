"""The one place where bike_bench touches open_clip.

Backbones are named the open_clip way, as an (architecture, pretrained) pair:
``('ViT-B-16', 'openai')``. ``pretrained`` may also be ``None`` (random
weights), a local OpenAI-layout ``.pt`` (TorchScript archive or a plain state
dict, fp16 allowed), or an open_clip checkpoint.

Every family of model open_clip builds is read the same way: the text tower
gives BIKE a class embedding per prompt (equal to open_clip's
``encode_text``) and projected features at every token position. Each family
of text tower is one small class registered in ``TEXT_TOWERS``
(OpenAI-style ``CLIP``, ``CustomTextCLIP`` with a ``TextTransformer``, CoCa,
Hugging Face ``HFTextEncoder``); ``build_clip`` is the one place where
``pretrained`` is resolved.
"""
from __future__ import annotations

import contextlib
import copy
import os
import warnings
import zipfile
from collections import OrderedDict
from typing import Dict, Mapping, Optional, Sequence, Tuple, Union

import open_clip
import open_clip.timm_model as open_clip_timm_model
import torch
from open_clip.constants import OPENAI_DATASET_MEAN, OPENAI_DATASET_STD
from open_clip.hf_configs import arch_dict as hf_arch_dict
from open_clip.hf_model import HFTextEncoder
from open_clip.tokenizer import HFTokenizer, SimpleTokenizer
from open_clip.transformer import TextTransformer, text_global_pool
from torch import nn

from bike_bench.checkpoint_io import load_untrusted

# OpenAI's CLIP archives carry these non-parameter entries.
_OPENAI_META_KEYS = ('input_resolution', 'context_length', 'vocab_size')
# Wrappers seen around CLIP weights: the parity fixture, BIKE releases,
# open_clip training checkpoints.
_STATE_DICT_WRAPPERS = ('clip_state_dict', 'model_state_dict', 'state_dict')

ArchSpec = Union[str, Mapping]


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


class UnsupportedArchitecture(ValueError):
    """An open_clip model BIKE cannot read class and token features from.

    The message is one line naming the architecture and the reason.
    """


def _project(x: torch.Tensor, projection) -> torch.Tensor:
    """Apply an open_clip text projection (matrix, ``nn.Linear`` or none)."""
    if projection is None:
        return x
    if isinstance(projection, nn.Linear):
        return projection(x)
    return x @ projection


def _projection_width(projection, width: int) -> int:
    if projection is None:
        return width
    if isinstance(projection, nn.Linear):
        return projection.out_features
    return projection.shape[1]


# --------------------------------------------------------------- text towers
# Every family of text tower open_clip builds is one small class below,
# registered in order; the first whose ``matches`` accepts a model reads it.
TEXT_TOWERS: 'OrderedDict[str, type]' = OrderedDict()
_POOLS = ('argmax', 'eos', 'first', 'last')


def register_text_tower(cls: type) -> type:
    TEXT_TOWERS[cls.name] = cls
    return cls


class TextTower:
    """How BIKE reads one family of open_clip text towers.

    ``encode`` returns the class embedding ``(A, D)`` -- equal to open_clip's
    ``encode_text`` (unnormalised) -- and token features ``(A, L, D)``: every
    position of the tower's output passed through the same final norm and
    projection as the pooled feature. ``positions`` says what BIKE's "all 77
    positions, padding included" (spec §2) becomes for the family.
    """

    name = ''
    positions = ''

    @staticmethod
    def matches(model: nn.Module) -> bool:
        raise NotImplementedError

    def check(self, model: nn.Module, arch: str) -> None:
        """Raise ``UnsupportedArchitecture`` if the tower cannot be read."""

    def encode(self, model: nn.Module,
               tokens: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def width(self, model: nn.Module) -> int:
        raise NotImplementedError

    def embed_dim(self, model: nn.Module) -> int:
        raise NotImplementedError


def _check_pool(pool_type: str, arch: str) -> None:
    if pool_type not in _POOLS:
        raise UnsupportedArchitecture(
            f'{arch}: text pooling {pool_type!r} returns no single class '
            f'embedding (BIKE needs one of {", ".join(_POOLS)})')


@register_text_tower
class OpenAICLIPText(TextTower):
    """OpenAI-style ``CLIP``: the text transformer inlined in the model.

    Unchanged from the official code for argmax pooling: all ``L`` positions
    (77 for CLIP's BPE, padding after end-of-text included) are projected and
    the class embedding is the end-of-text position.
    """

    name = 'openai-clip'
    positions = ('all context_length positions of the tokenizer (CLIP BPE: 77 '
                 'with start, words, end-of-text and zero padding, as in BIKE; '
                 'CLIPA: 32 BERT positions, last-token pooling)')

    @staticmethod
    def matches(model):
        return isinstance(model, open_clip.CLIP)

    def check(self, model, arch):
        _check_pool(model.text_pool_type, arch)

    def encode(self, model, tokens):
        cast_dtype = model.transformer.get_cast_dtype()
        x = model.token_embedding(tokens).to(cast_dtype)
        x = x + model.positional_embedding.to(cast_dtype)
        x = model.transformer(x, attn_mask=model.attn_mask)
        x = model.ln_final(x)
        x = _project(x, model.text_projection)
        cls = text_global_pool(x, tokens, model.text_pool_type,
                               eos_token_id=getattr(model, 'text_eos_id', None))
        return cls, x

    def width(self, model):
        return model.ln_final.weight.shape[0]

    def embed_dim(self, model):
        return _projection_width(model.text_projection, self.width(model))


@register_text_tower
class TransformerText(TextTower):
    """``CustomTextCLIP`` with open_clip's ``TextTransformer`` (SigLIP, EVA,
    MobileCLIP, PE, CLIPA, ...), any pooling (argmax, eos, first, last),
    with or without a projection.

    The class embedding is pooled before projecting, exactly as open_clip
    does; tokens are every position after the final norm, projected.
    """

    name = 'text-transformer'
    positions = ('all context_length positions of the tokenizer (SigLIP: 64, '
                 'padding included; the last one is the class position)')

    @staticmethod
    def matches(model):
        text = getattr(model, 'text', None)
        return isinstance(text, TextTransformer) and text.cls_emb is None

    def check(self, model, arch):
        _check_pool(model.text.pool_type, arch)

    def encode(self, model, tokens):
        text = model.text
        # ``_embeds`` adds positions and builds the causal / padding mask the
        # way the tower's own forward does (open_clip 3.x).
        x, attn_mask = text._embeds(tokens)
        x = text.transformer(x, attn_mask=attn_mask)
        x = text.ln_final(x)
        pooled = text_global_pool(x, tokens, text.pool_type,
                                  eos_token_id=getattr(text, 'eos_id', None))
        return (_project(pooled, text.text_projection),
                _project(x, text.text_projection))

    def width(self, model):
        return model.text.width

    def embed_dim(self, model):
        return _projection_width(model.text.text_projection, model.text.width)


@register_text_tower
class CoCaText(TransformerText):
    """CoCa's text tower: a ``TextTransformer`` with a class token appended.

    The class embedding is the appended token after the final norm and
    projection; the token features are the ``L`` text positions (without the
    appended class token) through the same norm and projection.
    """

    name = 'coca'
    positions = ('the context_length text positions (76 for CoCa, padding '
                 'included), not the appended class token')

    @staticmethod
    def matches(model):
        text = getattr(model, 'text', None)
        return isinstance(text, TextTransformer) and text.cls_emb is not None

    def check(self, model, arch):
        pass  # the appended class token is always the pooled one

    def encode(self, model, tokens):
        text = model.text
        x, attn_mask = text._embeds(tokens)
        x = text.transformer(x, attn_mask=attn_mask)
        pooled = text.ln_final(text_global_pool(x, pool_type='last'))
        words = text.ln_final(x[:, :-1])
        return (_project(pooled, text.text_projection),
                _project(words, text.text_projection))


@register_text_tower
class HuggingFaceText(TextTower):
    """``HFTextEncoder``: a Hugging Face transformer (RoBERTa, XLM-R, mT5
    encoder, NLLB encoder) with open_clip's pooler and projection.

    The class embedding is the pooler's output projected (mean pooling over
    non-padding tokens for most towers); token features are the last hidden
    states at every position, projected by the same projection.
    """

    name = 'hf-text'
    positions = ('all context_length positions of the Hugging Face tokenizer '
                 '(77 by default), padding included (masked inside the encoder)')

    @staticmethod
    def matches(model):
        return isinstance(getattr(model, 'text', None), HFTextEncoder)

    def encode(self, model, tokens):
        text = model.text
        mask = (tokens != text.config.pad_token_id).long()
        out = text.transformer(input_ids=tokens, attention_mask=mask)
        pooled = text.proj(text.pooler(out, mask))
        return pooled, text.proj(out.last_hidden_state)

    def width(self, model):
        config = model.text.config
        key = hf_arch_dict[config.model_type]['config_names']['width']
        return int(getattr(config, key))

    def embed_dim(self, model):
        return int(model.text.output_dim)


def text_tower(model: nn.Module, arch: object = None) -> TextTower:
    """The registered family that reads ``model``'s text tower.

    Raises:
        UnsupportedArchitecture: no family reads it, or the family cannot
            (e.g. no single pooled class embedding).
    """
    name = arch if isinstance(arch, str) else type(model).__name__
    for cls in TEXT_TOWERS.values():
        if cls.matches(model):
            tower = cls()
            tower.check(model, name)
            return tower
    text = getattr(model, 'text', None)
    kind = type(text).__name__ if text is not None else 'no text tower'
    raise UnsupportedArchitecture(
        f'{name}: {type(model).__name__} with {kind} is not a text tower '
        f'BIKE can read (known: {", ".join(TEXT_TOWERS)})')


# ----------------------------------------------------------------- building
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
    try:
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
    """A model from a dict config (tiny models for tests and smoke runs).

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


def _is_path(pretrained) -> bool:
    return isinstance(pretrained, str) and (
        os.path.sep in pretrained or pretrained.endswith(('.pt', '.pth', '.bin'))
        or os.path.exists(pretrained))


def build_clip(arch: Optional[ArchSpec] = 'ViT-B-32',
               pretrained: Optional[str] = None, load_weights: bool = True) -> nn.Module:
    """Build an open_clip model (``CLIP``, ``CustomTextCLIP`` or ``CoCa``) in fp32.

    Args:
        arch: an open_clip architecture name, a dict model config
            (``embed_dim``, ``vision_cfg``, ``text_cfg``; see
            ``_model_from_config``) for custom or tiny models, or ``None`` to
            infer the shape from ``pretrained`` (a local OpenAI-layout file).
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
    if _is_path(pretrained):  # the smoke configs' toy CLIP is package data
        from bike_bench import paths
        pretrained = paths.shipped_file(pretrained)
    if _is_path(pretrained) and not load_weights and arch is not None:
        return build_clip(arch, None)
    if _is_path(pretrained):
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
        text_tower(model, 'the dict architecture')
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
        from bike_bench.models.pretrained import unavailable
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
    if not _hf_config_cached(name):
        raise UnsupportedArchitecture(
            f'{arch}: its Hugging Face text tower ({name}) needs the Hub '
            'config, which is not in the local Hugging Face cache (build it '
            'once online, or use a dict config with text_cfg.hf_config)')


def _hf_config_cached(repo_id: str) -> bool:
    try:
        from huggingface_hub import try_to_load_from_cache
        return isinstance(try_to_load_from_cache(repo_id, 'config.json'), str)
    except Exception:  # noqa: BLE001 - a cache probe must not fail
        return False


# ------------------------------------------------------------- tokenizers
def context_length(arch: Optional[ArchSpec], model: Optional[nn.Module] = None) -> int:
    """Token ids per text for ``arch``'s tokenizer (SigLIP 64, CoCa 76, 77)."""
    if isinstance(arch, Mapping):
        return int(arch.get('text_cfg', {}).get('context_length', 77))
    if isinstance(arch, str):
        config = open_clip.get_model_config(arch) or {}
        return int(config.get('text_cfg', {}).get('context_length', 77))
    return int(getattr(model, 'context_length', 77) or 77)


def uses_clip_bpe(arch: Optional[ArchSpec]) -> bool:
    """Whether ``arch`` tokenises with CLIP's BPE (``SimpleTokenizer``)."""
    if isinstance(arch, Mapping):
        return not arch.get('text_cfg', {}).get('hf_tokenizer_name')
    if isinstance(arch, str):
        text_cfg = (open_clip.get_model_config(arch) or {}).get('text_cfg', {})
        return not (text_cfg.get('hf_tokenizer_name') or 'siglip' in arch.lower())
    return True


def build_tokenizer(arch: Optional[ArchSpec]):
    """The tokenizer open_clip pairs with ``arch`` (callable: texts -> ids).

    CLIP's BPE needs no files; SigLIP and Hugging Face tokenizers come from
    the Hugging Face cache. A dict architecture uses ``text_cfg``'s
    ``hf_tokenizer_name`` if given, else CLIP's BPE at its context length.

    Raises:
        RuntimeError: the tokenizer's files are not available (one line).
    """
    length = context_length(arch)
    if uses_clip_bpe(arch):
        return SimpleTokenizer(context_length=length)
    try:
        if isinstance(arch, Mapping):
            text_cfg = arch['text_cfg']
            return HFTokenizer(text_cfg['hf_tokenizer_name'], context_length=length,
                               **text_cfg.get('tokenizer_kwargs', {}))
        return open_clip.get_tokenizer(arch)
    except ImportError as error:
        raise RuntimeError(
            f'the tokenizer of {arch if isinstance(arch, str) else "the dict architecture"} '
            f'needs {error.name or "transformers"} (pip install transformers)') from None
    except Exception as error:  # noqa: BLE001 - offline, missing files, ...
        first = str(error).strip().splitlines()[0] if str(error).strip() else ''
        raise RuntimeError(
            f'the tokenizer of {arch if isinstance(arch, str) else "the dict architecture"} '
            f'cannot be loaded ({type(error).__name__}: {first[:200]}); it '
            'comes from the Hugging Face Hub: build it once online or put '
            'it in the Hugging Face cache') from None


def tokenize(texts: Sequence[str], context_length: int = 77) -> torch.Tensor:
    """CLIP's BPE tokenisation (ids identical to OpenAI's tokenizer)."""
    return open_clip.tokenize(list(texts), context_length=context_length)


# ------------------------------------------------------------ features
def encode_text_tokens(clip: nn.Module,
                       tokens: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Text features at every position and the pooled class embedding.

    open_clip's ``encode_text`` returns only the pooled feature; BIKE's
    concept spotting also needs every projected token feature. The family of
    text tower decides how (``TEXT_TOWERS``).

    Returns:
        (class embedding ``(N, D)``, token features ``(N, L, D)``)
    """
    return text_tower(clip).encode(clip, tokens)


def encode_image(clip: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """``(N, 3, H, W)`` -> unnormalised image embeddings ``(N, D)``."""
    return clip.encode_image(images, normalize=False)


def text_width(clip: nn.Module) -> int:
    return text_tower(clip).width(clip)


def embed_dim(clip: nn.Module) -> int:
    return text_tower(clip).embed_dim(clip)


def image_size(clip: nn.Module) -> int:
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
    if isinstance(arch, Mapping):
        cfg = arch.get('preprocess_cfg') or {}
        if cfg.get('mean') and cfg.get('std'):
            return tuple(cfg['mean']), tuple(cfg['std'])
    elif isinstance(arch, str) and not _is_path(pretrained):
        tags = ([pretrained] if isinstance(pretrained, str)
                else list(open_clip.list_pretrained_tags_by_model(arch))[:1])
        for tag in tags:
            cfg = open_clip.get_pretrained_cfg(arch, tag) or {}
            if cfg.get('mean') and cfg.get('std'):
                return tuple(cfg['mean']), tuple(cfg['std'])
    return tuple(OPENAI_DATASET_MEAN), tuple(OPENAI_DATASET_STD)


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
    from bike_bench.models.pretrained import offline_hint
    return f'not cached: {offline_hint(arch, tag)}'
