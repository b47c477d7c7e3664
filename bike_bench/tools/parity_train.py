"""Replay an official training trajectory through the project's training path.

A trajectory fixture (``training_trajectory.pt``, made by the official BIKE
``train.py`` on a tiny CLIP) holds the initial weights in the release
layout, fixed batches, the settings, per-iteration losses and learning rates,
and the final weights. ``replay`` builds an MMEngine ``Runner`` from a
bike-bench config through ``bike_bench.evaluation.runner.build_runner`` (what
``bike-bench train`` uses) with the fixture's settings written into the
config: the model (CLIP shape inferred from the weights, head depth from the
fusion weights, loss), the optimizer wrapper (lr, CLIP ratio, weight decay,
accumulation), the param schedulers (the config's schedule retimed to the
fixture's epochs and warm-up) and a train dataloader over the fixture's
batches in order. The initial weights reach the model through the converter
(``bike_bench.models.convert``) and ``load_from``. A hook records, at every
iteration, the loss as back-propagated and the learning rates of the CLIP
and head parameter groups; the final weights are compared with the
fixture's (``bike_bench.tools.parity_report``, with the tolerances).
The fixture is read by ``bike_bench.tools.parity_fixture``, the optimizer
groups compared by ``bike_bench.tools.parity_groups``.
"""
from __future__ import annotations

import copy
import os
import re
import tempfile
from typing import Any, Dict, List, Mapping, Optional

import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

import bike_bench.engine  # noqa: F401  (registers the schedulers and hooks)
import bike_bench.models  # noqa: F401  (registers the models)
from bike_bench import paths
from bike_bench.engine.schedulers import (SCHEDULE_PRESETS, describe_schedule,
                                          retime_schedule)
from bike_bench.models.convert import convert_file
from bike_bench.models.losses import LOSS_ALIASES
from bike_bench.tools.parity_fixture import load_trajectory
from bike_bench.tools.parity_groups import (is_clip_parameter, official_parameter_settings,
                                            parameter_settings)
from bike_bench.tools.parity_report import ReplayReport, build_report

# The paper's K400 ViT-B/16 config: its optimizer, schedule, head and loss
# settings are the official ones; the replay puts the fixture's in.
DEFAULT_CONFIG = str(paths.config_dir() /
                     'bike_vit-b-p16_clip-openai-pre_8xb32-8x1x1-30e_kinetics400-rgb.py')


# ------------------------------------------------------------- config
def _architecture_from_weights(fusion: Mapping[str, torch.Tensor]) -> Dict[str, Any]:
    """Header type, depth and context length from the fusion weights."""
    layers = {int(m.group(1)) for k in fusion
              for m in [re.match(r'transformer\.resblocks\.(\d+)\.', k)] if m}
    if not layers:
        return dict(header='None')
    head = dict(header='Transf', num_layers=max(layers) + 1)
    if 'frame_position_embeddings.weight' in fusion:
        head['context_length'] = fusion['frame_position_embeddings.weight'].shape[0]
    return head


def replay_config(cfg, fixture_path: str, data: Mapping, work_dir: str,
                  schedule: Optional[str] = None):
    """``cfg`` with the fixture's settings, data and initial weights.

    Writes the fixture's CLIP weights (OpenAI layout, for the shape
    inference) and the converted initial checkpoint into ``work_dir``.
    """
    settings = data['settings']
    cfg = copy.deepcopy(cfg)
    os.makedirs(work_dir, exist_ok=True)
    init = data['init_official_format']
    clip_path = os.path.join(work_dir, 'init_clip_openai_layout.pt')
    torch.save({'model_state_dict': init['model_state_dict']}, clip_path)
    official_path = os.path.join(work_dir, 'init_official_format.pt')
    torch.save(dict(init), official_path)
    converted = os.path.join(work_dir, 'init_converted.pth')
    convert_file(official_path, converted, note='trajectory fixture initial weights')

    model = cfg.model
    model.backbone.arch = None  # inferred from the weights
    model.backbone.pretrained = clip_path
    head = _architecture_from_weights(init['fusion_model_state_dict'])
    model.video_head.update(head)
    if head['header'] == 'None':
        for key in ('num_layers', 'context_length'):
            model.video_head.pop(key, None)
    model.loss = dict(type=LOSS_ALIASES[settings['loss']])
    model.prompt_template = settings['template']
    model.num_classes = len(data['classes'])
    model.class_names = None
    # The fixture's frames are already normalised.
    model.data_preprocessor = dict(type='CLIPDataPreprocessor', mean=[0., 0., 0.],
                                   std=[1., 1., 1.], format_shape='NCTHW')

    cfg.train_dataloader = dict(
        batch_size=settings['batch'], num_workers=0, persistent_workers=False,
        sampler=dict(type='DefaultSampler', shuffle=False),
        dataset=dict(type='TrajectoryBatchesDataset', fixture=os.path.abspath(fixture_path)))
    for key in ('val_dataloader', 'val_cfg', 'val_evaluator', 'test_dataloader',
                'test_cfg', 'test_evaluator'):
        cfg[key] = None
    epochs = settings['epochs']
    cfg.train_cfg = dict(type=cfg.train_cfg.get('type', 'EpochBasedTrainLoop'),
                         max_epochs=epochs, val_interval=epochs + 1)

    optim = cfg.optim_wrapper
    optim.optimizer.lr = settings['lr']
    optim.optimizer.weight_decay = settings['weight_decay']
    optim.paramwise_cfg.custom_keys.backbone.lr_mult = settings['clip_ratio']
    optim.accumulative_counts = settings['grad_accumulation_steps']
    if schedule is not None:
        cfg.param_scheduler = SCHEDULE_PRESETS[schedule](settings['warmup_epochs'], epochs)
    else:
        cfg.param_scheduler = retime_schedule(cfg.param_scheduler,
                                              settings['warmup_epochs'], epochs)
    if cfg.get('auto_scale_lr'):
        cfg.auto_scale_lr.enable = False

    cfg.load_from = converted
    cfg.resume = False
    cfg.work_dir = work_dir
    cfg.launcher = 'none'
    cfg.default_hooks.checkpoint = None
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=10 ** 6)
    cfg.log_level = 'ERROR'
    cfg.visualizer = dict(type='ActionVisualizer', vis_backends=[])
    return cfg


