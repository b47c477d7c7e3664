"""The optimizer constructor logs frozen parameters in one line (same optimizer)."""
from __future__ import annotations

import logging

from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

import bike_bench.engine  # noqa: F401  (registers the constructor)
from bike_bench.engine.optim_constructor import frozen_summary
from bike_bench.tools.parity_groups import compare_parameter_settings, parameter_settings
from bike_bench.models.convert import build_model_from_config

from .conftest import SMOKE_CONFIG


class _Lines(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append((record.levelno, record.getMessage()))


def _build(cfg, level):
    init_default_scope('mmaction')
    logger = MMLogger.get_instance('optim-constructor-test', log_level=level)
    lines = _Lines()
    logger.addHandler(lines)
    model = build_model_from_config(cfg, device='meta')
    try:
        wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    finally:
        logger.removeHandler(lines)
    return model, wrapper, lines.records


def test_frozen_text_tower_is_one_summary_line_and_the_same_optimizer():
    cfg = Config.fromfile(SMOKE_CONFIG)
    assert cfg.optim_wrapper.constructor == 'BIKEOptimWrapperConstructor'
    model, ours, records = _build(cfg, 'INFO')
    shown = [message for level, message in records if level >= logging.INFO]
    assert not any('requires_grad=False' in m and 'is skipped' in m for m in shown)
    assert not any(m.startswith('paramwise_options') for m in shown)
    (summary,) = [m for m in shown if m.startswith('optimizer:')]
    frozen = [n for n, p in model.named_parameters() if not p.requires_grad]
    assert len(frozen) > 10  # the text tower (official fix_text)
    assert summary.startswith(f'optimizer: {sum(p.requires_grad for p in model.parameters())} '
                              f'parameter tensors trained, {len(frozen)} frozen')
    assert 'backbone.clip.transformer' in summary
    # The details stay available at DEBUG level (train --verbose).
    details = [message for level, message in records if level == logging.DEBUG]
    assert sum('is frozen (requires_grad=False)' in m for m in details) == len(frozen)
    # Exactly MMEngine's default construction.
    plain = Config.fromfile(SMOKE_CONFIG).optim_wrapper
    plain.pop('constructor')
    default = build_optim_wrapper(model, plain)
    assert compare_parameter_settings(parameter_settings(model, ours),
                                      parameter_settings(model, default)) == []


def test_frozen_summary_groups_modules():
    line = frozen_summary(['a.b.c.w', 'a.b.c.bias', 'a.x.w'], trained=4)
    assert line == ('optimizer: 4 parameter tensors trained, 3 frozen '
                    '(requires_grad=False): a.b.c (2), a.x.w')
    assert frozen_summary([], trained=2) == 'optimizer: 2 parameter tensors trained'
