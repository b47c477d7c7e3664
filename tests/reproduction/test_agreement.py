"""`make reproduce` compares what it measured with the committed reference runs."""
from __future__ import annotations

import json
import os
import shutil

import pytest

from bike_bench.reproduction.agreement import report
from bike_bench.reproduction.reproduce import LOCAL_RUNS_DIR, RUNS_DIR

SMOKE = os.path.join(RUNS_DIR, 'smoke')
RUN = 'smoke_general_kinetics400_8f_4x3'


def test_local_runs_are_not_the_reference():
    assert os.path.abspath(LOCAL_RUNS_DIR) != os.path.abspath(RUNS_DIR)
    assert 'work_dirs' in LOCAL_RUNS_DIR


def test_agreement_report_lists_reference_measured_difference(tmp_path):
    source = os.path.join(SMOKE, RUN + '.json')
    if not os.path.isfile(source):
        pytest.skip('no committed smoke runs')
    measured = tmp_path / 'runs' / 'smoke'
    measured.mkdir(parents=True)
    shutil.copy(source, measured / (RUN + '.json'))
    text, ok = report(str(tmp_path / 'runs'), RUNS_DIR)
    assert ok and RUN in text
    data = json.load(open(source))
    data['metrics']['acc/top1'] = data['metrics']['acc/top1'] - 0.5
    (measured / (RUN + '.json')).write_text(json.dumps(data))
    text, ok = report(str(tmp_path / 'runs'), RUNS_DIR)
    assert not ok and 'MOVED' in text and '-0.5000' in text
