"""SHA-256 of files and of JSON data: the helpers every checksum in
bike-bench goes through (checkpoints in results files, dataset sources in
manifest provenance, the toy CLIP's record; config hashes and run keys)."""
from __future__ import annotations

import hashlib
import json
import os
from typing import Any, Dict, Tuple

BLOCK = 1 << 20  # bytes read at a time

_CACHE: Dict[Tuple[str, int, int], str] = {}


def file_sha256(path: str) -> str:
    """Hex SHA-256 of a file's bytes; of a folder, over its files.

    A folder's digest covers, in name order, each plain file directly in it
    as ``name NUL sha256 LF`` (sub-folders are not entered). A file's digest
    is cached per (absolute path, size, modification time), so hashing the
    same checkpoint for several results files reads it once.

    Raises:
        FileNotFoundError: ``path`` does not exist.
    """
    if os.path.isdir(path):
        digest = hashlib.sha256()
        for name in sorted(os.listdir(path)):
            child = os.path.join(path, name)
            if os.path.isfile(child):
                digest.update(f'{name}\0{file_sha256(child)}\n'.encode())
        return digest.hexdigest()
    stat = os.stat(path)
    key = (os.path.abspath(path), stat.st_size, stat.st_mtime_ns)
    if key not in _CACHE:
        digest = hashlib.sha256()
        with open(path, 'rb') as handle:
            for block in iter(lambda: handle.read(BLOCK), b''):
                digest.update(block)
        _CACHE[key] = digest.hexdigest()
    return _CACHE[key]


def json_sha256(data: Any) -> str:
    """Hex SHA-256 of ``data`` as canonical JSON (sorted keys, no spaces;
    values JSON cannot hold are written with ``str``)."""
    canonical = json.dumps(data, sort_keys=True, separators=(',', ':'), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
