"""The Runner of every bike-bench training run.

MMEngine's ``Runner.from_cfg`` (or the config's own ``runner_type``) on a
copy of the config whose evaluators count every video once
(``SampleIndexEvaluator``), prepared for its launcher on this machine
(``engine.launch.prepare_launcher``). A test's config holds all of that
itself (``evaluation.harness.test_config``).
"""
from __future__ import annotations

import copy


def build_runner(cfg):
    """An MMEngine Runner (or the config's own ``runner_type``) for ``cfg``;
    the caller's config is left as it was."""
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner
    import bike_bench.models  # noqa: F401  (registries and compat)
    from bike_bench.engine.launch import prepare_launcher
    from bike_bench.evaluation.evaluator import use_sample_index_evaluator
    cfg = copy.deepcopy(cfg)
    # Every metric and dump counts each video once, on any number of ranks.
    use_sample_index_evaluator(cfg)
    prepare_launcher(cfg)
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)
