"""bike-bench's tiny architectures as open_clip model configs.

Each tiny architecture is one JSON file in ``model_configs/`` next to this
module, in open_clip's model-config layout (``embed_dim``, ``vision_cfg``,
``text_cfg``, ...), shipped as package data and registered with open_clip
when this module is imported (``open_clip.add_model_config``), so
``open_clip.get_model_config('bike-tiny-openai-clip')`` and
``open_clip.list_models()`` know them. A file is named
``bike-tiny-<family>.json`` after the text-tower family it stands for
(``bike_bench.models.tiny_archs``).

Some of them carry two keys open_clip's factory does not take, which
``bike_bench.models.clip.factory`` reads: ``vision_cfg.timm_model_kwargs``
(extra timm arguments: a 2-layer, 64 px EVA02 or SigLIP tower) and
``text_cfg.hf_config`` (a local Hugging Face config: the text tower is
built from it, nothing is downloaded). ``build_clip`` therefore builds every
name of :data:`ARCHITECTURES` from its config dict (``resolve``) rather
than through ``open_clip.create_model``.
"""
from __future__ import annotations

import os
from typing import List, Mapping, Tuple, Union

import open_clip

CONFIG_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'model_configs')
PREFIX = 'bike-tiny-'

open_clip.add_model_config(CONFIG_DIR)

#: The names of bike-bench's own model configs, sorted.
ARCHITECTURES: Tuple[str, ...] = tuple(sorted(
    os.path.splitext(name)[0] for name in os.listdir(CONFIG_DIR)
    if name.endswith('.json')))


def is_own(arch: object) -> bool:
    """Whether ``arch`` names one of bike-bench's model configs."""
    return isinstance(arch, str) and arch in ARCHITECTURES


def resolve(arch: Union[str, Mapping, None]) -> Union[str, Mapping, None]:
    """``arch``, with a bike-bench name replaced by (a copy of) its config dict.

    open_clip's own names and dict architectures are returned unchanged.
    """
    if not is_own(arch):
        return arch
    return open_clip.get_model_config(arch)


def name_of(family: str) -> str:
    """The model-config name of a tiny text-tower family (``'siglip'`` ->
    ``'bike-tiny-siglip'``).

    Raises:
        KeyError: no model config for ``family`` (the known ones are named).
    """
    name = PREFIX + family
    if name not in ARCHITECTURES:
        known = ', '.join(a[len(PREFIX):] for a in ARCHITECTURES)
        raise KeyError(f'no tiny architecture for {family!r}; known: {known}')
    return name


def open_clip_architectures() -> List[str]:
    """``open_clip.list_models()`` without bike-bench's own configs."""
    return [name for name in open_clip.list_models() if name not in ARCHITECTURES]
