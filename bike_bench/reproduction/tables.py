"""``bike-bench tables``: the paper's tables with the measured numbers beside.

Built from ``results/paper/`` (the paper's figures, package data) and the
results files under ``<runs>/{full,smoke}/`` without running anything. For
every paper table: Markdown, LaTeX and CSV in the tables folder (default
``tables/`` beside the runs folder); per metric a
paper, a measured and a difference column, and per row the scale of the
measurement and a provenance note (run id, git commit, date, device).

Results files of one's own (a config deriving from no registry experiment,
e.g. a dataset built with ``manifests build custom``) get one row each in
``your_runs`` (Markdown, CSV), labelled by their ``dataset.name``.

Smoke-scale numbers (a tiny random CLIP on the synthetic benchmark) are
never shown as reproductions: their difference column stays empty and the
scale column says ``smoke``. A full-scale number wins over a smoke one.
"""
from __future__ import annotations

import glob
import json
import os
from typing import Dict, List, Optional, Sequence, Tuple

import pandas as pd

from bike_bench import paths
from bike_bench.datasets.coverage import cell_suffix, results_coverage
from bike_bench.evaluation.results import ResultsFileError, validate_results
from bike_bench.reproduction.paper import PaperTable, load_tables
from bike_bench.reproduction.settings import tables_beside
# Cells, rendering and one's own runs: one module each.
from bike_bench.reproduction.table_cells import _cell, _fmt
from bike_bench.reproduction.table_render import _latex, _markdown, _runs_source, _update_readme
from bike_bench.reproduction.user_runs import (OWN_RUNS, SCALES, _own_markdown, own_runs_frame,
                                               place_user_runs)
from bike_bench.utils.atomic import atomic_write_text

TABLE_ORDER = ('k400_sota', 'activitynet', 'charades', 'few_shot', 'zero_shot',
               'model_zoo')
FLOPS_PAPER = 'GFLOPs x views (paper: MLP + patch embedding only)'
FLOPS_COUNTED = 'GMAC/view counted (all ops incl. attention)'
EXTRA_COLUMNS = ('venue', 'input', 'pretraining', 'dataset', 'arch', 'frames',
                 'resolution', 'shot', 'params_m')


def load_runs(runs_dir: str) -> List[dict]:
    """Every results file under ``runs_dir/<scale>/``, validated.

    Raises ResultsFileError naming the file and the missing field.
    """
    runs = []
    for scale in SCALES:
        for path in sorted(glob.glob(os.path.join(runs_dir, scale, '*.json'))):
            data = validate_results(path)
            if 'reproduce' not in data:
                raise ResultsFileError(f'{path}: missing field \'reproduce\' (which '
                                       'experiments and paper rows the run measures)')
            if data['reproduce'].get('scale') != scale:
                raise ResultsFileError(f'{path}: field \'reproduce.scale\' says '
                                       f'{data["reproduce"].get("scale")!r} but the file '
                                       f'is under {scale}/')
            data['_path'] = path
            runs.append(data)
    return runs


def is_stale(run: dict, code_hash: str) -> bool:
    """Measured with other code than ``code_hash`` (or with no record of it)."""
    return run['environment'].get('code', {}).get('hash') != code_hash


def counted_flops(bench_dir: Optional[str] = None
                  ) -> Tuple[Dict[Tuple[int, int], float], Optional[str]]:
    """``{(frames, resolution): counted GMAC per view}`` of the ViT-L/14
    models from the newest full ``make bench`` file, and that file.

    ``bench_dir`` defaults to ``<output root>/results/bench`` (where
    ``bike-bench bench`` writes).
    """
    root = paths.output_path()
    bench_dir = bench_dir or os.path.join(root, 'results', 'bench')
    files = sorted(p for p in glob.glob(os.path.join(bench_dir, '*.json'))
                   if not p.endswith('-quick.json') and 'gpu-' not in os.path.basename(p))
    if not files:
        return {}, None
    with open(files[-1], encoding='utf-8') as handle:
        rows = json.load(handle).get('flops', {}).get('rows', [])
    sizes = {'vit-l-14': 224, 'vit-l-14-336': 336}
    counted = {(row['frames'], sizes[row['model']]): row['counted_gmac_per_view']
               for row in rows if row.get('model') in sizes}
    return counted, os.path.relpath(files[-1], root)


