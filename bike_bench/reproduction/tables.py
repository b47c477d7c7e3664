"""``bike-bench tables``: the paper's tables with the measured numbers beside.

Built from ``results/paper/`` (the paper's figures) and the results files
under ``results/runs/{full,smoke}/`` without running anything. For every
paper table: Markdown, LaTeX and CSV under ``results/tables/``; per metric a
paper, a measured and a difference column, and per row the scale of the
measurement and a provenance note (run id, git commit, date, device).

Smoke-scale numbers (a tiny random CLIP on the synthetic benchmark) are
never shown as reproductions: their difference column stays empty and the
scale column says ``smoke``. A full-scale number wins over a smoke one.
"""
from __future__ import annotations

import glob
import json
import os
import re
from typing import Dict, List, Optional, Sequence, Tuple

import pandas as pd

from bike_bench import paths
from bike_bench.evaluation.results import ResultsFileError, validate_results
from bike_bench.reproduction.paper import PaperTable, load_tables
from bike_bench.utils.atomic import atomic_write_text

ROOT = paths.output_path()  # the user's root (results/, work_dirs/)
RUNS_DIR = os.path.join(ROOT, 'results', 'runs')
TABLES_DIR = os.path.join(ROOT, 'results', 'tables')
README = os.path.join(ROOT, 'results', 'README.md')
TABLE_ORDER = ('k400_sota', 'activitynet', 'charades', 'few_shot', 'zero_shot',
               'model_zoo')
SCALES = ('full', 'smoke')  # preference order
SMOKE_NOTE = ('smoke: a tiny random CLIP trained for seconds on the synthetic '
              'benchmark; it checks that the protocol runs end to end and is '
              'not a reproduction of the paper\'s figure.')
BENCH_DIR = os.path.join(ROOT, 'results', 'bench')
FLOPS_PAPER = 'GFLOPs x views (paper: MLP + patch embedding only)'
FLOPS_COUNTED = 'GMAC/view counted (all ops incl. attention)'
EXTRA_COLUMNS = ('venue', 'input', 'pretraining', 'dataset', 'arch', 'frames',
                 'resolution', 'shot', 'params_m')


class Measurement(dict):
    """value, std, scale, run_id, commit, date, device, views."""


def load_runs(runs_dir: str = RUNS_DIR) -> List[dict]:
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


def _metric(metrics: dict, spec, path: str) -> Tuple[Optional[float], Optional[float]]:
    def one(key):
        if key not in metrics:
            raise ResultsFileError(f'{path}: metric {key!r} (named by its paper row) '
                                   'is not in the file\'s metrics')
        return 100.0 * float(metrics[key])
    if isinstance(spec, dict):
        return one(spec['mean']), (one(spec['std']) if spec.get('std') else None)
    return one(spec), None


def is_stale(run: dict, code_hash: str) -> bool:
    """Measured with other code than ``code_hash`` (or with no record of it)."""
    return run['environment'].get('code', {}).get('hash') != code_hash


def measurements(runs: Sequence[dict], code_hash: Optional[str] = None
                 ) -> Dict[Tuple[str, str, str], Measurement]:
    """(table, row, paper metric) -> the preferred measurement.

    A run measured with other code than ``code_hash`` (default: this
    checkout's) is marked ``stale``; its cells say so.
    """
    if code_hash is None:
        from bike_bench.evaluation.provenance import code_identity
        code_hash = code_identity()['hash']
    found: Dict[Tuple[str, str, str], Measurement] = {}
    for run in runs:
        scale = run['reproduce']['scale']
        env = run['environment']
        device = env['device']
        if isinstance(device, dict):
            device = ' '.join(str(device[k]) for k in ('type', 'name') if device.get(k))
        for link in run['reproduce']['paper_rows']:
            for metric, spec in link['metrics'].items():
                value, std = _metric(run['metrics'], spec, run['_path'])
                key = (link['table'], link['row'], metric)
                new = Measurement(value=value, std=std, scale=scale,
                                  run_id=run['run_id'], views=run['views']['label'],
                                  commit=str(env['git_commit'])[:10],
                                  date=run['created'][:10], device=device,
                                  path=os.path.relpath(run['_path'], ROOT),
                                  config=run['config'].get('path'),
                                  stale=is_stale(run, code_hash))
                old = found.get(key)
                if old is None or SCALES.index(scale) < SCALES.index(old['scale']) or (
                        old['scale'] == scale and new['run_id'] < old['run_id']):
                    found[key] = new
    return found


