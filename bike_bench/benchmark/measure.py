"""Timing statistics, peak resident memory and the environment of a bench run.

Every figure of the bench is a median over several timed runs taken after
warm-up runs, reported with its spread (min, max, inter-quartile range) and
the peak resident memory seen while it was measured.
"""
from __future__ import annotations

import datetime
import glob
import os
import platform
import statistics
import threading
import time
from typing import Callable, Dict, List, Optional, Sequence
from bike_bench.evaluation.provenance import environment_record


def summarize(samples: Sequence[float], warmup: int) -> Dict[str, object]:
    """Median and spread of timed samples (seconds)."""
    if not samples:
        raise ValueError('no timed samples to summarize')
    ordered = sorted(samples)
    if len(ordered) >= 2:
        quartiles = statistics.quantiles(ordered, n=4, method='inclusive')
        iqr = quartiles[2] - quartiles[0]
    else:
        iqr = 0.0
    return {'median_s': statistics.median(ordered), 'min_s': ordered[0],
            'max_s': ordered[-1], 'iqr_s': iqr, 'repeats': len(ordered),
            'warmup': warmup, 'samples_s': [round(s, 6) for s in samples]}


def add_rate(timing: Dict[str, object], items: float, unit: str) -> Dict[str, object]:
    """Add ``<unit>_per_s`` (from the median) and its range (from max/min)."""
    timing[f'{unit}_per_s'] = items / timing['median_s']
    timing[f'{unit}_per_s_range'] = [items / timing['max_s'], items / timing['min_s']]
    return timing


def _rss_kib(pid: int) -> int:
    try:
        with open(f'/proc/{pid}/status', 'r') as handle:
            for line in handle:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass  # the process ended between listing and reading
    return 0


def _children(pid: int) -> List[int]:
    found = []
    for path in glob.glob(f'/proc/{pid}/task/*/children'):
        try:
            with open(path, 'r') as handle:
                found.extend(int(c) for c in handle.read().split())
        except (FileNotFoundError, ProcessLookupError):
            pass
    return found


class PeakRSS:
    """Peak resident memory of this process and its children (DataLoader
    workers), sampled by a background thread while the block runs.

    Linux only (reads ``/proc``); elsewhere the peaks stay ``None``.
    """

    def __init__(self, interval_s: float = 0.02):
        self.interval_s = interval_s
        self.peak_self_kib = 0
        self.peak_children_kib = 0
        self.peak_total_kib = 0
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._supported = os.path.exists('/proc/self/status')

    def _sample(self) -> None:
        pid = os.getpid()
        own = _rss_kib(pid)
        children = sum(_rss_kib(child) for child in _children(pid))
        self.peak_self_kib = max(self.peak_self_kib, own)
        self.peak_children_kib = max(self.peak_children_kib, children)
        self.peak_total_kib = max(self.peak_total_kib, own + children)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._sample()

    def __enter__(self) -> 'PeakRSS':
        if self._supported:
            self._sample()
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._sample()

    def as_dict(self) -> Dict[str, Optional[float]]:
        if not self._supported:
            return {'peak_rss_mib': None}
        mib = 1024.0
        return {'peak_rss_mib': round(self.peak_total_kib / mib, 1),
                'peak_rss_main_mib': round(self.peak_self_kib / mib, 1),
                'peak_rss_workers_mib': round(self.peak_children_kib / mib, 1)}


def time_calls(fn: Callable[[], object], repeats: int, warmup: int = 1,
               items: Optional[float] = None, unit: str = 'items') -> Dict[str, object]:
    """Run ``fn`` ``warmup`` times untimed, then ``repeats`` times timed.

    Returns the summary with peak memory; with ``items`` also the rate
    ``<unit>_per_s`` for ``items`` processed per call.
    """
    with PeakRSS() as rss:
        for _ in range(warmup):
            fn()
        samples = []
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - start)
    result = summarize(samples, warmup)
    if items is not None:
        add_rate(result, items, unit)
    result.update(rss.as_dict())
    return result


def time_interleaved(fns: Dict[str, Callable[[], object]], repeats: int, warmup: int = 1,
                     items: Optional[float] = None,
                     unit: str = 'items') -> Dict[str, Dict[str, object]]:
    """Time several variants in alternating rounds (A B, B A, A B, ...).

    Comparisons then see the same machine load, which on a shared machine
    drifts by more than the effects measured. Each variant's summary also
    gets ``ratio_to_first``: the median over rounds of its time divided by
    the first variant's time in the same round.
    """
    names = list(fns)
    samples: Dict[str, List[float]] = {name: [] for name in names}
    with PeakRSS() as rss:
        for _ in range(warmup):
            for name in names:
                fns[name]()
        for round_ in range(repeats):
            for name in (names if round_ % 2 == 0 else names[::-1]):
                start = time.perf_counter()
                fns[name]()
                samples[name].append(time.perf_counter() - start)
    first = samples[names[0]]
    results = {}
    for name in names:
        result = summarize(samples[name], warmup)
        if items is not None:
            add_rate(result, items, unit)
        result['ratio_to_first'] = statistics.median(
            s / f for s, f in zip(samples[name], first))
        result['interleaved_with'] = [n for n in names if n != name]
        result.update(rss.as_dict())
        results[name] = result
    return results


def _cpu_model() -> Optional[str]:
    try:
        with open('/proc/cpuinfo', 'r') as handle:
            for line in handle:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def environment() -> Dict[str, object]:
    """Where the figures were measured: host, CPU, torch, CUDA, commit."""
    import torch
    cuda = torch.cuda.is_available()
    return {
        'host': platform.node(),
        'date': datetime.datetime.now().astimezone().isoformat(timespec='seconds'),
        'platform': platform.platform(),
        'python': platform.python_version(),
        'torch': torch.__version__,
        'cuda_build': torch.version.cuda,
        'cuda_available': cuda,
        'device_name': torch.cuda.get_device_name(0) if cuda else 'cpu',
        'cpu_model': _cpu_model(),
        'cpu_count': os.cpu_count(),
        'cpu_affinity': len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else None,
        'torch_threads': torch.get_num_threads(),
        'load_average_at_start': list(os.getloadavg()) if hasattr(os, 'getloadavg') else None,
        # Code identity, packages and MMEngine's collect_env: the same record
        # as every results file (bike_bench.evaluation.provenance).
        **_provenance(),
    }


def _provenance() -> Dict[str, object]:
    record = environment_record()
    code = record['code']
    commit = code['git_commit'] and code['git_commit'] + ('-dirty' if code['git_dirty'] else '')
    return {'git_commit': commit, 'code': code, 'packages': record['packages'],
            'collect_env': record['collect_env']}
