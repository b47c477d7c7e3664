"""Figures: Video Concept Spotting saliency over frames (the poster's)."""
from .saliency import (VideoSaliency, attribute_words, plot_saliency,
                       save_saliency_figure, video_saliency)

__all__ = ['VideoSaliency', 'video_saliency', 'plot_saliency',
           'save_saliency_figure', 'attribute_words']
