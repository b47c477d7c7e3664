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
from typing import Any, Dict, List, Optional, Tuple

from bike_bench import paths
# config_hash: also imported from here by the evaluation harness.
from bike_bench.engine.run_config import (config_hash, config_key_hash,  # noqa: F401
                                          resolved_config)
from bike_bench.engine.schedulers import describe_schedule
from bike_bench.paths import display_path, source_checkout
from bike_bench.utils.command import command_line
from bike_bench.utils.hashing import json_sha256

from bike_bench.engine.run_config import json_safe  # noqa: F401

PACKAGES = ('bike-bench', 'torch', 'torchvision', 'mmengine', 'mmcv-lite', 'mmcv',
            'mmaction2', 'open_clip_torch', 'decord', 'av', 'torchcodec', 'numpy', 'opencv-python',
            'opencv-contrib-python', 'opencv-python-headless',
            'opencv-contrib-python-headless')

def config_record(cfg) -> Dict[str, Any]:
    """The config that ran: its file, hash, origin, the command, the content.

    ``path`` is the file the run was built from (``bike_bench.engine.
    run_config.materialize`` writes it before running); ``source`` the
    experiment config it was derived from and how (``run_source`` key).
    """
    resolved = resolved_config(cfg)
    source = resolved.get('run_source') or dict(
        config=display_path(getattr(cfg, 'filename', None)), derivation=[])
    record = dict(path=display_path(getattr(cfg, 'filename', None)),
                  hash=json_sha256(resolved), key_hash=config_key_hash(cfg),
                  source=source, command=command_line(), resolved=resolved)
    # The video decoders its pipelines use, with versions (video_backends).
    from bike_bench.datasets.transforms.video_backends import decoder_record
    record['video_decoders'] = decoder_record(resolved)
    if resolved.get('param_scheduler') is not None:
        # Which learning-rate schedule the config trains with (official / smooth).
        record['lr_schedule'] = describe_schedule(resolved['param_scheduler'])['kind']
    return record


from bike_bench.utils.command import record_command  # noqa: E402,F401
from bike_bench.utils.git import tracked_files  # noqa: E402


# Files whose content is the code identity (suffixes of tracked code/config).
CODE_SUFFIXES = ('.py', '.yml', '.yaml', '.json', '.csv', '.txt', '.jsonl')
# Characters of each file's SHA-256 kept in the per-file record (enough to
# tell which file changed; the identity's ``hash`` covers the full bytes).
FILE_HASH_CHARS = 16


def code_folders(root: Optional[str] = None) -> List[Path]:
    """``bike_bench/`` and ``mmconfigs/`` of the checkout at ``root``
    (default: the imported package and its shipped configs)."""
    if root:
        folders = [Path(root) / 'bike_bench', Path(root) / 'mmconfigs']
    else:
        folders = [paths.package_dir(), paths.config_dir()]
    return [folder for folder in folders if folder.is_dir()]


def code_files(root: Optional[str] = None) -> List[Tuple[str, Path]]:
    """``(relative path, file)`` of every file the code identity covers.

    The shipped package only: the code and config files under
    ``bike_bench/`` and ``mmconfigs/``, less a user's own files under
    ``mmconfigs/`` -- those git does not track (when the folder above it is
    a git checkout) and the metafile does not list -- so that a user's
    config there never makes a shipped run stale (docs/reliability.md,
    "Stale results"). In a copy or an installed package every file counts
    (all of it is package data). Caches, hidden files and other suffixes
    are left out.
    """
    found = []
    for folder in code_folders(root):
        user = _user_files(folder) if folder.name == 'mmconfigs' else set()
        for path in folder.rglob('*'):
            relative = path.relative_to(folder.parent)
            if not path.is_file() or path.suffix not in CODE_SUFFIXES or \
                    '__pycache__' in path.parts or path in user or \
                    any(part.startswith('.') for part in relative.parts):
                continue
            found.append((relative.as_posix(), path))
    return sorted(found)


