"""The command line fails fast and plainly: argument mistakes are argparse
errors (exit 2) naming the thing, other errors one ``error:`` line (exit 1),
the traceback only with ``--debug``."""
import os
import subprocess
import sys

import pytest

from bike_bench.cli import main as cli_main

SMOKE = 'bike_tiny-vit-p16-res64_toy-clip-pre_1xb16-8x1x1-8e_synthetic-rgb'


def run_cli(*args, cwd=None):
    out = subprocess.run([sys.executable, '-m', 'bike_bench.cli.main', *args],
                         capture_output=True, text=True, cwd=cwd, timeout=120)
    return out.returncode, out.stdout + out.stderr


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp('ckpt') / 'model.pth'
    path.write_bytes(b'not read: the command stops at its arguments')
    return str(path)


def test_help_starts_without_heavy_imports():
    code = ('import sys; from bike_bench.cli.main import main\n'
            'try:\n    main(["--help"])\nexcept SystemExit:\n    pass\n'
            'heavy = [m for m in ("torch", "mmengine", "mmaction", "open_clip") '
            'if m in sys.modules]\nprint("HEAVY", heavy)')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert 'HEAVY []' in out.stdout


def test_missing_checkpoint_is_an_argument_error():
    code, text = run_cli('test', SMOKE, 'missing.pth')
    assert code == 2
    assert 'Traceback' not in text
    assert 'checkpoint not found: missing.pth' in text


@pytest.mark.parametrize('views', ['5x', '4x2', 'x3', '0x1'])
def test_malformed_views_are_argument_errors(views, checkpoint):
    code, text = run_cli('test', SMOKE, checkpoint, '--views', views)
    assert code == 2
    assert 'Traceback' not in text
    assert 'argument --views' in text and views.split('x')[0] in text


def test_unknown_dataset_is_an_argument_error_with_a_suggestion(checkpoint):
    code, text = run_cli('zeroshot', SMOKE, checkpoint, '--dataset', 'ucf-101')
    assert code == 2
    assert 'Traceback' not in text
    assert "unknown dataset 'ucf-101'" in text
    assert 'did you mean ucf101' in text


def test_dataset_without_the_protocol_is_an_argument_error(checkpoint):
    code, text = run_cli('zeroshot', SMOKE, checkpoint, '--dataset', 'charades')
    assert code == 2 and 'Traceback' not in text
    assert 'charades has no zeroshot protocol' in text


def test_unknown_config_name_suggests_the_closest(checkpoint):
    typo = 'bike_vit-b-p16_clip-openai-pre_8xb32-8x1x1-30e_kinetics40-rgb'
    code, text = run_cli('test', typo, checkpoint)
    assert code == 2 and 'Traceback' not in text
    assert f'config not found: {typo}' in text
    assert 'bike_vit-b-p16_clip-openai-pre_8xb32-8x1x1-30e_kinetics400-rgb' in text


def test_config_names_resolve_like_paths(checkpoint, tmp_path):
    from bike_bench.paths import config_dir, resolve_config
    by_path = str(config_dir() / f'{SMOKE}.py')
    assert resolve_config(by_path) == by_path
    for name in (SMOKE, f'{SMOKE}.py', f'mmconfigs/{SMOKE}.py'):
        assert os.path.samefile(resolve_config(name), by_path), name
    local = tmp_path / 'mine.py'
    local.write_text('x = 1\n')
    assert resolve_config(str(local)) == str(local)


def test_runtime_error_is_one_line_and_debug_shows_the_traceback(monkeypatch, capsys):
    def fails(args):
        raise FileNotFoundError('manifest not found: data/x/manifests/val.jsonl')

    parser = cli_main.build_parser

    def build():
        built = parser()
        built._subparsers._group_actions[0].choices['tables'].set_defaults(func=fails)
        return built

    monkeypatch.setattr(cli_main, 'build_parser', build)
    assert cli_main.main(['tables']) == 1
    err = capsys.readouterr().err
    assert err.splitlines()[0] == 'error: manifest not found: data/x/manifests/val.jsonl'
    assert 'Traceback' not in err
    with pytest.raises(FileNotFoundError):
        cli_main.main(['tables', '--debug'])


def test_output_root_is_the_cwd_or_bike_bench_home(tmp_path, monkeypatch):
    from bike_bench import paths
    monkeypatch.delenv(paths.HOME_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    assert paths.output_root() == tmp_path.resolve()
    assert paths.user_path('data', 'synthetic') == os.path.join('data', 'synthetic')
    monkeypatch.chdir(os.path.dirname(__file__))
    monkeypatch.setenv(paths.HOME_ENV, str(tmp_path))
    assert paths.output_root() == tmp_path.resolve()
    assert paths.output_path('results', 'runs') == str(tmp_path.resolve() / 'results' / 'runs')
    assert paths.user_path('data') == str(tmp_path.resolve() / 'data')
