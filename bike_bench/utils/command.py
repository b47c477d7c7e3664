"""The command line of this process, for provenance (no heavy imports:
``bike-bench``'s ``main`` records it before any subcommand runs)."""
from __future__ import annotations

import os
import shlex
import sys
from typing import List, Optional, Sequence

_COMMAND: Optional[List[str]] = None


def record_command(argv: Sequence[str], prog: str = 'bike-bench') -> None:
    """Remember the command line (called by ``bike-bench``'s ``main``)."""
    global _COMMAND
    _COMMAND = [prog, *map(str, argv)]


def command_line() -> str:
    """The command that started this process, shell-quoted."""
    argv = _COMMAND or [os.path.basename(sys.executable), *sys.argv]
    return shlex.join(argv)
