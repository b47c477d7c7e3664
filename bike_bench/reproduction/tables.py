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
import re
from typing import Dict, List, Optional, Sequence, Tuple

import pandas as pd

from bike_bench import paths
from bike_bench.datasets.coverage import cell_suffix, note_text, results_coverage
from bike_bench.evaluation.fewshot_seeds import is_multi_seed, seed_statistics
from bike_bench.evaluation.results import ResultsFileError, validate_results
from bike_bench.reproduction.paper import PaperTable, load_tables
from bike_bench.reproduction.settings import tables_beside, user_runs_dir
from bike_bench.utils.atomic import atomic_write_text

TABLE_ORDER = ('k400_sota', 'activitynet', 'charades', 'few_shot', 'zero_shot',
               'model_zoo')
SCALES = ('full', 'smoke')  # preference order
SMOKE_NOTE = ('smoke: the toy CLIP pre-trained on the synthetic benchmark '
              '(`bike-bench pretrain-toy`), fine-tuned for seconds on it; it checks '
              'that the protocol runs end to end and is not a reproduction of the '
              'paper\'s figure.')
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


def _fmt(value: Optional[float], std: Optional[float] = None, approx: bool = False) -> str:
    if value is None:
        return ''
    text = f'{value:.2f}' if std is None else f'{value:.2f} ± {std:.2f}'
    return ('~' + text) if approx else text


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
MAX_MARKDOWN_COLUMNS = 12
_TOPK = re.compile(r'top(\d+)')


def _classes_for(run: dict, key: str) -> Optional[float]:
    """Classes a metric ranks among (half-class: per split; K600: per split)."""
    protocol = run.get('protocol') or {}
    splits = protocol.get('splits') or []
    if key.startswith('half/') and splits:
        return min(len(s['classes']) for s in splits if isinstance(s.get('classes'), list))
    if key.startswith('k600/') and splits:
        return min(s['classes'] for s in splits if isinstance(s.get('classes'), int))
    dataset = run.get('dataset') or {}
    return dataset.get('num_classes')


def _not_applicable(run: dict, key: str) -> str:
    match = _TOPK.search(key.split('/')[-1])
    classes = _classes_for(run, key) if match else None
    if match and classes and int(match.group(1)) >= classes:
        return f'top-{match.group(1)} with {classes} classes'
    return ''


def _n(run: dict, key: str) -> Optional[int]:
    """How many measurements a mean is over (splits, seeds), else 1."""
    if key.startswith('half/'):
        return (run.get('protocol') or {}).get('num_splits')
    if key.startswith('k600/'):
        return len((run.get('protocol') or {}).get('splits') or []) or None
    if is_multi_seed(run):
        return len(run['fewshot_seeds']['per_seed'])
    return 1


def _cell(run: dict, spec) -> dict:
    """value/std (percent), n and n/a reason of a metric spec of a run."""
    mean_key = spec['mean'] if isinstance(spec, dict) else spec
    std_key = spec.get('std') if isinstance(spec, dict) else None
    if std_key is None and f'{mean_key}_std' in run['metrics']:
        std_key = f'{mean_key}_std'
    na = _not_applicable(run, mean_key)
    if na:  # results files leave such metrics out (or hold 1.0 in older ones)
        return dict(value=None, std=None, n=_n(run, mean_key), na=na)
    if is_multi_seed(run):  # few-shot: mean ± std over the seeds' values
        stats = seed_statistics(run, mean_key, run['_path'])
        if stats is None:
            raise ResultsFileError(f'{run["_path"]}: metric {mean_key!r} (named by its '
                                   'paper row) is not in the file\'s fewshot_seeds.per_seed')
        mean, std, n = stats
        return dict(value=100.0 * mean, std=100.0 * std, n=n, na=na)
    value, std = _metric(run['metrics'], dict(mean=mean_key, std=std_key), run['_path'])
    return dict(value=value, std=std, n=_n(run, mean_key), na=na)


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


