"""Fixes for the known frictions of the pinned stack, applied once on import.

Each fix is a small function that is safe to call twice and records itself in
``ACTIVE_FIXES`` so ``bike-bench doctor`` can say what is in effect. Nothing
here edits files in site-packages.
"""
from __future__ import annotations

import importlib
import importlib.util
import pickle
import sys
import types
import warnings
from typing import Dict

import numpy as np

ACTIVE_FIXES: Dict[str, str] = {}


def ensure_importlib_metadata() -> None:
    """mmaction2 imports ``importlib_metadata`` but does not declare it.

    When the backport is missing, the standard library's ``importlib.metadata``
    offers the two names mmaction uses (``distribution`` and
    ``PackageNotFoundError``).
    """
    try:
        import importlib_metadata  # noqa: F401
    except ImportError:
        import importlib.metadata as stdlib_metadata
        sys.modules['importlib_metadata'] = stdlib_metadata
        ACTIVE_FIXES['importlib_metadata'] = 'aliased to importlib.metadata'


def provide_missing_drn() -> None:
    """The mmaction2 1.2.0 wheel lacks ``mmaction/models/localizers/drn``.

    ``mmaction.models.localizers`` imports ``DRN`` from it, so without the
    module ``import mmaction.models`` fails. A placeholder package is put in
    ``sys.modules``; building a DRN model from it raises a clear error.
    """
    name = 'mmaction.models.localizers.drn'
    if name in sys.modules:
        return
    spec = importlib.util.find_spec('mmaction')
    if spec is None or not spec.submodule_search_locations:
        return
    import os
    for location in spec.submodule_search_locations:
        if os.path.isdir(os.path.join(location, 'models', 'localizers', 'drn')):
            return  # a complete mmaction install; nothing to provide

    class DRN:  # noqa: D401 - placeholder with the upstream name
        """Placeholder for the localizer missing from the mmaction2 wheel."""

        def __init__(self, *args, **kwargs):
            raise ImportError(
                'DRN is not included in the mmaction2 1.2.0 wheel; install '
                'mmaction2 from source to use temporal grounding models.')

    package = types.ModuleType(name)
    package.__path__ = []  # mark as a package
    package.__doc__ = 'bike_bench placeholder: the wheel ships no DRN.'
    module = types.ModuleType(name + '.drn')
    module.DRN = DRN
    package.drn = module
    package.DRN = DRN
    sys.modules[name] = package
    sys.modules[name + '.drn'] = module
    ACTIVE_FIXES['mmaction_drn'] = 'placeholder mmaction.models.localizers.drn'


# mmaction's multimodal (VindLU) models: what they register, and the
# transformers API they import (transformers 5 removed part of it).
MULTIMODAL_PACKAGE = 'mmaction.models.multimodal'
MULTIMODAL_MODELS = ('VindLUVQA', 'VindLURetrievalMC', 'VindLURetrieval')


def _load_real_multimodal() -> None:
    """Import mmaction's VindLU package for real (on first use of a model).

    Raises:
        ImportError: naming the installed ``transformers`` when the import
            fails (absent, too old, or an API it no longer has).
    """
    from mmaction.registry import MODELS
    placeholders = {name: MODELS._module_dict.pop(name, None)
                    for name in MULTIMODAL_MODELS}
    try:
        importlib.import_module(MULTIMODAL_PACKAGE + '.vindlu')
    except Exception as error:  # transformers raises ImportError or AttributeError
        for name, placeholder in placeholders.items():
            if placeholder is not None:
                MODELS._module_dict.setdefault(name, placeholder)
        try:
            from importlib.metadata import version
            installed = f'transformers {version("transformers")}'
        except Exception:  # noqa: BLE001 - absent or unreadable metadata
            installed = 'no transformers'
        raise ImportError(
            f'mmaction2\'s multimodal (VindLU) models cannot be imported with '
            f'{installed} ({type(error).__name__}: {error}); they need '
            'transformers>=4.28,<5. bike_bench itself does not use them.') from None


def _multimodal_on_demand(name: str):
    def build(*args, **kwargs):
        from mmaction.registry import MODELS
        if MODELS._module_dict.get(name) is build:
            _load_real_multimodal()
        return MODELS.get(name)(*args, **kwargs)
    build.__name__ = build.__qualname__ = name
    build.__doc__ = (f'{name} of mmaction2, imported on first use '
                     '(bike_bench.compat.defer_mmaction_multimodal).')
    return build


