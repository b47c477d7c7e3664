"""Optimizer parameter groups of a training run against the official ones.

Per parameter: the base learning rate, weight decay and whether it is
trained, as MMEngine's optimizer wrapper sets them up (``parameter_settings``)
and as the official code does (``official_parameter_settings``), and their
differences (``compare_parameter_settings``).
"""
from __future__ import annotations

from typing import Any, Dict, List, Mapping

import torch


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
