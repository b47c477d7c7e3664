"""The official BIKE learning-rate schedule as an MMEngine param scheduler.

The official ``train.py`` (github.com/whwu95/BIKE) builds
``WarmupCosineAnnealingLR(optimizer, epochs, warmup_epochs=lr_warmup_step)``
(``utils/lr_scheduler.py``, via ``utils/solver.py``) and calls
``lr_scheduler.step(epoch + i / len(train_loader))`` only before the first
iteration of every epoch and before every iteration ``i`` with
``(i + 1) % 10 == 0``. The learning rate of a parameter group is therefore a
staircase over fractional epochs ``t``:

- ``t < warmup``: ``base_lr * t / warmup`` (linear warm-up from exactly 0),
- afterwards ``base_lr * (1 + cos(pi * min(1, (t - warmup) / (epochs -
  warmup)))) / 2`` (cosine to 0),

held between two steps. With 12 iterations per epoch, iterations 0-8 of the
first epoch run at lr 0 (AdamW still accumulates its moments and counts
steps), iterations 9-11 at ``base_lr * 9 / 12 / warmup``.

``OfficialWarmupCosineLR`` computes that value in closed form from the
iteration index, so it resumes exactly from a checkpoint. The smooth
alternative (MMEngine's ``LinearLR`` + ``CosineAnnealingLR`` stepped every
iteration) stays available; ``describe_schedule`` names which one a config
uses.
"""
from __future__ import annotations

import math
from typing import Any, Dict, List, Mapping, Optional, Sequence

from mmengine.optim.scheduler.lr_scheduler import LRSchedulerMixin
from mmengine.optim.scheduler.param_scheduler import INF, _ParamScheduler

from mmaction.registry import PARAM_SCHEDULERS

# The official train.py steps its scheduler at the first iteration of an
# epoch and at every iteration i with (i + 1) % 10 == 0.
OFFICIAL_UPDATE_INTERVAL = 10

OFFICIAL = 'official'
SMOOTH = 'smooth'


