"""What git says about a checkout: the files it tracks."""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Optional, Set, Union


def _git(folder: Union[str, Path], *args: str) -> Optional[str]:
    try:
        out = subprocess.run(['git', '-C', str(folder), *args], capture_output=True,
                             text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout if out.returncode == 0 else None


def tracked_files(top: Union[str, Path], *folders: str) -> Optional[Set[str]]:
    """Paths (relative to ``top``, ``/``-separated) that git tracks under
    ``folders`` (default: everything) when ``top`` is the top folder of a git
    work tree; None otherwise (a copy without ``.git``, an installed package,
    a folder inside another repository, or no git)."""
    toplevel = _git(top, 'rev-parse', '--show-toplevel')
    if toplevel is None or Path(toplevel.strip()).resolve() != Path(top).resolve():
        return None
    listed = _git(top, 'ls-files', '-z', '--', *folders)
    return None if listed is None else {name for name in listed.split('\0') if name}
