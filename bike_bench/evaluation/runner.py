"""The Runner of every bike-bench run, built from its config.

MMEngine's ``Runner.from_cfg`` (or the config's own ``runner_type``) after
two config steps that every run needs: the evaluators become
``SampleIndexEvaluator`` (each video counted once on any number of ranks,
``bike_bench.evaluation.evaluator``) and the launcher is set up for this
machine (``bike_bench.engine.launch.prepare_launcher``). It lives at the
evaluation layer, the lowest one holding both steps, so that the layers
above it (the command line, reproduction, tools) share one builder.
"""
from __future__ import annotations

import copy

from mmengine.registry import RUNNERS
from mmengine.runner import Runner

import bike_bench.models  # noqa: F401  (registries and compat)
from bike_bench.engine.launch import prepare_launcher
from bike_bench.evaluation.evaluator import use_sample_index_evaluator


def build_runner(cfg) -> Runner:
    """An MMEngine ``Runner`` for ``cfg`` (a copy: ``cfg`` is left as it was).

    Raises:
        RuntimeError: ``launcher`` slurm/mpi on a machine without CUDA
            (``prepare_launcher``).
    """
    cfg = copy.deepcopy(cfg)
    # Every metric and dump counts each video once, on any number of ranks.
    use_sample_index_evaluator(cfg)
    prepare_launcher(cfg)
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)
