# Kinetics-600 zero-shot splits (manifests/README.md): 160 classes that
# are not in Kinetics-400, three splits. Evaluation only.
dataset_type = 'ManifestVideoDataset'
data_root = 'data/kinetics600'
zeroshot_split = 1
ann_file_test = (f'{data_root}/manifests/'
                 f'zeroshot_split{zeroshot_split}.jsonl')
class_table = f'{data_root}/classes_split{zeroshot_split}.csv'

# Video settings (the official zero-shot evaluation: 8 frames, 224 px,
# one view).
num_segments = 8
input_size = 224
scale_size = 256  # short side: 256 for 224 px crops, else the crop size
num_test_clips = 1
num_test_crops = 1

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

test_dataloader = dict(
    collate_fn=dict(type='skip_aware_collate'),
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, ann_file=ann_file_test,
                 class_table=class_table, pipeline=test_pipeline,
                 test_mode=True))
test_evaluator = dict(type='BIKEAccMetric')