def _fmt2(value: Optional[float], std: Optional[float] = None) -> str:
    if value is None:
        return ''
    return f'{value:.2f}' if std is None else f'{value:.2f} ± {std:.2f}'


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
            shown[metric] = ('~' if cell.approx else '') + _fmt2(cell.value, cell.std)
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
            shown[metric] = f'n/a ({cell["na"]})' if cell['na'] else _fmt2(cell['value'],
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


def _note_line(note: dict) -> str:
    config = f', config {note["config"]}' if note.get('config') else ''
    stale = (' — STALE: measured with older code than this checkout'
             if note.get('stale') else '')
    return (f'{note["run_id"]} ({note["scale"]}): commit {note["commit"]}, {note["date"]}, '
            f'{note["device"]}, {note["views"]} views, {note["path"]}{config}{stale}'
            f'{note_text(note.get("coverage"))}')


def _markdown_parts(frame: pd.DataFrame) -> List[Tuple[str, pd.DataFrame]]:
    """The frame, split when wider than MAX_MARKDOWN_COLUMNS columns."""
    def compact(part):
        keep = [c for c in part.columns
                if c in ('kind', 'method') or part[c].astype(str).str.len().any()]
        return part[keep]
    if len(frame.columns) <= MAX_MARKDOWN_COLUMNS:
        return [('', frame)]
    if 'dataset' in frame.columns:
        groups = []
        dataset = frame['dataset'].replace('', pd.NA).ffill().fillna('')
        for name in dict.fromkeys(dataset):
            groups.append((f'{name}', compact(frame[dataset == name])))
        if all(len(g.columns) <= MAX_MARKDOWN_COLUMNS + 4 for _, g in groups):
            return groups
    ident = [c for c in frame.columns if c in ('kind', 'method', 'views')]
    rest = [c for c in frame.columns if c not in ident]
    size = MAX_MARKDOWN_COLUMNS - len(ident)
    return [(f'columns {i // size + 1}', compact(frame[ident + rest[i:i + size]]))
            for i in range(0, len(rest), size)]


def _runs_source(runs_dir: str, out_dir: str) -> Tuple[str, str]:
    """How a table names its runs folder and the command that rebuilds it."""
    if os.path.abspath(runs_dir) == os.path.abspath(user_runs_dir()):
        return 'results/runs/', 'bike-bench tables'
    def shown(path: str) -> str:
        relative = os.path.relpath(path)
        return os.path.abspath(path) if relative.startswith('..') else relative
    runs, out = shown(runs_dir), shown(out_dir)
    return f'{runs}/', f'bike-bench tables --runs-dir {runs} --out {out}'


def _markdown(table: PaperTable, frame: pd.DataFrame, notes: List[dict],
              source: Tuple[str, str] = ('results/runs/', 'bike-bench tables')) -> str:
    lines = [f'# {table.title}', '',
             f'Paper figures from {table.document} (`{os.path.relpath(table.path, paths.data_root())}`); '
             f'measured rows from `{source[0]}` (one row per run, after the paper rows it '
             f'stands for). Regenerate with `{source[1]}`. The CSV holds the whole '
             'table with numeric columns; the footnotes are in the `_footnotes.csv` beside it.',
             '']
    for title, part in _markdown_parts(frame):
        if title:
            lines += [f'## {title}', '']
        lines += [part.to_markdown(index=False), '']
    if notes:
        lines += ['Measured rows:', '']
        lines += [f'[{n["footnote"]}] {_note_line(n)}' for n in notes]
        lines.append('')
    if any(n['scale'] == 'smoke' for n in notes):
        lines += [f'Scale {SMOKE_NOTE}', '']
    return '\n'.join(lines)


def _latex(table: PaperTable, frame: pd.DataFrame, notes: List[dict]) -> str:
    body = frame.drop(columns=[c for c in ('source',) if c in frame.columns]).to_latex(
        index=False, escape=True)
    lines = [f'% {table.title} -- generated by bike-bench tables', body]
    lines += [f'% [{n["footnote"]}] {_note_line(n)}' for n in notes]
    return '\n'.join(lines) + '\n'


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
                record[column] = _fmt2(100.0 * metrics[key]) + coverage
        config = str((run.get('config') or {}).get('path', ''))
        if os.path.isabs(config) and not os.path.relpath(
                config, paths.output_path()).startswith('..'):
            config = os.path.relpath(config, paths.output_path())  # under the output root
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


def _update_readme(written: Sequence[str], readme: str) -> None:
    begin, end = '<!-- tables:begin -->', '<!-- tables:end -->'
    rows = ['## tables/ — the paper\'s tables with measured numbers', '',
            'Generated by `make tables` (`bike-bench tables --readme results/README.md`)',
            'from `paper/` and `runs/`:', '']
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
    written = []
    os.makedirs(out_dir, exist_ok=True)
    for name in TABLE_ORDER:
        table = tables[name]
        frame, numeric, notes = build_table(table, runs, flops)
        base = os.path.join(out_dir, name)
        atomic_write_text(base + '.md', _markdown(table, frame, notes,
                                                  _runs_source(runs_dir, out_dir)))
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
