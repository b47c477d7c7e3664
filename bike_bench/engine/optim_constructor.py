"""An optimizer-wrapper constructor that reports frozen parameters in one line.

MMEngine's ``DefaultOptimWrapperConstructor`` logs one warning per parameter
with ``requires_grad=False`` (29 for BIKE, whose text tower is frozen as the
official ``fix_text`` does) and one info line per parameter-wise option.
``BIKEOptimWrapperConstructor`` builds exactly the same optimizer and logs a
summary instead: how many tensors are trained and frozen, and which modules
the frozen ones belong to. The per-parameter lines are logged at DEBUG level
(``log_level='DEBUG'``, ``bike-bench train --verbose``).
"""
from __future__ import annotations

import logging
import re
from collections import Counter
from typing import List

from mmengine.logging import MMLogger, print_log
from mmengine.optim import DefaultOptimWrapperConstructor

from mmaction.registry import OPTIM_WRAPPER_CONSTRUCTORS

_FROZEN = re.compile(r'^(?P<name>\S+) is skipped since its requires_grad=False$')
_PARAMWISE = 'paramwise_options -- '


class _Collect(logging.Filter):
    """Keeps MMEngine's per-parameter lines out of the log, remembering them."""

    def __init__(self):
        super().__init__()
        self.frozen: List[str] = []
        self.paramwise: List[str] = []

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        match = _FROZEN.match(message)
        if match:
            self.frozen.append(match.group('name'))
            return False
        if message.startswith(_PARAMWISE):
            self.paramwise.append(message)
            return False
        return True


def frozen_summary(frozen: List[str], trained: int, depth: int = 3) -> str:
    """One line: trained / frozen tensor counts and the frozen modules.

    Args:
        frozen: names of the parameters left out of the optimizer.
        trained: number of parameter tensors the optimizer updates.
        depth: name components that identify a module in the summary
            (``backbone.clip.transformer``).
    """
    groups = Counter('.'.join(name.split('.')[:depth]) for name in frozen)
    modules = ', '.join(f'{module} ({count})' if count > 1 else module
                        for module, count in groups.items())
    text = f'optimizer: {trained} parameter tensors trained'
    if frozen:
        text += f', {len(frozen)} frozen (requires_grad=False): {modules}'
    return text


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class BIKEOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """``DefaultOptimWrapperConstructor`` with a one-line frozen-parameter
    summary instead of one log line per parameter (same optimizer)."""

    def __call__(self, model):
        logger = MMLogger.get_current_instance()
        collect = _Collect()
        logger.addFilter(collect)
        try:
            wrapper = super().__call__(model)
        finally:
            logger.removeFilter(collect)
        for line in [f'{name} is frozen (requires_grad=False)' for name in collect.frozen] \
                + collect.paramwise:
            print_log(line, logger='current', level=logging.DEBUG)
        trained = sum(len(group['params']) for group in wrapper.optimizer.param_groups)
        print_log(frozen_summary(collect.frozen, trained), logger='current',
                  level=logging.INFO)
        return wrapper
