from .clip_preprocessor import CLIP_MEAN, CLIP_STD, CLIPDataPreprocessor

__all__ = ['CLIPDataPreprocessor', 'CLIP_MEAN', 'CLIP_STD']
