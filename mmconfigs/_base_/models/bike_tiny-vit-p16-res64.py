# A tiny CLIP (the parity fixtures' shape) for smoke runs and tests: the
# open_clip model config `bike-tiny-openai-clip` (embed 64, ViT 128 wide x 2
# layers on 64 px with 16 px patches, text 64 x 2), shipped in
# bike_bench/models/clip/model_configs/ and registered with open_clip when
# `bike_bench.models` is imported.
# It starts from the toy CLIP pre-trained on the synthetic benchmark
# (`bike-bench pretrain-toy`; recipe, data and sha256 in the .json beside
# it), as the paper's runs start from OpenAI's CLIP. The path is relative to
# the repository; `pretrained=None` gives random weights.
toy_clip_checkpoint = 'results/toy_clip/toy-clip_synthetic_fp16.pt'
model = dict(
    type='BIKERecognizer',
    backbone=dict(type='CLIPEncoder', arch='bike-tiny-openai-clip',
                  pretrained=toy_clip_checkpoint,
                  freeze_text=True),
    video_head=dict(type='BIKEVideoHead', header='Transf', interaction='VCS',
                    num_layers=6),
    loss=dict(type='KLNCELoss'),  # the official "NCE"; 'DualSoftmaxLoss' = "DS"
    prompt_template='This is a video about {}',
    aggregation='official',
    data_preprocessor=dict(type='CLIPDataPreprocessor', format_shape='NCTHW'))
