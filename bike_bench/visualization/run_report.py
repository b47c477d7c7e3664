"""``bike-bench report RESULTS.json --out DIR``: one run, as figures and tables.

Writes under ``DIR``:

- ``per_class.csv`` / ``.md``: accuracy and video count per class (from the
  results file's ``per_class``);
- ``confusion.png``: true x predicted counts, when the results carry a
  ``confusion`` matrix (``bike-bench test`` runs do);
- ``zeroshot_splits.png``: for zero-shot runs, the distribution of the
  split accuracies (half-class or K600 splits) with their mean;
- ``fewshot_shots.png``: for few-shot runs, top-1 against shots, one point
  per seed and the mean over seeds (``fewshot_seeds.per_seed``, read by
  ``evaluation.fewshot_seeds.seed_statistics``, as the tables and the smoke
  targets read it), from the sibling results files of the other shot counts
  in the same folder;
- ``index.md``: the run's metrics and links to all of the above.

A few-shot summary (``fewshot_summary.json``, which ``bike-bench fewshot``
prints) is reported too: its mean ± std table and the per-seed figure
from the results files it lists.

Figure titles are wrapped to the figure's width.

Raises ``FileNotFoundError`` / ``ValueError`` for a missing or invalid
results file.
"""
from __future__ import annotations

import glob
import json
import os
import re
from typing import Dict, List, Optional, Tuple

import numpy as np

from bike_bench.evaluation.fewshot_seeds import seed_statistics
from bike_bench.evaluation.results import not_applicable_metrics, validate_results
from bike_bench.utils.atomic import atomic_write_text


def _plt():
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    return plt


def _title(ax, fig, text: str, fontsize: float = 10.0) -> None:
    """``ax``'s title wrapped to the figure's width (long run ids would be
    cut at the right edge); ``tight_layout`` then makes room for the lines."""
    import textwrap
    width = max(20, int(fig.get_figwidth() * 72 / (0.6 * fontsize)))
    ax.set_title('\n'.join(textwrap.wrap(text, width, break_on_hyphens=False,
                                         break_long_words=True)), fontsize=fontsize)


def per_class_rows(results: dict) -> List[dict]:
    """``[{class, accuracy, videos}]`` of the first metric with per-class data
    (a zero-shot file written before per-class counts gives accuracies only)."""
    for per_class in (results.get('per_class') or {}).values():
        if isinstance(per_class, dict) and per_class:
            return [dict(metric_class=name, accuracy=v.get('accuracy'), videos=v.get('videos'))
                    if isinstance(v, dict) else dict(metric_class=name, accuracy=v, videos=None)
                    for name, v in per_class.items() if isinstance(v, (dict, float, type(None)))]
    return []


def confusion(results: dict) -> Optional[Tuple[List[str], np.ndarray]]:
    for item in (results.get('confusion') or {}).values():
        return list(item['classes']), np.asarray(item['matrix'])
    return None


def split_accuracies(results: dict) -> List[float]:
    splits = (results.get('protocol') or {}).get('splits') or []
    return [float(s['top1']) for s in splits if 'top1' in s]


def _fewshot_siblings(path: str, results: dict) -> List[Tuple[str, dict]]:
    """``(path, results)`` of this few-shot run and its siblings of other
    shot counts in the same folder (run ids differing only in ``_<K>shot``)."""
    if (results.get('protocol') or {}).get('name') != 'fewshot':
        return []
    run_id = results.get('run_id', '')
    pattern = re.sub(r'_\d+shot$', '_*shot', run_id)
    files = sorted(glob.glob(os.path.join(os.path.dirname(os.path.abspath(path)),
                                          pattern + '.json'))) if pattern != run_id else []
    out = []
    for other in files or [path]:
        with open(other, encoding='utf-8') as handle:
            out.append((other, json.load(handle)))
    return out


def fewshot_points(path: str, results: dict) -> List[Tuple[int, int, float]]:
    """``(shots, seed, top1)`` of this run and its siblings of other shots."""
    points = []
    for _, data in _fewshot_siblings(path, results):
        shots = (data.get('protocol') or {}).get('shots')
        per_seed = (data.get('fewshot_seeds') or {}).get('per_seed')
        if per_seed:
            points += [(shots, s['seed'], s['metrics']['acc/top1']) for s in per_seed]
        elif 'acc/top1' in data.get('metrics', {}):
            points.append((shots, data['protocol'].get('seed', 0), data['metrics']['acc/top1']))
    return sorted(points)


