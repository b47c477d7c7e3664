"""The paper's figures live in results/paper/*.yaml only: every figure the
metafile's ``Results`` quotes is a cell of a paper row that entry links to
(``Paper Rows``), so a typo in either file fails here."""
from __future__ import annotations

from bike_bench.metafile import load_metafile
from bike_bench.reproduction.paper import load_tables


def _linked_figures(record, tables):
    figures = set()
    for link in record.metadata.get('Paper Rows') or []:
        table = tables[link['table']]
        row = next(r for r in table.rows if r.id == link['row'])
        for metric in link['metrics']:
            cell = row.metrics.get(metric)
            if cell is None:
                continue
            figures.add(round(float(cell.value), 2))
            if cell.std is not None:
                figures.add(round(float(cell.std), 2))
    return figures


def test_metafile_results_quote_the_linked_paper_cells():
    tables = load_tables()
    problems = []
    checked = 0
    for record in load_metafile():
        if not record.metadata.get('Paper Rows'):
            continue  # smoke configs and models beyond the paper
        figures = _linked_figures(record, tables)
        if not record.metrics:
            problems.append(f'{record.name}: links paper rows but has no Results')
        for key, value in record.metrics.items():
            checked += 1
            if round(value, 2) not in figures:
                problems.append(f'{record.name}: Results {key} = {value} is in none of '
                                f'its paper rows ({sorted(figures)})')
    assert not problems, '\n'.join(problems)
    assert checked >= 30
