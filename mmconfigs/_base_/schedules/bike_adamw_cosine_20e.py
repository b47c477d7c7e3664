# The official optimisation of bike_adamw_cosine.py over 20 epochs (the
# ViT-L/14 models and every fine-tune): 5 warm-up epochs, cosine to 0, the
# official schedule by default, the smooth one as `smooth_param_scheduler`.
# Both are inherited unchanged: they run to the end of training, whatever
# `train_cfg.max_epochs` says (see bike_adamw_cosine.py).
_base_ = ['./bike_adamw_cosine.py']

max_epochs = 20

train_cfg = dict(max_epochs=max_epochs)
