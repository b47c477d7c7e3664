# Optional: log scalars to TensorBoard as well (MMEngine's TensorboardVisBackend,
# event files under <work_dir>/<timestamp>/vis_data/). Add this file last to a
# config's _base_ list, or pass on the command line:
#   bike-bench train CONFIG --cfg-options \
#     'visualizer.vis_backends=[dict(type="LocalVisBackend"),dict(type="TensorboardVisBackend")]'
# then `tensorboard --logdir work_dirs/`. Needs the `tensorboard` package
# (in requirements.txt).
vis_backends = [dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')]
visualizer = dict(type='ActionVisualizer', vis_backends=vis_backends)
