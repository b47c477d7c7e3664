# HMDB-51, split 1: manifests and class table as in manifests/README.md.
# Paper setting (fine-tuned from K400): 16 frames at 224 px, 1x1 test views.
# Pipelines reproduce the official BIKE loading (docs/method.md#sampling and #views).
dataset_type = 'ManifestVideoDataset'
data_root = 'data/hmdb51'
ann_file_train = f'{data_root}/manifests/train_split1.jsonl'
ann_file_val = f'{data_root}/manifests/val_split1.jsonl'
ann_file_test = ann_file_val
class_table = f'{data_root}/classes.csv'

# Video settings. MMEngine evaluates this file on its own: a config that
# changes them restates the pipelines (tests check that they agree).
num_segments = 16
input_size = 224
scale_size = 256  # short side: 256 for 224 px crops, else the crop size
num_test_clips = 1
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

# 1x1 views: 1 temporal clip x one centre crop.
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

train_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    drop_last=True,  # as the official training loader
    sampler=dict(type='SeededSampler', shuffle=True),
    dataset=dict(type=dataset_type, ann_file=ann_file_train,
                 class_table=class_table, pipeline=train_pipeline))
val_dataloader = dict(
    collate_fn=dict(type='skip_aware_collate'),
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, ann_file=ann_file_val,
                 class_table=class_table, pipeline=val_pipeline,
                 test_mode=True))
test_dataloader = dict(
    collate_fn=dict(type='skip_aware_collate'),
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, ann_file=ann_file_test,
                 class_table=class_table, pipeline=test_pipeline,
                 test_mode=True))

val_evaluator = dict(type='BIKEAccMetric')
test_evaluator = val_evaluator
