# Smoke config for both BIKE directions: the video branch and the attributes
# branch trained together (L_V + L_A) on the synthetic set, on the CPU.
# Needs data/synthetic/attributes/smoke_{train,val}.json (see
# _base_/datasets/synthetic_attributes.py for the generate commands).
_base_ = [
    '_base_/models/bike_tiny-vit-p16-res64.py',
    '_base_/datasets/synthetic_attributes.py',
    '_base_/schedules/bike_adamw_cosine.py',
    '_base_/default_runtime.py',
]

model = dict(
    type='BIKEVideoAttributeRecognizer',
    branches=('video', 'attributes'),
    attribute_head=dict(type='SentenceHead'),
    # Official V+A fusion of per-branch probabilities.
    fusion_weights=(0.7, 0.3),
    aggregation='mean')

base_lr = 1e-3
max_epochs = 8
warmup_epochs = 1
train_cfg = dict(max_epochs=max_epochs)
optim_wrapper = dict(optimizer=dict(lr=base_lr))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0,
         end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingToEndLR', eta_min=0, by_epoch=True,
         begin=warmup_epochs, convert_to_iter_based=True),
]
default_hooks = dict(logger=dict(interval=5))
