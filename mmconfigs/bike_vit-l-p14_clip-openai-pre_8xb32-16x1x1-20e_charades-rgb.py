# BIKE, CLIP ViT-L/14 trained on Charades from CLIP (no Kinetics-400 stage),
# 16 frames at 224 px.
# Official config: configs/charades/charades_clip_finetune.yaml (no log or
# figure released); 8 GPUs x 32 assumed (global batch 256).
_base_ = [
    '_base_/models/bike_vit-l-p14.py',
    '_base_/datasets/charades.py',
    '_base_/schedules/bike_adamw_cosine_20e.py',
    '_base_/default_runtime.py',
]

# 8 GPUs x 32 videos = global batch 256.
train_dataloader = dict(batch_size=32)
val_dataloader = dict(batch_size=32)

model = dict(num_classes=157)
