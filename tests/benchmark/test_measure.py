"""Timing statistics and the peak-memory sampler of the bench."""
from __future__ import annotations

import mmap
import os
import subprocess
import sys

import pytest

from bike_bench.benchmark import measure
from bike_bench.benchmark.measure import (PeakRSS, add_rate, environment, summarize,
                                        time_calls, time_interleaved)


def test_summary_is_median_with_spread():
    summary = summarize([0.4, 0.1, 0.3, 0.2, 1.0], warmup=2)
    assert summary['median_s'] == 0.3
    assert (summary['min_s'], summary['max_s']) == (0.1, 1.0)
    assert summary['iqr_s'] == pytest.approx(0.2)
    assert summary['repeats'] == 5 and summary['warmup'] == 2
    add_rate(summary, 6, 'views')
    assert summary['views_per_s'] == pytest.approx(20.0)
    assert summary['views_per_s_range'] == pytest.approx([6.0, 60.0])


def test_summary_needs_samples():
    with pytest.raises(ValueError, match='no timed samples'):
        summarize([], warmup=0)


def test_time_calls_runs_warmup_then_repeats():
    calls = []
    result = time_calls(lambda: calls.append(1), repeats=4, warmup=2, items=3, unit='videos')
    assert len(calls) == 6
    assert result['repeats'] == 4 and len(result['samples_s']) == 4
    assert result['videos_per_s'] > 0
    assert 'peak_rss_mib' in result


@pytest.mark.skipif(not sys.platform.startswith('linux'), reason='reads /proc')
def test_peak_rss_sees_allocations_and_child_processes():
    baseline_mib = measure._rss_kib(os.getpid()) / 1024
    with PeakRSS(interval_s=0.01) as rss:
        # A fresh anonymous mapping, every page touched: new resident memory
        # (a heap allocation could reuse pages an earlier test freed).
        block = mmap.mmap(-1, 64 * 2 ** 20)
        block.write(b'\x01' * len(block))
        child = subprocess.Popen([sys.executable, '-c',
                                  'import time; b = bytearray(32 * 2 ** 20); time.sleep(1.5)'])
        child.wait()
        block.close()
    peaks = rss.as_dict()
    assert peaks['peak_rss_main_mib'] >= baseline_mib + 48, peaks
    assert peaks['peak_rss_workers_mib'] >= 30, peaks
    assert peaks['peak_rss_mib'] >= peaks['peak_rss_main_mib']


def test_environment_names_the_machine():
    env = environment()
    for key in ('host', 'torch', 'cuda_available', 'device_name', 'cpu_count', 'git_commit'):
        assert key in env


def test_interleaved_variants_alternate_and_give_per_round_ratios():
    order = []
    fns = {'a': lambda: order.append('a'), 'b': lambda: order.append('b')}
    results = time_interleaved(fns, repeats=3, warmup=1)
    # warm-up a b, then rounds a b | b a | a b
    assert order == ['a', 'b', 'a', 'b', 'b', 'a', 'a', 'b']
    assert results['a']['ratio_to_first'] == 1.0
    assert results['b']['repeats'] == 3 and results['b']['interleaved_with'] == ['a']
