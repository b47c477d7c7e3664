"""Replay an official training trajectory through the project's training path.

A trajectory fixture (``training_trajectory.pt``, made by the official BIKE
``train.py`` on a tiny CLIP) holds the initial weights in the release
layout, fixed batches, the settings, per-iteration losses and learning rates,
and the final weights. ``replay`` builds an MMEngine ``Runner`` from a
bike-bench config through ``bike_bench.cli.common.build_runner`` (what
``bike-bench train`` uses) with the fixture's settings written into the
config: the model (CLIP shape inferred from the weights, head depth from the
fusion weights, loss), the optimizer wrapper (lr, CLIP ratio, weight decay,
accumulation), the param schedulers (the config's schedule retimed to the
fixture's epochs and warm-up) and a train dataloader over the fixture's
batches in order. The initial weights reach the model through the converter
(``bike_bench.models.convert``) and ``load_from``. A hook records, at every
iteration, the loss as back-propagated and the learning rates of the CLIP
and head parameter groups; the final weights are compared with the
fixture's.

Tolerances (``mmconfigs/README.md``, training parity): losses 1e-5, learning rates
1e-9, final weights 2e-5 absolute, except rows ``D:2D`` (the key part) of
every attention ``in_proj_bias``: their gradient is zero in exact arithmetic
(softmax ignores a per-query constant), so AdamW turns float noise of order
1e-10 into updates of order ``lr * g / eps``; they are compared to 1e-3.
"""
from __future__ import annotations

import copy
import dataclasses
import os
import re
import tempfile
from typing import Any, Dict, List, Mapping, Optional

import torch
from mmaction.registry import DATASETS
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from torch.utils.data import Dataset

import bike_bench.engine  # noqa: F401  (registers the schedulers and hooks)
import bike_bench.models  # noqa: F401  (registers the models)
from bike_bench import paths
from bike_bench.engine.schedulers import (SCHEDULE_PRESETS, describe_schedule,
                                          retime_schedule)
from bike_bench.models.convert import convert_file, convert_official
from bike_bench.models.losses import LOSS_ALIASES

LOSS_TOL = 1e-5
LR_TOL = 1e-9
WEIGHT_TOL = 2e-5
KEY_BIAS_TOL = 1e-3

# The paper's K400 ViT-B/16 config: its optimizer, schedule, head and loss
# settings are the official ones; the replay puts the fixture's in.
DEFAULT_CONFIG = str(paths.config_dir() /
                     'bike_vit-b-p16_clip-openai-pre_8xb32-8x1x1-30e_kinetics400-rgb.py')

REQUIRED_KEYS = ('settings', 'classes', 'init_official_format', 'frames', 'labels',
                 'text_tokens', 'steps', 'final_model_state_dict',
                 'final_fusion_model_state_dict')
REQUIRED_SETTINGS = ('epochs', 'warmup_epochs', 'iters_per_epoch', 'batch', 'frames',
                     'lr', 'clip_ratio', 'weight_decay', 'grad_accumulation_steps',
                     'loss', 'template')


class FixtureError(ValueError):
    """A trajectory fixture that is missing or incomplete (names what)."""


def load_trajectory(path: str) -> Dict[str, Any]:
    """Read and check a trajectory fixture (``weights_only``).

    Raises:
        FixtureError: the file is absent, unreadable, or lacks an entry or a
            setting, or its tensors disagree with its settings.
    """
    if not os.path.isfile(path):
        raise FixtureError(f'trajectory fixture not found: {path}')
    try:
        data = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as error:  # noqa: BLE001 - any unreadable file
        raise FixtureError(f'{path} is not a readable trajectory fixture '
                           f'({type(error).__name__}: {error})') from None
    if not isinstance(data, Mapping):
        raise FixtureError(f'{path} is not a trajectory fixture (not a dict)')
    missing = [k for k in REQUIRED_KEYS if k not in data]
    if missing:
        raise FixtureError(f'{path} lacks {", ".join(missing)}')
    settings = data['settings']
    missing = [k for k in REQUIRED_SETTINGS if k not in settings]
    if missing:
        raise FixtureError(f'{path}: settings lack {", ".join(missing)}')
    iters, batch, frames = (settings['iters_per_epoch'], settings['batch'],
                            settings['frames'])
    shape = tuple(data['frames'].shape)
    if shape[:3] != (iters, batch, frames) or len(shape) != 6:
        raise FixtureError(f'{path}: frames are {shape}, settings say '
                           f'{iters} iterations x {batch} videos x {frames} frames')
    if tuple(data['labels'].shape) != (iters, batch):
        raise FixtureError(f'{path}: labels are {tuple(data["labels"].shape)}, '
                           f'expected ({iters}, {batch})')
    if len(data['steps']) != settings['epochs'] * iters:
        raise FixtureError(f'{path}: {len(data["steps"])} recorded steps, expected '
                           f'{settings["epochs"]} epochs x {iters} iterations')
    if settings['loss'] not in ('NCE', 'DS'):
        raise FixtureError(f'{path}: unknown loss {settings["loss"]!r} (NCE or DS)')
    return dict(data)


