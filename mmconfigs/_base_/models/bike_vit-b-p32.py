# BIKE video branch on CLIP ViT-B-32 (open_clip name), OpenAI weights.
model = dict(
    type='BIKERecognizer',
    backbone=dict(type='CLIPEncoder', arch='ViT-B-32', pretrained='openai',
                  freeze_text=True),
    video_head=dict(type='BIKEVideoHead', header='Transf', interaction='VCS',
                    num_layers=6),
    loss=dict(type='KLNCELoss'),  # the official "NCE"; 'DualSoftmaxLoss' = "DS"
    prompt_template='This is a video about {}',
    aggregation='official',
    data_preprocessor=dict(type='CLIPDataPreprocessor', format_shape='NCTHW'))
