"""Hooks, param schedulers and runner helpers (registered on import)."""
from bike_bench import compat as _compat

_compat.apply()

from .hooks import ClassNamesHook, NonFiniteLossError, NonFiniteLossHook  # noqa: E402
from .optim_constructor import BIKEOptimWrapperConstructor  # noqa: E402
from .runner import BIKERunner  # noqa: E402
from .schedulers import (CosineAnnealingToEndLR, LRScheduleRecordHook,  # noqa: E402
                         OfficialWarmupCosineLR)

__all__ = ["ClassNamesHook", "NonFiniteLossHook", "NonFiniteLossError",
           "OfficialWarmupCosineLR", "CosineAnnealingToEndLR", "LRScheduleRecordHook",
           "BIKEOptimWrapperConstructor", "BIKERunner"]