# ------------------------------------------------------------------ rows
# Tables that also show every run measuring their dataset, linked or not
# (Charades: no paper row names BIKE, yet the harness measures its mAP).
DATASET_TABLES = {'charades': ('charades', {'mAP': 'charades/mAP'})}


def measured_rows(table: PaperTable, runs: Sequence[dict]) -> List[dict]:
    """One entry per run measuring something of ``table``.

    Each: ``run`` (the results), ``stands_for`` (paper row ids), ``cells``
    (metric -> value/std/n/na), ``after`` (the last paper row it stands for).
    """
    out = []
    row_ids = [r.id for r in table.rows]
    for run in runs:
        links = [l for l in run['reproduce']['paper_rows'] if l['table'] == table.name]
        cells, stands_for = {}, []
        for link in links:
            stands_for.append(link['row'])
            for metric, spec in link['metrics'].items():
                cells.setdefault(metric, _cell(run, spec))
        extra = DATASET_TABLES.get(table.name)
        if not links and extra and extra[0] in str(run['dataset'].get('name', '')) and all(
                key in run['metrics'] for key in extra[1].values()):
            cells = {m: _cell(run, key) for m, key in extra[1].items()}
        if not cells:
            continue
        stands_for = list(dict.fromkeys(stands_for))
        after = max((row_ids.index(r) for r in stands_for if r in row_ids), default=len(row_ids))
        out.append(dict(run=run, stands_for=stands_for, cells=cells, after=after))
    return sorted(out, key=lambda m: (m['after'], m['run']['run_id']))


