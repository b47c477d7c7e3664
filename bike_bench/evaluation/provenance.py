"""Where a number came from: code version, packages, device, file hashes."""
from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
from typing import Any, Dict, Optional

PACKAGES = ('bike-bench', 'torch', 'torchvision', 'mmengine', 'mmcv-lite', 'mmcv',
            'mmaction2', 'open_clip_torch', 'decord', 'av', 'numpy', 'opencv-python',
            'opencv-contrib-python', 'opencv-python-headless',
            'opencv-contrib-python-headless')

_HASH_CACHE: Dict[tuple, str] = {}


def file_sha256(path: str) -> str:
    """SHA-256 of a file (cached per path, size and modification time)."""
    stat = os.stat(path)
    key = (os.path.abspath(path), stat.st_size, stat.st_mtime_ns)
    if key not in _HASH_CACHE:
        digest = hashlib.sha256()
        with open(path, 'rb') as handle:
            for block in iter(lambda: handle.read(1 << 20), b''):
                digest.update(block)
        _HASH_CACHE[key] = digest.hexdigest()
    return _HASH_CACHE[key]


def json_safe(value: Any) -> Any:
    """``value`` as plain JSON types (tuples to lists, others via ``str``)."""
    return json.loads(json.dumps(value, default=str))


def config_record(cfg) -> Dict[str, Any]:
    """The resolved config and the SHA-256 of its canonical JSON."""
    resolved = json_safe(cfg.to_dict() if hasattr(cfg, 'to_dict') else dict(cfg))
    canonical = json.dumps(resolved, sort_keys=True, separators=(',', ':'))
    return dict(path=getattr(cfg, 'filename', None),
                hash=hashlib.sha256(canonical.encode()).hexdigest(),
                resolved=resolved)


def git_state(folder: Optional[str] = None) -> Dict[str, Any]:
    """Commit of the bike-bench checkout and whether it has local changes."""
    folder = folder or os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))

    def git(*args: str) -> Optional[str]:
        try:
            out = subprocess.run(['git', '-C', folder, *args], capture_output=True,
                                 text=True, timeout=20)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    commit = git('rev-parse', 'HEAD')
    if commit is None:
        return dict(commit='unknown (not a git checkout)', dirty=None)
    status = git('status', '--porcelain', '--untracked-files=no')
    return dict(commit=commit, dirty=bool(status) if status is not None else None)


def package_versions() -> Dict[str, str]:
    from importlib import metadata
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    # Two OpenCV distributions can share one cv2/ folder: record the one
    # actually imported too.
    try:
        import cv2
        versions['cv2 (imported)'] = cv2.__version__
    except ImportError:
        pass
    return versions


def device_record() -> Dict[str, Any]:
    import torch
    record = dict(platform=platform.platform(), python=platform.python_version(),
                  cpu=platform.processor() or platform.machine(),
                  torch_threads=torch.get_num_threads())
    if torch.cuda.is_available():
        index = torch.cuda.current_device()
        record.update(type='cuda', name=torch.cuda.get_device_name(index),
                      count=torch.cuda.device_count(),
                      cuda=torch.version.cuda)
    else:
        record.update(type='cpu', name=record['cpu'])
    return record


def environment_record() -> Dict[str, Any]:
    git = git_state()
    return dict(git_commit=git['commit'], git_dirty=git['dirty'],
                packages=package_versions(), device=device_record())
