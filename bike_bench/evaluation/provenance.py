"""Where a number came from: code identity, command, packages, device, hashes.

The one provenance collector of bike-bench: every results file's
``environment`` and ``config`` sections come from here. The code identity
(package version, a hash of the package's and the configs' files, git
commit and dirty flag) is taken once per process, on first use, so that it
describes the code before the run writes anything (``reproduce`` rewrites
tracked result files as it goes).
"""
from __future__ import annotations

import hashlib
import platform
import subprocess
from pathlib import Path
from typing import Any, Dict, List, Optional

# The config's canonical content and hash, and how paths are shown, belong
# to the config-as-a-file module (engine/run_config.py); re-exported here.
from bike_bench.engine.run_config import (config_hash, display_path,  # noqa: F401
                                          json_safe)
from bike_bench.engine.run_config import digest as _digest
from bike_bench.engine.run_config import resolved as _resolved

PACKAGES = ('bike-bench', 'torch', 'torchvision', 'mmengine', 'mmcv-lite', 'mmcv',
            'mmaction2', 'open_clip_torch', 'decord', 'av', 'numpy', 'opencv-python',
            'opencv-contrib-python', 'opencv-python-headless',
            'opencv-contrib-python-headless')

# Top-level keys that say where a run writes, not what it computes.
PLACE_KEYS = ('work_dir', 'launcher', 'run_source')


def config_key_hash(cfg) -> str:
    """SHA-256 of what the config computes: without ``PLACE_KEYS``."""
    return _digest({k: v for k, v in _resolved(cfg).items() if k not in PLACE_KEYS})


def config_record(cfg) -> Dict[str, Any]:
    """The config that ran: its file, hash, origin, the command, the content.

    ``path`` is the file the run was built from (``bike_bench.engine.
    run_config.materialize`` writes it before running); ``source`` the
    experiment config it was derived from and how (``run_source`` key).
    """
    resolved = _resolved(cfg)
    source = resolved.get('run_source') or dict(
        config=display_path(getattr(cfg, 'filename', None)), derivation=[])
    record = dict(path=display_path(getattr(cfg, 'filename', None)),
                  hash=_digest(resolved), key_hash=config_key_hash(cfg),
                  source=source, command=command_line(), resolved=resolved)
    if resolved.get('param_scheduler') is not None:
        # Which learning-rate schedule the config trains with (official / smooth).
        from bike_bench.engine.schedulers import describe_schedule
        record['lr_schedule'] = describe_schedule(resolved['param_scheduler'])['kind']
    return record


from bike_bench.utils.command import command_line, record_command  # noqa: E402,F401


# Files whose content is the code identity (suffixes of tracked code/config).
CODE_SUFFIXES = ('.py', '.yml', '.yaml', '.json', '.csv', '.txt', '.jsonl')


def code_folders(root: Optional[str] = None) -> List[Path]:
    """``bike_bench/`` and ``mmconfigs/`` of the checkout at ``root``
    (default: the imported package and its shipped configs)."""
    if root:
        folders = [Path(root) / 'bike_bench', Path(root) / 'mmconfigs']
    else:
        from bike_bench import paths
        folders = [paths.package_dir(), paths.config_dir()]
    return [folder for folder in folders if folder.is_dir()]


def code_hash(root: Optional[str] = None) -> str:
    """SHA-256 over the relative path and bytes of every code/config file.

    Caches, hidden files and other suffixes are left out, so the hash
    changes exactly when a line of the package or of a config changes.
    """
    digest = hashlib.sha256()
    for folder in code_folders(root):
        files = sorted(p for p in folder.rglob('*') if p.is_file()
                       and p.suffix in CODE_SUFFIXES and '__pycache__' not in p.parts
                       and not any(part.startswith('.') for part in
                                   p.relative_to(folder.parent).parts))
        for path in files:
            digest.update(str(path.relative_to(folder.parent)).encode() + b'\0')
            digest.update(path.read_bytes() + b'\0')
    return digest.hexdigest()


_CODE: Optional[Dict[str, Any]] = None


def code_identity(root: Optional[str] = None) -> Dict[str, Any]:
    """Version, code hash, git commit and dirty flag (cached per process).

    Taken on the first call, before a run writes anything; pass ``root`` to
    measure another checkout (not cached).
    """
    global _CODE
    if root is None and _CODE is not None:
        return _CODE
    from importlib import metadata
    try:
        version = metadata.version('bike-bench')
    except metadata.PackageNotFoundError:
        version = 'unknown'
    folders = code_folders(root)
    git = git_state(str(folders[0].parent) if folders else root)
    identity = dict(version=version, hash=code_hash(root), git_commit=git['commit'],
                    git_dirty=git['dirty'])
    if root is None:
        _CODE = identity
    return identity


def git_state(folder: Optional[str] = None) -> Dict[str, Any]:
    """Commit of the bike-bench checkout and whether it has local changes."""
    if folder is None:
        from bike_bench.paths import source_checkout
        checkout = source_checkout()
        if checkout is None:
            return dict(commit='unknown (installed package, not a git checkout)',
                        dirty=None)
        folder = str(checkout)

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


_ENV: Optional[Dict[str, Any]] = None


def mmengine_environment() -> Dict[str, str]:
    """MMEngine's ``collect_env`` (compiler, CUDA, library versions)."""
    global _ENV
    if _ENV is None:
        from mmengine.utils.dl_utils import collect_env
        _ENV = {key: str(value) for key, value in collect_env().items()
                if key not in ('PyTorch compiling details', 'numpy_random_seed')}
    return _ENV


def environment_record() -> Dict[str, Any]:
    """Code identity, packages, device and MMEngine's environment summary."""
    code = code_identity()
    return dict(git_commit=code['git_commit'], git_dirty=code['git_dirty'], code=code,
                packages=package_versions(), device=device_record(),
                collect_env=mmengine_environment())


def run_key(inputs: Any, code: Optional[Dict[str, Any]] = None) -> Dict[str, str]:
    """``inputs_key``: hash of what determines a result apart from the code
    (config, manifests, checkpoint, options); ``run_key``: the same with the
    code hash. Reuse needs an equal ``run_key``."""
    inputs_key = _digest(inputs)
    code = code or code_identity()
    return dict(inputs_key=inputs_key, run_key=_digest([inputs_key, code['hash']]))
