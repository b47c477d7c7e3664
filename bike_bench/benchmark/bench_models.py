"""The models the bench measures, built from the project's model configs.

Weights are random (``pretrained=None``): speed and FLOPs do not depend on
them, and the bench must run offline.
"""
from __future__ import annotations

import dataclasses
import os
from typing import Dict, List, Optional
import bike_bench.models  # noqa: F401  (registers the modules)
from bike_bench.paths import config_dir as shipped_configs

# Kinetics-400 has 400 classes; the bench's head and text cache use as many.
NUM_CLASSES = 400
# Videos of the Kinetics-400 validation set (the projections of a full evaluation).
K400_VAL_VIDEOS = 19795


@dataclasses.dataclass(frozen=True)
class BenchModel:
    """A model of the bench.

    Attributes:
        name: bench name (``--models``).
        label: human-readable name.
        config: model config under ``mmconfigs/_base_/models/``.
        image_size: crop size fed to the image encoder.
        resize: short side before cropping (256 for 224 crops, else the crop).
        video_size: ``(height, width)`` of the synthetic bench videos.
    """

    name: str
    label: str
    config: str
    image_size: int
    resize: int
    video_size: tuple

    @property
    def video_key(self) -> str:
        return f'{self.video_size[1]}x{self.video_size[0]}'


MODELS_BY_NAME: Dict[str, BenchModel] = {m.name: m for m in [
    BenchModel('tiny', 'tiny CLIP (ViT 128x2, p16) @64', 'bike_tiny-vit-p16-res64.py',
               64, 64, (72, 96)),
    BenchModel('vit-b-32', 'ViT-B/32 @224', 'bike_vit-b-p32.py', 224, 256, (256, 340)),
    BenchModel('vit-b-16', 'ViT-B/16 @224', 'bike_vit-b-p16.py', 224, 256, (256, 340)),
    BenchModel('vit-l-14', 'ViT-L/14 @224', 'bike_vit-l-p14.py', 224, 256, (256, 340)),
    BenchModel('vit-l-14-336', 'ViT-L/14 @336', 'bike_vit-l-p14-res336.py', 336, 336,
               (336, 448)),
]}


def class_names(num_classes: int = NUM_CLASSES) -> List[str]:
    """Synthetic class names (text cost depends on the count, not the words)."""
    return [f'synthetic action number {i}' for i in range(num_classes)]


def config_dir() -> str:
    return str(shipped_configs() / '_base_' / 'models')


def get(name: str) -> BenchModel:
    if name not in MODELS_BY_NAME:
        raise ValueError(f'unknown bench model {name!r}; choose from '
                         f'{", ".join(MODELS_BY_NAME)}')
    return MODELS_BY_NAME[name]


def parse_names(text: str) -> List[str]:
    """``'tiny,vit-b-32'`` -> validated names."""
    names = [n.strip() for n in text.split(',') if n.strip()]
    if not names:
        raise ValueError('no model names given')
    for name in names:
        get(name)
    return names


def model_config(spec: BenchModel, **overrides) -> dict:
    """The recognizer config of ``spec`` with random weights and 400 classes."""
    from mmengine.config import Config
    path = os.path.join(config_dir(), spec.config)
    if not os.path.isfile(path):
        raise FileNotFoundError(f'model config for bench model {spec.name!r} not '
                                f'found: {path}')
    cfg = Config.fromfile(path).model.to_dict()
    cfg['backbone']['pretrained'] = None
    cfg['class_names'] = class_names()
    cfg.update(overrides)
    return cfg


def build(spec: BenchModel, device: Optional[str] = None, **overrides):
    """A ``BIKERecognizer`` for ``spec`` in eval mode."""
    import logging

    import torch
    from mmaction.registry import MODELS
    cfg = model_config(spec, **overrides)
    # open_clip warns on every random-weight build; here that is intended.
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        with torch.device(device or 'cpu'):
            model = MODELS.build(cfg)
    finally:
        root.setLevel(level)
    # Also tells MMEngine's data preprocessor where to send its batches.
    return model.to(device or 'cpu').eval()
