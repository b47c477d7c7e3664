"""How BIKE reads class and token features from open_clip's text towers.

Every family of model open_clip builds is read the same way: the text tower
gives BIKE a class embedding per prompt (equal to open_clip's
``encode_text``) and projected features at every token position. Each family
of text tower is one small class registered in ``TEXT_TOWERS``
(OpenAI-style ``CLIP``, ``CustomTextCLIP`` with a ``TextTransformer``, CoCa,
Hugging Face ``HFTextEncoder``).
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Tuple

import open_clip
import torch
from open_clip.hf_configs import arch_dict as hf_arch_dict
from open_clip.hf_model import HFTextEncoder
from open_clip.transformer import TextTransformer, text_global_pool
from torch import nn


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
    positions, padding included" (docs/method.md §2) becomes for the family.
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


def text_width(clip: nn.Module) -> int:
    """Width of the text transformer (before the projection)."""
    return text_tower(clip).width(clip)


def embed_dim(clip: nn.Module) -> int:
    """Width of the joint image-text space (after the projection)."""
    return text_tower(clip).embed_dim(clip)