def build_table(table: PaperTable, runs: Sequence[dict],
                flops: Tuple[Dict[Tuple[int, int], float], Optional[str]] = ({}, None),
                code_hash: Optional[str] = None
                ) -> Tuple[pd.DataFrame, pd.DataFrame, List[dict]]:
    """(display frame, numeric frame, footnotes) of one paper table.

    Paper rows come first in the paper's order; every measured run is its
    own row, right after the last paper row it stands for. The numeric
    frame has, per metric, ``<m>`` / ``<m>_std`` / ``<m>_n`` numbers,
    ``<m>_approx`` (0/1), ``<m>_na`` (why a cell is not applicable) and, for
    full-scale runs standing for one row, ``<m>_diff``; ``footnote`` is the
    id of the run's provenance in the footnotes. A run measured with other
    code than ``code_hash`` (default: this checkout's) is marked stale.
    """
    counted, bench_file = flops
    if code_hash is None:  # runs measured with other code are marked stale
        from bike_bench.evaluation.provenance import code_identity
        code_hash = code_identity()['hash']
    by_row = {r.id: r for r in table.rows}
    measured = measured_rows(table, runs)
    footnotes: List[dict] = []
    display, numeric = [], []

    def paper_record(row):
        shown = {'kind': 'paper', 'method': row.method or
                 f'(unnamed row {table.rows.index(row) + 1}: name lost in the poster)'}
        num = dict(shown)
        for extra in EXTRA_COLUMNS:
            if row.fields.get(extra) is not None:
                shown[extra] = num[extra] = row.fields[extra]
        shown['views'] = num['views'] = row.views or ''
        if row.flops is not None:
            shown[FLOPS_PAPER] = num[FLOPS_PAPER] = row.flops.as_printed
            key = (row.fields.get('frames'), row.fields.get('resolution'))
            if row.method and row.method.startswith('BIKE') and key in counted:
                shown[FLOPS_COUNTED] = f'{counted[key]:,.0f}'
                num[FLOPS_COUNTED] = counted[key]
        for metric in table.metrics:
            cell = row.metrics.get(metric)
            if cell is None:
                continue
            shown[metric] = _fmt(cell.value, cell.std, cell.approx)
            num[metric], num[f'{metric}_std'] = cell.value, cell.std
            num[f'{metric}_approx'] = int(cell.approx)
        shown['source'] = num['source'] = row.source
        return shown, num

    def measured_record(item):
        run = item['run']
        scale = run['reproduce']['scale']
        env = run['environment']
        device = env.get('device')
        if isinstance(device, dict):
            device = ' '.join(str(device[k]) for k in ('type', 'name') if device.get(k))
        footnotes.append(dict(footnote=len(footnotes) + 1, run_id=run['run_id'], scale=scale,
                              commit=str(env.get('git_commit'))[:10],
                              date=str(run.get('created', ''))[:10], device=device,
                              views=run['views']['label'],
                              path=os.path.relpath(run['_path'], paths.output_path()),
                              config=run['config'].get('path'),
                              stale=is_stale(run, code_hash),
                              coverage=results_coverage(run)))
        ref = len(footnotes)
        names = [by_row[r].method or r for r in item['stands_for'] if r in by_row]
        label = 'BIKE (this harness)' + (f', {scale} scale' if scale != 'full' else '')
        mark = (f'{ref}, older commit {str(env.get("git_commit"))[:7]}'
                if footnotes[-1]['stale'] else f'{ref}')
        shown = {'kind': f'measured ({scale})', 'method': f'{label}: {run["run_id"]} [{mark}]',
                 'views': run['views']['label']}
        num = {'kind': f'measured ({scale})', 'method': label, 'views': run['views']['label'],
               'run_id': run['run_id'], 'scale': scale, 'footnote': ref,
               'stands_for': ';'.join(item['stands_for'])}
        shown['stands for'] = ', '.join(names) if names else '(no paper row)'
        single = by_row.get(item['stands_for'][0]) if len(item['stands_for']) == 1 else None
        for metric, cell in item['cells'].items():
            shown[metric] = f'n/a ({cell["na"]})' if cell['na'] else _fmt(cell['value'],
                                                                         cell['std'])
            if not cell['na'] and cell['value'] is not None:  # measured on part of the data
                shown[metric] += cell_suffix(footnotes[-1]['coverage'])
            num[metric], num[f'{metric}_std'] = cell['value'], cell['std']
            num[f'{metric}_n'], num[f'{metric}_na'] = cell['n'], cell['na']
            paper = single.metrics.get(metric) if single is not None else None
            if scale == 'full' and paper is not None and cell['value'] is not None:
                num[f'{metric}_diff'] = cell['value'] - paper.value
                shown[f'{metric} diff'] = f'{cell["value"] - paper.value:+.2f}'
        shown['source'] = num['source'] = 'measured by this harness'
        return shown, num

    pending = list(measured)
    for index, row in enumerate(table.rows):
        for record in (paper_record(row),):
            display.append(record[0])
            numeric.append(record[1])
        while pending and pending[0]['after'] == index:
            shown, num = measured_record(pending.pop(0))
            display.append(shown)
            numeric.append(num)
    for item in pending:
        shown, num = measured_record(item)
        display.append(shown)
        numeric.append(num)

    ident = ['kind', 'method'] + [c for c in EXTRA_COLUMNS if any(c in r for r in display)]
    ident += ['views'] + [c for c in (FLOPS_PAPER, FLOPS_COUNTED)
                          if any(c in r for r in display)]
    metric_cols = []
    for metric in table.metrics:
        metric_cols += [c for c in (metric, f'{metric} diff') if any(c in r for r in display)]
    display_cols = ident + metric_cols + [c for c in ('stands for', 'source')
                                          if any(c in r for r in display)]
    shown_frame = pd.DataFrame.from_records(display, columns=display_cols).fillna('')
    # Numbers of the identity columns as printed (128, not 128.000000).
    shown_frame = shown_frame.astype(object).map(
        lambda v: f'{v:g}' if isinstance(v, float) else v)
    num_cols = list(ident)
    for metric in table.metrics:
        num_cols += [c for c in (metric, f'{metric}_std', f'{metric}_n', f'{metric}_approx',
                                 f'{metric}_na', f'{metric}_diff')
                     if any(c in r for r in numeric)]
    num_cols += [c for c in ('run_id', 'scale', 'footnote', 'stands_for', 'source')
                 if any(c in r for r in numeric)]
    numeric_frame = pd.DataFrame.from_records(numeric, columns=num_cols)
    for column in numeric_frame.columns:
        if column.endswith(('_n', '_approx')) or column == 'footnote':
            numeric_frame[column] = numeric_frame[column].astype('Int64')
        elif column in table.metrics or column.endswith(('_std', '_diff')) or \
                column == FLOPS_COUNTED:
            numeric_frame[column] = pd.to_numeric(numeric_frame[column]).astype(float)
    return shown_frame, numeric_frame, footnotes


