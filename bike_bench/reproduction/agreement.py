"""Agreement of a local ``make reproduce`` with the shipped reference runs.

``make reproduce`` measures the smoke suite into a local runs folder under
the output root (``work_dirs/reproduce/runs`` by default, never over the
reference) and then compares, per run and compared metric, the measured
value with the reference runs shipped as package data
(``results/runs/``, ``bike_bench.paths.reference_runs_dir``): reference,
measured, difference, and whether it is within tolerance. Tolerances are
those of the shipped CI baseline (``results/ci_baseline.json``: seed-derived
where measured) and otherwise the per-family defaults of
:mod:`bike_bench.reproduction.ci_regression`.
"""
from __future__ import annotations

import os
from typing import List, Optional, Tuple

from bike_bench import paths
from bike_bench.reproduction import ci_regression


def agreement(measured_dir: str, reference_dir: Optional[str] = None
              ) -> List[ci_regression.Change]:
    """One change per (run, metric) of the runs measured in ``measured_dir``.

    ``reference_dir`` defaults to the shipped reference runs. Reference runs
    not measured locally (``--only``) are left out; a measured run without a
    reference shows as NEW.
    """
    reference_dir = str(reference_dir or paths.reference_runs_dir())
    # Outputs at initialisation would be computed for both folders by this
    # code from the same configs: equal by construction, so not compared.
    measured = ci_regression.summarize(measured_dir, outputs=False)
    reference = (ci_regression.summarize(reference_dir, outputs=False)
                 if os.path.isdir(reference_dir) else {})
    reference = {run: metrics for run, metrics in reference.items() if run in measured}
    tolerances = {}
    if paths.ci_baseline().is_file():
        tolerances = ci_regression.read_tolerances(str(paths.ci_baseline()))
    return ci_regression.compare(measured, reference, tolerances)


def report(measured_dir: str, reference_dir: Optional[str] = None) -> Tuple[str, bool]:
    """(table text, every metric within tolerance); ``reference_dir`` as in
    :func:`agreement`."""
    reference_dir = str(reference_dir or paths.reference_runs_dir())
    changes = agreement(measured_dir, reference_dir)
    ok = all(c.ok for c in changes)
    moved = sum(1 for c in changes if not c.ok)
    text = ci_regression.format_changes(changes, reference='reference')
    summary = (f'agreement with the reference runs in {reference_dir}: '
               f'{len(changes) - moved} of {len(changes)} checks within tolerance')
    return text + '\n\n' + summary, ok
