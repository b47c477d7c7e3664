# BIKE, CLIP ViT-B/16, 8 frames at 224 px, trained on Kinetics-400.
# Official config: configs/k400/k400_train_rgb_vitb-16-f8.yaml, log
# k400_vit-B_16_8f_log.txt; 8 GPUs x 32
# (939 iterations per epoch in the log = global batch 256).
# Paper: 84.0% top-1 with 4x3 views (checkpoint k400-vit-b-16-f8.pt).
_base_ = [
    '_base_/models/bike_vit-b-p16.py',
    '_base_/datasets/kinetics400.py',
    '_base_/schedules/bike_adamw_cosine.py',
    '_base_/default_runtime.py',
]

# 8 GPUs x 32 videos = global batch 256.
train_dataloader = dict(batch_size=32)
val_dataloader = dict(batch_size=32)

model = dict(num_classes=400)
