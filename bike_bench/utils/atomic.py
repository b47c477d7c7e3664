"""Writes that are never seen half-done: temporary file, fsync, rename.

The temporary file gets the mode a plain ``open(path, 'w')`` would give
(``0o666`` less the process umask), not ``mkstemp``'s private ``0o600``, so
checkpoints, results and attribute files stay readable to the group or
everyone exactly as the umask says.
"""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
from typing import Any, Iterator, Tuple


def current_umask() -> int:
    """The process umask (read by setting it and putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """Mode of a newly created regular file: ``0o666 & ~umask``."""
    return 0o666 & ~current_umask()


def _temporary(path: str) -> Tuple[int, str]:
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=folder, prefix='.' + os.path.basename(path),
                                   suffix='.tmp')
    os.fchmod(handle, file_mode())
    return handle, tmp


@contextlib.contextmanager
def atomic_path(path: str) -> Iterator[str]:
    """A temporary path next to ``path``; renamed to ``path`` on success.

    For writers that take a file name (``torch.save``). The file has the
    umask's mode; on any error it is removed and ``path`` is left as it was.
    """
    handle, tmp = _temporary(os.fspath(path))
    os.close(handle)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_bytes(path: str, data: bytes) -> None:
    handle, tmp = _temporary(os.fspath(path))
    try:
        with os.fdopen(handle, 'wb') as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str, text: str) -> None:
    atomic_write_bytes(path, text.encode('utf-8'))


def atomic_write_json(path: str, data: Any, indent: int = 2) -> None:
    atomic_write_text(path, json.dumps(data, indent=indent, sort_keys=False,
                                       ensure_ascii=False, default=str) + '\n')
