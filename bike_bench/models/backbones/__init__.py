from .clip_encoder import CLIPEncoder

__all__ = ['CLIPEncoder']
