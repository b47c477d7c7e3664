# Few-shot UCF-101 (docs/method.md#fewshot): K videos per class of the
# train split 1, evaluated on split 1 with one view (1x1);
# 8 frames at 224 px. The training manifest is made by the few-shot
# protocol code as data/ucf101/manifests/
# fewshot_<K>shot_seed<S>.jsonl, holding the K-shot videos repeated to
# the length of the full training list, as the official code does.
# A config sets `shot` and `fewshot_seed`.
_base_ = ['./ucf101.py']

shot = 2
fewshot_seed = 0
ann_file_train = (f'data/ucf101/manifests/'
                  f'fewshot_{shot}shot_seed{fewshot_seed}.jsonl')

# Video settings and the pipelines that use them (MMEngine does not
# re-evaluate the base file's pipelines with a config's values).
num_segments = 8
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
    dataset=dict(ann_file=ann_file_train, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(
    collate_fn=dict(type='skip_aware_collate'),
    batch_size=16, dataset=dict(pipeline=test_pipeline))
