"""Results files: one self-describing JSON per evaluation.

Layout (``FORMAT_VERSION`` 1)::

    {"bike_bench_results": 1, "run_id": ..., "created": ISO-8601 UTC,
     "protocol": {"name": "test" | "zeroshot-full" | "zeroshot-half" |
                  "zeroshot-k600" | "fewshot", ...settings},
     "metrics": {name: value}, "per_class": {metric: {class: {...}}},
     "metric_options": {metric: {...}},
     "views": {"clips", "crops", "label", "views_per_video"},
     "aggregation": "official" | "mean",
     "dataset": {"name", "split", "manifest", "manifest_hash", "num_classes"},
     "checkpoint": {"path", "sha256"},
     "config": {"path", "hash", "key_hash", "source": {"config", "derivation"},
                "command", "resolved", "lr_schedule"},
     "environment": {"git_commit", "git_dirty", "code": {"version", "hash",
                     "git_commit", "git_dirty"}, "packages", "device",
                     "collect_env"},
     "model": {"type", "params", "signature"},
     "inputs_key", "run_key": what determines the result without / with the
                              code (``provenance.run_key``),
     "wall_time_s": seconds,
     "counts": {"expected", "evaluated", "skipped"},
     "skipped": [{"index", "path", "reason"}, ...]}

Files are written atomically (a temporary ``.<name>.json*.tmp`` in the same
folder, then a rename), so a results file is complete or absent;
``find_results`` never takes such a temporary file for a result.
``validate_results`` refuses a file with a missing provenance field or
counts that do not add up, naming the file and the field.
"""
from __future__ import annotations

import datetime
import json
import os
from typing import Any, Dict, List, Optional, Union

from bike_bench.utils.atomic import atomic_write_json

FORMAT_KEY = 'bike_bench_results'
FORMAT_VERSION = 1

REQUIRED_FIELDS = (
    'run_id', 'created', 'protocol.name', 'metrics', 'views.label',
    'aggregation', 'dataset.name', 'dataset.manifest_hash', 'checkpoint.path',
    'checkpoint.sha256', 'config.hash', 'config.resolved',
    'environment.git_commit', 'environment.packages', 'environment.device',
    'wall_time_s', 'counts.expected', 'counts.evaluated', 'counts.skipped',
    'skipped')


class ResultsFileError(ValueError):
    """An incomplete or inconsistent results file; names the file and field."""


class ResultsConflictError(ResultsFileError):
    """A results file of another run is where this run would write."""


def utc_now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')


def _lookup(data: Dict[str, Any], dotted: str):
    value: Any = data
    for part in dotted.split('.'):
        if not isinstance(value, dict) or part not in value:
            return KeyError
        value = value[part]
    return value


def is_temporary(path: Union[str, os.PathLike]) -> bool:
    """A temporary file of an unfinished (atomic) write, not a result."""
    name = os.path.basename(os.fspath(path))
    return name.startswith('.') or name.endswith('.tmp')


def find_results(folder: Union[str, os.PathLike]) -> List[str]:
    """The results files under ``folder`` (recursively), each validated.

    Temporary files left by an interrupted write are skipped, and so are
    JSON files of other kinds (logs, skipped-sample records); a ``.json``
    that does not parse, or a results file that does not validate, is an
    error naming it.
    """
    found = []
    for root, dirs, files in os.walk(os.fspath(folder)):
        dirs[:] = sorted(d for d in dirs if not d.startswith('.'))
        for name in sorted(files):
            path = os.path.join(root, name)
            if not name.endswith('.json') or is_temporary(path):
                continue
            data = _load_json(path)
            if isinstance(data, dict) and FORMAT_KEY in data:
                validate_results(data, name=path)
                found.append(path)
    return found


def _load_json(path: str) -> Any:
    try:
        with open(path, 'r', encoding='utf-8') as handle:
            return json.load(handle)
    except json.JSONDecodeError as error:
        raise ResultsFileError(f'{path}: not JSON ({error.msg}, line '
                               f'{error.lineno})') from None


def validate_results(data: Union[str, Dict[str, Any]],
                     name: Optional[str] = None) -> Dict[str, Any]:
    """Check a results file (path or loaded dict); returns the dict."""
    if isinstance(data, (str, os.PathLike)):
        name = str(data)
        if is_temporary(name):
            raise ResultsFileError(f'{name}: the temporary file of an unfinished '
                                   'write, not a results file')
        data = _load_json(name)
    name = name or '<results>'
    if not isinstance(data, dict) or data.get(FORMAT_KEY) != FORMAT_VERSION:
        raise ResultsFileError(f'{name}: not a bike-bench results file '
                               f'(expected "{FORMAT_KEY}": {FORMAT_VERSION})')
    for field in REQUIRED_FIELDS:
        value = _lookup(data, field)
        if value is KeyError:
            raise ResultsFileError(f'{name}: missing field {field!r}')
        if value is None or value == '':
            raise ResultsFileError(f'{name}: field {field!r} is empty')
    if not data['metrics']:
        raise ResultsFileError(f'{name}: field \'metrics\' is empty')
    counts = data['counts']
    if counts['evaluated'] + counts['skipped'] != counts['expected']:
        raise ResultsFileError(
            f'{name}: counts do not add up: {counts["evaluated"]} evaluated + '
            f'{counts["skipped"]} skipped != {counts["expected"]} expected')
    if len(data['skipped']) != counts['skipped']:
        raise ResultsFileError(f'{name}: field \'skipped\' lists '
                               f'{len(data["skipped"])} videos, counts say '
                               f'{counts["skipped"]}')
    return data


