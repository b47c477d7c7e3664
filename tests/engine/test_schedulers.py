"""The official BIKE lr schedule (OfficialWarmupCosineLR) and its selection."""
from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper, build_optim_wrapper
from mmengine.registry import init_default_scope

import bike_bench.engine  # noqa: F401  (registers the scheduler)
from bike_bench.tools.parity_groups import (compare_parameter_settings,
                                            official_parameter_settings,
                                            parameter_settings)
from bike_bench.engine.schedulers import (OfficialWarmupCosineLR, describe_schedule, official_lr_factor,
                                          official_step_position, retime_schedule,
                                          schedule_kind)
from bike_bench.models.convert import build_model_from_config
from mmaction.registry import PARAM_SCHEDULERS

CONFIG_DIR = Path(__file__).resolve().parents[2] / 'mmconfigs'
K400_CONFIGS = sorted(CONFIG_DIR.glob('*_kinetics400-rgb.py'))
# The paper's K400 video-branch configs (trained from CLIP).
K400_VIDEO = [p for p in K400_CONFIGS
              if p.name.startswith('bike_vit') and 'fewshot' not in p.name]


def _scheduled_lrs(epochs, warmup, epoch_length, base=(1e-4, 1e-3)):
    params = [torch.nn.Parameter(torch.zeros(1)) for _ in base]
    optimizer = torch.optim.AdamW([dict(params=[p], lr=lr) for p, lr in zip(params, base)])
    wrapper = OptimWrapper(optimizer)
    scheduler = PARAM_SCHEDULERS.build(dict(
        type='OfficialWarmupCosineLR', warmup_epochs=warmup, begin=0, end=epochs,
        by_epoch=True, convert_to_iter_based=True, optimizer=wrapper,
        epoch_length=epoch_length))
    lrs = []
    for _ in range(epochs * epoch_length):
        lrs.append([g['lr'] for g in optimizer.param_groups])
        wrapper.step()
        scheduler.step()
    return lrs, scheduler, wrapper


def _official_reference(epochs, warmup, epoch_length, base):
    """The official loop, literally: step(epoch + i / len) at i == 0 and
    (i + 1) % 10 == 0, lr = base * factor held in between."""
    lrs, current = [], None
    for epoch in range(epochs):
        for i in range(epoch_length):
            if (i + 1) == 1 or (i + 1) % 10 == 0:
                t = epoch + i / epoch_length
                if t < warmup:
                    factor = t / warmup
                else:
                    progress = min((t - warmup) / (epochs - warmup), 1.0)
                    factor = (math.cos(math.pi * progress) + 1) / 2
                current = [b * factor for b in base]
            lrs.append(current)
    return lrs


@pytest.mark.parametrize('epochs,warmup,epoch_length', [(2, 1, 12), (5, 2, 37), (30, 5, 939)])
def test_staircase_equals_the_official_loop(epochs, warmup, epoch_length):
    base = (1e-4, 1e-3)
    lrs, _, _ = _scheduled_lrs(epochs, warmup, epoch_length, base)
    reference = _official_reference(epochs, warmup, epoch_length, base)
    assert len(lrs) == len(reference)
    for it, (ours, theirs) in enumerate(zip(lrs, reference)):
        assert ours == pytest.approx(theirs, abs=1e-15), it
    # Iterations 0-8 of the first epoch run at lr exactly 0.
    assert all(lr == [0.0, 0.0] for lr in lrs[:9])
    assert lrs[9][1] > 0


def test_step_position_and_factor():
    assert official_step_position(0, 12) == 0
    assert official_step_position(8, 12) == 0
    assert official_step_position(9, 12) == 9 / 12
    assert official_step_position(11, 12) == 9 / 12
    assert official_step_position(12, 12) == 1
    assert official_step_position(30, 25) == 1 + 0 / 25
    assert official_step_position(34, 25) == 1 + 9 / 25
    assert official_lr_factor(0.5, 1, 2) == 0.5
    assert official_lr_factor(1.0, 1, 2) == 1.0
    assert official_lr_factor(2.0, 1, 2) == pytest.approx(0.0, abs=1e-16)
    assert official_lr_factor(3.0, 1, 2) == pytest.approx(0.0, abs=1e-16)


def test_resume_from_state_dict():
    lrs, scheduler, wrapper = _scheduled_lrs(3, 1, 20)
    state = scheduler.state_dict()
    params = [torch.nn.Parameter(torch.zeros(1)) for _ in range(2)]
    optimizer = torch.optim.AdamW([dict(params=[params[0]], lr=1e-4),
                                   dict(params=[params[1]], lr=1e-3)])
    for group in optimizer.param_groups:
        group['initial_lr'] = group['lr']
    # Built directly (iteration-based): begin/end in iterations.
    resumed = OfficialWarmupCosineLR(OptimWrapper(optimizer), warmup_epochs=1,
                                     epoch_length=20, begin=0, end=60)
    resumed.load_state_dict(state)
    assert resumed.last_step == scheduler.last_step
    assert resumed._get_value() == scheduler._get_value()


