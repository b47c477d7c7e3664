# BIKE, CLIP ViT-L/14-336, 32 frames at 336 px, trained on Kinetics-400.
# Official config: configs/k400/k400_train_rgb_vitl-14-336-f32.yaml (batch 5
# per GPU). No log, checkpoint or figure was released (the README row is
# commented out), so the GPU count is unknown: 32 GPUs is assumed, as in
# every other 336 px Kinetics run (global batch 160, not 256).
_base_ = [
    '_base_/models/bike_vit-l-p14-res336.py',
    '_base_/datasets/kinetics400.py',
    '_base_/schedules/bike_adamw_cosine_20e.py',
    '_base_/default_runtime.py',
]

# Video settings and the pipelines that use them (MMEngine does not
# re-evaluate the base file's pipelines with a config's values).
num_segments = 32
input_size = 336
scale_size = 336  # short side: 256 for 224 px crops, else the crop size
num_test_clips = 4
num_test_crops = 3

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

# 4x3 views: 4 temporal clips x left, right and centre crops.
test_pipeline = [
    dict(type='VideoInit'),
    dict(type='BIKESampleFrames', num_segments=num_segments, mode='test',
         num_clips=num_test_clips),
    dict(type='VideoDecode'),
    dict(type='ShortSideResize', size=scale_size),
    dict(type='OfficialThreeCrop', crop_size=input_size),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs', meta_keys=('img_shape', 'video_id', 'sample_idx')),
]

# 32 GPUs x 5 videos = global batch 160.
train_dataloader = dict(batch_size=5, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=5, dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))

model = dict(num_classes=400)
