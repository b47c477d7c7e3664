"""Where bike-bench reads its shipped data and where it writes the user's.

Two roots, never mixed:

* **Package data** (read only): the configs (``mmconfigs/`` with the
  metafile), the dataset specs (``manifests/*.yaml``), the paper's figures
  (``results/paper/``), the toy CLIP (``results/toy_clip/``), the reference
  runs (``results/runs/``) and the CI baseline (``results/ci_baseline.json``).
  An installed wheel carries them inside the package under
  ``bike_bench/.mim/`` with the repository's layout (as MMAction2 ships its
  configs under ``mmaction/.mim``; see ``setup.py``); a source checkout
  (editable install or ``PYTHONPATH``) reads them from the checkout itself.
  Nothing in bike-bench writes there, except a maintainer who names a
  checkout folder explicitly (``make reproduce-reference``, ``make tables``).
* **The user's root** (written): every run, table, work dir and generated
  data set goes under it (``work_dirs/``, ``results/``, ``data/``). It is
  ``--root`` (which sets ``BIKE_BENCH_HOME``), else ``BIKE_BENCH_HOME``,
  else the current directory -- never the installed package -- and is read
  when a command runs, not when a module is imported. In a source checkout
  run from its top folder this is the checkout.

This is the only module that locates files relative to the package.
"""
from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import List, Optional, Union

HOME_ENV = 'BIKE_BENCH_HOME'
SPECS_ENV = 'BIKE_BENCH_SPECS'  # overrides the dataset-spec folder (tests)
PACKAGE_DATA = '.mim'  # folder inside the installed package
# Shipped folders and files, as paths relative to the repository (= inside
# .mim/); setup.py copies exactly these into the wheel.
SHIPPED = ('mmconfigs', 'manifests', os.path.join('results', 'paper'),
           os.path.join('results', 'toy_clip'), os.path.join('results', 'runs'),
           os.path.join('results', 'ci_baseline.json'))

PathLike = Union[str, 'os.PathLike[str]']


class PackageDataError(FileNotFoundError):
    """The package's own data (configs, metafile, specs) cannot be found."""


class ConfigNotFoundError(FileNotFoundError):
    """A config given on the command line is neither a file nor a shipped
    config; the message suggests the closest shipped names."""


class OutputRootError(ValueError):
    """The output root would lie inside the installed package."""


def package_dir() -> Path:
    """The folder of the imported ``bike_bench`` package."""
    import bike_bench
    return Path(bike_bench.__file__).resolve().parent


def source_checkout() -> Optional[Path]:
    """The repository holding the imported package, when run from a checkout
    (it has ``pyproject.toml`` and ``mmconfigs/metafile.yml``); else None."""
    top = package_dir().parent
    if (top / 'pyproject.toml').is_file() and \
            (top / 'mmconfigs' / 'metafile.yml').is_file():
        return top
    return None


def display_path(path: Optional[PathLike]) -> Optional[str]:
    """``path`` relative to the bike-bench checkout when it lies inside it
    (``mmconfigs/...``, ``results/runs/...``), else as :func:`recorded_path`
    keeps it (relative to the user's output root when inside it, otherwise
    absolute); ``None`` for an empty path."""
    if not path:
        return None
    path = os.path.abspath(str(path))
    checkout = source_checkout()
    if checkout is not None:
        relative = os.path.relpath(path, str(checkout))
        if not relative.startswith('..'):
            return relative
    return recorded_path(path)


def resolve_recorded(path: PathLike) -> str:
    """A path a record holds (:func:`display_path`, :func:`recorded_path`)
    as a file to open: as it is when it exists from here, else under the
    output root, else under the checkout."""
    path = str(path)
    if os.path.isabs(path) or os.path.exists(path):
        return path
    for base in (output_root_or_none(), source_checkout()):
        if base is not None and os.path.exists(os.path.join(str(base), path)):
            return os.path.join(str(base), path)
    return path


def output_root_or_none() -> Optional[Path]:
    """:func:`output_root`, or ``None`` where it would be refused."""
    try:
        return output_root()
    except OutputRootError:
        return None


def recorded_path(path: Optional[PathLike]) -> Optional[str]:
    """``path`` as a results file or run record keeps it: relative to the
    user's output root when it lies inside it (the record stays true in a
    copy or another clone of that root), otherwise absolute (a path the user
    gave outside the root); ``None`` for an empty path."""
    if not path:
        return None
    path = os.path.abspath(str(path))
    root = output_root_or_none()
    if root is None:
        return path
    relative = os.path.relpath(path, str(root))
    return path if relative.startswith('..') else relative