@DATASETS.register_module()
class TrajectoryBatchesDataset(Dataset):
    """The fixed batches of a trajectory fixture, one video per item.

    Item ``b * batch + k`` is video ``k`` of batch ``b``: with a sequential
    sampler and the fixture's batch size, every epoch yields the fixture's
    batches in order. ``inputs`` is ``(1, 3, T, H, W)`` float32, already
    normalised (feed it through a data preprocessor with mean 0, std 1).
    """

    def __init__(self, fixture: str):
        data = load_trajectory(fixture)
        frames = data['frames'].float()  # (I, B, T, 3, H, W)
        self.frames = frames.flatten(0, 1).permute(0, 2, 1, 3, 4).contiguous()
        self.labels = data['labels'].flatten().long()
        self.metainfo = dict(classes=list(data['classes']),
                             manifest=f'trajectory fixture {fixture}')

    def __len__(self) -> int:
        return self.labels.numel()

    def __getitem__(self, index: int) -> dict:
        sample = ActionDataSample()
        sample.set_gt_label(self.labels[index:index + 1])
        return dict(inputs=self.frames[index].unsqueeze(0), data_samples=sample)


# ----------------------------------------------------------- optimizer view
def is_clip_parameter(name: str) -> bool:
    """CLIP parameters of ``BIKERecognizer`` (the official ``model``)."""
    return name.startswith('backbone.')


def is_key_bias_slice(name: str) -> bool:
    return name.endswith('in_proj_bias')


def parameter_settings(model: torch.nn.Module, optim_wrapper) -> Dict[str, Dict[str, Any]]:
    """Per parameter: the base ``lr`` and ``weight_decay`` of its optimizer group,
    and whether it is trained (``requires_grad``).

    A parameter in no group gets ``lr = weight_decay = None`` and
    ``in_optimizer=False``.

    Raises:
        ValueError: a parameter in several groups.
    """
    groups: Dict[int, Dict[str, Any]] = {}
    for group in optim_wrapper.param_groups:
        for param in group['params']:
            if id(param) in groups:
                raise ValueError('a parameter is in two optimizer groups')
            groups[id(param)] = group
    settings = {}
    for name, param in model.named_parameters():
        group = groups.get(id(param))
        if group is None:
            # MMEngine's constructor leaves frozen parameters out of the
            # optimizer (the official code passes them with no gradient:
            # AdamW skips them, the same update).
            settings[name] = dict(lr=None, weight_decay=None,
                                  trained=param.requires_grad, in_optimizer=False)
            continue
        # initial_lr: the group's base lr once a param scheduler has run.
        settings[name] = dict(lr=group.get('initial_lr', group['lr']),
                              weight_decay=group['weight_decay'],
                              trained=param.requires_grad, in_optimizer=True)
    return settings


