# The synthetic smoke set written by `bike-bench synth --out data/synthetic`.
# Tiny videos (96x72), so the short side is resized to the 64 px input.
dataset_type = 'ManifestVideoDataset'
data_root = 'data/synthetic'
ann_file_train = f'{data_root}/manifests/smoke_train.jsonl'
ann_file_val = f'{data_root}/manifests/smoke_val.jsonl'
ann_file_test = ann_file_val
num_segments = 8
input_size = 64
scale_size = 64
num_test_clips = 1
num_test_crops = 1

train_pipeline = [
    dict(type='VideoInit'),
    dict(type='BIKESampleFrames', num_segments=num_segments, mode='train'),
    dict(type='VideoDecode'),
    dict(type='ShortSideResize', size=scale_size),
    dict(type='OfficialRandomResizedCrop', size=input_size,
         area_range=(0.5, 1.0)),
    # No horizontal flip: it would swap "moving left" and "moving right".
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
    batch_size=16,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='SeededSampler', shuffle=True),
    dataset=dict(type=dataset_type, ann_file=ann_file_train,
                 pipeline=train_pipeline))
val_dataloader = dict(
    collate_fn=dict(type='skip_aware_collate'),
    batch_size=16,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, ann_file=ann_file_val,
                 pipeline=val_pipeline, test_mode=True))
test_dataloader = dict(
    collate_fn=dict(type='skip_aware_collate'),
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, ann_file=ann_file_test,
                 pipeline=test_pipeline, test_mode=True))

# Counts every video exactly once, also on several ranks (bike_bench.evaluation).
val_evaluator = dict(type='BIKEAccMetric', topk=(1, 5))
test_evaluator = val_evaluator
