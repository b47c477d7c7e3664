"""The hook that loads an evaluation's checkpoint: the config's ``load_from``.

As in MMAction2's tools/test.py the checkpoint to test is the config's
``load_from`` and the Runner loads it; this hook does so (before MMEngine's
own ``load_or_resume`` would) with what MMEngine's loader lacks:

- weights-only ``torch.load`` (a file holding other pickled objects is
  refused, ``UntrustedCheckpointError``, unless ``trust=True``);
- strict loading: a missing or unexpected key is an error naming it, and
  weights of another architecture get a summary of both sides first
  (``CheckpointMismatchError``, ``checkpoint_io.check_shapes``);
- a checkpoint in the official BIKE release layout is converted once under
  ``<work_dir>/converted/`` (``models.convert.prepare_checkpoint_for_test``).

The checkpoint's ``meta`` (the training classes) is kept on the runner as
``bike_checkpoint_meta`` for the results file's ``class_set`` record.
"""
from __future__ import annotations

from typing import Optional

from mmengine.hooks import Hook

from mmaction.registry import HOOKS


@HOOKS.register_module()
class CheckpointLoaderHook(Hook):
    """Load ``runner.cfg.load_from`` strictly and weights-only before the run.

    Args:
        trust: load a checkpoint that holds arbitrary pickled objects (can
            run code from the file; only for files whose origin is trusted).

    Raises (from ``before_run``):
        FileNotFoundError: the config has no ``load_from`` or the file is absent.
        UntrustedCheckpointError, CheckpointMismatchError, ValueError: see
            ``bike_bench.checkpoint_io.load_into_runner``.
    """

    # Before every other hook of the run sees the model.
    priority = 'VERY_HIGH'

    def __init__(self, trust: bool = False):
        self.trust = bool(trust)
        self.loaded: Optional[str] = None

    def before_run(self, runner) -> None:
        import os
        from bike_bench.checkpoint_io import load_into_runner
        from bike_bench.models.convert import prepare_checkpoint_for_test
        checkpoint = runner.cfg.get('load_from')
        if not checkpoint:
            raise FileNotFoundError('CheckpointLoaderHook: the config has no load_from')
        if not os.path.isfile(checkpoint):
            raise FileNotFoundError(f'checkpoint not found: {checkpoint} (load_from)')
        loadable = prepare_checkpoint_for_test(checkpoint, runner.work_dir, self.trust)
        runner.bike_checkpoint_meta = load_into_runner(runner, loadable, self.trust)
        self.loaded = loadable
        # MMEngine's ``load_or_resume`` (called after ``before_run``) would
        # load ``load_from`` a second time, non-strictly.
        runner._has_loaded = True