def fewshot_means(path: str, results: dict,
                  key: str = 'acc/top1') -> Dict[int, Tuple[float, float, int]]:
    """``{shots: (mean, std, n)}`` of ``key`` over seeds, of this run and its
    siblings (``fewshot_seeds.seed_statistics``; a single-seed file counts
    as n=1). Raises ``ResultsFileError`` for a file whose stored mean is not
    the mean of its seeds."""
    means = {}
    for other, data in _fewshot_siblings(path, results):
        shots = (data.get('protocol') or {}).get('shots')
        stats = seed_statistics(data, key, other)
        if stats is None and key in data.get('metrics', {}):
            stats = (float(data['metrics'][key]), 0.0, 1)
        if stats is not None:
            means[shots] = stats
    return dict(sorted(means.items()))


def _fewshot_figure(plt, points, means, title: str, out_dir: str) -> None:
    """``fewshot_shots.png``: top-1 against shots, one point per seed
    (``points``: (shots, seed, top-1)), and the mean over seeds when
    ``means`` ({shots: (mean, std, n)}) is given."""
    fig, ax = plt.subplots(figsize=(5, 3.5))
    shots = np.array([p[0] for p in points])
    ax.scatter(shots, np.array([p[2] for p in points]) * 100, alpha=0.7, label='one seed')
    if means:
        ax.plot(list(means), [100 * m[0] for m in means.values()], 'k-o',
                label='mean over seeds')
    ax.set_xticks(sorted(means) if means else sorted(set(shots.tolist())))
    ax.set_xlabel('shots per class')
    ax.set_ylabel('top-1 (%)')
    _title(ax, fig, title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, 'fewshot_shots.png'), dpi=100)
    plt.close(fig)


def write_report(results_path: str, out_dir: str) -> Dict[str, str]:
    """Write the report of ``results_path`` under ``out_dir``; returns {what: path}."""
    import pandas as pd
    with open(results_path, encoding='utf-8') as handle:
        try:
            loaded = json.load(handle)
        except json.JSONDecodeError:
            loaded = None
    if is_fewshot_summary(loaded):
        return write_fewshot_summary_report(results_path, loaded, out_dir)
    results = validate_results(results_path)
    os.makedirs(out_dir, exist_ok=True)
    plt = _plt()
    written: Dict[str, str] = {}
    run_id = results['run_id']

    rows = per_class_rows(results)
    if rows:
        frame = pd.DataFrame(rows).rename(columns={'metric_class': 'class'})
        frame.to_csv(os.path.join(out_dir, 'per_class.csv'), index=False)
        atomic_write_text(os.path.join(out_dir, 'per_class.md'),
                          frame.to_markdown(index=False, floatfmt='.3f') + '\n')
        written['per-class accuracy'] = 'per_class.md'

    found = confusion(results)
    if found is not None:
        names, matrix = found
        size = max(4.0, 0.45 * len(names) + 2)
        fig, ax = plt.subplots(figsize=(size, size))
        ax.imshow(matrix, cmap='Blues')
        ax.set_xticks(range(len(names)), names, rotation=90, fontsize=7)
        ax.set_yticks(range(len(names)), names, fontsize=7)
        for (i, j), count in np.ndenumerate(matrix):
            if count:
                ax.text(j, i, str(count), ha='center', va='center', fontsize=7)
        ax.set_xlabel('predicted')
        ax.set_ylabel('true')
        _title(ax, fig, f'{run_id}: confusion')
        fig.tight_layout()
        fig.savefig(os.path.join(out_dir, 'confusion.png'), dpi=100)
        plt.close(fig)
        written['confusion matrix'] = 'confusion.png'

    splits = split_accuracies(results)
    if splits:
        fig, ax = plt.subplots(figsize=(5, 3.5))
        ax.hist(np.asarray(splits) * 100, bins=min(10, max(3, len(splits))), color='#4c72b0')
        mean = float(np.mean(splits) * 100)
        ax.axvline(mean, color='k', linestyle='--', label=f'mean {mean:.1f} %')
        ax.set_xlabel('split top-1 (%)')
        ax.set_ylabel('splits')
        _title(ax, fig, f'{run_id}: {len(splits)} zero-shot splits')
        ax.legend()
        fig.tight_layout()
        fig.savefig(os.path.join(out_dir, 'zeroshot_splits.png'), dpi=100)
        plt.close(fig)
        written['zero-shot split accuracies'] = 'zeroshot_splits.png'

    points = fewshot_points(results_path, results)
    means = fewshot_means(results_path, results)
    if points:
        _fewshot_figure(plt, points, means, f'{run_id}: few-shot', out_dir)
        written['few-shot accuracy vs shots'] = 'fewshot_shots.png'

    lines = [f'# Report: {run_id}', '',
             f'Results file: `{os.path.abspath(results_path)}`  ',
             f'Protocol: {results["protocol"].get("name")}, views {results["views"].get("label")}, '
             f'dataset {results["dataset"].get("name")} ({results["dataset"].get("num_classes")} '
             'classes)', '', '| metric | value |', '|---|---|']
    seeds = results.get('fewshot_seeds') or {}
    if seeds.get('per_seed'):
        lines[-2:-2] = [f'Metrics: means over {len(seeds["per_seed"])} seeds '
                        f'{[s["seed"] for s in seeds["per_seed"]]} (one column per seed); '
                        'per-class accuracy, confusion and checkpoint: seed '
                        f'{seeds.get("details_seed", seeds["per_seed"][0]["seed"])}', '']
        lines[-2] = '| metric | mean ± std | ' + ' | '.join(
            f'seed {s["seed"]}' for s in seeds['per_seed']) + ' |'
        lines[-1] = '|---|---|' + '---|' * len(seeds['per_seed'])
        for k, v in sorted(results['metrics'].items()):
            stats = seed_statistics(results, k, results_path) if isinstance(v, float) else None
            if stats is None:
                lines.append(f'| {k} | {v} |')
                continue
            lines.append(f'| {k} | {stats[0]:.4f} ± {stats[1]:.4f} | ' + ' | '.join(
                f'{s["metrics"][k]:.4f}' for s in seeds['per_seed']) + ' |')
    else:
        lines += [f'| {k} | {v:.4f} |' if isinstance(v, float) else f'| {k} | {v} |'
                  for k, v in sorted(results['metrics'].items())]
    lines += [f'| {k} | n/a ({reason}) |'
              for k, reason in sorted(not_applicable_metrics(results).items())]
    lines.append('')
    for what, rel in written.items():
        lines.append(f'## {what}')
        lines.append('')
        lines.append(f'![{what}]({rel})' if rel.endswith('.png') else
                     open(os.path.join(out_dir, rel), encoding='utf-8').read())
        lines.append('')
    atomic_write_text(os.path.join(out_dir, 'index.md'), '\n'.join(lines))
    written['index'] = 'index.md'
    return {k: os.path.join(out_dir, v) for k, v in written.items()}


