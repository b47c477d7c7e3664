"""`bike-bench report`: per-class table, confusion matrix, split and shot figures."""
from __future__ import annotations

import json
import os

import pytest
from mmengine.config import Config

from bike_bench.cli.main import main

ROOT = os.path.join(os.path.dirname(__file__), '..', '..')
SMOKE = os.path.join(ROOT, 'results', 'runs', 'smoke')


def _copy(name, tmp_path, **changes):
    path = os.path.join(SMOKE, name + '.json')
    if not os.path.isfile(path):
        pytest.skip(f'no committed {name}')
    data = json.load(open(path))
    data.update(changes)
    out = tmp_path / (name + '.json')
    out.write_text(json.dumps(data))
    return out, data


def test_general_run_report_has_per_class_table_and_confusion(tmp_path, capsys):
    names = ['a b c', 'd e f', 'g h i']
    results, _ = _copy('smoke_general_kinetics400_8f_4x3', tmp_path,
                       confusion={'BIKEAccMetric': dict(classes=names,
                                                        matrix=[[2, 1, 0], [0, 3, 0], [1, 0, 2]])})
    assert main(['report', str(results), '--out', str(tmp_path / 'r')]) == 0
    out = tmp_path / 'r'
    assert (out / 'confusion.png').stat().st_size > 1000
    assert 'accuracy' in (out / 'per_class.md').read_text()
    index = (out / 'index.md').read_text()
    assert '![confusion matrix](confusion.png)' in index and 'acc/top1' in index


def test_zeroshot_and_fewshot_figures(tmp_path):
    zs, _ = _copy('smoke_zeroshot-half_ucf101_8f_1x1', tmp_path)
    assert main(['report', str(zs), '--out', str(tmp_path / 'zs')]) == 0
    assert (tmp_path / 'zs' / 'zeroshot_splits.png').is_file()
    for shots in (1, 2, 5):
        fs, _ = _copy(f'smoke_fewshot_ucf101_8f_1x1_None-VCS_{shots}shot', tmp_path)
    assert main(['report', str(fs), '--out', str(tmp_path / 'fs')]) == 0
    assert (tmp_path / 'fs' / 'fewshot_shots.png').is_file()
    from bike_bench.visualization.run_report import fewshot_points
    points = fewshot_points(str(fs), json.load(open(fs)))
    assert sorted({p[0] for p in points}) == [1, 2, 5]


def test_missing_results_file_is_one_error_line(tmp_path, capsys):
    assert main(['report', str(tmp_path / 'nope.json'), '--out', str(tmp_path)]) == 2
    assert capsys.readouterr().out.startswith('error: results file not found')


def test_tensorboard_backend_is_a_config_option():
    cfg = Config.fromfile(os.path.join(ROOT, 'mmconfigs', '_base_', 'tensorboard.py'))
    assert {b['type'] for b in cfg.visualizer.vis_backends} == {
        'LocalVisBackend', 'TensorboardVisBackend'}
    pytest.importorskip('tensorboard')
