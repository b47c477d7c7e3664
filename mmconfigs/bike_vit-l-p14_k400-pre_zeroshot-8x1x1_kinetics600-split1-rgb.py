# BIKE zero-shot (docs/method.md#zeroshot) on
# Kinetics-600 split 1 (160 classes new to K400).
# The K400 ViT-L/14 8-frame model, no further training; 8 frames at 224 px,
# one view (the official zero-shot test script's defaults). Official config:
# configs/k600/k600_zero_shot_split1.yaml.
# Paper: 70.14% top-1 (mean of the 3 splits 68.53 +- 1.23).
_base_ = [
    '_base_/models/bike_vit-l-p14.py',
    '_base_/datasets/kinetics600.py',
    '_base_/default_runtime.py',
]

test_cfg = dict(type='SkipAwareTestLoop')

# The Kinetics-400 ViT-L/14 8-frame model (official k400-vit-l-14-f8.pt,
# converted with `bike-bench convert`); relative to the repository root.
load_from = 'checkpoints/bike_vit-l-p14_clip-openai-pre_32xb8-8x1x1-20e_kinetics400-rgb.pth'
num_classes = 160
model = dict(backbone=dict(pretrained=None), num_classes=num_classes)
