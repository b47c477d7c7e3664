"""The video branch head: a temporal header followed by an interaction."""
from __future__ import annotations

from typing import Optional

import torch
from torch import nn

from mmaction.registry import MODELS

from bike_bench.models.heads.temporal import TransfHeader

# Short names used by the official configs (``sim_header``, ``interaction``).
HEADER_ALIASES = {'Transf': 'TransfHeader', 'None': 'NoneHeader'}
INTERACTION_ALIASES = {'VCS': 'VCSInteraction', 'DP': 'DPInteraction'}


def _as_cfg(spec, aliases) -> dict:
    if isinstance(spec, str):
        if spec not in aliases and spec not in MODELS.module_dict:
            raise ValueError(f'unknown option {spec!r}; choose one of '
                             f'{sorted(aliases)}')
        return dict(type=aliases.get(spec, spec))
    return dict(spec)


def _is_temporal_transformer(header_type) -> bool:
    """Whether a header type is ``TransfHeader`` or a registered subclass
    (which then gets the head's widths and depth too)."""
    cls = MODELS.get(header_type) if isinstance(header_type, str) else header_type
    return isinstance(cls, type) and issubclass(cls, TransfHeader)


@MODELS.register_module()
class BIKEVideoHead(nn.Module):
    """Text-to-video head: ``interaction(header(frame_features), texts)``.

    Args:
        embed_dim: CLIP joint embedding width D.
        num_heads: attention heads of the temporal transformer
            (official: text width / 64).
        header: ``'Transf'``, ``'None'`` or a registry config.
        interaction: ``'VCS'``, ``'DP'`` or a registry config.
        num_layers: temporal transformer depth (6 in the paper).
        context_length: size of the temporal position table (77).
    """

    def __init__(self, embed_dim: int, num_heads: int = 8,
                 header='Transf', interaction='VCS', num_layers: int = 6,
                 context_length: int = 77):
        super().__init__()
        header_cfg = _as_cfg(header, HEADER_ALIASES)
        if _is_temporal_transformer(header_cfg['type']):
            header_cfg.setdefault('embed_dim', embed_dim)
            header_cfg.setdefault('num_heads', num_heads)
            header_cfg.setdefault('num_layers', num_layers)
            header_cfg.setdefault('context_length', context_length)
        self.header = MODELS.build(header_cfg)
        self.interaction = MODELS.build(_as_cfg(interaction, INTERACTION_ALIASES))

    @property
    def uses_token_features(self) -> bool:
        return getattr(self.interaction, 'uses_token_features', False)

    def forward(self, frames: torch.Tensor, tokens: Optional[torch.Tensor],
                cls: torch.Tensor, **kwargs) -> torch.Tensor:
        """Logits ``(B, A)`` for frame features ``(B, T, D)``."""
        return self.interaction(self.header(frames), tokens, cls, **kwargs)
