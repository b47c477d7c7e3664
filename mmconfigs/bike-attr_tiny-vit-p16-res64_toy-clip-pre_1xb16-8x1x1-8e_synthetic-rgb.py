# Attributes branch alone (the official train_attributes.py): attribute
# sentences through the frozen text tower and the sentence head; no video
# is decoded. Same data as the V+A smoke config.
_base_ = [
    '_base_/models/bike_tiny-vit-p16-res64.py',
    '_base_/datasets/synthetic_attributes.py',
    '_base_/schedules/bike_adamw_cosine.py',
    '_base_/default_runtime.py',
]

model = dict(
    type='BIKEVideoAttributeRecognizer',
    branches=('attributes',),
    video_head=None,
    attribute_head=dict(type='SentenceHead'),
    # The samples carry token ids only, so no pixel normalisation.
    data_preprocessor=dict(_delete_=True, type='BaseDataPreprocessor'))

sentence_pipeline = [
    dict(type='PackActionInputs', collect_keys=('attribute_tokens',),
         algorithm_keys=('attribute_tokens',)),
]
train_dataloader = dict(dataset=dict(pipeline=sentence_pipeline))
val_dataloader = dict(dataset=dict(pipeline=sentence_pipeline))
test_dataloader = dict(dataset=dict(pipeline=sentence_pipeline))

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