def official_parameter_settings(model: torch.nn.Module, lr: float, clip_ratio: float,
                                weight_decay: float) -> Dict[str, Dict[str, Any]]:
    """What the official code gives every parameter (``utils/solver.py``,
    ``train.py``): AdamW with one group for the whole CLIP at ``lr *
    clip_ratio`` and one for the video head at ``lr``, both with
    ``weight_decay`` on every parameter (biases, norms, ``logit_scale``);
    with ``fix_text`` every CLIP parameter outside ``visual.`` except
    ``logit_scale`` is frozen."""
    settings = {}
    for name, _ in model.named_parameters():
        if is_clip_parameter(name):
            clip_name = name[len('backbone.clip.'):]
            trained = clip_name.startswith('visual.') or clip_name == 'logit_scale'
            settings[name] = dict(lr=lr * clip_ratio, weight_decay=weight_decay,
                                  trained=trained)
        else:
            settings[name] = dict(lr=lr, weight_decay=weight_decay, trained=True)
    return settings


def compare_parameter_settings(ours: Mapping, official: Mapping,
                               rel_tol: float = 1e-12) -> List[str]:
    """Differences between two ``parameter_settings`` views, one line each."""
    problems = []
    for name in sorted(set(ours) | set(official)):
        if name not in ours or name not in official:
            problems.append(f'{name}: only in {"ours" if name in ours else "official"}')
            continue
        a, b = ours[name], official[name]
        if a['trained'] != b['trained']:
            problems.append(f'{name}: trained={a["trained"]}, official {b["trained"]}')
            continue
        if not b['trained']:
            continue  # frozen: no update whatever its group says
        if not a.get('in_optimizer', True):
            problems.append(f'{name}: trainable but in no optimizer group')
            continue
        for key in ('lr', 'weight_decay'):
            if abs(a[key] - b[key]) > rel_tol * max(abs(b[key]), 1e-30):
                problems.append(f'{name}: {key} {a[key]!r}, official {b[key]!r}')
    return problems


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


# ----------------------------------------------------------------- report
@dataclasses.dataclass
class WeightDiff:
    name: str
    max_diff: float
    tolerance: float
    key_slice_diff: Optional[float] = None  # in_proj_bias rows D:2D

    @property
    def ok(self) -> bool:
        key_ok = self.key_slice_diff is None or self.key_slice_diff <= KEY_BIAS_TOL
        return self.max_diff <= self.tolerance and key_ok


@dataclasses.dataclass
class ReplayReport:
    rows: List[Dict[str, Any]]
    weights: List[WeightDiff]
    frozen_max_change: float
    frozen_count: int
    initial_max_diff: float
    tokens_equal: bool
    settings: Dict[str, Any]
    schedule: str
    optimizer_problems: List[str]
    first_divergence: Optional[str] = None

    @property
    def ok(self) -> bool:
        return self.first_divergence is None

    def largest(self) -> Dict[str, float]:
        loss = max((r['loss_diff'] for r in self.rows), default=0.0)
        lr = max((max(r['lr_clip_diff'], r['lr_head_diff']) for r in self.rows), default=0.0)
        weight = max((w.max_diff for w in self.weights), default=0.0)
        key = max((w.key_slice_diff for w in self.weights
                   if w.key_slice_diff is not None), default=0.0)
        return dict(loss=loss, lr=lr, weight=weight, key_slice=key)


def _weight_diffs(model_state: Mapping[str, torch.Tensor],
                  official: Mapping[str, torch.Tensor]) -> List[WeightDiff]:
    diffs = []
    for name, reference in official.items():
        ours = model_state[name].detach().float().cpu()
        delta = (ours - reference.float()).abs()
        if is_key_bias_slice(name):
            width = delta.shape[0] // 3
            mask = torch.ones_like(delta, dtype=torch.bool)
            mask[width:2 * width] = False
            diffs.append(WeightDiff(name, delta[mask].max().item(), WEIGHT_TOL,
                                    delta[width:2 * width].max().item()))
        else:
            diffs.append(WeightDiff(name, delta.max().item(), WEIGHT_TOL))
    return diffs


