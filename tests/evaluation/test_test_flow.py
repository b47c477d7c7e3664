"""`bike-bench test` is config -> Runner -> test: the written config alone
reproduces the run with plain MMEngine, and the command's path is short."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bike_bench.cli.main import main as cli
from bike_bench.evaluation.results import validate_results

from .call_path import follow, layer
from .conftest import SMOKE_CONFIG

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


def _test_command(trained, tmp_path, out):
    return ['test', SMOKE_CONFIG, trained['checkpoint'], '--views', '2x1', '--out', str(out),
            '--work-dir', str(tmp_path / 'work'),
            '--cfg-options', f'test_dataloader.dataset.ann_file={trained["val12"]}']


def test_written_config_runs_with_plain_mmengine_to_the_same_results(trained, tmp_path):
    out = tmp_path / 'r.json'
    assert cli(_test_command(trained, tmp_path, out)) == 0
    first = validate_results(str(out))
    config = first['config']['path']
    text = Path(config).read_text()
    # The file holds the checkpoint and both hooks: nothing is added in code.
    assert f"load_from = '{trained['checkpoint']}'" in text
    assert "type='CheckpointLoaderHook'" in text and "type='ResultsFileHook'" in text
    os.rename(out, tmp_path / 'cli.json')
    script = ('from mmengine.config import Config\n'
              'from mmengine.runner import Runner\n'
              f'Runner.from_cfg(Config.fromfile({config!r})).test()\n')
    env = dict(os.environ, PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, '-c', script], cwd=str(tmp_path), env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    second = validate_results(str(out))
    for key in ('run_id', 'metrics', 'counts', 'skipped', 'per_class', 'confusion',
                'views', 'aggregation', 'dataset', 'checkpoint', 'inputs_key', 'run_key',
                'model', 'class_set', 'metric_options'):
        assert second[key] == first[key], key
    assert second['config']['path'] == first['config']['path']
    assert second['config']['hash'] == first['config']['hash']


def test_the_test_command_path_is_short_and_never_climbs(trained, tmp_path, capsys):
    """Following the command's arguments from cli/test.py call by call: at
    most 10 stays in at most 6 files, no call back up a layer."""
    out = tmp_path / 'r.json'
    stays, climbs = follow(lambda: cli(_test_command(trained, tmp_path, out)),
                           'cli/test.py')
    print(' -> '.join(stays))
    assert out.is_file()
    assert stays[0] == 'cli/test.py'
    assert len(stays) <= 10, stays
    assert len(set(stays)) <= 6, stays
    assert climbs == 0, stays
    # The layers only go down from the command (and back up by returns).
    assert layer(stays[0]) == 0


def test_quiet_by_default_config_and_hooks_with_verbose(trained, tmp_path, capfd):
    assert cli(_test_command(trained, tmp_path, tmp_path / 'q.json')) == 0
    quiet = capfd.readouterr().out
    assert 'Config:' not in quiet and 'Hooks will be executed' not in quiet
    assert 'results:' in quiet
    assert cli(_test_command(trained, tmp_path, tmp_path / 'v.json') + ['--verbose']) == 0
    verbose = capfd.readouterr().out
    assert 'Config:' in verbose and 'Hooks will be executed' in verbose
    # The log file keeps the config either way.
    logs = sorted((tmp_path / 'work').rglob('*.log'))
    assert logs and 'Config:' in logs[0].read_text()
