"""The one schema of bench results (``bike-bench/bench/2``) and the
upgrade of files written before it.

A result is one JSON object:

- ``schema``: ``'bike-bench/bench/2'``; ``profile``: ``'cpu'``,
  ``'quick'``, ``'device'`` or ``'device-smoke'`` (what ran, at which size);
  ``complete``: False while the run is still going (or was stopped);
- ``device`` (``'cpu'``/``'cuda'``), ``card`` (``name``; on CUDA also
  ``capability``, ``memory_gib``, ``peak_bf16_dense_tflops_on_paper``),
  ``environment`` (host, CPU, torch, CUDA, code identity, packages);
- ``settings``: models, sections, repeats, threads, the statistic, and the
  sizes (``cpu_plans`` per model, ``device_plan``, ``budget_s``,
  ``goals_set``) of the sections that ran;
- ``sections``: the run-level sections by name (``flops``, ``decoding``,
  ``data_pipeline``, ``decoding_backends``, ``decode_throughput``,
  ``matmul_reference``, ...);
- ``models``: per bench model its ``label``, ``image_size``, ``frames``,
  ``classes``, ``weights`` and the model-level sections by name
  (``text_encode``, ``model_only``, ``end_to_end`` with
  ``pipeline_efficiency`` / ``pipeline_efficiency_paired``, ``train_step``,
  ``text_cache``, ``switches``; ``levers``, ``data_paths``, ``training``);
- ``summary`` (``bike_bench.benchmark.goals``): ``pipeline_efficiency``,
  ``pipeline_efficiency_paired``, ``text_cache``, ``acceptance``, ``goals``,
  ``k400_4x3_projection`` -- those the sections that ran allow;
- ``wall_time_s``.

``upgrade`` turns the two earlier schemas into this one without touching a
measured figure: ``bike-bench/bench/1`` (``make bench``) and
``bike-bench/device-bench/1`` (the device suite, whose ``model_only``,
``end_to_end`` and ``training`` are this schema's ``levers``,
``data_paths`` and ``training``).
"""
from __future__ import annotations

import copy
import json
from typing import Dict

SCHEMA = 'bike-bench/bench/2'
CPU_BENCH_1 = 'bike-bench/bench/1'
DEVICE_BENCH_1 = 'bike-bench/device-bench/1'
_RUN_SECTIONS = ('flops', 'decoding', 'data_pipeline', 'decoding_backends',
                 'matmul_reference')
_SUMMARY = ('pipeline_efficiency', 'pipeline_efficiency_paired', 'text_cache',
            'acceptance', 'goals', 'k400_4x3_projection')


class SchemaError(ValueError):
    """A bench result of an unknown schema (the message names it)."""


def upgrade(result: Dict[str, object], source: str = 'the result') -> Dict[str, object]:
    """``result`` in the current schema (a copy; already current: unchanged).

    Raises:
        SchemaError: ``result`` has no known ``schema``.
    """
    found = result.get('schema')
    if found == SCHEMA:
        return result
    if found not in (CPU_BENCH_1, DEVICE_BENCH_1):
        raise SchemaError(f'{source}: unknown bench schema {found!r} (this code reads '
                          f'{SCHEMA}, {CPU_BENCH_1} and {DEVICE_BENCH_1})')
    old = copy.deepcopy(result)
    old.pop('schema')
    device = old.pop('device', 'cpu')
    out: Dict[str, object] = {'schema': SCHEMA, 'device': device,
                              'converted_from': found}
    if found == CPU_BENCH_1:
        out['profile'] = 'quick' if old.pop('quick', False) else 'cpu'
        out['card'] = {'name': old.get('environment', {}).get('device_name', device)}
    else:
        out['profile'] = 'device' if str(device).startswith('cuda') else 'device-smoke'
        out['card'] = old.pop('card', {'name': device})
    out['complete'] = old.pop('complete', True)
    out['environment'] = old.pop('environment', {})
    settings = old.pop('settings', {})
    if found == CPU_BENCH_1:
        plans = {name: settings.pop(name) for name in list(settings)
                 if isinstance(settings[name], dict)}
        if plans:
            settings['cpu_plans'] = plans
    else:
        settings['device_plan'] = old.pop('plan', {})
        settings['goals_set'] = old.pop('goals_set', {})
        settings['budget_s'] = settings['device_plan'].get('budget_s')
        settings.setdefault('models', list(old.get('models', {})))
    out['settings'] = settings
    out['sections'] = {key: old.pop(key) for key in _RUN_SECTIONS if key in old}
    models = old.pop('models', {})
    if found == DEVICE_BENCH_1:
        renamed = {'model_only': 'levers', 'end_to_end': 'data_paths'}
        models = {name: {renamed.get(k, k): v for k, v in entry.items()}
                  for name, entry in models.items()}
    out['models'] = models
    out['summary'] = {key: old.pop(key) for key in _SUMMARY if key in old}
    out['wall_time_s'] = old.pop('wall_time_s', None)
    out.update(old)  # anything else, kept as it was
    return out


def load_result(path: str) -> Dict[str, object]:
    """Read a bench result file in any known schema, as the current one.

    Raises:
        SchemaError: not a bench result of a known schema.
    """
    with open(path, encoding='utf-8') as handle:
        try:
            result = json.load(handle)
        except json.JSONDecodeError as error:
            raise SchemaError(f'{path}: not JSON ({error})') from None
    if not isinstance(result, dict):
        raise SchemaError(f'{path}: not a bench result (not a JSON object)')
    return upgrade(result, path)