def build_report(recorder: TrajectoryRecorderHook, model_state: Mapping[str, torch.Tensor],
                 data: Mapping, schedule: str) -> ReplayReport:
    """Compare what the recorder saw with the fixture; find the first
    divergence (prompt tokens, optimizer construction, initial weights,
    then per iteration loss / lrs / whether the optimizer stepped, then the
    final weights)."""
    first: Optional[str] = None
    tokens_equal = recorder.tokens is not None and torch.equal(
        recorder.tokens, data['text_tokens'].long())
    if not tokens_equal:
        first = 'the prompt tokens differ from the fixture\'s text_tokens'

    settings = data['settings']
    converted_init, _ = convert_official(dict(data['init_official_format']))
    initial_max = max(((recorder.initial_state[k].float() - v.float()).abs().max().item()
                       for k, v in converted_init.items()), default=0.0)
    if first is None and initial_max > 0:
        first = f'the initial weights differ from the converted fixture (max {initial_max:.3g})'

    problems = compare_parameter_settings(recorder.parameter_settings,
                                          recorder.official_settings)
    if first is None and problems:
        first = f'optimizer construction: {problems[0]}'

    rows = []
    steps = data['steps']
    for index, reference in enumerate(steps):
        ours = recorder.steps[index] if index < len(recorder.steps) else None
        row = dict(index=index, epoch=reference['epoch'], iter=reference['iter'],
                   ref_loss=reference['loss'], ref_lr_clip=reference['lr_clip'],
                   ref_lr_head=reference['lr_head'], ref_stepped=reference['stepped'])
        if ours is None:
            row.update(loss=float('nan'), lr_clip=float('nan'), lr_head=float('nan'),
                       stepped=None, loss_diff=float('inf'), lr_clip_diff=float('inf'),
                       lr_head_diff=float('inf'))
        else:
            row.update(loss=ours['loss'], lr_clip=ours['lr_clip'], lr_head=ours['lr_head'],
                       stepped=ours['stepped'],
                       loss_diff=abs(ours['loss'] - reference['loss']),
                       lr_clip_diff=abs(ours['lr_clip'] - reference['lr_clip']),
                       lr_head_diff=abs(ours['lr_head'] - reference['lr_head']))
        rows.append(row)
        if first is not None:
            continue
        where = (f'iteration {index} (epoch {reference["epoch"]}, iteration '
                 f'{reference["iter"]} of the epoch)')
        if ours is None:
            first = f'{where}: the replay ran no such iteration'
        elif not row['lr_clip_diff'] <= LR_TOL or not row['lr_head_diff'] <= LR_TOL:
            first = (f'{where}: learning rates differ: CLIP {row["lr_clip"]:.10g} vs '
                     f'official {reference["lr_clip"]:.10g}, head {row["lr_head"]:.10g} '
                     f'vs official {reference["lr_head"]:.10g}')
        elif not row['loss_diff'] <= LOSS_TOL:
            first = (f'{where}: loss {row["loss"]:.8g} vs official '
                     f'{reference["loss"]:.8g} (diff {row["loss_diff"]:.3g} > {LOSS_TOL:g})')
        elif row['stepped'] != reference['stepped']:
            first = (f'{where}: the optimizer {"stepped" if row["stepped"] else "did not step"}'
                     f', the official one {"did" if reference["stepped"] else "did not"}')

    final_official, _ = convert_official({
        'model_state_dict': dict(data['final_model_state_dict']),
        'fusion_model_state_dict': dict(data['final_fusion_model_state_dict'])})
    weights = _weight_diffs(model_state, final_official)
    if first is None:
        for diff in weights:
            if not diff.ok:
                detail = (f'max diff {diff.max_diff:.3g} (tolerance {WEIGHT_TOL:g})'
                          if diff.max_diff > WEIGHT_TOL else
                          f'key rows D:2D max diff {diff.key_slice_diff:.3g} '
                          f'(tolerance {KEY_BIAS_TOL:g})')
                first = f'final weight {diff.name}: {detail}'
                break
    # Weights the official run does not save (the frozen text tower) must not move.
    frozen = [k for k in model_state if k not in final_official and k in recorder.initial_state
              and k in dict(recorder.parameter_settings)
              and not recorder.parameter_settings[k]['trained']]
    frozen_change = max(((model_state[k].float() - recorder.initial_state[k].float())
                         .abs().max().item() for k in frozen), default=0.0)
    if first is None and frozen_change > 0:
        first = f'a frozen weight changed during training (max {frozen_change:.3g})'
    return ReplayReport(rows=rows, weights=weights, frozen_max_change=frozen_change,
                        frozen_count=len(frozen), initial_max_diff=initial_max,
                        tokens_equal=tokens_equal, settings=dict(settings),
                        schedule=schedule, optimizer_problems=problems,
                        first_divergence=first)


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
    # Function-local: cli sits above tools (the runner builder of `bike-bench
    # train`, replayed here, lives in cli.common).
    from bike_bench.cli.common import build_runner

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