def _user_files(config_dir: Path) -> set:
    """Files under ``config_dir`` that are not shipped: neither tracked by git
    nor listed in its metafile (empty outside a git checkout)."""
    top = config_dir.parent
    tracked = tracked_files(top, config_dir.name)
    if tracked is None:
        return set()
    listed = set()
    metafile = config_dir / 'metafile.yml'
    if metafile.is_file():
        from bike_bench.metafile import load_metafile
        listed = {str(record.config) for record in load_metafile(metafile)}
    return {path for path in config_dir.rglob('*') if path.is_file()
            and path.relative_to(top).as_posix() not in tracked | listed}


def code_hash(root: Optional[str] = None) -> str:
    """SHA-256 over the relative path and bytes of every file of
    :func:`code_files`: it changes exactly when a line of the package or of
    a shipped config changes."""
    return _code_digest(code_files(root))[0]


def _code_digest(files: List[Tuple[str, Path]]) -> Tuple[str, Dict[str, str]]:
    digest = hashlib.sha256()
    per_file = {}
    for relative, path in files:
        data = path.read_bytes()
        digest.update(relative.encode() + b'\0')
        digest.update(data + b'\0')
        per_file[relative] = hashlib.sha256(data).hexdigest()[:FILE_HASH_CHARS]
    return digest.hexdigest(), per_file


_CODE: Optional[Dict[str, Any]] = None


def code_identity(root: Optional[str] = None) -> Dict[str, Any]:
    """Version, code hash, per-file hashes, git commit and dirty flag.

    ``files`` maps each file of :func:`code_files` to the first
    ``FILE_HASH_CHARS`` hex digits of its SHA-256, so that a stale message
    can name the files that changed (:func:`changed_code_files`). Taken on
    the first call, before a run writes anything, and cached per process;
    pass ``root`` to measure another checkout (not cached).
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
    digest, per_file = _code_digest(code_files(root))
    identity = dict(version=version, hash=digest, git_commit=git['commit'],
                    git_dirty=git['dirty'], files=per_file)
    if root is None:
        _CODE = identity
    return identity


def changed_code_files(recorded: Dict[str, Any],
                       current: Optional[Dict[str, Any]] = None) -> Optional[List[str]]:
    """The files whose hash differs between two code identities.

    ``recorded``: a results file's ``environment.code``; ``current``: default
    this process's :func:`code_identity`. Returns sorted ``path`` entries,
    ``path (new)`` for a file only ``current`` has and ``path (removed)``
    for one only ``recorded`` has; None when ``recorded`` holds no per-file
    hashes (written before they were recorded).
    """
    current = current or code_identity()
    before = recorded.get('files') if isinstance(recorded, dict) else None
    if not isinstance(before, dict):
        return None
    now = current.get('files', {})
    changed = [path for path in sorted(set(before) & set(now)) if before[path] != now[path]]
    changed += [f'{path} (new)' for path in sorted(set(now) - set(before))]
    changed += [f'{path} (removed)' for path in sorted(set(before) - set(now))]
    return changed


def describe_code_change(recorded: Dict[str, Any],
                         current: Optional[Dict[str, Any]] = None, limit: int = 5) -> str:
    """``other code (changed: a.py, b.py and 3 more)``, for stale messages;
    says so when the record names no files."""
    changed = changed_code_files(recorded, current)
    if changed is None:
        return 'other code (the run recorded no per-file hashes)'
    if not changed:
        return 'other code (no file differs: other files under the same hash)'
    more = f' and {len(changed) - limit} more' if len(changed) > limit else ''
    return f'other code (changed: {", ".join(changed[:limit])}{more})'


def git_state(folder: Optional[str] = None) -> Dict[str, Any]:
    """Commit of the bike-bench checkout and whether it has local changes."""
    if folder is None:
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
    inputs_key = json_sha256(inputs)
    code = code or code_identity()
    return dict(inputs_key=inputs_key, run_key=json_sha256([inputs_key, code['hash']]))
