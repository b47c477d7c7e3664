"""`make reproduce` compares what it measured with the shipped reference runs."""
from __future__ import annotations

import json
import os
import shutil

import pytest

from bike_bench import paths
from bike_bench.reproduction.agreement import report
from bike_bench.reproduction.settings import ReproduceSettings

SMOKE = os.path.join(paths.reference_runs_dir(), 'smoke')
RUN = 'smoke_general_kinetics400_8f_4x3'


def test_local_runs_are_not_the_reference(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv('BIKE_BENCH_HOME', raising=False)
    settings = ReproduceSettings.under()
    # relative under the current folder as root (portable run files)
    assert settings.runs_dir == os.path.join('work_dirs', 'reproduce', 'runs')
    assert os.path.abspath(settings.tables_dir) == str(tmp_path / 'work_dirs' / 'reproduce' / 'tables')
    assert os.path.abspath(settings.runs_dir) != os.path.abspath(paths.reference_runs_dir())


def test_agreement_report_lists_reference_measured_difference(tmp_path):
    source = os.path.join(SMOKE, RUN + '.json')
    if not os.path.isfile(source):
        pytest.skip('no committed smoke runs')
    measured = tmp_path / 'runs' / 'smoke'
    measured.mkdir(parents=True)
    shutil.copy(source, measured / (RUN + '.json'))
    text, ok = report(str(tmp_path / 'runs'))  # the shipped reference
    assert ok and RUN in text and str(paths.reference_runs_dir()) in text
    data = json.load(open(source))
    data['metrics']['acc/top1'] = data['metrics']['acc/top1'] - 0.5
    (measured / (RUN + '.json')).write_text(json.dumps(data))
    text, ok = report(str(tmp_path / 'runs'))
    assert not ok and 'MOVED' in text and '-0.5000' in text
