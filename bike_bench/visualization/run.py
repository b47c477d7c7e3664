"""Saliency figures for any video: model from a config + checkpoint, the
video through the config's validation pipeline."""
from __future__ import annotations

import copy
import os
from typing import List, Optional, Tuple

import numpy as np
import torch

from bike_bench.attributes.generate import frame_pipeline
from bike_bench.datasets.attribute_sentences import PHRASES_KEY, AttributesFileError
from bike_bench.checkpoint_io import load_model_checkpoint
from bike_bench.datasets.manifest import read_manifest
from bike_bench.models.pretrained import weights_from_checkpoint
from bike_bench.visualization.saliency import (VideoSaliency, attribute_words,
                                               video_saliency)


def load_model(cfg, checkpoint: str, device: str = 'cpu', trust: bool = False):
    """The config's model with the checkpoint's weights (strict), in eval mode."""
    from mmaction.registry import MODELS
    model_cfg = copy.deepcopy(cfg.model)
    weights_from_checkpoint(dict(model=model_cfg))  # the checkpoint holds them
    model = MODELS.build(model_cfg)
    load_model_checkpoint(model, checkpoint, strict=True, trust=trust)
    return model.to(device).eval()


def _video_info(video: str, manifest_path: Optional[str],
                media_root: Optional[str]) -> Tuple[dict, str]:
    """Pipeline input for a video file, or for a manifest entry's path."""
    if manifest_path is None:
        if not os.path.exists(video):
            raise FileNotFoundError(f'video not found: {video}')
        return dict(filename=video, start_index=0, label=-1), video
    manifest = read_manifest(manifest_path)
    for entry in manifest.entries:
        if entry.path == video:
            location = manifest.entry_location(entry, media_root)
            if entry.is_frame_folder:
                return dict(frame_dir=location, total_frames=entry.num_frames,
                            filename_tmpl=entry.filename_tmpl,
                            start_index=entry.start_index, label=-1), entry.path
            return dict(filename=location, start_index=0, label=-1), entry.path
    raise KeyError(f'{manifest_path} has no entry with path {video!r}')


def load_video(cfg, model, video: str, manifest_path: Optional[str] = None,
               media_root: Optional[str] = None):
    """Run the validation pipeline on one video.

    Returns:
        ``(inputs (1, V, C, T, H, W) normalised, frames (T, H, W, 3) uint8 of
        the first view, frame indices (T,), key)`` where ``key`` is the
        video's path as attributes files index it.
    """
    from mmcv.transforms import to_tensor
    from mmaction.registry import TRANSFORMS
    from mmaction.structures import ActionDataSample
    info, key = _video_info(video, manifest_path, media_root)
    results = dict(info, modality='RGB')
    frames = None
    for transform_cfg in frame_pipeline(cfg):
        if transform_cfg['type'] == 'PackActionInputs':
            break
        if transform_cfg['type'] == 'FormatShape':
            frames = np.asarray(results['imgs'])
        results = TRANSFORMS.build(transform_cfg)(results)
    if frames is None:
        raise ValueError('the validation pipeline has no FormatShape step')
    num_frames = int(results['clip_len'])
    data = dict(inputs=[to_tensor(results['imgs'])], data_samples=[ActionDataSample()])
    inputs = model.data_preprocessor(data, False)['inputs']
    indices = np.asarray(results['frame_inds']).reshape(-1)[:num_frames]
    return inputs, frames[:num_frames], indices, key


def visualize_video(cfg, model, video: str, class_names: List[str], topk: int = 3,
                    manifest_path: Optional[str] = None,
                    media_root: Optional[str] = None,
                    attributes: Optional[dict] = None,
                    num_attributes: int = 5) -> VideoSaliency:
    """Everything the figure shows for one video.

    Args:
        cfg: the model's config (validation pipeline).
        model: the loaded model.
        video: a video file, or a manifest entry's path with ``manifest_path``.
        class_names: the label space to rank.
        topk: classes to show.
        attributes: a loaded attributes JSON (official layout) to take the
            video's words from; otherwise they are computed with the model's
            CLIP against ``class_names``.
        num_attributes: attribute words to show.
    """
    model.set_class_names(list(class_names), source='visualize')
    with torch.no_grad():
        inputs, frames, indices, key = load_video(cfg, model, video, manifest_path,
                                                  media_root)
        inputs = inputs.to(model.backbone.logit_scale.device)
        top, probs, saliency = video_saliency(model, inputs, topk)
        if attributes is not None:
            entry = attributes.get(key)
            if entry is None:
                raise AttributesFileError(f'the attributes file has no entry for '
                                          f'{key!r}')
            words = list(entry[PHRASES_KEY][:num_attributes])
        else:
            words = attribute_words(model, inputs, class_names, num_attributes)
    return VideoSaliency(
        frames=frames, frame_indices=indices, class_indices=top.cpu().numpy(),
        class_names=[class_names[i] for i in top.tolist()],
        probabilities=probs.cpu().numpy(), saliency=saliency.cpu().numpy(),
        attributes=words)
