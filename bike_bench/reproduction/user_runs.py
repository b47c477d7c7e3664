"""Results files of one's own in ``bike-bench tables``: those of a registry
experiment are placed in its rows; the rest (a dataset built with
``manifests build custom``) get one row each in ``your_runs``, labelled by
their ``dataset.name``."""
from __future__ import annotations

import glob
import os
from typing import List, Optional, Sequence, Tuple

import pandas as pd

from bike_bench import paths
from bike_bench.datasets.coverage import cell_suffix, results_coverage
from bike_bench.evaluation.results import ResultsFileError, validate_results
from bike_bench.reproduction.table_cells import _fmt, _not_applicable

SCALES = ('full', 'smoke')  # preference order of the runs' scale folders


# ------------------------------------------------------------ users' runs
def place_user_runs(folder: str
                    ) -> Tuple[List[dict], List[dict], List[Tuple[str, str]]]:
    """A user's results files placed by the experiment their config derives from.

    Every ``*.json`` under ``folder`` outside ``full/`` and ``smoke/``
    without a ``reproduce`` section is matched, by its config file name
    (``config.path``), with a registry entry; it then fills that entry's
    paper rows at scale ``user``. One whose config derives from no entry
    (a dataset of one's own, a config of one's own) but that has a top-1
    metric is an own run, shown in the ``your_runs`` table by its
    ``dataset.name`` (:func:`own_runs_frame`). Returns (placed runs, own
    runs, [(path, why ignored)]).
    """
    from bike_bench.reproduction.registry import build_registry
    by_config = {}
    for entry in build_registry():
        for config in entry.configs:
            by_config.setdefault(os.path.splitext(os.path.basename(config))[0], entry)
    placed, own, ignored = [], [], []
    for path in sorted(glob.glob(os.path.join(folder, '**', '*.json'), recursive=True)):
        rel = os.path.relpath(path, folder)
        if rel.split(os.sep)[0] in SCALES:
            continue
        try:
            data = validate_results(path)
        except (ResultsFileError, ValueError) as error:
            ignored.append((path, f'not a valid results file: {error}'))
            continue
        if 'reproduce' in data:
            ignored.append((path, 'a reproduce run outside full/ or smoke/'))
            continue
        config = data.get('config') or {}
        name = os.path.splitext(os.path.basename(str(config.get('path') or '')))[0]
        entry = by_config.get(name)
        if entry is None:
            why = (f'its config {name or "(none recorded)"!r} derives from no '
                   'experiment of the registry (mmconfigs/metafile.yml)')
            if _own_key(data['metrics'], 'top1') is None:
                ignored.append((path, why + ' and it has no top-1 metric'))
            else:
                data['_path'], data['_why'] = path, why
                own.append(data)
            continue
        links = [dict(table=r.table, row=r.row, metrics=r.metrics, experiment=entry.id,
                      views=entry.views) for r in entry.paper_rows]
        lacking = [spec for link in links for spec in link['metrics'].values()
                   if (spec['mean'] if isinstance(spec, dict) else spec) not in data['metrics']]
        if lacking:
            ignored.append((path, f'lacks the metrics its paper rows need: {lacking}'))
            continue
        data['reproduce'] = dict(scale='user', experiments=[entry.id], paper_rows=links)
        data['_path'] = path
        placed.append(data)
    return placed, own, ignored


OWN_RUNS = 'your_runs'


def _own_key(metrics: dict, k: str) -> Optional[str]:
    """The metric of a results file giving top-``k`` over its whole set:
    ``acc/topk`` (``test``), else ``<prefix>/topk`` (``zeroshot``: ``full/``)."""
    for key in (f'acc/{k}', f'full/{k}'):
        if key in metrics:
            return key
    return next((key for key in sorted(metrics) if key.count('/') == 1
                 and key.endswith(f'/{k}')), None)


def own_runs_frame(runs: Sequence[dict], runs_dir: str) -> pd.DataFrame:
    """One row per own results file (see :func:`place_user_runs`), labelled
    by its ``dataset.name``: protocol, split, views, videos, top-1 and
    top-5 (percent; ``n/a (top-5 with 4 classes)`` when the set has too few
    classes), run id, config and the file relative to ``runs_dir``."""
    records = []
    for run in runs:
        dataset, metrics = run.get('dataset') or {}, run['metrics']
        coverage = cell_suffix(results_coverage(run))
        record = {'dataset': dataset.get('name', ''),
                  'protocol': (run.get('protocol') or {}).get('name', ''),
                  'split': dataset.get('split', ''), 'views': run['views']['label'],
                  'videos': dataset.get('num_videos', '')}
        for k, column in (('top1', 'top-1'), ('top5', 'top-5')):
            key = _own_key(metrics, k)
            na = _not_applicable(run, key or f'acc/{k}')
            if na:
                record[column] = f'n/a ({na})'
            elif key is None:
                record[column] = ''
            else:
                record[column] = _fmt(100.0 * metrics[key]) + coverage
        config = str((run.get('config') or {}).get('path', ''))
        if os.path.isabs(config):  # relative to the output root when under it
            config = paths.recorded_path(config)
        record.update(run_id=run['run_id'], config=config,
                      results=os.path.relpath(run['_path'], runs_dir))
        records.append(record)
    frame = pd.DataFrame.from_records(records, columns=[
        'dataset', 'protocol', 'split', 'views', 'videos', 'top-1', 'top-5', 'run_id',
        'config', 'results'])
    return frame.sort_values(['dataset', 'protocol', 'run_id'], kind='stable')


def _own_markdown(frame: pd.DataFrame, source: Tuple[str, str]) -> str:
    return '\n'.join([
        '# Your runs', '',
        f'Results files under `{source[0]}` whose config derives from no experiment of '
        'the registry (`bike-bench reproduce --list`), one row per file, labelled by '
        'the dataset name it records (`dataset.name`, e.g. the `--name` of `bike-bench '
        f'manifests build custom`). Regenerate with `{source[1]}`; the CSV beside it '
        'holds the same rows.', '',
        frame.to_markdown(index=False, disable_numparse=True), ''])