def read_valid_results(path: str) -> Optional[Dict[str, Any]]:
    """The results file at ``path`` if it exists and validates, else None
    (absent, or left incomplete by an older version: to be run again)."""
    if not os.path.isfile(path):
        return None
    try:
        return validate_results(path)
    except (ResultsFileError, OSError, ValueError):
        return None


def build_results(*, run_id: str, protocol: Dict[str, Any], metrics: Dict[str, Any],
                  views: Dict[str, Any], aggregation: str, dataset: Dict[str, Any],
                  checkpoint: Dict[str, Any], config: Dict[str, Any],
                  environment: Dict[str, Any], wall_time_s: float,
                  counts: Dict[str, int], skipped: List[Dict[str, Any]],
                  per_class: Optional[Dict[str, Any]] = None,
                  metric_options: Optional[Dict[str, Any]] = None,
                  extra: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """A results dict in the documented layout (validated)."""
    data = {FORMAT_KEY: FORMAT_VERSION, 'run_id': run_id, 'created': utc_now(),
            'protocol': protocol, 'metrics': metrics, 'views': views,
            'aggregation': aggregation, 'dataset': dataset,
            'checkpoint': checkpoint, 'config': config,
            'environment': environment, 'wall_time_s': round(float(wall_time_s), 3),
            'counts': counts, 'skipped': skipped,
            'per_class': per_class or {}, 'metric_options': metric_options or {}}
    if extra:
        data.update(extra)
    return validate_results(data, name=f'results {run_id}')


def write_results(data: Dict[str, Any], path: str) -> str:
    """Validate and write atomically; returns ``path``."""
    validate_results(data, name=path)
    atomic_write_json(path, data)
    return path


def results_path(work_dir: str, run_id: str, inputs_key: Optional[str] = None) -> str:
    """``<work_dir>/results/<run_id>[_<inputs_key[:8]>].json``: the key in
    the name keeps runs that share dataset and split names apart."""
    name = f'{run_id}_{inputs_key[:8]}' if inputs_key else run_id
    return os.path.join(work_dir, 'results', f'{name}.json')


def check_replace(path: str, data: Dict[str, Any],
                  echo=print) -> None:
    """Refuse to replace a results file of another run.

    The same run (equal ``inputs_key``) may be replaced; when only the code
    differs this is said. A file of other inputs, or one that cannot be
    read as a results file, is never replaced.

    Raises:
        ResultsConflictError: naming the file and both runs.
    """
    if not os.path.exists(path):
        return
    try:
        old = validate_results(path)
    except (ResultsFileError, OSError) as error:
        raise ResultsConflictError(f'{path} exists and is not a results file of '
                                   f'this run ({error}); not replacing it') from None
    if old.get('inputs_key') != data.get('inputs_key'):
        raise ResultsConflictError(
            f'{path} holds another run ({old.get("run_id")}: dataset '
            f'{old["dataset"].get("manifest")}, checkpoint {old["checkpoint"]["path"]}, '
            f'config {old["config"].get("path")}); not replacing it: give another '
            '--out or remove the file')
    if old.get('run_key') != data.get('run_key'):
        code = old['environment'].get('code', {})
        from bike_bench.evaluation.provenance import describe_code_change
        echo(f'replacing {path}: the same run measured with {describe_code_change(code)} '
             f'(commit {str(code.get("git_commit", old["environment"]["git_commit"]))[:10]})')


def not_applicable_metrics(data: Dict[str, Any]) -> Dict[str, str]:
    """``{metric key: reason}`` of the metrics a results file leaves out as not
    applicable (top-k of k or fewer classes), from its metrics' options."""
    out: Dict[str, str] = {}
    for options in (data.get('metric_options') or {}).values():
        out.update((options or {}).get('not_applicable', {}))
    return out


def format_metrics(data: Dict[str, Any]) -> str:
    """One line: run, views, aggregation, counts and metrics."""
    counts = data['counts']
    values = ', '.join([f'{key} {value:.4f}' if isinstance(value, float) else f'{key} {value}'
                        for key, value in data['metrics'].items()] +
                       [f'{key} n/a ({reason})' for key, reason
                        in not_applicable_metrics(data).items()])
    return (f'{data["run_id"]}: views {data["views"]["label"]}, aggregation '
            f'{data["aggregation"]}, {counts["evaluated"]}/{counts["expected"]} '
            f'videos ({counts["skipped"]} skipped): {values}')
