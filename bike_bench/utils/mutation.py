"""Planted faults for the CI mutation suite (test-only; no-op by default).

``BIKE_BENCH_MUTATION=<name>`` (one name, or several separated by commas)
switches on a deliberate fault at one place in the code, so the mutation
test can check that ``bike-bench ci-regression`` catches it. Nothing here
changes behaviour unless that variable is set; normal runs never set it.

Each fault, where it is planted and what it imitates:
"""
from __future__ import annotations

import os
from typing import Dict

ENV = 'BIKE_BENCH_MUTATION'

MUTATIONS: Dict[str, str] = {
    'text-constant': 'class text features replaced by a constant '
                     '(models/recognizers/bike_recognizer.py)',
    'vcs-mean': 'VCS computed as plain mean pooling of the frames '
                '(models/heads/interactions.py)',
    'skip-temporal': 'temporal transformer skipped, frame features pass through '
                     '(models/heads/temporal.py)',
    'permute-labels': 'ground-truth labels rolled by one class at evaluation '
                      '(evaluation/harness.py records)',
    'prompt-template': "class prompt built from the bare snake_case class name, "
                       "without the template (models/recognizers/bike_recognizer.py)",
    'split-seed-shift': 'half-class split seeds shifted by 10 '
                        '(evaluation/zeroshot.py)',
    'fewshot-from-eval': 'few-shot videos sampled from the evaluation manifest '
                         '(evaluation/fewshot.py)',
    'fusion-swap': 'video/attribute fusion weights swapped '
                   '(models/recognizers/video_attribute_recognizer.py)',
    'frame-shift': 'test-clip frame indices shifted by 3 frames '
                   '(datasets/transforms/sampling.py)',
}
__doc__ += ''.join(f'\n- ``{name}``: {what}' for name, what in MUTATIONS.items()) + '\n'


def active(name: str) -> bool:
    """Whether fault ``name`` is switched on (``ValueError`` if unknown)."""
    if name not in MUTATIONS:
        raise ValueError(f'unknown mutation {name!r}; known: {sorted(MUTATIONS)}')
    value = os.environ.get(ENV, '')
    return bool(value) and name in {v.strip() for v in value.split(',')}


def check_environment() -> None:
    """Raise ``ValueError`` if ``BIKE_BENCH_MUTATION`` names unknown faults."""
    value = os.environ.get(ENV, '')
    unknown = {v.strip() for v in value.split(',') if v.strip()} - set(MUTATIONS)
    if unknown:
        raise ValueError(f'{ENV} names unknown mutation(s) {sorted(unknown)}; '
                         f'known: {sorted(MUTATIONS)}')
