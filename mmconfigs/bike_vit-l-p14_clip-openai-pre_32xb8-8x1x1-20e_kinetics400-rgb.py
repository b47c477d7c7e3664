# BIKE, CLIP ViT-L/14, 8 frames at 224 px, trained on Kinetics-400; the model
# used for every zero-shot result of the paper.
# Official config: configs/k400/k400_train_rgb_vitl-14-f8.yaml (batch 32 per
# GPU); its log k400_vit-L_14_8f_log.txt ran 32 GPUs x 8 (939 iterations per
# epoch = global batch 256), which is what this config records. 8 GPUs x 32
# is the same global batch.
# Paper: 87.4% top-1 with 4x3 views (checkpoint k400-vit-l-14-f8.pt).
_base_ = [
    '_base_/models/bike_vit-l-p14.py',
    '_base_/datasets/kinetics400.py',
    '_base_/schedules/bike_adamw_cosine_20e.py',
    '_base_/default_runtime.py',
]

# 32 GPUs x 8 videos = global batch 256.
train_dataloader = dict(batch_size=8)
val_dataloader = dict(batch_size=8)

model = dict(num_classes=400)