def defer_mmaction_multimodal() -> None:
    """Import mmaction's multimodal models only when one is built.

    ``import mmaction.models`` imports ``mmaction.models.multimodal``, which
    imports VindLU, which imports ``transformers`` names that transformers 5
    removed (``find_pruneable_heads_and_indices`` and others): with a recent
    transformers in the environment, ``import mmaction.models`` and so
    ``import bike_bench`` failed, for models BIKE never uses. Here a
    placeholder package takes the place of ``mmaction.models.multimodal``
    before ``mmaction.models`` is imported; it registers the three VindLU
    model names, and building one of them imports the real package (an
    ``ImportError`` naming the transformers version if that fails). It also
    keeps ``transformers`` (seconds to import) out of every start-up.
    Must run before ``mmaction.models`` is imported; a no-op after.
    """
    if MULTIMODAL_PACKAGE in sys.modules or 'mmaction.models' in sys.modules:
        return
    spec = importlib.util.find_spec('mmaction')
    if spec is None or not spec.submodule_search_locations:
        return
    import os
    from mmaction.registry import MODELS
    package = types.ModuleType(MULTIMODAL_PACKAGE)
    # The real folder, so ``import mmaction.models.multimodal.vindlu`` still
    # finds the real submodule.
    package.__path__ = [os.path.join(location, 'models', 'multimodal')
                        for location in spec.submodule_search_locations]
    package.__doc__ = ('bike_bench placeholder: mmaction\'s multimodal models '
                       'are imported when one is built.')
    for name in MULTIMODAL_MODELS:
        builder = _multimodal_on_demand(name)
        setattr(package, name, builder)
        MODELS.register_module(name=name, module=builder, force=True)
    package.__all__ = list(MULTIMODAL_MODELS)
    sys.modules[MULTIMODAL_PACKAGE] = package
    ACTIVE_FIXES['mmaction_multimodal'] = (
        'mmaction.models.multimodal (VindLU, transformers) imported on first use')


def _robust_mean_class_accuracy(scores, labels) -> float:
    """Mean over classes of per-class recall, for any integer label type.

    mmaction's version insists on int64/int32 arrays and breaks on numpy-2
    scalar types and one-element label arrays; this one normalises first.
    Classes are those that occur as a label or as a prediction (as upstream).
    """
    scores = np.asarray([np.asarray(s, dtype=np.float64).reshape(-1)
                         for s in scores])
    labels = np.asarray([int(np.asarray(x).reshape(-1)[0]) for x in labels],
                        dtype=np.int64)
    pred = scores.argmax(axis=1).astype(np.int64)
    classes = np.union1d(pred, labels)
    recalls = []
    for cls in classes:
        mask = labels == cls
        count = int(mask.sum())
        recalls.append(float((pred[mask] == cls).sum()) / count if count else 0.0)
    return float(np.mean(recalls)) if recalls else 0.0


ORIGINALS: Dict[str, object] = {}


def patch_mean_class_accuracy() -> None:
    """Swap mmaction's mean-class accuracy for the numpy-2 safe version."""
    if 'mean_class_accuracy' in ACTIVE_FIXES:
        return
    from mmaction.evaluation.functional import accuracy as acc_module
    ORIGINALS['mean_class_accuracy'] = acc_module.mean_class_accuracy
    acc_module.mean_class_accuracy = _robust_mean_class_accuracy
    import mmaction.evaluation.functional as functional
    functional.mean_class_accuracy = _robust_mean_class_accuracy
    try:
        from mmaction.evaluation.metrics import acc_metric
        acc_metric.mean_class_accuracy = _robust_mean_class_accuracy
    except ImportError:  # pragma: no cover - metrics need mmaction.models
        pass
    ACTIVE_FIXES['mean_class_accuracy'] = 'numpy-2 safe mean class accuracy'


def _history_buffer_getattr(obj, name, *default):
    """``getattr`` as MMEngine's pickled ``HistoryBuffer`` uses it.

    A ``HistoryBuffer`` pickles its statistics methods as
    ``getattr(HistoryBuffer, 'mean')``. Allowing the real ``getattr`` would
    let a checkpoint reach any attribute of any allowed object, so only
    public attributes of ``HistoryBuffer`` itself are served.
    """
    from mmengine.logging import HistoryBuffer
    if obj is HistoryBuffer and isinstance(name, str) \
            and not name.startswith('_'):
        return getattr(obj, name, *default)
    raise pickle.UnpicklingError(
        f'checkpoint asks for getattr({obj!r}, {name!r}), which is not '
        'part of MMEngine\'s own checkpoint state')


