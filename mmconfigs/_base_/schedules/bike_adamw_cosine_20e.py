# The official optimisation of bike_adamw_cosine.py over 20 epochs (the
# ViT-L/14 models and every fine-tune): 5 warm-up epochs, cosine to 0, the
# official schedule by default, the smooth one as `smooth_param_scheduler`.
_base_ = ['./bike_adamw_cosine.py']

max_epochs = 20
warmup_epochs = 5

train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    dict(type='OfficialWarmupCosineLR', warmup_epochs=warmup_epochs, begin=0,
         end=max_epochs, by_epoch=True, convert_to_iter_based=True),
]
smooth_param_scheduler = [
    dict(type='LinearLR', start_factor=1e-8, by_epoch=True, begin=0,
         end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs,
         eta_min=0, by_epoch=True, begin=warmup_epochs, end=max_epochs,
         convert_to_iter_based=True),
]
