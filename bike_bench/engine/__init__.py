"""Hooks and runner helpers (registered on import)."""
from bike_bench import compat as _compat

_compat.apply()

from .hooks import ClassNamesHook, NonFiniteLossError, NonFiniteLossHook  # noqa: E402

__all__ = ["ClassNamesHook", "NonFiniteLossHook", "NonFiniteLossError"]
