# Few-shot Kinetics-400 (docs/method.md#fewshot): K videos per class of the
# training set, evaluated on the validation set with one view (1x1);
# 8 frames at 224 px. The training manifest is made by the few-shot
# protocol code as data/kinetics400/manifests/
# fewshot_<K>shot_seed<S>.jsonl, holding the K-shot videos repeated to
# the length of the full training list, as the official code does.
# A config sets `shot` and `fewshot_seed`.
_base_ = ['./kinetics400.py']

shot = 2
fewshot_seed = 0
ann_file_train = (f'data/kinetics400/manifests/'
                  f'fewshot_{shot}shot_seed{fewshot_seed}.jsonl')

# Same frames and size as the dataset base; one test view.
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

train_dataloader = dict(dataset=dict(ann_file=ann_file_train))
test_dataloader = dict(
    collate_fn=dict(type='skip_aware_collate'),
    batch_size=16, dataset=dict(pipeline=test_pipeline))