def _unmeasured_rows(runs: Sequence[dict]) -> Dict[str, Dict[str, List[str]]]:
    """``{table: {paper row: [registry entries]}}`` of the rows the registry
    measures that no results file among ``runs`` stands for (a partial set:
    their measured cells stay empty and the table says why)."""
    from bike_bench.reproduction.registry import build_registry
    linked = {(link['table'], link['row']) for run in runs
              for link in run.get('reproduce', {}).get('paper_rows', [])}
    missing: Dict[str, Dict[str, List[str]]] = {}
    for entry in build_registry():
        for row in entry.paper_rows:
            if (row.table, row.row) not in linked:
                missing.setdefault(row.table, {}).setdefault(row.row, []).append(entry.id)
    return missing


def build_tables(runs_dir: str, out_dir: Optional[str] = None,
                 readme: Optional[str] = None, echo=None) -> List[str]:
    """Write every table (Markdown, LaTeX, CSV + footnotes CSV); returns the paths.

    ``out_dir`` defaults to ``tables/`` beside ``runs_dir``. Users' own
    results files in ``runs_dir`` (outside ``full/`` and ``smoke/``) are
    placed by their config's experiment; those whose config derives from
    none get a row in ``your_runs`` (``.md``/``.csv``, written only then)
    named by their dataset; ``echo`` (if given) receives where they went,
    what was ignored and why. ``readme``: a README whose tables index (between
    ``<!-- tables:begin -->`` and ``<!-- tables:end -->``) is rewritten --
    only when given (the maintainers' ``results/README.md``).
    """
    out_dir = out_dir or tables_beside(runs_dir)
    runs = load_runs(runs_dir)
    user, own, ignored = (place_user_runs(runs_dir) if os.path.isdir(runs_dir)
                          else ([], [], []))
    runs = runs + user
    if echo is not None:
        if user:
            echo(f'tables: placed {len(user)} results file(s) of your own: ' +
                 ', '.join(f'{os.path.relpath(r["_path"], runs_dir)} -> '
                           f'{r["reproduce"]["experiments"][0]}' for r in user))
        for run in own:
            echo(f'tables: {OWN_RUNS}.md: row {run["dataset"].get("name")!r} from '
                 f'{os.path.relpath(run["_path"], runs_dir)} ({run["_why"]})')
        for path, why in ignored:
            echo(f'tables: ignored {path}: {why}')
    flops = counted_flops()
    tables = load_tables()
    unmeasured = _unmeasured_rows(runs)
    written = []
    os.makedirs(out_dir, exist_ok=True)
    for name in TABLE_ORDER:
        table = tables[name]
        frame, numeric, notes = build_table(table, runs, flops)
        base = os.path.join(out_dir, name)
        atomic_write_text(base + '.md', _markdown(table, frame, notes,
                                                  _runs_source(runs_dir, out_dir),
                                                  unmeasured.get(name, {})))
        atomic_write_text(base + '.tex', _latex(table, frame, notes))
        atomic_write_text(base + '.csv', numeric.to_csv(index=False))
        atomic_write_text(base + '_footnotes.csv', pd.DataFrame.from_records(
            notes, columns=['footnote', 'run_id', 'scale', 'commit', 'date', 'device',
                            'views', 'path', 'config', 'stale']).to_csv(index=False))
        written += [base + '.md', base + '.tex', base + '.csv', base + '_footnotes.csv']
    if own:  # only with own runs: a registry-only folder gets the tables above alone
        base = os.path.join(out_dir, OWN_RUNS)
        frame = own_runs_frame(own, runs_dir)
        atomic_write_text(base + '.md', _own_markdown(frame, _runs_source(runs_dir, out_dir)))
        atomic_write_text(base + '.csv', frame.to_csv(index=False))
        written += [base + '.md', base + '.csv']
    if readme:
        _update_readme(written, readme)
    return written