def data_root() -> Path:
    """The folder holding ``mmconfigs/``, ``manifests/`` and ``results/paper/``.

    Raises:
        PackageDataError: neither the installed data nor a checkout exists.
    """
    installed = package_dir() / PACKAGE_DATA
    if (installed / 'mmconfigs').is_dir():
        return installed
    checkout = source_checkout()
    if checkout is not None:
        return checkout
    raise PackageDataError(
        f'bike-bench package data not found: neither {installed} nor a source '
        'checkout holds mmconfigs/; reinstall the package (pip install .)')


def config_dir() -> Path:
    """The shipped configs (``mmconfigs/``)."""
    return data_root() / 'mmconfigs'


def metafile() -> Path:
    """The model index (``mmconfigs/metafile.yml``)."""
    return config_dir() / 'metafile.yml'


def spec_dir() -> Path:
    """The dataset specs (``manifests/``), or ``$BIKE_BENCH_SPECS``."""
    override = os.environ.get(SPECS_ENV)
    return Path(override) if override else data_root() / 'manifests'


def paper_dir() -> Path:
    """The paper's figures (``results/paper/``)."""
    return data_root() / 'results' / 'paper'


def reference_runs_dir() -> Path:
    """The reference runs ``make reproduce`` is compared with
    (``results/runs/``, one folder per scale)."""
    return data_root() / 'results' / 'runs'


def ci_baseline() -> Path:
    """The CI baseline ``bike-bench ci-regression`` compares with
    (``results/ci_baseline.json``)."""
    return data_root() / 'results' / 'ci_baseline.json'


def shipped_file(path: str) -> str:
    """``path`` as given when it exists or is absolute, else relative to the
    package data (e.g. the toy CLIP ``results/toy_clip/...`` the smoke
    configs name), so it works from any working directory."""
    if os.path.isabs(path) or os.path.exists(path):
        return path
    return str(data_root() / path)


def output_root() -> Path:
    """The user's root for ``results/``, ``work_dirs/`` and ``data/``.

    ``$BIKE_BENCH_HOME`` (set by ``--root``) or the current directory.

    Raises:
        OutputRootError: the root lies inside the installed package.
    """
    root = Path(os.environ.get(HOME_ENV) or os.getcwd()).resolve()
    package = package_dir()
    if source_checkout() is None and (root == package or package in root.parents):
        raise OutputRootError(
            f'output root {root} is inside the installed package; run from '
            f'another folder or set --root / {HOME_ENV}')
    return root


def output_path(*parts: str) -> str:
    """``output_root()/parts...`` as a string."""
    return str(output_root().joinpath(*parts))


def shipped_configs() -> List[Path]:
    """Every shipped experiment config (``_base_`` files excluded)."""
    root = config_dir()
    return sorted(p for p in root.rglob('*.py')
                  if '_base_' not in p.relative_to(root).parts)


def resolve_config(name: PathLike) -> str:
    """A config given as a path or as the name of a shipped config.

    Tried in order: an existing file; a path relative to the package data
    (``mmconfigs/xxx.py``, as the metafile writes it); a shipped config's
    file name or stem (``bike_vit-b-p16_..._kinetics400-rgb``).

    Raises:
        ConfigNotFoundError: nothing matches; the message names the closest
            shipped configs (difflib).
    """
    text = os.fspath(name)
    if os.path.isfile(text):
        return text
    try:
        root = data_root()
    except PackageDataError:
        root = None
    if root is not None:
        relative = root / text
        if relative.is_file():
            return str(relative)
        stem = Path(text).name
        stem = stem[:-3] if stem.endswith('.py') else stem
        configs = shipped_configs()
        for config in configs:
            if config.stem == stem:
                return str(config)
        names = [c.stem for c in configs]
        close = difflib.get_close_matches(stem, names, n=3, cutoff=0.6)
    else:
        close = []
    hint = f'; closest shipped configs: {", ".join(close)}' if close else \
        ' (and no shipped config has that name; `bike-bench reproduce --list` lists them)'
    raise ConfigNotFoundError(f'config not found: {text}{hint}')


def user_path(*parts: str) -> str:
    """``parts`` under the user's root, kept relative when that root is the
    current directory (so paths recorded in configs and run keys stay as
    they were), absolute under ``$BIKE_BENCH_HOME`` otherwise."""
    root = output_root()
    if root == Path(os.getcwd()).resolve():
        return os.path.join(*parts)
    return str(root.joinpath(*parts))
