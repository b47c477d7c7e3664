"""The poster's visualisation: Video Concept Spotting saliency over frames.

For one video, the top predicted classes each get a bar chart of the VCS
head's temporal saliency (its frame weights, summing to 1 over frames)
under thumbnails of the sampled frames, with the video's attribute words.
"""
from __future__ import annotations

import dataclasses
from typing import List, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from bike_bench.attributes.generate import DEFAULT_PROMPT, AttributeScorer
from bike_bench.models.heads.interactions import VCSInteraction


@dataclasses.dataclass
class VideoSaliency:
    """What the figure plots, as arrays.

    Attributes:
        frames: ``(T, H, W, 3)`` uint8 thumbnails (the model's crops).
        frame_indices: ``(T,)`` 0-based frame numbers in the video.
        class_indices: ``(k,)`` top predicted classes, best first.
        class_names: their names.
        probabilities: ``(k,)`` softmax of the video branch's logits.
        saliency: ``(k, T)`` VCS frame weights of each class.
        attributes: the video's attribute phrases (may be empty).
    """

    frames: np.ndarray
    frame_indices: np.ndarray
    class_indices: np.ndarray
    class_names: List[str]
    probabilities: np.ndarray
    saliency: np.ndarray
    attributes: List[str] = dataclasses.field(default_factory=list)


@torch.no_grad()
def video_saliency(model, inputs: torch.Tensor, topk: int = 3):
    """Top-k classes and their VCS saliency for one video (first view).

    Args:
        model: a ``BIKERecognizer`` (or subclass) whose video head uses the
            VCS interaction, with class names set.
        inputs: normalised clips ``(1, V, C, T, H, W)``.
        topk: classes to return.

    Returns:
        ``(class_indices (k,), probabilities (k,), saliency (k, T))`` tensors.
    """
    head = getattr(model, 'video_head', None)
    if head is None or not isinstance(head.interaction, VCSInteraction):
        raise ValueError('temporal saliency needs a video head with the VCS '
                         'interaction (Video Concept Spotting)')
    cls, tokens = model.class_text_features()
    features = model.frame_features(inputs)[:, 0]  # (1, T, D), first view
    logits, alpha = head(features, tokens, cls, return_saliency=True)
    probs = F.softmax(logits[0], dim=-1)
    top = probs.topk(min(topk, probs.numel()))
    return top.indices, top.values, alpha[top.indices, 0]


def plot_saliency(result: VideoSaliency, title: Optional[str] = None):
    """A matplotlib figure: thumbnails, one saliency bar chart per class,
    the attribute words. Uses the non-interactive Agg backend."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    num_frames = len(result.frames)
    num_classes = len(result.class_names)
    height_ratios = [1.2] + [1.0] * num_classes
    fig = plt.figure(figsize=(max(6.0, 1.1 * num_frames), 1.3 + 1.2 * sum(height_ratios)))
    grid = fig.add_gridspec(1 + num_classes, num_frames, height_ratios=height_ratios,
                            hspace=0.9, wspace=0.05)
    for t in range(num_frames):
        ax = fig.add_subplot(grid[0, t])
        ax.imshow(result.frames[t])
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel(f'#{int(result.frame_indices[t])}', fontsize=7)
    positions = np.arange(num_frames)
    for row, (name, prob, weights) in enumerate(zip(
            result.class_names, result.probabilities, result.saliency)):
        ax = fig.add_subplot(grid[1 + row, :])
        ax.bar(positions, weights, width=0.8, color=f'C{row}')
        ax.axhline(1.0 / num_frames, color='grey', lw=0.8, ls='--')
        ax.set_xlim(-0.5, num_frames - 0.5)
        ax.set_xticks(positions)
        ax.set_xticklabels([])
        ax.set_ylabel('saliency', fontsize=7)
        ax.set_title(f'{row + 1}. {name}  (p = {prob:.3f})', fontsize=9, loc='left')
    words = ', '.join(result.attributes) if result.attributes else '(none)'
    fig.text(0.01, 0.01, f'attributes: {words}', fontsize=8, wrap=True)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def save_saliency_figure(result: VideoSaliency, out: str,
                         title: Optional[str] = None, dpi: int = 120) -> None:
    import os
    import matplotlib.pyplot as plt
    fig = plot_saliency(result, title)
    folder = os.path.dirname(os.path.abspath(out))
    os.makedirs(folder, exist_ok=True)
    fig.savefig(out, dpi=dpi, bbox_inches='tight')
    plt.close(fig)


def attribute_words(model, inputs: torch.Tensor, phrases: Sequence[str],
                    topk: int = 5, prompt: Optional[str] = None) -> List[str]:
    """The video's attributes from the model's own CLIP against ``phrases``."""
    scorer = AttributeScorer(model.backbone, phrases, prompt or DEFAULT_PROMPT,
                             min(topk, len(phrases)))
    _, picks = scorer.rank(inputs)
    return [phrases[i] for i in picks[0].tolist()]
