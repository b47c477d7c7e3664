"""``bike-bench compare-logs``: validation curves of several training logs.

Accepts official BIKE logs, MMEngine ``scalars.json`` files and MMEngine
work dirs; writes ``val_curves.png`` (one panel per metric, top-1 and/or
mAP, every run as one line) and ``summary.md`` (last and best figure per
run), and prints the table.
"""
import sys
from pathlib import Path
from typing import List, Optional

CURVES = 'val_curves.png'
SUMMARY = 'summary.md'
COLUMNS = ['log', 'kind', 'metric', 'epochs', 'evaluations', 'last', 'best',
           'best epoch', 'note']


def add_parser(subparsers):
    parser = subparsers.add_parser(
        'compare-logs',
        help='plot and tabulate validation accuracy of training logs',
        description=__doc__)
    parser.add_argument('logs', nargs='+', metavar='LOG',
                        help='official log, MMEngine scalars.json or work dir')
    parser.add_argument('--out', required=True, help='output directory')
    parser.add_argument('--labels', nargs='+', default=None,
                        help='one label per LOG (default: from the path)')
    parser.add_argument('--metric-key', default=None,
                        help='MMEngine validation key, e.g. acc/top1')
    parser.set_defaults(func=run)


def _default_label(path: Path, kind: str) -> str:
    if kind == 'official':
        return path.stem[:-len('_log')] if path.stem.endswith('_log') \
            else path.stem
    if path.is_dir():
        return path.name
    # <work_dir>/<timestamp>/vis_data/scalars.json -> work_dir
    parents = path.parents
    return parents[2].name if len(parents) > 2 else path.stem


def _rows(label: str, log) -> List[dict]:
    rows = []
    for run in log.runs:
        name = label if len(log.runs) == 1 else \
            f'{label} [run {run.index}/{len(log.runs)}]'
        row = dict.fromkeys(COLUMNS, '')
        row.update(log=name, kind=log.kind, note=run.note)
        if run.records:
            summary = run.summary()
            row.update(metric=summary.metric, epochs=summary.last_epoch,
                       evaluations=summary.evaluations, last=summary.last,
                       best=summary.best, **{'best epoch': summary.best_epoch})
        else:
            row.update(note='no validation results')
        if run.resumes:
            row['note'] = ', '.join(filter(None, [
                row['note'], f'resumed {run.resumes}x']))
        rows.append(row)
    for fusion in log.fusions:
        weights = ' '.join(f'{k}={v:g}' for k, v in fusion.weights.items())
        row = dict.fromkeys(COLUMNS, '')
        row.update(log=f'{label} [fusion {weights}]', kind=log.kind,
                   metric='top1', last=fusion.top1, best=fusion.top1,
                   note=f'score fusion, line {fusion.line}')
        rows.append(row)
    return rows


def _plot(curves: List[tuple], path: Path) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    metrics = sorted({metric for _, metric, _ in curves},
                     key=['top1', 'mAP'].index)
    fig, axes = plt.subplots(1, len(metrics), squeeze=False,
                             figsize=(6.5 * len(metrics), 4.5))
    for axis, metric in zip(axes[0], metrics):
        axis.set_prop_cycle(color=plt.cm.tab20.colors)  # > 10 logs stay apart
        for label, curve_metric, records in curves:
            if curve_metric == metric:
                axis.plot([r.epoch for r in records],
                          [r.value for r in records], marker='o',
                          markersize=3, label=label)
        axis.set_xlabel('epoch')
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.set_ylabel('single-view top-1 (%)' if metric == 'top1'
                        else 'mAP (%)')
        axis.grid(alpha=0.3)
        # below the panel, so that many logs never hide the curves
        axis.legend(fontsize=7, loc='upper center', ncol=2,
                    bbox_to_anchor=(0.5, -0.14))
    fig.suptitle('Validation during training')
    fig.savefig(path, dpi=120, bbox_inches='tight')
    plt.close(fig)


def compare_logs(logs: List[str], out: str, labels: Optional[List[str]] = None,
                 metric_key: Optional[str] = None) -> str:
    """Write the plot and the Markdown table; returns the table.

    Raises:
        LogParseError: a log cannot be parsed or has no validation lines.
        ValueError: the number of labels does not match the logs.
    """
    import pandas as pd

    from bike_bench.reproduction.official_logs import load_training_log

    if labels is not None and len(labels) != len(logs):
        raise ValueError(f'{len(labels)} labels for {len(logs)} logs')
    rows, curves = [], []
    for position, name in enumerate(logs):
        log = load_training_log(name, metric_key)
        label = labels[position] if labels else _default_label(
            Path(name), log.kind)
        rows.extend(_rows(label, log))
        for run in log.runs:
            if run.records:
                run_label = label if len(log.runs) == 1 else \
                    f'{label} [run {run.index}]'
                curves.append((run_label, run.metric, run.records))
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    _plot(curves, out_dir / CURVES)
    table = pd.DataFrame(rows, columns=COLUMNS).to_markdown(
        index=False, floatfmt='.3f')
    (out_dir / SUMMARY).write_text(
        '# Validation during training\n\nSingle-view validation as logged '
        'during training; last and best over the logged evaluations.\n\n'
        f'{table}\n\n![curves]({CURVES})\n', encoding='utf-8')
    return table


def run(args) -> int:
    from bike_bench.reproduction.official_logs import LogParseError

    try:
        table = compare_logs(args.logs, args.out, args.labels,
                             args.metric_key)
    except (LogParseError, ValueError) as error:
        print(f'compare-logs: error: {error}', file=sys.stderr)
        return 2
    print(table)
    print(f'\nwrote {Path(args.out) / CURVES} and {Path(args.out) / SUMMARY}')
    return 0
