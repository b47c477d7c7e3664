# BIKE, CLIP ViT-L/14, 16 frames at 224 px, trained on Kinetics-400; the
# initialisation of the 224 px fine-tunes.
# Official config: configs/k400/k400_train_rgb_vitl-14-f16.yaml (batch 32 per
# GPU); its log k400_vit-L_14_16f_log.txt ran 32 GPUs x 8 (939 iterations
# per epoch = global batch 256), which is what this config records.
# Paper: 88.1% top-1, 97.9% top-5 with 4x3 views (k400-vit-l-14-f16.pt).
_base_ = [
    '_base_/models/bike_vit-l-p14.py',
    '_base_/datasets/kinetics400.py',
    '_base_/schedules/bike_adamw_cosine_20e.py',
    '_base_/default_runtime.py',
]

# Video settings and the pipelines that use them (MMEngine does not
# re-evaluate the base file's pipelines with a config's values).
num_segments = 16
input_size = 224
scale_size = 256  # short side: 256 for 224 px crops, else the crop size
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

# 32 GPUs x 8 videos = global batch 256.
train_dataloader = dict(batch_size=8, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=8, dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))

model = dict(num_classes=400)
