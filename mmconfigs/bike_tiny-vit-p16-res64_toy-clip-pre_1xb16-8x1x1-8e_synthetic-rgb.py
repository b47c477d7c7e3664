# Smoke config: a tiny random CLIP trained on the synthetic set on the CPU in
# a few minutes. Same code paths as the paper's configs; higher learning
# rates because the tiny model starts from random weights.
_base_ = [
    '_base_/models/bike_tiny-vit-p16-res64.py',
    '_base_/datasets/synthetic_smoke.py',
    '_base_/schedules/bike_adamw_cosine.py',
    '_base_/default_runtime.py',
]

base_lr = 1e-3
max_epochs = 8
warmup_epochs = 1
train_cfg = dict(max_epochs=max_epochs)
# CLIP keeps 0.1x the head learning rate, as in the paper's configs.
optim_wrapper = dict(optimizer=dict(lr=base_lr))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0,
         end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingToEndLR', eta_min=0, by_epoch=True,
         begin=warmup_epochs, convert_to_iter_based=True),
]
default_hooks = dict(logger=dict(interval=5))