def _fmt(value: Optional[float], std: Optional[float] = None, approx: bool = False) -> str:
    if value is None:
        return ''
    text = f'{value:.2f}' if std is None else f'{value:.2f} ± {std:.2f}'
    return ('~' + text) if approx else text


def counted_flops(bench_dir: str = BENCH_DIR) -> Tuple[Dict[Tuple[int, int], float],
                                                      Optional[str]]:
    """``{(frames, resolution): counted GMAC per view}`` of the ViT-L/14
    models from the newest full ``make bench`` file, and that file."""
    files = sorted(p for p in glob.glob(os.path.join(bench_dir, '*.json'))
                   if not p.endswith('-quick.json') and 'gpu-' not in os.path.basename(p))
    if not files:
        return {}, None
    with open(files[-1], encoding='utf-8') as handle:
        rows = json.load(handle).get('flops', {}).get('rows', [])
    sizes = {'vit-l-14': 224, 'vit-l-14-336': 336}
    counted = {(row['frames'], sizes[row['model']]): row['counted_gmac_per_view']
               for row in rows if row.get('model') in sizes}
    return counted, os.path.relpath(files[-1], ROOT)


def build_frame(table: PaperTable, found: Dict[Tuple[str, str, str], Measurement],
                flops: Tuple[Dict[Tuple[int, int], float], Optional[str]] = ({}, None)
                ) -> Tuple[pd.DataFrame, List[str]]:
    """The table as a DataFrame (fixed column order) and its footnotes."""
    notes: List[str] = []
    note_of: Dict[str, int] = {}
    records = []
    counted, bench_file = flops
    for row in table.rows:
        record = {'method': row.method or '(name missing in the poster)'}
        for extra in EXTRA_COLUMNS:
            if extra in row.fields and row.fields[extra] is not None:
                record[extra] = row.fields[extra]
        record['views'] = row.views or ''
        if row.flops is not None:
            record[FLOPS_PAPER] = row.flops.as_printed
            key = (row.fields.get('frames'), row.fields.get('resolution'))
            if row.method and row.method.startswith('BIKE') and key in counted:
                record[FLOPS_COUNTED] = f'{counted[key]:,.0f} [{bench_file}]'
        scales, refs = set(), []
        for metric in table.metrics:
            cell = row.metrics.get(metric)
            record[f'{metric} paper'] = _fmt(cell.value, cell.std, cell.approx) if cell else ''
            measured = found.get((table.name, row.id, metric))
            if measured is None:
                record[f'{metric} measured'] = ''
                record[f'{metric} diff'] = ''
                continue
            if measured['path'] not in note_of:
                config = f', config {measured["config"]}' if measured['config'] else ''
                stale = (' — STALE: measured with older code than this checkout'
                         if measured['stale'] else '')
                notes.append(f'{measured["run_id"]} ({measured["scale"]}): commit '
                             f'{measured["commit"]}, {measured["date"]}, '
                             f'{measured["device"]}, {measured["views"]} views, '
                             f'{measured["path"]}{config}{stale}')
                note_of[measured['path']] = len(notes)
            ref = note_of[measured['path']]
            refs.append(ref)
            mark = f'{ref}, older commit {measured["commit"][:7]}' if measured['stale'] \
                else f'{ref}'
            record[f'{metric} measured'] = f'{_fmt(measured["value"], measured["std"])} [{mark}]'
            full = measured['scale'] == 'full' and cell is not None
            record[f'{metric} diff'] = f'{measured["value"] - cell.value:+.2f}' if full else ''
            scales.add(measured['scale'])
        record['scale'] = '/'.join(sorted(scales))
        record['source'] = row.source
        records.append(record)
    columns = ['method'] + [c for c in EXTRA_COLUMNS if any(c in r for r in records)]
    columns += ['views'] + [c for c in (FLOPS_PAPER, FLOPS_COUNTED)
                            if any(c in r for r in records)]
    columns += [f'{m} {kind}' for m in table.metrics
                            for kind in ('paper', 'measured', 'diff')]
    columns += ['scale', 'source']
    frame = pd.DataFrame.from_records(records, columns=columns).fillna('')
    # Columns empty in every row (a metric nobody reports here, differences
    # of smoke-only measurements) only widen the table.
    empty = [c for c in frame.columns
             if c not in ('method', 'scale') and not frame[c].astype(str).str.len().any()]
    return frame.drop(columns=empty), notes