def official_step_position(iteration: int, epoch_length: int,
                           update_interval: int = OFFICIAL_UPDATE_INTERVAL) -> float:
    """The fractional epoch the official scheduler last stepped to.

    Args:
        iteration: 0-based global training iteration.
        epoch_length: iterations per epoch (``len(train_loader)``).
        update_interval: the official code steps when ``(i + 1) %
            update_interval == 0`` (10) and at ``i == 0``.

    Returns:
        ``epoch + i_s / epoch_length`` where ``i_s`` is the last in-epoch
        index ``<= i`` at which the official loop stepped (same float
        expression as ``train.py``).
    """
    if epoch_length <= 0:
        raise ValueError(f'epoch_length must be positive, got {epoch_length}')
    epoch, index = divmod(int(iteration), int(epoch_length))
    stepped_at = ((index + 1) // update_interval) * update_interval - 1
    stepped_at = max(stepped_at, 0)
    return epoch + stepped_at / epoch_length


def official_lr_factor(position: float, warmup_epochs: float, max_epochs: float,
                       final_factor: float = 0.0) -> float:
    """``WarmupCosineAnnealingLR``'s factor on the base lr at ``position``.

    Warm-up from 0 (``warmup_lrs=0``, power 1), then cosine from 1 to
    ``final_factor``, clipped at the end (``utils/lr_scheduler.py``).
    """
    if position < warmup_epochs:
        return position / warmup_epochs
    progress = min((position - warmup_epochs) / (max_epochs - warmup_epochs), 1.0)
    cosine = (math.cos(math.pi * progress) + 1) / 2
    return cosine * (1 - final_factor) + final_factor


@PARAM_SCHEDULERS.register_module()
class OfficialWarmupCosineLR(LRSchedulerMixin, _ParamScheduler):
    """The official BIKE staircase: warm-up from 0 and cosine to 0, updated at
    the first iteration of each epoch and every ``update_interval``-th one.

    Configure it by epochs and let the Runner convert it (it needs the
    iterations per epoch)::

        dict(type='OfficialWarmupCosineLR', warmup_epochs=5, begin=0,
             end=30, by_epoch=True, convert_to_iter_based=True)

    ``end`` is the total number of epochs of the cosine (the official
    ``solver.epochs``). Built directly, pass ``by_epoch=False``,
    ``epoch_length`` and ``begin``/``end`` in iterations.

    Args:
        optimizer: the optimizer (wrapper) whose groups' ``lr`` is set to
            ``initial_lr * factor`` (``initial_lr`` holds each group's
            ``lr_mult``).
        warmup_epochs: linear warm-up length in epochs (``lr_warmup_step``).
        epoch_length: iterations per epoch.
        update_interval: 10 in the official code.
        final_factor: the factor the cosine ends at (0 officially).
        begin, end: iterations (after conversion) the schedule covers.

    Raises:
        ValueError: by-epoch use without conversion, ``warmup_epochs`` not
            below the total epochs, or a non-positive ``epoch_length``.

    Source: ``utils/lr_scheduler.py`` and ``train.py`` of whwu95/BIKE.
    """

    def __init__(self, optimizer, warmup_epochs: float,
                 epoch_length: Optional[int] = None,
                 update_interval: int = OFFICIAL_UPDATE_INTERVAL,
                 final_factor: float = 0.0, begin: int = 0, end: int = INF,
                 last_step: int = -1, by_epoch: bool = False,
                 verbose: bool = False):
        if by_epoch or epoch_length is None:
            raise ValueError(
                'OfficialWarmupCosineLR is iteration-based: configure it with '
                'by_epoch=True and convert_to_iter_based=True so that the '
                'Runner passes the iterations per epoch (or build it with '
                'by_epoch=False and epoch_length)')
        if epoch_length <= 0:
            raise ValueError(f'epoch_length must be positive, got {epoch_length}')
        if end == INF:
            raise ValueError('OfficialWarmupCosineLR needs `end` (the total '
                             'epochs of the cosine)')
        self.epoch_length = int(epoch_length)
        self.max_epochs = (end - begin) / self.epoch_length
        if not 0 <= warmup_epochs < self.max_epochs:
            raise ValueError(f'warmup_epochs ({warmup_epochs}) must lie in '
                             f'[0, {self.max_epochs}) epochs')
        self.warmup_epochs = warmup_epochs
        self.update_interval = int(update_interval)
        self.final_factor = final_factor
        super().__init__(optimizer, begin=begin, end=end, last_step=last_step,
                         by_epoch=False, verbose=verbose)

    @classmethod
    def build_iter_from_epoch(cls, *args, begin=0, end=INF, by_epoch=True,
                              epoch_length=None, **kwargs):
        """Iteration-based instance from an epoch-based config."""
        if not by_epoch:
            raise ValueError('only by_epoch=True configs can be converted')
        if epoch_length is None or epoch_length <= 0:
            raise ValueError(f'epoch_length must be positive, got {epoch_length}')
        if end == INF:
            raise ValueError('OfficialWarmupCosineLR needs `end` (the total '
                             'epochs of the cosine)')
        return cls(*args, begin=int(begin * epoch_length),
                   end=int(end * epoch_length), by_epoch=False,
                   epoch_length=epoch_length, **kwargs)

    def position(self, step: Optional[int] = None) -> float:
        """Fractional epoch in force at ``step`` (default: the current one)."""
        step = self.last_step if step is None else step
        return official_step_position(step, self.epoch_length, self.update_interval)

    def _get_value(self) -> List[float]:
        factor = official_lr_factor(self.position(), self.warmup_epochs,
                                    self.max_epochs, self.final_factor)
        return [base * factor for base in self.base_values]


# ------------------------------------------------------- schedule presets
def official_schedule(warmup_epochs: float, max_epochs: float) -> List[Dict[str, Any]]:
    """``param_scheduler`` of the official staircase schedule."""
    return [dict(type='OfficialWarmupCosineLR', warmup_epochs=warmup_epochs,
                 begin=0, end=max_epochs, by_epoch=True,
                 convert_to_iter_based=True)]


def smooth_schedule(warmup_epochs: float, max_epochs: float,
                    start_factor: float = 1e-8) -> List[Dict[str, Any]]:
    """``param_scheduler`` of the MMEngine-native schedule: ``LinearLR`` then
    ``CosineAnnealingLR``, both stepped every iteration."""
    return [
        dict(type='LinearLR', start_factor=start_factor, by_epoch=True, begin=0,
             end=warmup_epochs, convert_to_iter_based=True),
        dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs,
             eta_min=0, by_epoch=True, begin=warmup_epochs, end=max_epochs,
             convert_to_iter_based=True),
    ]


