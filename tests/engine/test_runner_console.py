"""``BIKERunner``: MMEngine's environment and config dump in the log file only.

MMEngine's Runner logs torch's build settings (``collect_env``) and the
whole config to the console when it is built; ``bike-bench fewshot`` showed
both for every (shots, seed). ``--verbose`` (log level DEBUG) shows them.
"""
from __future__ import annotations

import glob
import os

from mmengine.config import Config

from bike_bench.cli.common import build_runner

SMOKE_CONFIG = os.path.join(os.path.dirname(__file__), '..', '..', 'mmconfigs',
                            'bike_tiny-vit-p16-res64_toy-clip-pre_1xb16-8x1x1-8e_synthetic-rgb.py')


def _build(tmp_path, level, runner_type='BIKERunner'):
    cfg = Config.fromfile(SMOKE_CONFIG)
    cfg.work_dir = str(tmp_path / level)
    cfg.log_level = level
    cfg.experiment_name = f'console-{level}-{runner_type}'
    if runner_type:
        cfg.runner_type = runner_type
    return build_runner(cfg)


def _log_file(tmp_path, level):
    (path,) = glob.glob(str(tmp_path / level / '*' / '*.log'))
    return open(path, encoding='utf-8').read()


def test_the_environment_dump_stays_in_the_log_file(tmp_path, capsys):
    _build(tmp_path, 'INFO')
    out = capsys.readouterr()
    shown = out.out + out.err
    assert 'System environment' not in shown and 'Build settings' not in shown
    assert 'Config:' not in shown
    assert shown.count('environment and config: in ') == 1 and '(--verbose prints them)' in shown
    log = _log_file(tmp_path, 'INFO')
    assert 'System environment' in log and 'Config:' in log
    assert 'environment and config:' not in log


def test_verbose_shows_the_environment_dump(tmp_path, capsys):
    _build(tmp_path, 'DEBUG')
    out = capsys.readouterr()
    assert 'System environment' in out.out + out.err


def test_below_info_the_environment_is_not_gathered(tmp_path, capsys, monkeypatch):
    import mmengine.runner.runner as mm_runner

    def fail():
        raise AssertionError('collect_env ran although nothing logs it')

    monkeypatch.setattr(mm_runner, 'collect_env', fail)
    _build(tmp_path, 'ERROR')
    out = capsys.readouterr()
    assert 'System environment' not in out.out + out.err
    assert 'System environment' not in _log_file(tmp_path, 'ERROR')
    monkeypatch.undo()
    _build(tmp_path, 'INFO')  # at INFO it is gathered and written, as before
    assert 'System environment' in _log_file(tmp_path, 'INFO')


def test_fewshot_training_uses_the_quiet_runner():
    import inspect
    from bike_bench.evaluation import fewshot
    assert "cfg.setdefault('runner_type', 'BIKERunner')" in inspect.getsource(
        fewshot.train_and_test)
