auto_scale_lr = dict(base_batch_size=256, enable=False)
custom_hooks = [
    dict(type='ClassNamesHook'),
    dict(type='NonFiniteLossHook'),
    dict(type='LRScheduleRecordHook'),
    dict(trust=False, type='CheckpointLoaderHook'),
    dict(
        extra=dict(
            reuse_key=
            '9228ad383a47641adb731d5032e29eaa5ec69252e76fed188fb5a96f364c206c'
        ),
        manifest=dict(
            hash=
            'c04b8ff36b6dcacd28d47d2b0cd75f2890595ef4baa265561fefd353c99681a2',
            videos=60),
        out=
        'work_dirs/reproduce/smoke/smoke_fewshot_activitynet_8f_1x1_None-VCS_5shot/5shot_seed0/results/fewshot_5shot_seed0.json',
        protocol=dict(
            fewshot_manifest=
            'work_dirs/reproduce/smoke/smoke_fewshot_activitynet_8f_1x1_None-VCS_5shot/manifests/train_5shot_seed0.jsonl',
            fewshot_manifest_hash=
            '1b41ac7886114135137ce6a8bb3e65026686f186e21a392807a0eb2e7d71d66a',
            max_epochs=4,
            name='fewshot',
            repeats=3.54,
            seed=0,
            shots=5,
            train_videos=50),
        replace=True,
        run_id='fewshot_5shot_seed0',
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
fewshot_sampler = dict(fill='per_class', type='SeededFewShotSampler')
launcher = 'none'
load_from = 'work_dirs/reproduce/smoke/smoke_fewshot_activitynet_8f_1x1_None-VCS_5shot/5shot_seed0/epoch_4.pth'
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
        header='None', interaction='VCS', num_layers=6, type='BIKEVideoHead'))
optim_wrapper = dict(
    clip_grad=None,
    constructor='BIKEOptimWrapperConstructor',
    optimizer=dict(
        betas=(
            0.9,
            0.999,
        ),
        eps=1e-08,
        lr=0.003,
        type='AdamW',
        weight_decay=0.2),
    paramwise_cfg=dict(custom_keys=dict(backbone=dict(lr_mult=0.1))),
    type='OptimWrapper')
param_scheduler = [
    dict(
        begin=0,
        by_epoch=True,
        convert_to_iter_based=True,
        end=1,
        start_factor=0.001,
        type='LinearLR'),
    dict(
        T_max=3,
        begin=1,
        by_epoch=True,
        convert_to_iter_based=True,
        end=4,
        eta_min=0,
        type='CosineAnnealingLR'),
]
randomness = dict(deterministic=False, seed=0)
resume = False
run_source = dict(
    config=
    'mmconfigs/bike_vit-l-p14_clip-openai-pre_fewshot-5shot-8xb32-8x1x1-20e_activitynet-rgb.py',
    derivation=[
        'smoke twin smoke_fewshot_activitynet_8f_1x1_None-VCS_5shot: backbone of mmconfigs/bike_tiny-vit-p16-res64_toy-clip-pre_1xb16-8x1x1-8e_synthetic-rgb.py, synthetic activitynet manifests, 64 px, no horizontal flip, no grayscale, crop area >= 0.5, few-shot videos filled per class, lr x3 of the smoke config, 4 epochs, CPU',
        'bike-bench evaluation: skip-aware loop and collate, counting metric, sample_idx packed, on_error=None',
        'fewshot 5-shot seed 0: trains on work_dirs/reproduce/smoke/smoke_fewshot_activitynet_8f_1x1_None-VCS_5shot/manifests/train_5shot_seed0.jsonl',
        'bike-bench test of epoch_4.pth (views 1x1, aggregation official)',
    ])
runner_type = 'BIKERunner'
test_cfg = dict(type='SkipAwareTestLoop')
test_dataloader = dict(
    batch_size=8,
    collate_fn=dict(type='skip_aware_collate'),
    dataset=dict(
        ann_file='data/synthetic/activitynet/manifests/val.jsonl',
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
        dict(type='BIKEAccMetric'),
        dict(extra_softmax=True, type='MeanAPMetric'),
    ],
    type='SampleIndexEvaluator')
train_cfg = dict(
    max_epochs=4, type='EpochBasedTrainLoop', val_begin=1, val_interval=4)
train_dataloader = dict(
    batch_size=16,
    dataset=dict(
        ann_file=
        'work_dirs/reproduce/smoke/smoke_fewshot_activitynet_8f_1x1_None-VCS_5shot/manifests/train_5shot_seed0.jsonl',
        class_table=None,
        pipeline=[
            dict(type='VideoInit'),
            dict(mode='train', num_segments=8, type='BIKESampleFrames'),
            dict(type='VideoDecode'),
            dict(size=64, type='ShortSideResize'),
            dict(
                area_range=(
                    0.5,
                    1.0,
                ),
                size=64,
                type='OfficialRandomResizedCrop'),
            dict(input_format='NCTHW', type='FormatShape'),
            dict(
                meta_keys=(
                    'img_shape',
                    'video_id',
                    'sample_idx',
                ),
                type='PackActionInputs'),
        ],
        type='ManifestVideoDataset'),
    drop_last=True,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(shuffle=True, type='SeededSampler'))
val_cfg = dict(type='SkipAwareValLoop')
val_dataloader = dict(
    batch_size=8,
    collate_fn=dict(type='skip_aware_collate'),
    dataset=dict(
        ann_file='data/synthetic/activitynet/manifests/val.jsonl',
        class_table=None,
        pipeline=[
            dict(type='VideoInit'),
            dict(mode='val', num_segments=8, type='BIKESampleFrames'),
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
    sampler=dict(shuffle=False, type='DefaultSampler'))
val_evaluator = dict(
    metrics=[
        dict(type='BIKEAccMetric'),
        dict(extra_softmax=True, type='MeanAPMetric'),
    ],
    type='SampleIndexEvaluator')
visualizer = dict(
    type='ActionVisualizer', vis_backends=[
        dict(type='LocalVisBackend'),
    ])
work_dir = 'work_dirs/reproduce/smoke/smoke_fewshot_activitynet_8f_1x1_None-VCS_5shot/5shot_seed0'
