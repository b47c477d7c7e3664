"""The tokenizer open_clip pairs with an architecture.

CLIP's BPE (``SimpleTokenizer``) needs no files and is what OpenAI-style
CLIP, EVA02-CLIP and bike-bench's tiny architectures use; SigLIP and Hugging
Face tokenizers come from the Hugging Face cache.
"""
from __future__ import annotations

from typing import Mapping, Optional, Sequence, Union

import open_clip
import torch
from open_clip.tokenizer import HFTokenizer, SimpleTokenizer
from torch import nn

from bike_bench.models.clip import model_configs

ArchSpec = Union[str, Mapping]


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
    arch = model_configs.resolve(arch)
    if isinstance(arch, Mapping):
        return not arch.get('text_cfg', {}).get('hf_tokenizer_name')
    if isinstance(arch, str):
        text_cfg = (open_clip.get_model_config(arch) or {}).get('text_cfg', {})
        return not (text_cfg.get('hf_tokenizer_name') or 'siglip' in arch.lower())
    return True


def build_tokenizer(arch: Optional[ArchSpec]):
    """The tokenizer open_clip pairs with ``arch`` (callable: texts -> ids).

    A dict architecture uses ``text_cfg``'s ``hf_tokenizer_name`` if given,
    else CLIP's BPE at its context length.

    Raises:
        RuntimeError: the tokenizer's files are not available (one line).
    """
    arch = model_configs.resolve(arch)
    length = context_length(arch)
    if uses_clip_bpe(arch):
        return SimpleTokenizer(context_length=length)
    what = arch if isinstance(arch, str) else 'the dict architecture'
    try:
        if isinstance(arch, Mapping):
            text_cfg = arch['text_cfg']
            return HFTokenizer(text_cfg['hf_tokenizer_name'], context_length=length,
                               **text_cfg.get('tokenizer_kwargs', {}))
        return open_clip.get_tokenizer(arch)
    except ImportError as error:
        raise RuntimeError(
            f'the tokenizer of {what} needs {error.name or "transformers"} '
            '(pip install transformers)') from None
    except Exception as error:  # noqa: BLE001 - offline, missing files, ...
        first = str(error).strip().splitlines()[0] if str(error).strip() else ''
        raise RuntimeError(
            f'the tokenizer of {what} cannot be loaded ({type(error).__name__}: '
            f'{first[:200]}); it comes from the Hugging Face Hub: build it once '
            'online or put it in the Hugging Face cache') from None


def tokenize(texts: Sequence[str], context_length: int = 77) -> torch.Tensor:
    """CLIP's BPE tokenisation (ids identical to OpenAI's tokenizer)."""
    return open_clip.tokenize(list(texts), context_length=context_length)