SCHEDULE_PRESETS = {OFFICIAL: official_schedule, SMOOTH: smooth_schedule}


def _types(param_scheduler) -> List[str]:
    if param_scheduler is None:
        return []
    if isinstance(param_scheduler, Mapping):
        param_scheduler = [param_scheduler]
    types = []
    for item in param_scheduler:
        kind = item.get('type') if isinstance(item, Mapping) else type(item).__name__
        types.append(kind if isinstance(kind, str) else getattr(kind, '__name__', str(kind)))
    return types


def schedule_kind(param_scheduler) -> Optional[str]:
    """``'official'``, ``'smooth'`` or ``None`` (something else / none)."""
    types = _types(param_scheduler)
    if types == ['OfficialWarmupCosineLR']:
        return OFFICIAL
    if types in (['LinearLR', 'CosineAnnealingLR'],
                 ['LinearLR', 'CosineAnnealingToEndLR']):
        return SMOOTH
    return None


def describe_schedule(param_scheduler) -> Dict[str, Any]:
    """What a config's ``param_scheduler`` does, for logs and results files.

    Returns ``{'kind': 'official' | 'smooth' | 'custom' | 'none', 'summary':
    one line, 'schedulers': [types]}``.
    """
    types = _types(param_scheduler)
    kind = schedule_kind(param_scheduler)
    if kind == OFFICIAL:
        summary = ('official: warm-up from 0 then cosine to 0, updated at the '
                   'first iteration of each epoch and every 10th '
                   '(WarmupCosineAnnealingLR as the official train.py steps it)')
    elif kind == SMOOTH:
        summary = (f'smooth: LinearLR warm-up then {types[1]}, updated '
                   'every iteration (MMEngine-native)')
    elif types:
        kind = 'custom'
        summary = 'custom: ' + ' + '.join(types)
    else:
        kind = 'none'
        summary = 'none: constant learning rate'
    return dict(kind=kind, summary=summary, schedulers=types)


def retime_schedule(param_scheduler: Sequence[Mapping], warmup_epochs: float,
                    max_epochs: float) -> List[Dict[str, Any]]:
    """The same schedule over other epochs (keeps its kind and options).

    Raises:
        ValueError: a schedule that is neither the official nor the smooth one.
    """
    kind = schedule_kind(param_scheduler)
    items = [dict(item) for item in param_scheduler]
    if kind == OFFICIAL:
        items[0].update(warmup_epochs=warmup_epochs, begin=0, end=max_epochs)
        return items
    if kind == SMOOTH:
        items[0].update(begin=0, end=warmup_epochs)
        items[1].update(begin=warmup_epochs, end=max_epochs,
                        T_max=max_epochs - warmup_epochs)
        return items
    raise ValueError('param_scheduler is neither the official schedule '
                     '(OfficialWarmupCosineLR) nor the smooth one (LinearLR + '
                     f'CosineAnnealingLR): {" + ".join(_types(param_scheduler))}')


