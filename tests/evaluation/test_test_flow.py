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
    # recorded relative to each run's output root (here: its current folder)
    def where(path, cwd):
        return path if os.path.isabs(path) else os.path.join(cwd, path)
    assert where(second['config']['path'], str(tmp_path)) == \
        where(first['config']['path'], os.getcwd())
    assert second['config']['hash'] == first['config']['hash']


def test_written_config_on_other_data_warns_naming_both_manifests(trained, tmp_path):
    """The written config records the manifest it was written for; run on
    another (here: the 12-video set replaced by the full validation set) it
    says so in one warning line with both hashes and counts."""
    from bike_bench.datasets.manifest import read_manifest
    out = tmp_path / 'r.json'
    assert cli(_test_command(trained, tmp_path, out)) == 0
    config = validate_results(str(out))['config']['path']
    os.remove(out)
    script = ('from mmengine.config import Config\n'
              'from mmengine.runner import Runner\n'
              f'cfg = Config.fromfile({config!r})\n'
              f'cfg.test_dataloader.dataset.ann_file = {trained["val"]!r}\n'
              'Runner.from_cfg(cfg).test()\n')
    env = dict(os.environ, PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, '-c', script], cwd=str(tmp_path), env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    written = read_manifest(trained['val12'], check_labels=False)
    other = read_manifest(trained['val'], check_labels=False)
    lines = [line for line in (done.stdout + done.stderr).splitlines()
             if 'is not the one this config was written for' in line]
    assert len(lines) == 1, lines
    assert (f'{other.content_hash[:12]} ({len(other.entries)} videos)' in lines[0]
            and f'{written.content_hash[:12]} ({len(written.entries)} videos)' in lines[0])


def test_written_config_run_from_another_folder_writes_under_that_folder(
        trained, tmp_path, monkeypatch):
    """A written config holds its work dir relative to the root it ran under:
    run again from another clone (here: another folder), everything lands
    under that folder and the metrics are the same."""
    first_root, second_root = tmp_path / 'first', tmp_path / 'second'
    first_root.mkdir()
    second_root.mkdir()
    monkeypatch.chdir(first_root)
    assert cli(['test', SMOKE_CONFIG, trained['checkpoint'], '--views', '2x1',
                '--cfg-options', f'test_dataloader.dataset.ann_file={trained["val12"]}']) == 0
    made = sorted(first_root.rglob('results/*.json'))
    assert len(made) == 1
    first = validate_results(str(made[0]))
    config = first_root / first['config']['path']
    text = config.read_text()
    assert "work_dir = 'work_dirs/" in text and str(first_root) not in text
    monkeypatch.chdir(second_root)
    assert cli(['test', str(config), trained['checkpoint']]) == 0
    again = sorted(second_root.rglob('results/*.json'))
    assert len(again) == 1 and sorted(first_root.rglob('results/*.json')) == made
    second = validate_results(str(again[0]))
    assert second['metrics'] == first['metrics'] and second['counts'] == first['counts']


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
    assert 'System environment:' not in quiet  # the shipped config: plain Runner
    assert 'results:' in quiet
    assert cli(_test_command(trained, tmp_path, tmp_path / 'v.json') + ['--verbose']) == 0
    verbose = capfd.readouterr().out
    assert 'Config:' in verbose and 'Hooks will be executed' in verbose
    assert 'System environment:' in verbose
    # The log file keeps the config either way.
    logs = sorted((tmp_path / 'work').rglob('*.log'))
    assert logs and 'Config:' in logs[0].read_text()


def test_a_rerun_of_a_config_that_replaced_its_own_file_still_refuses_another_runs(
        trained, tmp_path):
    """``reproduce`` writes its configs with ``replace=True`` for its own
    scratch file; ``bike-bench test`` of such a config with other views and
    an existing ``--out`` of another run refuses, as without it."""
    from mmengine.config import Config
    out = tmp_path / 'r.json'
    assert cli(_test_command(trained, tmp_path, out)) == 0
    written = Config.fromfile(validate_results(str(out))['config']['path'])
    for hook in written.custom_hooks:
        if hook['type'] == 'ResultsFileHook':
            hook['replace'] = True
    as_reproduce_wrote_it = tmp_path / 'reproduce_written.py'
    written.dump(str(as_reproduce_wrote_it))
    before = out.read_text()
    with pytest.raises(SystemExit, match=f'error: {out} holds another run'):
        cli(['test', str(as_reproduce_wrote_it), trained['checkpoint'], '--views', '1x1',
             '--out', str(out), '--work-dir', str(tmp_path / 'work2')])
    assert out.read_text() == before
