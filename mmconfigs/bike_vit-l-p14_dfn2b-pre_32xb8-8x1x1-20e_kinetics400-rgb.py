# BIKE beyond the paper: DFN ViT-L/14 (DFN-2B) backbone, 8 frames, Kinetics-400.
# OpenAI-style CLIP ViT-L/14 (QuickGELU) with Apple's DFN-2B weights (data
# filtering networks); same towers and tokenizer as OpenAI's CLIP.
# The paper reports no figure for this backbone; the recipe is the paper's
# (schedule and global batch 256 of its K400 configs), not tuned for it.
# Everything but the backbone is the paper's config of the same size.
_base_ = ['./bike_vit-l-p14_clip-openai-pre_32xb8-8x1x1-20e_kinetics400-rgb.py']

model = dict(backbone=dict(arch='ViT-L-14', pretrained='dfn2b'))
