"""The config file is the run: derive a variant, write it, run the file.

Variants of an experiment config (a smoke twin, other test views, a
few-shot training set, a zero-shot pass) are *derived*: a transform edits a
copy of the config and notes what it did under the ``run_source`` key
(``config``: the experiment config it started from; ``derivation``: the
transforms, in order). ``materialize`` then writes the result with MMEngine's
``Config.dump`` and reads it back, so what the Runner builds is the file on
disk, and the results file can point to it (``config.path``). Running that
file again with plain ``bike-bench test`` builds the same Runner.
"""
from __future__ import annotations

import json
import math
import os
import re
from typing import Any, Dict, Optional

from mmengine.config import Config

from bike_bench.paths import display_path
from bike_bench.utils.atomic import atomic_write_text
from bike_bench.utils.hashing import json_sha256

SOURCE_KEY = 'run_source'
# What the Runner (and bike-bench around it) reads from a config. A derived
# config keeps only these; helper variables of the experiment file such as
# ``num_test_clips`` or ``ann_file_train`` would describe the experiment,
# not the variant that ran.
RUNNER_KEYS = frozenset((
    'model', 'work_dir', 'experiment_name', 'train_dataloader', 'val_dataloader',
    'test_dataloader', 'train_cfg', 'val_cfg', 'test_cfg', 'auto_scale_lr',
    'optim_wrapper', 'param_scheduler', 'val_evaluator', 'test_evaluator',
    'default_hooks', 'custom_hooks', 'data_preprocessor', 'load_from', 'resume',
    'launcher', 'env_cfg', 'log_processor', 'log_level', 'visualizer',
    'default_scope', 'randomness', 'custom_imports', 'runner_type', 'model_wrapper_cfg',
    'find_unused_parameters', 'compile', 'activation_checkpointing',
    'efficient_conv_bn_eval', 'resource_limit', SOURCE_KEY,
    # bike-bench's protocols: the registered few-shot sampler and half-class
    # split rule (evaluation/fewshot.py, evaluation/zeroshot.py).
    'fewshot_sampler', 'zeroshot_split_rule'))


# Top-level keys that say where a run writes, not what it computes.
PLACE_KEYS = ('work_dir', 'launcher', SOURCE_KEY)


class ConfigDumpError(RuntimeError):
    """A config that does not read back as what was written."""


def json_safe(value: Any) -> Any:
    """``value`` as plain JSON types (tuples to lists, others via ``str``)."""
    return json.loads(json.dumps(value, default=str))


def resolved_config(cfg) -> Dict[str, Any]:
    """The config (an MMEngine ``Config`` or a dict) as plain JSON types."""
    return json_safe(cfg.to_dict() if hasattr(cfg, 'to_dict') else dict(cfg))


def config_hash(cfg) -> str:
    """SHA-256 of the config's canonical JSON (every key)."""
    return json_sha256(resolved_config(cfg))


def config_key_hash(cfg) -> str:
    """SHA-256 of what the config computes: without ``PLACE_KEYS``."""
    return json_sha256({key: value for key, value in resolved_config(cfg).items()
                        if key not in PLACE_KEYS})


def source_of(cfg) -> Dict[str, Any]:
    """The ``run_source`` of ``cfg``: its own file when not derived."""
    source = cfg.get(SOURCE_KEY)
    if source:
        return dict(config=source['config'], derivation=list(source['derivation']))
    return dict(config=display_path(getattr(cfg, 'filename', None)), derivation=[])


def derive(cfg, label: str) -> None:
    """Note the transform ``label`` in ``cfg`` (in place), drop helper keys.

    Call it in every transform that changes what a config computes; the
    label is recorded in the results file's ``config.source.derivation``.
    """
    source = source_of(cfg)
    for key in list(cfg.keys()):
        if key not in RUNNER_KEYS:
            cfg.pop(key)
    source['derivation'].append(label)
    cfg[SOURCE_KEY] = source


def _stem(cfg, stem: Optional[str]) -> str:
    if not stem:
        name = getattr(cfg, 'filename', None) or 'config.py'
        stem = os.path.splitext(os.path.basename(name))[0]
    # A config written here before carries its hash; do not stack them.
    return re.sub(r'_[0-9a-f]{8}$', '', stem)


def _has_non_finite(node) -> bool:
    if isinstance(node, float):
        return not math.isfinite(node)
    if isinstance(node, dict):
        return any(_has_non_finite(value) for value in node.values())
    if isinstance(node, (list, tuple)):
        return any(_has_non_finite(value) for value in node)
    return False


def materialize(cfg, folder: Optional[str] = None, stem: Optional[str] = None,
                derivation=None):
    """The config as a file: ``cfg`` itself if it equals its file, else a dump.

    ``derivation``: the label (or list of labels, in order) of the
    transforms that made ``cfg``, noted as :func:`derive` does (on ``cfg``
    itself) before it is written.

    The dump goes to ``<folder>/<stem>_<hash8>.py`` (default folder
    ``<work_dir>/configs``), is written atomically and read back; the
    returned ``Config`` is the one read back (its ``filename`` is the dump).

    Raises:
        ConfigDumpError: the file does not read back as the same config.
    """
    for label in ([derivation] if isinstance(derivation, str) else derivation or []):
        derive(cfg, label)
    filename = getattr(cfg, 'filename', None)
    if filename and filename.endswith('.py') and os.path.isfile(filename):
        if config_hash(Config.fromfile(filename)) == config_hash(cfg):
            return cfg
    if not cfg.get(SOURCE_KEY):
        cfg[SOURCE_KEY] = source_of(cfg)
    digest = config_hash(cfg)
    folder = folder or os.path.join(cfg.work_dir, 'configs')
    # Python text cannot hold a non-finite float (``nan`` reads back as a
    # name); such a config is written in MMEngine's JSON format instead.
    as_json = _has_non_finite(cfg.to_dict())
    path = os.path.join(folder, f'{_stem(cfg, stem)}_{digest[:8]}' +
                        ('.json' if as_json else '.py'))
    if as_json:
        import mmengine
        atomic_write_text(path, mmengine.dump(cfg.to_dict(), file_format='json', indent=2))
    else:
        atomic_write_text(path, cfg.pretty_text)
    loaded = Config.fromfile(path)
    if config_hash(loaded) != digest:
        raise ConfigDumpError(f'{path}: the written config does not read back '
                              'as the config to run (a value MMEngine cannot '
                              'write as Python?)')
    return loaded