# --------------------------------------------------------------- recorder
class TrajectoryRecorderHook(Hook):
    """Records per iteration the loss as back-propagated (after the optimizer
    wrapper's accumulation scaling), the learning rates in force for the CLIP
    and head groups, and whether the optimizer stepped; also the model's
    weights after loading and its optimizer view."""

    priority = 'LOW'

    def __init__(self, settings: Mapping[str, Any]):
        self.settings = dict(settings)
        self.steps: List[Dict[str, Any]] = []
        self.initial_state: Dict[str, torch.Tensor] = {}
        self.parameter_settings: Dict[str, Dict[str, Any]] = {}
        self.official_settings: Dict[str, Dict[str, Any]] = {}
        self.tokens: Optional[torch.Tensor] = None
        self._current: Optional[Dict[str, Any]] = None

    def before_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        self.initial_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        self.parameter_settings = parameter_settings(model, runner.optim_wrapper)
        self.official_settings = official_parameter_settings(
            model, self.settings['lr'], self.settings['clip_ratio'],
            self.settings['weight_decay'])
        with torch.no_grad():
            self.tokens = model.backbone.tokenize(model.prompts()).cpu()
        names = {id(p): n for n, p in model.named_parameters()}
        wrapper = runner.optim_wrapper
        clip_groups, head_groups = [], []
        for group in wrapper.param_groups:
            # MMEngine's OptimWrapper adds a placeholder group (a tensor that
            # is no model parameter) to log the base lr: not a model group.
            kinds = {is_clip_parameter(names[id(p)]) for p in group['params']
                     if id(p) in names}
            if not kinds:
                continue
            if len(kinds) != 1:
                raise ValueError('an optimizer group mixes CLIP and head parameters')
            (clip_groups if kinds.pop() else head_groups).append(group)
        scale_loss, step = wrapper.scale_loss, wrapper.step

        def lrs(groups):
            values = {g['lr'] for g in groups}
            return max(values) if len(values) == 1 else float('nan')

        def recording_scale_loss(loss):
            scaled = scale_loss(loss)
            self._current = dict(loss=float(scaled.detach().item()),
                                 lr_clip=lrs(clip_groups), lr_head=lrs(head_groups),
                                 stepped=False)
            return scaled

        def recording_step(*args, **kwargs):
            if self._current is not None:
                self._current['stepped'] = True
            return step(*args, **kwargs)

        # `step` already counts steps for the param schedulers: say so.
        recording_step._with_counter = getattr(step, '_with_counter', False)
        wrapper.scale_loss = recording_scale_loss
        wrapper.step = recording_step

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if self._current is not None:
            self._current.update(epoch=runner.epoch, iter=batch_idx)
            self.steps.append(self._current)
        self._current = None


def replay(fixture_path: str, config: Optional[str] = None, work_dir: Optional[str] = None,
           schedule: Optional[str] = None, cfg_options: Optional[dict] = None) -> ReplayReport:
    """Run the fixture's batches through the project's training path.

    Args:
        fixture_path: a trajectory fixture (``training_trajectory.pt``).
        config: a bike-bench config (default: the K400 ViT-B/16 paper config).
        work_dir: where the runner writes (default: a temporary folder,
            removed afterwards).
        schedule: ``'official'`` / ``'smooth'`` to replace the config's
            schedule; ``None`` keeps (and retimes) the config's.
        cfg_options: overrides merged into the config first.

    Raises:
        FixtureError: an unusable fixture; FileNotFoundError: no config.
    """
    # The runner builder of `bike-bench train`, replayed here.
    from bike_bench.evaluation.runner import build_runner

    data = load_trajectory(fixture_path)
    config = config or DEFAULT_CONFIG
    if not os.path.isfile(config):
        raise FileNotFoundError(f'config not found: {config}')
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    temporary = None
    if work_dir is None:
        temporary = tempfile.TemporaryDirectory(prefix='bike_parity_train_')
        work_dir = temporary.name
    try:
        cfg = replay_config(cfg, fixture_path, data, work_dir, schedule)
        runner = build_runner(cfg)
        recorder = TrajectoryRecorderHook(data['settings'])
        runner.register_hook(recorder)
        runner.train()
        model = runner.model.module if hasattr(runner.model, 'module') else runner.model
        state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        kind = describe_schedule(cfg.param_scheduler)['summary']
        return build_report(recorder, state, data, kind)
    finally:
        if temporary is not None:
            temporary.cleanup()
