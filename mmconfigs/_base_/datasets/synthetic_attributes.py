# The synthetic smoke set with attribute sentences (video + attributes
# branches). The attributes JSONs are written, for SPLIT in train and val, by
#   bike-bench attributes generate CONFIG \
#       --manifest data/synthetic/manifests/smoke_SPLIT.jsonl \
#       --out data/synthetic/attributes/smoke_SPLIT.json
dataset_type = 'AttributeVideoDataset'
data_root = 'data/synthetic'
ann_file_train = f'{data_root}/manifests/smoke_train.jsonl'
ann_file_val = f'{data_root}/manifests/smoke_val.jsonl'
ann_file_test = ann_file_val
attributes_train = f'{data_root}/attributes/smoke_train.json'
attributes_val = f'{data_root}/attributes/smoke_val.json'
attributes_test = attributes_val
attributes_topk = 5
num_segments = 8
input_size = 64
scale_size = 64
num_test_clips = 1
num_test_crops = 1

# The sentence's token ids travel in the data sample (`attribute_tokens`).
# `sample_idx` lets the metrics count every video once.
pack = dict(type='PackActionInputs', algorithm_keys=('attribute_tokens',),
            meta_keys=('img_shape', 'img_key', 'video_id', 'timestamp',
                       'sample_idx'))
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
    pack,
]
val_pipeline = [
    dict(type='VideoInit'),
    dict(type='BIKESampleFrames', num_segments=num_segments, mode='val'),
    dict(type='VideoDecode'),
    dict(type='ShortSideResize', size=scale_size),
    dict(type='BIKECenterCrop', crop_size=input_size),
    dict(type='FormatShape', input_format='NCTHW'),
    pack,
]
test_pipeline = [
    dict(type='VideoInit'),
    dict(type='BIKESampleFrames', num_segments=num_segments, mode='test',
         num_clips=num_test_clips),
    dict(type='VideoDecode'),
    dict(type='ShortSideResize', size=scale_size),
    dict(type='BIKECenterCrop', crop_size=input_size),
    dict(type='FormatShape', input_format='NCTHW'),
    pack,
]

train_dataloader = dict(
    batch_size=16,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='SeededSampler', shuffle=True),
    dataset=dict(type=dataset_type, ann_file=ann_file_train,
                 attributes_file=attributes_train, topk=attributes_topk,
                 pipeline=train_pipeline))
val_dataloader = dict(
    collate_fn=dict(type='skip_aware_collate'),
    batch_size=16,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, ann_file=ann_file_val,
                 attributes_file=attributes_val, topk=attributes_topk,
                 pipeline=val_pipeline, test_mode=True))
test_dataloader = dict(
    collate_fn=dict(type='skip_aware_collate'),
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, ann_file=ann_file_test,
                 attributes_file=attributes_test, topk=attributes_topk,
                 pipeline=test_pipeline, test_mode=True))

# Top-1/top-5 of the video branch, the attributes branch and their fusion.
val_evaluator = dict(type='FusionAccMetric', topk=(1, 5))
test_evaluator = val_evaluator