def format_report(report: ReplayReport) -> str:
    """The per-iteration table, the per-weight differences and the verdict."""
    s = report.settings
    lines = [
        f'settings: {s["epochs"]} epochs ({s["warmup_epochs"]} warm-up) x '
        f'{s["iters_per_epoch"]} iterations, batch {s["batch"]}, {s["frames"]} frames, '
        f'lr {s["lr"]:g} (CLIP x{s["clip_ratio"]:g}), weight decay {s["weight_decay"]:g}, '
        f'loss {s["loss"]}, accumulation {s["grad_accumulation_steps"]}',
        f'schedule: {report.schedule}',
        f'prompt tokens equal to the fixture\'s: {report.tokens_equal}; initial weights '
        f'through the converter: max diff {report.initial_max_diff:.3g}',
        'optimizer groups as the official solver.py (CLIP incl. logit_scale at lr x '
        'clip_ratio, weight decay on every parameter, text tower frozen except '
        'logit_scale): ' + ('yes' if not report.optimizer_problems else
                           f'NO ({len(report.optimizer_problems)} differences, first: '
                           f'{report.optimizer_problems[0]})'),
        '',
        f'{"it":>3} {"ep":>2} {"i":>3}  {"loss":>12} {"official":>12} {"diff":>9}  '
        f'{"lr CLIP":>11} {"official":>11}  {"lr head":>11} {"official":>11} {"diff":>9}  step',
    ]
    for r in report.rows:
        lr_diff = max(r['lr_clip_diff'], r['lr_head_diff'])
        stepped = '-' if r['stepped'] is None else ('y' if r['stepped'] else 'n')
        lines.append(
            f'{r["index"]:>3} {r["epoch"]:>2} {r["iter"]:>3}  {r["loss"]:>12.8f} '
            f'{r["ref_loss"]:>12.8f} {r["loss_diff"]:>9.2e}  {r["lr_clip"]:>11.4e} '
            f'{r["ref_lr_clip"]:>11.4e}  {r["lr_head"]:>11.4e} {r["ref_lr_head"]:>11.4e} '
            f'{lr_diff:>9.2e}  {stepped}/{"y" if r["ref_stepped"] else "n"}')
    lines += ['', f'final weights (max |ours - official|, tolerance {WEIGHT_TOL:g}; rows D:2D '
                  f'of in_proj_bias separately, tolerance {KEY_BIAS_TOL:g}):']
    for w in report.weights:
        extra = '' if w.key_slice_diff is None else f'   key rows D:2D {w.key_slice_diff:.2e}'
        lines.append(f'  {w.name:<60} {w.max_diff:.2e}{extra}{"" if w.ok else "   FAIL"}')
    lines.append(f'  frozen weights (not saved by the official run, {report.frozen_count} '
                 f'tensors): max change {report.frozen_max_change:.2e}')
    big = report.largest()
    lines += [
        '',
        'note: the key rows D:2D of every attention in_proj_bias have zero gradient in '
        'exact arithmetic (softmax ignores a per-query constant); AdamW turns their '
        f'float noise into updates of order lr*g/eps, so they are compared to {KEY_BIAS_TOL:g}.',
        f'largest differences: loss {big["loss"]:.3g} (tol {LOSS_TOL:g}), lr {big["lr"]:.3g} '
        f'(tol {LR_TOL:g}), weight {big["weight"]:.3g} (tol {WEIGHT_TOL:g}), in_proj_bias '
        f'key rows {big["key_slice"]:.3g} (tol {KEY_BIAS_TOL:g})',
    ]
    if report.ok:
        lines.append('PASS: every loss, learning rate and final weight is within tolerance')
    else:
        lines.append(f'FAIL: first divergence: {report.first_divergence}')
    return '\n'.join(lines)
