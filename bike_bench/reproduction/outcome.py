"""What a ``reproduce`` pass did, cell by cell, and its progress line:
shared by the inline loop (``reproduce``) and the executors."""
from __future__ import annotations

import contextlib
import dataclasses
import time
from typing import Callable, List


@dataclasses.dataclass
class Missing:
    entry: str
    what: List[str]


@dataclasses.dataclass
class Outcome:
    ran: List[str] = dataclasses.field(default_factory=list)
    skipped: List[str] = dataclasses.field(default_factory=list)
    missing: List[Missing] = dataclasses.field(default_factory=list)
    stale: List[str] = dataclasses.field(default_factory=list)  # kept, older code
    # --executor local/slurm (bike_bench.reproduction.executors)
    submitted: List[str] = dataclasses.field(default_factory=list)
    failed: List[str] = dataclasses.field(default_factory=list)


class _Progress:
    """One line per step: which run, how far, time left."""

    def __init__(self, total: int, echo: Callable[[str], None]):
        self.total, self.done, self.start, self.echo = total, 0, time.time(), echo
        self.durations: List[float] = []

    @contextlib.contextmanager
    def step(self, name: str, action: str):
        self.done += 1
        left = ''
        if self.durations:
            average = sum(self.durations) / len(self.durations)
            left = f', about {average * (self.total - self.done + 1) / 60:.1f} min left'
        self.echo(f'[{self.done}/{self.total}] {name}: {action}{left}')
        began = time.time()
        yield
        if action != 'done, skipped':
            self.durations.append(time.time() - began)
