# BIKE, CLIP ViT-L/14 fine-tuned from the Kinetics-400 16-frame
# model on HMDB-51 split 1, 16 frames at 224 px.
# Official config: configs/hmdb51/hmdb_k400_finetune.yaml
# log hmdb51_vit-L_14_f16_log.txt;
# 8 GPUs x 32 (the iterations per epoch in the log give a
# global batch of 256).
# Paper: 82.9% top-1 with 1x1 view.
_base_ = [
    '_base_/models/bike_vit-l-p14.py',
    '_base_/datasets/hmdb51.py',
    '_base_/schedules/bike_adamw_cosine_20e.py',
    '_base_/default_runtime.py',
]

# 8 GPUs x 32 videos = global batch 256.
train_dataloader = dict(batch_size=32)
val_dataloader = dict(batch_size=32)
train_cfg = dict(val_interval=2)

# Fine-tuned from the K400 model (official `pretrain`): convert the
# official checkpoint with `bike-bench convert` (mmconfigs/README.md)
# or train it with its config. The path is relative to the repository
# root; the checkpoint holds every weight, so CLIP is not downloaded.
load_from = 'checkpoints/bike_vit-l-p14_clip-openai-pre_32xb8-16x1x1-20e_kinetics400-rgb.pth'
model = dict(backbone=dict(pretrained=None), num_classes=51)
