"""``bike-bench reproduce --status``: one line per cell, read from the
results files (a quiet ``reproduce`` pass that runs nothing) and the
submitit job index of the executors."""
from __future__ import annotations

import os
from typing import Callable, Dict, List, Optional, Sequence

from bike_bench.reproduction import reproduce as reproduce_mod
from bike_bench.reproduction.executors import (ExecutorOptions, _job_state, _Recorder,
                                               jobs_dir, read_index)
from bike_bench.reproduction.registry import build_registry, find_entry


def status(settings, options: ExecutorOptions, *, data_root: Optional[str] = None,
           checkpoints: Optional[str] = None, only: Optional[Sequence[str]] = None,
           echo: Callable[[str], None] = print) -> Dict[str, str]:
    """One line per cell: done / queued / running / failed (with the log) /
    stale / missing (with what), from the results files and the job index.
    Returns ``{cell: state}``. Writes nothing."""
    entries = build_registry()
    if only:
        entries = [find_entry(entries, key) for key in only]
    recorder = _Recorder(options)
    quiet = reproduce_mod._Progress(len(entries), lambda *_: None)
    states: Dict[str, str] = {}
    lines: List[str] = []
    if data_root:
        outcome = reproduce_mod.run_full(entries, data_root, checkpoints, settings.runs_dir,
                                         settings.work_dir, quiet, False, recorder)
    else:
        if not os.path.isfile(os.path.join(settings.synth_root, '.complete')):
            echo(f'every cell missing: the synthetic benchmark is not written in '
                 f'{settings.synth_root} (`bike-bench reproduce` writes it)')
            return {e.id: 'missing' for e in entries}
        runner = reproduce_mod.SmokeRunner(entries, settings, lambda *_: None,
                                           executor=recorder)
        outcome = runner.run(quiet)
    index = read_index(jobs_dir(settings))
    for name in outcome.skipped:
        states[name] = 'done'
        lines.append(f'{name}: done')
    for name in outcome.stale:
        states[name] = 'stale'
        lines.append(f'{name}: stale (kept)')
    for name, (action, jobs) in recorder.cells.items():
        found = [(job.name, _job_state(index[job.name])) for job in jobs if job.name in index]
        order = ('failed', 'running', 'queued', 'done')
        worst = min((s for _, s in found), key=lambda s: order.index(s[0]), default=None)
        if worst is None:
            state, detail = ('stale', action) if action.startswith('stale') else (
                'missing', 'not run yet: ' + action)
        elif worst[0] == 'done':
            # Every job ended but the results file is not current.
            state, detail = 'stale' if action.startswith('stale') else 'missing', (
                'jobs ended without a current results file: ' + action)
        else:
            state, detail = worst
        states[name] = state
        lines.append(f'{name}: {state}' + (f' ({detail})' if detail else ''))
    for item in outcome.missing:
        states[item.entry] = 'missing'
        lines.append(f'{item.entry}: missing (' + '; '.join(
            line.strip() for line in item.what) + ')')
    for line in sorted(lines):
        echo(line)
    return states
