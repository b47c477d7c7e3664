# BIKE, CLIP ViT-L/14-336 fine-tuned from the Kinetics-400 16-frame
# model on ActivityNet v1.3, 16 frames at 336 px.
# Official config: configs/anet/anet_k400_finetune_336.yaml
# log anet_vit-L_14-336px_f16_log.txt;
# 32 GPUs x 8 (the iterations per epoch in the log give a
# global batch of 256).
# Paper: 94.7% top-1, 96.1% mAP with 4x1 views.
_base_ = [
    '_base_/models/bike_vit-l-p14-res336.py',
    '_base_/datasets/activitynet.py',
    '_base_/schedules/bike_adamw_cosine_20e.py',
    '_base_/default_runtime.py',
]

# Video settings and the pipelines that use them (MMEngine does not
# re-evaluate the base file's pipelines with a config's values).
num_segments = 16
input_size = 336
scale_size = 336  # short side: 256 for 224 px crops, else the crop size
num_test_clips = 4
num_test_crops = 1

train_pipeline = [
    dict(type='VideoInit'),
    dict(type='BIKESampleFrames', num_segments=num_segments, mode='train'),
    dict(type='VideoDecode'),
    dict(type='ShortSideResize', size=scale_size),
    dict(type='OfficialRandomResizedCrop', size=input_size),
    dict(type='RandomHorizontalFlip', p=0.5),
    dict(type='RandomGrayscale', p=0.2),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs', meta_keys=('img_shape', 'video_id', 'sample_idx')),
]

val_pipeline = [
    dict(type='VideoInit'),
    dict(type='BIKESampleFrames', num_segments=num_segments, mode='val'),
    dict(type='VideoDecode'),
    dict(type='ShortSideResize', size=scale_size),
    dict(type='BIKECenterCrop', crop_size=input_size),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs', meta_keys=('img_shape', 'video_id', 'sample_idx')),
]

# 4x1 views: 4 temporal clips x one centre crop.
test_pipeline = [
    dict(type='VideoInit'),
    dict(type='BIKESampleFrames', num_segments=num_segments, mode='test',
         num_clips=num_test_clips),
    dict(type='VideoDecode'),
    dict(type='ShortSideResize', size=scale_size),
    dict(type='BIKECenterCrop', crop_size=input_size),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs', meta_keys=('img_shape', 'video_id', 'sample_idx')),
]

# 32 GPUs x 8 videos = global batch 256.
train_dataloader = dict(batch_size=8, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=8, dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
train_cfg = dict(val_interval=5)

# Fine-tuned from the K400 model (official `pretrain`): convert the
# official checkpoint with `bike-bench convert` (mmconfigs/README.md)
# or train it with its config. The path is relative to the repository
# root; the checkpoint holds every weight, so CLIP is not downloaded.
load_from = 'checkpoints/bike_vit-l-p14-res336_clip-openai-pre_32xb8-16x1x1-20e_kinetics400-rgb.pth'
model = dict(backbone=dict(pretrained=None), num_classes=200)