def test_errors_name_the_problem():
    params = [torch.nn.Parameter(torch.zeros(1))]
    wrapper = OptimWrapper(torch.optim.AdamW(params, lr=1e-3))
    with pytest.raises(ValueError, match='convert_to_iter_based'):
        PARAM_SCHEDULERS.build(dict(type='OfficialWarmupCosineLR', warmup_epochs=1,
                                    end=2, by_epoch=True, epoch_length=12,
                                    optimizer=wrapper))
    with pytest.raises(ValueError, match='warmup_epochs'):
        PARAM_SCHEDULERS.build(dict(type='OfficialWarmupCosineLR', warmup_epochs=3,
                                    begin=0, end=2, by_epoch=True,
                                    convert_to_iter_based=True, epoch_length=12,
                                    optimizer=wrapper))


def test_describe_and_retime():
    smooth = Config.fromfile(str(K400_VIDEO[0])).smooth_param_scheduler
    assert schedule_kind(smooth) == 'smooth'
    retimed = retime_schedule(smooth, 1, 2)
    assert [(s['begin'], s['end']) for s in retimed] == [(0, 1), (1, 2)]
    assert retimed[1]['T_max'] == 1
    assert describe_schedule(None)['kind'] == 'none'
    assert describe_schedule([dict(type='MultiStepLR')])['kind'] == 'custom'
    with pytest.raises(ValueError, match='neither'):
        retime_schedule([dict(type='MultiStepLR')], 1, 2)


@pytest.mark.parametrize('path', K400_CONFIGS, ids=[p.stem for p in K400_CONFIGS])
def test_k400_paper_configs_select_the_official_schedule(path):
    cfg = Config.fromfile(str(path))
    assert schedule_kind(cfg.param_scheduler) == 'official'
    (scheduler,) = cfg.param_scheduler
    assert 'end' not in scheduler  # the Runner ends it at train_cfg.max_epochs
    assert scheduler.warmup_epochs == 5  # lr_warmup_step of the official yamls
    # The MMEngine-native alternative stays available over the same epochs.
    assert schedule_kind(cfg.smooth_param_scheduler) == 'smooth'


@pytest.mark.parametrize('path', K400_VIDEO, ids=[p.stem for p in K400_VIDEO])
def test_k400_optimizer_groups_equal_the_official_construction(path):
    """Every parameter decayed (biases, norms, logit_scale included), CLIP
    parameters including logit_scale at lr x 0.1, the head at lr, the text
    tower frozen except logit_scale (official utils/solver.py, train.py)."""
    cfg = Config.fromfile(str(path))
    init_default_scope('mmaction')
    model = build_model_from_config(cfg, device='meta')
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    ours = parameter_settings(model, wrapper)
    optimizer = cfg.optim_wrapper.optimizer
    official = official_parameter_settings(model, optimizer.lr, 0.1, 0.2)
    assert optimizer.weight_decay == 0.2
    assert compare_parameter_settings(ours, official) == []
    assert ours['backbone.clip.logit_scale'] == dict(
        lr=pytest.approx(optimizer.lr * 0.1), weight_decay=0.2, trained=True,
        in_optimizer=True)
    decayed = [n for n, s in ours.items() if s['trained'] and s['weight_decay'] == 0.2]
    assert any(n.endswith('.bias') for n in decayed)
    assert any('ln_' in n for n in decayed)
    trained_text = [n for n, s in ours.items() if s['trained']
                    and n.startswith('backbone.clip.')
                    and not n.startswith('backbone.clip.visual.')]
    assert trained_text == ['backbone.clip.logit_scale']


def test_results_config_record_names_the_schedule():
    from bike_bench.evaluation.provenance import config_record
    cfg = Config.fromfile(str(K400_VIDEO[0]))
    assert config_record(cfg)['lr_schedule'] == 'official'
    cfg.param_scheduler = cfg.smooth_param_scheduler
    assert config_record(cfg)['lr_schedule'] == 'smooth'


# ------------------------------------------------ schedules follow max_epochs
def _built_schedulers(cfg, work_dir):
    """The Runner's own schedulers for ``cfg`` (built as ``Runner.train``
    builds them), without training."""
    from mmengine.runner import Runner
    cfg.work_dir = str(work_dir)
    runner = Runner.from_cfg(cfg)
    runner._train_loop = runner.build_train_loop(runner._train_loop)
    runner.optim_wrapper = runner.build_optim_wrapper(runner.optim_wrapper)
    return runner, runner.build_param_scheduler(runner.param_schedulers)