def mmengine_safe_globals() -> list:
    """Types MMEngine writes into its own checkpoints (message hub, meta).

    Since torch 2.6 ``torch.load`` defaults to ``weights_only=True``, which
    refuses any class not explicitly allowed. These are the plain-data types
    MMEngine itself stores; nothing that can run code on load.
    """
    from mmengine.logging import HistoryBuffer
    from mmengine.logging.message_hub import MessageHub  # noqa: F401
    allowed = [HistoryBuffer, (_history_buffer_getattr, 'builtins.getattr'),
               (_history_buffer_getattr, '__builtin__.getattr')]
    # numpy scalars and arrays as pickled by numpy 2 (and numpy 1 layout).
    import numpy.core.multiarray as legacy_multiarray  # noqa: F401
    allowed.append(np._core.multiarray._reconstruct)
    allowed.append(np._core.multiarray.scalar)
    allowed.append(np.ndarray)
    allowed.append(np.dtype)
    for dtype_name in ('Float64DType', 'Float32DType', 'Float16DType',
                       'Int64DType', 'Int32DType', 'Int16DType', 'Int8DType',
                       'UInt8DType', 'BoolDType', 'ObjectDType', 'StrDType',
                       'BytesDType', 'LongDType', 'LongLongDType',
                       'ULongDType', 'ULongLongDType', 'UInt16DType',
                       'UInt32DType', 'UInt64DType'):
        dtype_cls = getattr(np.dtypes, dtype_name, None)
        if dtype_cls is not None:
            allowed.append(dtype_cls)
    return allowed


def allow_mmengine_checkpoint_types() -> None:
    """Let ``weights_only`` loading accept MMEngine's own checkpoint types.

    Registers the explicit allow-list with ``torch.serialization`` so resume
    works on torch >= 2.6 while arbitrary pickled objects are still refused.
    """
    import torch
    if 'mmengine_safe_globals' in ACTIVE_FIXES:
        return
    if not hasattr(torch.serialization, 'add_safe_globals'):
        return  # torch < 2.4 loads full pickles anyway
    torch.serialization.add_safe_globals(mmengine_safe_globals())
    ACTIVE_FIXES['mmengine_safe_globals'] = (
        'HistoryBuffer and numpy types allowed for weights_only loading')


def atomic_local_checkpoint_writes() -> None:
    """MMEngine writes checkpoints in place (``LocalBackend.put``).

    A job killed while ``epoch_N.pth`` is being written leaves a truncated
    file under the final name. Writing to a temporary file in the same
    folder and renaming it means a checkpoint file is always complete.
    """
    if 'atomic_local_put' in ACTIVE_FIXES:
        return
    from mmengine.fileio.backends import LocalBackend
    from bike_bench.utils.atomic import atomic_write_bytes

    def put(self, obj: bytes, filepath) -> None:
        atomic_write_bytes(str(filepath), obj)

    ORIGINALS['LocalBackend.put'] = LocalBackend.put
    LocalBackend.put = put
    ACTIVE_FIXES['atomic_local_put'] = 'checkpoints written to a temporary file and renamed'


def checkpoint_loader_line_at_debug() -> None:
    """MMEngine prints "Loads checkpoint by <backend> backend from path: <file>".

    ``Runner.load_checkpoint`` (``load_from``, ``resume``, ``test``) calls
    ``_load_checkpoint`` without a logger, so ``CheckpointLoader`` ``print``s
    that line whatever the runner's ``log_level`` (``make reproduce``: once
    per fine-tuned twin). The loader is chosen and called as before; the
    line goes to the current MMEngine logger at DEBUG level (shown with
    ``log_level='DEBUG'``, ``--verbose``). The runner's own line ("Load
    checkpoint from <file>", INFO) is unchanged.
    """
    if 'checkpoint_loader_line' in ACTIVE_FIXES:
        return
    import logging
    from mmengine.logging import print_log
    from mmengine.runner.checkpoint import CheckpointLoader

    def load_checkpoint(cls, filename, map_location=None, logger='current'):
        loader = cls._get_checkpoint_loader(filename)
        name = loader.__name__.replace('load_from_', '', 1)
        print_log(f'Loads checkpoint by {name} backend from path: {filename}',
                  logger='current', level=logging.DEBUG)
        return loader(filename, map_location)

    ORIGINALS['CheckpointLoader.load_checkpoint'] = CheckpointLoader.__dict__['load_checkpoint']
    CheckpointLoader.load_checkpoint = classmethod(load_checkpoint)
    ACTIVE_FIXES['checkpoint_loader_line'] = (
        "MMEngine's 'Loads checkpoint by ...' line logged at DEBUG, not printed")


_APPLIED = False


def apply() -> Dict[str, str]:
    """Apply every fix (idempotent) and return what is active."""
    global _APPLIED
    if _APPLIED:
        return ACTIVE_FIXES
    ensure_importlib_metadata()
    provide_missing_drn()
    defer_mmaction_multimodal()
    allow_mmengine_checkpoint_types()
    atomic_local_checkpoint_writes()
    checkpoint_loader_line_at_debug()
    with warnings.catch_warnings():
        # mmcv-lite has no compiled ops; mmaction warns about one it never
        # needs for recognition.
        warnings.filterwarnings('ignore', message='Fail to import')
        importlib.import_module('mmaction.models')
    patch_mean_class_accuracy()
    _APPLIED = True
    return ACTIVE_FIXES
