custom_hooks = [
    dict(type='ClassNamesHook'),
    dict(type='NonFiniteLossHook'),
    dict(type='LRScheduleRecordHook'),
    dict(trust=False, type='CheckpointLoaderHook'),
    dict(
        dataset_name='synthetic-hmdb51',
        manifest=dict(
            hash=
            '0d54d6c16538e60d4585950b8c93202605cc1e247f54ae23ac13fe3bc9aeb441',
            videos=120),
        out=
        'work_dirs/reproduce/smoke/smoke_zeroshot-half_hmdb51_8f_1x1/results/run.json',
        protocol=dict(name='zeroshot-half'),
        replace=True,
        run_id='smoke_zeroshot-half_hmdb51_8f_1x1',
        type='ResultsFileHook'),
]
custom_imports = dict(
    allow_failed_imports=False,
    imports=[
        'bike_bench.models',
        'bike_bench.datasets',
        'bike_bench.engine',
        'bike_bench.evaluation',
    ])
default_hooks = dict(
    checkpoint=dict(
        interval=4, max_keep_ckpts=1, save_best=None, type='CheckpointHook'),
    logger=dict(interval=10, type='LoggerHook'),
    param_scheduler=dict(type='ParamSchedulerHook'),
    runtime_info=dict(type='RuntimeInfoHook'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    sync_buffers=dict(type='SyncBuffersHook'),
    timer=dict(type='IterTimerHook'))
default_scope = 'mmaction'
env_cfg = dict(
    cudnn_benchmark=False,
    dist_cfg=dict(backend='gloo'),
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0))
launcher = 'none'
load_from = 'work_dirs/reproduce/smoke/smoke_general_kinetics400_8f_4x3/epoch_6.pth'
log_level = 'ERROR'
log_processor = dict(by_epoch=True, type='LogProcessor', window_size=20)
model = dict(
    aggregation='official',
    backbone=dict(
        arch='bike-tiny-openai-clip',
        freeze_text=True,
        load_pretrained=False,
        pretrained='results/toy_clip/toy-clip_synthetic_fp16.pt',
        type='CLIPEncoder'),
    class_names=None,
    data_preprocessor=dict(format_shape='NCTHW', type='CLIPDataPreprocessor'),
    loss=dict(type='KLNCELoss'),
    num_classes=None,
    prompt_template='This is a video about {}',
    type='BIKERecognizer',
    video_head=dict(
        header='Transf', interaction='VCS', num_layers=6,
        type='BIKEVideoHead'))
randomness = dict(deterministic=False, seed=0)
resume = False
run_source = dict(
    config='mmconfigs/bike_vit-l-p14_k400-pre_zeroshot-8x1x1_hmdb51-rgb.py',
    derivation=[
        'smoke twin smoke_zeroshot-half_hmdb51_8f_1x1: backbone of mmconfigs/bike_tiny-vit-p16-res64_toy-clip-pre_1xb16-8x1x1-8e_synthetic-rgb.py, synthetic hmdb51 manifests, 64 px, no horizontal flip, no grayscale, crop area >= 0.5, 4 epochs, CPU',
        'bike-bench evaluation: skip-aware loop and collate, counting metric, sample_idx packed, on_error=None',
        'zero-shot half (head scoring) over data/synthetic/hmdb51/manifests/zeroshot_full.jsonl',
    ])
test_cfg = dict(outputs='logits', type='ViewOutputsTestLoop')
test_dataloader = dict(
    batch_size=8,
    collate_fn=dict(type='skip_aware_collate'),
    dataset=dict(
        ann_file='data/synthetic/hmdb51/manifests/zeroshot_full.jsonl',
        class_table=None,
        pipeline=[
            dict(type='VideoInit'),
            dict(
                mode='test',
                num_clips=1,
                num_segments=8,
                type='BIKESampleFrames'),
            dict(type='VideoDecode'),
            dict(size=64, type='ShortSideResize'),
            dict(crop_size=64, type='BIKECenterCrop'),
            dict(input_format='NCTHW', type='FormatShape'),
            dict(
                meta_keys=(
                    'img_shape',
                    'video_id',
                    'sample_idx',
                ),
                type='PackActionInputs'),
        ],
        test_mode=True,
        type='ManifestVideoDataset'),
    num_workers=0,
    persistent_workers=False,
    pin_memory=False,
    sampler=dict(shuffle=False, type='DefaultSampler'))
test_evaluator = dict(
    metrics=[
        dict(
            aggregation='official',
            num_splits=10,
            protocol='half',
            scoring='head',
            split_rule=dict(type='OfficialHalfClassSplits'),
            type='ZeroShotMetric'),
    ],
    type='SampleIndexEvaluator')
train_dataloader = None
val_dataloader = None
val_evaluator = None
visualizer = dict(
    type='ActionVisualizer', vis_backends=[
        dict(type='LocalVisBackend'),
    ])
work_dir = 'work_dirs/reproduce/smoke/smoke_zeroshot-half_hmdb51_8f_1x1'
