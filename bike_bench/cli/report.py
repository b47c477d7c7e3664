"""``bike-bench report``: figures and tables of one results file."""
from __future__ import annotations


def add_parser(subparsers):
    parser = subparsers.add_parser(
        'report', help='per-class table, confusion matrix, zero-shot split and '
        'few-shot figures of one results JSON, with a Markdown index')
    parser.add_argument('results', help='a results JSON (bike-bench test / zeroshot / '
                        'fewshot / reproduce), or the fewshot_summary.json of '
                        'bike-bench fewshot')
    parser.add_argument('--out', required=True, help='folder to write the report to')
    parser.set_defaults(func=run)


def run(args) -> int:
    import os
    from bike_bench.evaluation.results import ResultsFileError
    from bike_bench.visualization.run_report import write_report
    if not os.path.isfile(args.results):
        print(f'error: results file not found: {args.results}')
        return 2
    try:
        written = write_report(args.results, args.out)
    except (ResultsFileError, ValueError) as error:
        print(f'error: {args.results}: {error}')
        return 2
    for what, path in written.items():
        print(f'{what}: {path}')
    return 0
