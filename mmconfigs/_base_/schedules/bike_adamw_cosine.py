# The official optimisation (spec §3): AdamW, wd 0.2, CLIP at 0.1x the head
# learning rate, linear warm-up from 0 then cosine to 0. Stepped every
# iteration (the official code steps every 10 iterations at fractional
# epochs; the curves differ by less than one 10-iteration step).
base_lr = 5e-5
max_epochs = 30
warmup_epochs = 5

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs,
                 val_begin=1, val_interval=1)
# Evaluation loops and collate (datasets/) that carry unreadable videos
# along to the counting metrics instead of stopping or dropping them
# silently (bike_bench.evaluation.skipping).
val_cfg = dict(type='SkipAwareValLoop')
test_cfg = dict(type='SkipAwareTestLoop')

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=base_lr, betas=(0.9, 0.999), eps=1e-8,
                   weight_decay=0.2),
    # `backbone` is the CLIP model; the temporal head keeps the base lr.
    paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.1)}),
    clip_grad=None)

param_scheduler = [
    dict(type='LinearLR', start_factor=1e-8, by_epoch=True, begin=0,
         end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs,
         eta_min=0, by_epoch=True, begin=warmup_epochs, end=max_epochs,
         convert_to_iter_based=True),
]

# Official runs: 8 GPUs x 32 videos. MMEngine scales the lr when the actual
# batch differs and `--auto-scale-lr` is given.
auto_scale_lr = dict(enable=False, base_batch_size=256)