def _lr_trajectory(runner, schedulers):
    lrs = []
    for _ in range(runner.max_iters):
        lrs.append(runner.optim_wrapper.optimizer.param_groups[-1]['lr'])
        for scheduler in schedulers:
            scheduler.step()
    return lrs


def _smoke_child(tmp_path, smoke_set, body: str) -> Config:
    from .conftest import SMOKE_CONFIG
    child = tmp_path / 'shorter.py'
    child.write_text(f'_base_ = [{SMOKE_CONFIG!r}]\n{body}\n')
    cfg = Config.fromfile(str(child))
    cfg.merge_from_dict({'train_dataloader.dataset.ann_file': smoke_set['train'],
                         'val_dataloader.dataset.ann_file': smoke_set['val'],
                         'test_dataloader.dataset.ann_file': smoke_set['val']})
    return cfg


@pytest.mark.parametrize('body', ['train_cfg = dict(max_epochs=3)', ''],
                         ids=['child-config', 'cfg-options'])
def test_a_shortened_smoke_schedule_decays_to_the_end(smoke_set, tmp_path, body):
    """A config inheriting the 8-epoch smoke config with max_epochs=3 (or
    ``--cfg-options train_cfg.max_epochs=3``) ends its cosine at epoch 3."""
    cfg = _smoke_child(tmp_path, smoke_set, body)
    if not body:
        cfg.merge_from_dict({'train_cfg.max_epochs': 3})
    runner, schedulers = _built_schedulers(cfg, tmp_path / 'work')
    epoch_length = len(runner.train_dataloader)
    assert runner.max_epochs == 3
    assert [s.end for s in schedulers] == [epoch_length, 3 * epoch_length]
    lrs = _lr_trajectory(runner, schedulers)
    base = cfg.optim_wrapper.optimizer.lr
    # The last iteration runs at the cosine's last step before 0 (it stopped
    # at 8.7e-4 of 1e-3 when the cosine kept end=8).
    steps = 2 * epoch_length
    assert lrs[-1] == pytest.approx(base * (1 + math.cos(math.pi * (steps - 1) / steps)) / 2)
    assert lrs[-1] < 0.05 * base  # 8.7e-4 of 1e-3 before
    from bike_bench.engine.schedulers import schedule_overruns
    assert schedule_overruns(schedulers, runner.max_epochs, runner.max_iters,
                             epoch_length) == []


def test_a_scheduler_ending_after_training_gets_one_warning_line(smoke_set, tmp_path):
    from bike_bench.engine.schedulers import schedule_overruns
    cfg = _smoke_child(tmp_path, smoke_set, 'train_cfg = dict(max_epochs=3)')
    cfg.param_scheduler[1].update(end=8)  # written for the 8-epoch parent
    runner, schedulers = _built_schedulers(cfg, tmp_path / 'work')
    lines = schedule_overruns(schedulers, runner.max_epochs, runner.max_iters,
                              len(runner.train_dataloader))
    assert lines == ['param_scheduler CosineAnnealingToEndLR ends at epoch 8 but training '
                     'stops at epoch 3: the learning rate never reaches its final '
                     'value; leave out `end` (and `T_max`) so that it follows '
                     'train_cfg.max_epochs']
    lrs = _lr_trajectory(runner, schedulers)
    assert lrs[-1] > 0.5 * cfg.optim_wrapper.optimizer.lr  # what it warns about


def test_training_that_ends_in_the_warm_up_builds_and_warms_up(smoke_set, tmp_path, capsys):
    """max_epochs=1 on the smoke config (one warm-up epoch): the cosine phase
    never runs. MMEngine's CosineAnnealingLR stops the Runner there (``end
    should be larger than begin``); the tail cosine is built empty with one
    warning and the warm-up runs as configured."""
    cfg = _smoke_child(tmp_path, smoke_set, 'train_cfg = dict(max_epochs=1)')
    runner, schedulers = _built_schedulers(cfg, tmp_path / 'work')
    assert [type(s).__name__ for s in schedulers] == ['LinearLR', 'CosineAnnealingToEndLR']
    lrs = _lr_trajectory(runner, schedulers)
    base = cfg.optim_wrapper.optimizer.lr
    assert lrs[0] == pytest.approx(base * 1e-3)
    assert all(b > a for a, b in zip(lrs, lrs[1:]))  # warm-up only
    assert lrs[-1] < base


@pytest.mark.parametrize('path', K400_VIDEO, ids=[p.stem for p in K400_VIDEO])
def test_paper_schedules_run_to_the_end_of_training(path):
    """The phase that runs to the end states no ``end``/``T_max``: the Runner
    sets it to ``train_cfg.max_epochs`` (the official ``solver.epochs``)."""
    cfg = Config.fromfile(str(path))
    for schedule in (cfg.param_scheduler, cfg.smooth_param_scheduler):
        assert 'end' not in schedule[-1] and 'T_max' not in schedule[-1]