def _markdown(table: PaperTable, frame: pd.DataFrame, notes: List[str]) -> str:
    lines = [f'# {table.title}', '',
             f'Paper figures from {table.document} (`{os.path.relpath(table.path, paths.data_root())}`); '
             'measured figures from `results/runs/`. Regenerate with `bike-bench tables`.',
             '', frame.to_markdown(index=False), '']
    if notes:
        lines += ['Measured cells:', '']
        lines += [f'[{i}] {note}' for i, note in enumerate(notes, start=1)]
        lines.append('')
    if any('smoke' in s for s in frame.get('scale', [])):
        lines += [f'Scale {SMOKE_NOTE}', '']
    return '\n'.join(lines)


def _latex(table: PaperTable, frame: pd.DataFrame, notes: List[str]) -> str:
    body = frame.to_latex(index=False, escape=True)
    lines = [f'% {table.title} -- generated by bike-bench tables', body]
    lines += [f'% [{i}] {note}' for i, note in enumerate(notes, start=1)]
    return '\n'.join(lines) + '\n'


def _update_readme(written: Sequence[str], readme: str) -> None:
    begin, end = '<!-- tables:begin -->', '<!-- tables:end -->'
    rows = ['## tables/ — the paper\'s tables with measured numbers', '',
            'Generated by `bike-bench tables` from `paper/` and `runs/`:', '']
    for path in written:
        if path.endswith('.md'):
            name = os.path.splitext(os.path.basename(path))[0]
            rel = os.path.relpath(path, os.path.dirname(readme))
            rows.append(f'- [{name}]({rel}) (also `.tex`, `.csv`)')
    block = begin + '\n' + '\n'.join(rows) + '\n' + end
    text = open(readme, encoding='utf-8').read() if os.path.isfile(readme) else '# results/\n'
    if begin in text and end in text:
        text = re.sub(re.escape(begin) + '.*?' + re.escape(end), lambda _: block, text,
                      flags=re.S)
    else:
        text = text.rstrip('\n') + '\n\n' + block + '\n'
    atomic_write_text(readme, text)


def build_tables(runs_dir: str = RUNS_DIR, out_dir: Optional[str] = None,
                 readme: Optional[str] = None) -> List[str]:
    """Write every table (Markdown, LaTeX, CSV); returns the paths written."""
    out_dir = out_dir or TABLES_DIR
    found = measurements(load_runs(runs_dir))
    flops = counted_flops()
    tables = load_tables()
    written = []
    for name in TABLE_ORDER:
        table = tables[name]
        frame, notes = build_frame(table, found, flops)
        base = os.path.join(out_dir, name)
        atomic_write_text(base + '.md', _markdown(table, frame, notes))
        atomic_write_text(base + '.tex', _latex(table, frame, notes))
        atomic_write_text(base + '.csv', frame.to_csv(index=False))
        written += [base + '.md', base + '.tex', base + '.csv']
    # The index in results/README.md follows the repository's own tables.
    if readme is not False and (readme or os.path.abspath(out_dir) == TABLES_DIR):
        _update_readme(written, readme or README)
    return written
