# The official optimisation (docs/method.md#optim; official utils/solver.py
# and train.py): AdamW, weight decay 0.2 on every parameter (biases, norms
# and logit_scale included: no decay multipliers), CLIP -- logit_scale
# included -- at 0.1x the head learning rate; the text tower is frozen except
# logit_scale by the model (`freeze_text=True`). Gradient accumulation
# (`optim_wrapper.accumulative_counts`) divides the loss, as the official
# `grad_accumulation_steps` does.
#
# Schedule: the official one by default -- linear warm-up from 0, then
# cosine to 0, updated only at the first iteration of each epoch and every
# 10th iteration, at fractional epochs (`OfficialWarmupCosineLR`,
# bike_bench/engine/schedulers.py). The MMEngine-native alternative
# (LinearLR + CosineAnnealingLR updated every iteration) is
# `smooth_param_scheduler`; a config selects it with
#     param_scheduler = {{_base_.smooth_param_scheduler}}
# (see mmconfigs/README.md for what changes). The work dir's
# lr_schedule.json and the results files record which one ran.
#
# The phase that runs "to the end of training" states no `end` (nor
# `T_max`): MMEngine's Runner sets it to `train_cfg.max_epochs` when it
# builds the schedulers, so a config that inherits this one and changes
# only `max_epochs` still decays to 0 at its last iteration. A scheduler
# whose `end` lies beyond the end of training gets a one-line warning
# (`LRScheduleRecordHook`).
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
    # MMEngine's default constructor, logging the frozen parameters in one
    # line instead of one line each (bike_bench/engine/optim_constructor.py).
    constructor='BIKEOptimWrapperConstructor',
    optimizer=dict(type='AdamW', lr=base_lr, betas=(0.9, 0.999), eps=1e-8,
                   weight_decay=0.2),
    # `backbone` is the CLIP model; the temporal head keeps the base lr.
    paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.1)}),
    clip_grad=None)

param_scheduler = [
    dict(type='OfficialWarmupCosineLR', warmup_epochs=warmup_epochs, begin=0,
         by_epoch=True, convert_to_iter_based=True),
]
smooth_param_scheduler = [
    dict(type='LinearLR', start_factor=1e-8, by_epoch=True, begin=0,
         end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingToEndLR', eta_min=0, by_epoch=True,
         begin=warmup_epochs, convert_to_iter_based=True),
]

# Official runs: 8 GPUs x 32 videos. MMEngine scales the lr when the actual
# batch differs and `--auto-scale-lr` is given.
auto_scale_lr = dict(enable=False, base_batch_size=256)