def schedule_overruns(param_schedulers, max_epochs: int, max_iters: int,
                      epoch_length: Optional[int] = None) -> List[str]:
    """One warning line per built scheduler that ends after training does.

    Such a scheduler never reaches its final value: e.g. a config that
    inherits an 8-epoch cosine with ``end=8`` and sets ``max_epochs=3``
    stops at lr 8.7e-4 of 1e-3. Schedulers that state no ``end`` follow
    ``train_cfg.max_epochs`` (MMEngine's Runner sets it when it builds them)
    and never appear here.

    Args:
        param_schedulers: the Runner's built schedulers (a list, a dict of
            lists for several optimizers, or None).
        max_epochs: epochs of the whole training.
        max_iters: iterations of the whole training.
        epoch_length: iterations per epoch, to state iteration ends in epochs.

    Returns:
        Lines naming the scheduler, where it ends and where training ends.
    """
    if param_schedulers is None:
        return []
    groups = (param_schedulers.values() if isinstance(param_schedulers, Mapping)
              else [param_schedulers])
    lines = []
    for group in groups:
        for scheduler in group:
            end = getattr(scheduler, 'end', None)
            if end is None or end == INF:
                continue
            if scheduler.by_epoch:
                if end <= max_epochs:
                    continue
                where = f'ends at epoch {end} but training stops at epoch {max_epochs}'
            elif end <= max_iters:
                continue
            elif epoch_length:  # converted from epochs to iterations
                where = (f'ends at epoch {end / epoch_length:g} but training stops '
                         f'at epoch {max_iters / epoch_length:g}')
            else:
                where = f'ends at iteration {end} but training stops at iteration {max_iters}'
            lines.append(
                f'param_scheduler {type(scheduler).__name__} {where}: the learning '
                'rate never reaches its final value; leave out `end` (and `T_max`) '
                'so that it follows train_cfg.max_epochs')
    return lines


# ------------------------------------------------------------ tail cosine
from mmengine.logging import print_log  # noqa: E402
from mmengine.optim.scheduler.lr_scheduler import CosineAnnealingLR  # noqa: E402


@PARAM_SCHEDULERS.register_module()
class CosineAnnealingToEndLR(CosineAnnealingLR):
    """MMEngine's ``CosineAnnealingLR`` for the phase after the warm-up that
    runs to the end of training (no ``end``: the Runner sets it to
    ``train_cfg.max_epochs``).

    Identical to ``CosineAnnealingLR`` whenever training outlasts the
    warm-up. When it does not (``max_epochs <= begin``, e.g. a one-epoch try
    of a config with one warm-up epoch), the phase never runs: it is built
    empty, one iteration past its ``begin``, with one warning line, where
    ``CosineAnnealingLR`` stops the Runner with ``end should be larger than
    begin``.
    """

    def __init__(self, optimizer, *args, begin: int = 0, end: int = INF,
                 **kwargs) -> None:
        if end <= begin:
            print_log(f'param_scheduler CosineAnnealingToEndLR begins at '
                      f'{"epoch" if kwargs.get("by_epoch", True) else "iteration"} '
                      f'{begin}, when training has ended ({end}): it never runs, '
                      'training ends in the warm-up', logger='current',
                      level=30)
            end = begin + 1
        super().__init__(optimizer, *args, begin=begin, end=end, **kwargs)


# ------------------------------------------------------------ record hook
from mmengine.hooks import Hook  # noqa: E402

from mmaction.registry import HOOKS  # noqa: E402

SCHEDULE_RECORD = 'lr_schedule.json'


@HOOKS.register_module()
class LRScheduleRecordHook(Hook):
    """Write which learning-rate schedule ran to ``<work_dir>/lr_schedule.json``
    (``describe_schedule`` of the config's ``param_scheduler``) and log it."""

    priority = 'VERY_LOW'

    def before_train(self, runner) -> None:
        import json
        import os

        from mmengine.dist import is_main_process
        record = describe_schedule(runner.cfg.get('param_scheduler'))
        runner.logger.info(f'learning-rate schedule: {record["summary"]}')
        for line in schedule_overruns(runner.param_schedulers, runner.max_epochs,
                                      runner.max_iters, len(runner.train_dataloader)):
            runner.logger.warning(line)
        if is_main_process():
            os.makedirs(runner.work_dir, exist_ok=True)
            path = os.path.join(runner.work_dir, SCHEDULE_RECORD)
            with open(path, 'w', encoding='utf-8') as handle:
                json.dump(record, handle, indent=1)
