# BIKE video branch, CLIP ViT-B/32, 8 frames at 224 px, trained on
# Kinetics-400. Official config: configs/k400/k400_train_rgb_vitb-32-f8.yaml;
# its training run is the video stage of
# k400_vit-B_32_8f_video_attributes_log.txt (79.5% single view).
# 8 GPUs x 32 (939 iterations per epoch in the log = global batch 256).
# The paper reports this backbone only as the video + attributes model
# (the bike-va_... config).
_base_ = [
    '_base_/models/bike_vit-b-p32.py',
    '_base_/datasets/kinetics400.py',
    '_base_/schedules/bike_adamw_cosine.py',
    '_base_/default_runtime.py',
]

# 8 GPUs x 32 videos = global batch 256.
train_dataloader = dict(batch_size=32)
val_dataloader = dict(batch_size=32)

model = dict(num_classes=400)