def is_fewshot_summary(data) -> bool:
    """A ``fewshot_summary.json`` (``evaluation.fewshot.run_fewshot``)."""
    return isinstance(data, dict) and isinstance(data.get('by_shots'), dict) \
        and 'bike_bench_results' not in data


def write_fewshot_summary_report(path: str, summary: dict, out_dir: str) -> Dict[str, str]:
    """The report of a few-shot summary: its mean ± std per shot and metric
    (as the summary states them), and top-1 against shots, one point per
    seed, from the results files it lists (each validated)."""
    os.makedirs(out_dir, exist_ok=True)
    written: Dict[str, str] = {}
    lines = ['# Report: few-shot summary', '', f'Summary file: `{os.path.abspath(path)}`  ',
             f'Training manifest: `{summary.get("train_manifest")}`', '',
             '| shots | metric | mean | std | seeds |', '|---|---|---|---|---|']
    points = []
    for shots, entry in summary['by_shots'].items():
        for key, mean in (entry.get('mean') or {}).items():
            std = (entry.get('std') or {}).get(key)
            lines.append(f'| {shots} | {key} | {mean:.4f} | '
                         + (f'{std:.4f}' if isinstance(std, float) else 'n/a')
                         + f' | {len(entry.get("seeds") or [])} |')
        for run in entry.get('results') or []:
            data = validate_results(run)
            if 'acc/top1' in data['metrics']:
                points.append((int(shots), data['protocol'].get('seed', 0),
                               data['metrics']['acc/top1']))
    if points:
        plt = _plt()
        _fewshot_figure(plt, points, None, 'few-shot: '
                        f'{os.path.basename(os.path.dirname(os.path.abspath(path)))}', out_dir)
        written['few-shot accuracy vs shots'] = 'fewshot_shots.png'
        lines += ['', '## few-shot accuracy vs shots', '', '![few-shot](fewshot_shots.png)']
    atomic_write_text(os.path.join(out_dir, 'index.md'), '\n'.join(lines) + '\n')
    written['index'] = 'index.md'
    return {k: os.path.join(out_dir, v) for k, v in written.items()}
