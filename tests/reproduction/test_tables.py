"""Tables a researcher can use: checked on the generated files."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pandas as pd
import pytest

from bike_bench import paths
from bike_bench.reproduction import table_cells, table_render
from bike_bench.reproduction import tables as tables_mod

RUNS = str(paths.reference_runs_dir())


@pytest.fixture(scope='module')
def built(tmp_path_factory):
    if not os.path.isdir(os.path.join(RUNS, 'smoke')):
        pytest.skip('no committed results/runs/smoke')
    out = tmp_path_factory.mktemp('tables')
    written = tables_mod.build_tables(RUNS, str(out))
    return out, written


def _numeric_columns(frame, table):
    metrics = set(table.metrics)
    return [c for c in frame.columns if c in metrics or c == 'footnote' or
            c.endswith(('_std', '_n', '_approx', '_diff'))]


def test_every_numeric_csv_column_reads_as_numbers(built):
    out, _ = built
    tables = tables_mod.load_tables()
    for name in tables_mod.TABLE_ORDER:
        frame = pd.read_csv(out / f'{name}.csv')
        numeric = _numeric_columns(frame, tables[name])
        assert set(tables[name].metrics) & set(frame.columns), name
        for column in numeric:
            assert pd.api.types.is_numeric_dtype(frame[column]), (name, column)
        notes = pd.read_csv(out / f'{name}_footnotes.csv')
        used = set(frame['footnote'].dropna().astype(int)) if 'footnote' in frame else set()
        assert used <= set(notes['footnote']), name


def test_one_row_per_measured_run(built):
    out, _ = built
    for name in tables_mod.TABLE_ORDER:
        frame = pd.read_csv(out / f'{name}.csv')
        measured = frame[frame['kind'].str.startswith('measured')]
        if 'run_id' in frame:
            assert measured['run_id'].is_unique, name
    k400 = pd.read_csv(out / 'k400_sota.csv')
    paper = k400[k400['kind'] == 'paper']
    # Paper rows carry only paper figures: no measured number spread over them.
    assert 'run_id' not in paper or paper['run_id'].isna().all()


def test_charades_has_the_harness_row_with_its_map(built):
    out, _ = built
    frame = pd.read_csv(out / 'charades.csv')
    ours = frame[frame['method'].str.startswith('BIKE (this harness)')]
    assert len(ours) >= 1 and ours['mAP'].notna().all()
    assert 'BIKE (this harness)' in (out / 'charades.md').read_text()


def test_latex_numbers_are_formatted(built):
    out, _ = built
    for name in tables_mod.TABLE_ORDER:
        text = (out / f'{name}.tex').read_text()
        body = '\n'.join(l for l in text.splitlines() if not l.startswith('%'))
        assert not re.search(r'\d+\.\d{4,}', body), name


def test_wide_markdown_is_split(built):
    out, _ = built
    for name in tables_mod.TABLE_ORDER:
        for line in (out / f'{name}.md').read_text().splitlines():
            if line.startswith('|'):
                assert line.count('|') - 1 <= table_render.MAX_MARKDOWN_COLUMNS + 4, name
    assert pd.read_csv(out / 'model_zoo.csv').shape[1] > table_render.MAX_MARKDOWN_COLUMNS


def test_topk_at_or_above_the_class_count_is_not_applicable():
    run = dict(dataset=dict(num_classes=5), protocol={})
    assert table_cells._not_applicable(run, 'acc/top5') == 'top-5 with 5 classes'
    assert table_cells._not_applicable(run, 'acc/top1') == ''
    half = dict(protocol=dict(splits=[dict(seed=0, classes=[0, 1, 2, 3])]))
    assert table_cells._not_applicable(half, 'half/top5_mean').startswith('top-5')


def test_users_results_are_placed_by_their_config_and_the_rest_listed(tmp_path):
    source = os.path.join(RUNS, 'smoke', 'smoke_general_kinetics400_8f_4x3.json')
    if not os.path.isfile(source):
        pytest.skip('no committed smoke K400 run')
    data = json.load(open(source))
    experiment = data['reproduce']['experiments'][0]
    del data['reproduce']
    data['run_id'] = 'my_own_test_run'
    data['config']['path'] = f'/somewhere/mmconfigs/{experiment}.py'
    (tmp_path / 'mine.json').write_text(json.dumps(data))
    data['config']['path'] = '/somewhere/my_experiment.py'
    (tmp_path / 'other.json').write_text(json.dumps(data))
    (tmp_path / 'notes.json').write_text('{"hello": 1}')
    lines = []
    tables_mod.build_tables(str(tmp_path), str(tmp_path / 'tables'), echo=lines.append)
    text = '\n'.join(lines)
    assert 'mine.json -> ' + experiment in text
    assert 'other.json' in text and 'derives from no experiment' in text
    assert 'notes.json' in text and 'not a valid results file' in text
    zoo = pd.read_csv(tmp_path / 'tables' / 'model_zoo.csv')
    assert 'my_own_test_run' in set(zoo['run_id'].dropna())
    assert set(zoo.loc[zoo['run_id'] == 'my_own_test_run', 'scale']) == {'user'}


def test_a_topk_cell_left_out_of_the_results_file_reads_n_a():
    """Results files leave top-k of k or fewer classes out; the cell says why
    instead of failing on the missing metric."""
    from bike_bench.reproduction.table_cells import _cell
    run = dict(metrics={'acc/top1': 0.5}, dataset=dict(num_classes=4), _path='r.json')
    cell = _cell(run, 'acc/top5')
    assert cell['value'] is None and cell['na'] == 'top-5 with 4 classes'


def test_tables_touch_a_readme_only_when_asked(tmp_path, monkeypatch):
    results = tmp_path / 'results'
    (results / 'runs').mkdir(parents=True)
    readme = results / 'README.md'
    readme.write_text('# my notes\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv('BIKE_BENCH_HOME', raising=False)
    from bike_bench.cli.main import main
    assert main(['tables']) == 0  # <output root>/results/runs -> results/tables
    assert (results / 'tables' / 'model_zoo.md').is_file()
    assert readme.read_text() == '# my notes\n'
    assert main(['tables', '--readme', str(readme)]) == 0
    text = readme.read_text()
    assert text.startswith('# my notes\n') and '<!-- tables:begin -->' in text
    assert '[model_zoo](tables/model_zoo.md)' in text


def _own_results(run_id, dataset, protocol, metrics, classes=4, views='4x3'):
    from bike_bench.evaluation.results import build_results
    return build_results(
        run_id=run_id, protocol=dict(name=protocol), metrics=metrics,
        views=dict(label=views), aggregation='mean',
        dataset=dict(name=dataset, split='val', manifest_hash='0' * 64,
                     num_classes=classes, num_videos=8),
        checkpoint=dict(path='work_dirs/mine/epoch_2.pth', sha256='1' * 64),
        config=dict(path='bike_tiny_mydata.py', hash='2' * 64, resolved='x = 1'),
        environment=dict(git_commit='abc', packages={}, device='cpu'), wall_time_s=1.0,
        counts=dict(expected=8, evaluated=8, skipped=0), skipped=[])


def test_runs_of_an_own_dataset_get_a_row_named_by_the_dataset(tmp_path):
    """A results file whose config derives from no registry experiment (a
    dataset of one's own) is not dropped: ``your_runs`` has a row named by
    its ``dataset.name`` with its top-1/top-5 and views; the paper tables
    do not show it."""
    runs = tmp_path / 'results'
    runs.mkdir()
    (runs / 'test.json').write_text(json.dumps(_own_results(
        'test_mydata-val_4x3', 'mydata', 'test',
        {'acc/top1': 0.625, 'acc/mean_class_accuracy': 0.625})))
    (runs / 'zs.json').write_text(json.dumps(_own_results(
        'zeroshot_mydata', 'mydata', 'zeroshot', {'full/top1': 0.5, 'full/top5': 0.875},
        classes=6, views='1x1')))
    (runs / 'other.json').write_text(json.dumps(_own_results(
        'no_top1', 'mydata', 'test', {'acc/mean_class_accuracy': 0.5})))
    lines = []
    written = tables_mod.build_tables(str(runs), str(tmp_path / 'tables'), echo=lines.append)
    assert str(tmp_path / 'tables' / 'your_runs.md') in written
    text = '\n'.join(lines)
    assert "your_runs.md: row 'mydata' from test.json" in text
    assert 'other.json' in text and 'no top-1 metric' in text
    frame = pd.read_csv(tmp_path / 'tables' / 'your_runs.csv', dtype=str)
    assert list(frame['dataset']) == ['mydata', 'mydata']
    assert list(frame['protocol']) == ['test', 'zeroshot']
    assert list(frame['views']) == ['4x3', '1x1']
    assert list(frame['top-1']) == ['62.50', '50.00']
    assert list(frame['top-5']) == ['n/a (top-5 with 4 classes)', '87.50']
    markdown = (tmp_path / 'tables' / 'your_runs.md').read_text()
    assert any(line.startswith('| mydata') and '| 62.50 ' in line
               for line in markdown.splitlines())
    zoo = pd.read_csv(tmp_path / 'tables' / 'model_zoo.csv')
    assert 'run_id' not in zoo or not set(zoo['run_id'].dropna()) & {
        'test_mydata-val_4x3', 'zeroshot_mydata'}


def test_no_own_runs_no_your_runs_table(tmp_path):
    (tmp_path / 'runs').mkdir()
    written = tables_mod.build_tables(str(tmp_path / 'runs'), str(tmp_path / 'tables'))
    assert not any(os.path.basename(path).startswith('your_runs') for path in written)
    assert not (tmp_path / 'tables' / 'your_runs.md').exists()


def test_a_partial_set_of_runs_says_which_rows_are_not_measured(tmp_path):
    """Tables on a partial set (e.g. a sweep still running): the rows no
    results file stands for stay without a measured row, and the table says
    which and from which registry entries."""
    import shutil
    runs = tmp_path / 'runs' / 'smoke'
    runs.mkdir(parents=True)
    one = Path(RUNS) / 'smoke' / 'smoke_general_kinetics400_8f_4x3.json'
    shutil.copy(one, runs / one.name)
    tables_mod.build_tables(str(tmp_path / 'runs'), str(tmp_path / 'tables'))
    text = (tmp_path / 'tables' / 'few_shot.md').read_text()
    assert 'Not measured yet' in text and 'bike-bench reproduce --status' in text
    assert 'fewshot' in text.split('Not measured yet', 1)[1]
    full = (tmp_path / 'full')
    tables_mod.build_tables(RUNS, str(full))
    assert 'Not measured yet' not in (full / 'few_shot.md').read_text()
