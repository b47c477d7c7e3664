# Charades: manifests and class table as in manifests/README.md.
# Paper setting (fine-tuned from K400): 16 frames, 4x1 test views.
# Training reads single-label action instances with TSN sampling (the
# official Charades loader); evaluation is multi-label on the test videos.
# Pipelines reproduce the official BIKE loading (docs/method.md#sampling and #views).
dataset_type = 'ManifestVideoDataset'
data_root = 'data/charades'
ann_file_train = f'{data_root}/manifests/train.jsonl'
ann_file_val = f'{data_root}/manifests/test.jsonl'
ann_file_test = ann_file_val
class_table = f'{data_root}/classes.csv'

# Video settings. MMEngine evaluates this file on its own: a config that
# changes them restates the pipelines (tests check that they agree).
num_segments = 16
input_size = 224
scale_size = 256  # short side: 256 for 224 px crops, else the crop size
num_test_clips = 4
num_test_crops = 1

train_pipeline = [
    dict(type='VideoInit'),
    dict(type='BIKESampleFrames', num_segments=num_segments, mode='train',
         train_sampling='tsn'),
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
    batch_size=4,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, ann_file=ann_file_test,
                 class_table=class_table, pipeline=test_pipeline,
                 test_mode=True))

# Multi-label mAP over the 157 classes (the paper's figure), plus the
# official evaluator's running average of per-batch cumulative mAP, labelled
# as such (it is not the mAP of the test set; docs/method.md#metrics).
val_evaluator = dict(type='CharadesMAPMetric')
test_evaluator = val_evaluator
