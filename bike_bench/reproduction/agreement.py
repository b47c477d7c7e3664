"""Agreement of a local ``make reproduce`` with the committed reference runs.

``make reproduce`` measures the smoke suite into a local runs folder
(``work_dirs/reproduce/runs`` by default, never over ``results/runs``) and
then compares, per run and compared metric, the measured value with the
committed reference: reference, measured, difference, and whether it is
within tolerance. Tolerances are those of the CI baseline
(``results/ci_baseline.json``: seed-derived where measured) and otherwise the
per-family defaults of :mod:`bike_bench.reproduction.ci_regression`.
"""
from __future__ import annotations

import os
from typing import List, Tuple

from bike_bench.reproduction import ci_regression


def agreement(measured_dir: str, reference_dir: str) -> List[ci_regression.Change]:
    """One change per (run, metric) of the runs measured in ``measured_dir``.

    Reference runs not measured locally (``--only``) are left out; a
    measured run without a reference shows as NEW.
    """
    measured = ci_regression.summarize(measured_dir)
    reference = ci_regression.summarize(reference_dir) if os.path.isdir(reference_dir) else {}
    reference = {run: metrics for run, metrics in reference.items() if run in measured}
    tolerances = {}
    if os.path.isfile(ci_regression.BASELINE):
        tolerances = ci_regression.read_tolerances(ci_regression.BASELINE)
    return ci_regression.compare(measured, reference, tolerances)


def report(measured_dir: str, reference_dir: str) -> Tuple[str, bool]:
    """(table text, every metric within tolerance)."""
    changes = agreement(measured_dir, reference_dir)
    ok = all(c.ok for c in changes)
    moved = sum(1 for c in changes if not c.ok)
    text = ci_regression.format_changes(changes, reference='reference')
    summary = (f'agreement with the reference runs in {reference_dir}: '
               f'{len(changes) - moved} of {len(changes)} checks within tolerance')
    return text + '\n\n' + summary, ok
