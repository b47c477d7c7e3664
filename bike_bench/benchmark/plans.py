"""How much of each measurement the bench runs: the sizes of one run.

Two kinds of sizes, one per group of sections (``bike_bench.benchmark.bench``):

- :class:`CPUPlan`, per model, for the sections of ``make bench`` (model-only
  and end-to-end throughput, training step, text cache, switches); sized for
  a 2-core CPU by :func:`plan_for`;
- :class:`DevicePlan`, for the GPU sections of ``bike-bench bench --device
  cuda`` (levers, data paths, training variants); ``DevicePlan.smoke()`` is
  its CPU smoke size.

A :class:`Budget` keeps a run inside a wall-time limit: a step that would
not fit is recorded as skipped.
"""
from __future__ import annotations

import dataclasses
import math
import time
from typing import Dict, Optional, Tuple


@dataclasses.dataclass
class CPUPlan:
    """How much of each CPU measurement to run for one model.

    ``repeats`` timed runs follow ``warmup`` untimed ones; cheap models
    multiply them (``repeat_scale``) to tame the noise. End-to-end runs time
    ``e2e_batches`` batches (default: the repeats), the loader alone
    ``loader_batches`` (many, so read-ahead cannot hide a slow pipeline).
    """

    repeats: int = 3
    warmup: int = 1
    repeat_scale: int = 1
    frames: int = 8
    model_batches: Tuple[int, ...] = (1, 8)
    e2e_batch: Dict[Tuple[int, int], int] = dataclasses.field(
        default_factory=lambda: {(1, 1): 8, (4, 3): 1})
    e2e_batches: Optional[int] = None
    loader_batches: int = 24
    workers: Tuple[int, ...] = (0, 2)
    train_batch: int = 8
    train_warmup_batch: int = 2
    per_view_views: int = 12
    text_cache_batches: int = 10
    measure_text_cache: bool = True
    distinct_videos: int = 32

    @property
    def runs(self) -> int:
        return self.repeats * self.repeat_scale

    @property
    def timed_e2e_batches(self) -> int:
        return self.e2e_batches or self.runs

    def videos_needed(self) -> int:
        batches = self.warmup + max(self.timed_e2e_batches, self.loader_batches)
        return max(batch * batches for batch in self.e2e_batch.values())

    def record(self) -> Dict[str, object]:
        """The plan as JSON (view layouts as ``'4x3'`` keys)."""
        return dataclasses.asdict(self) | {
            'e2e_batch': {f'{c}x{k}': b for (c, k), b in self.e2e_batch.items()},
            'timed_runs': self.runs}


def plan_for(name: str, repeats: int, quick: bool) -> CPUPlan:
    """The CPU plan of bench model ``name`` (``quick``: the test size)."""
    if quick:
        return CPUPlan(repeats=1, warmup=1, e2e_batch={(1, 1): 2, (4, 3): 1},
                       loader_batches=2, train_batch=2, text_cache_batches=3,
                       model_batches=(1, 2), distinct_videos=4)
    if name == 'tiny':
        return CPUPlan(repeats=repeats, repeat_scale=2, e2e_batches=8, loader_batches=12,
                       text_cache_batches=5)
    # Sized for a 2-core CPU, where one ViT-B/32 view of 8 frames takes about
    # half a second: end-to-end batches of 1 video, the per-view switch on 3
    # views, and the text tower (tens of seconds per 400-class encode)
    # measured once, the no-cache case derived from it.
    return CPUPlan(repeats=repeats, measure_text_cache=False, per_view_views=3,
                   e2e_batch={(1, 1): 1, (4, 3): 1})


@dataclasses.dataclass
class DevicePlan:
    """Sizes of the GPU sections (GPU defaults; ``smoke()`` for the CPU)."""

    # 48 x 1 view and 4 x 12 views are both 384 frames: one shape, so the
    # compiled encoder and its CUDA graph serve model-only, 1x1 and 4x3.
    batch: int = 48            # videos per model-only / 1x1 batch (x frames)
    batch_4x3: int = 4         # videos per 4x3 batch (x 12 views)
    batch_sweep: tuple = (8, 16, 32, 96)
    frames: int = 8
    repeats: int = 10
    warmup: int = 3
    e2e_batches: int = 30
    workers: int = 14
    distinct_videos: int = 192
    train_batch: Dict[str, int] = dataclasses.field(
        default_factory=lambda: {'vit-b-16': 32, 'vit-l-14': 16, 'vit-l-14-336': 8})
    train_repeats: int = 8
    e2e_models: tuple = ('vit-b-16', 'vit-l-14')
    train_models: tuple = ('vit-b-16', 'vit-l-14')
    compile: bool = True
    budget_s: float = 360.0

    @classmethod
    def smoke(cls, workers: int = 0) -> 'DevicePlan':
        return cls(batch=2, batch_4x3=1, batch_sweep=(1,), repeats=1, warmup=1,
                   e2e_batches=2, workers=workers, distinct_videos=4,
                   train_batch={}, train_repeats=1, e2e_models=('tiny',),
                   train_models=('tiny',), compile=False, budget_s=600.0)

    def videos_needed(self) -> Dict[str, int]:
        """Videos per view layout of the end-to-end data-path runs."""
        batches = self.e2e_batches + self.warmup + 1
        return {'1x1': self.batch * batches, '4x3': self.batch_4x3 * batches}


class Budget:
    """Wall-clock budget: ``fits(estimate)`` says whether a step may start
    (``seconds=None``: no limit)."""

    def __init__(self, seconds: Optional[float] = None):
        self.seconds = math.inf if seconds is None else seconds
        self.start = time.perf_counter()

    @property
    def used(self) -> float:
        return time.perf_counter() - self.start

    def fits(self, estimate_s: float) -> bool:
        return self.used + estimate_s <= self.seconds
