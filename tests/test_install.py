"""A regular (non-editable) install works from an empty folder.

A wheel of the project is built into a temporary folder and installed with
pip into a temporary target, then, from an empty working folder and with
only that target on the path, ``reproduce --list``, ``synth``, a smoke
``test``, ``tables`` and a smoke ``reproduce`` run. The shipped configs,
metafile, dataset specs, paper figures, toy CLIP, reference runs and CI
baseline must come from the installed package, nothing may be written into
it, and everything a command writes lies under the output root.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from bike_bench.paths import SHIPPED

REPO = Path(__file__).resolve().parents[1]
SMOKE = 'bike_tiny-vit-p16-res64_toy-clip-pre_1xb16-8x1x1-8e_synthetic-rgb'
K400 = 'bike_vit-b-p16_clip-openai-pre_8xb32-8x1x1-30e_kinetics400-rgb'
K400_TWIN = 'smoke_general_kinetics400_8f_4x3'
# What the build needs from the checkout: the code and the shipped data
# (the rest of results/ -- tables, benchmarks -- is maintainers' output).
SOURCES = ('pyproject.toml', 'setup.py', 'MANIFEST.in', 'README.md', 'bike_bench') + SHIPPED


def _snapshot(folder: Path):
    return sorted((str(p.relative_to(folder)), p.stat().st_size)
                  for p in folder.rglob('*') if p.is_file() and '__pycache__' not in p.parts)


@pytest.fixture(scope='module')
def installed(tmp_path_factory):
    """(site folder, environment, wheel) of a fresh non-editable install."""
    root = tmp_path_factory.mktemp('install')
    source, site, wheels = root / 'src', root / 'site', root / 'wheels'
    ignore = shutil.ignore_patterns('__pycache__', '*.pyc', '*.egg-info')
    for name in SOURCES:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=ignore)
        else:
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, source / name)
    out = subprocess.run(
        [sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation',
         '--quiet', '--wheel-dir', str(wheels), str(source)],
        capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
    wheel, = wheels.glob('bike_bench-*.whl')
    out = subprocess.run(
        [sys.executable, '-m', 'pip', 'install', '--no-deps', '--no-compile', '--quiet',
         '--target', str(site), str(wheel)],
        capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
    env = dict(os.environ)
    # Keep other path entries (e.g. test shims) but never a bike_bench checkout.
    kept = [p for p in env.get('PYTHONPATH', '').split(os.pathsep)
            if p and not (Path(p) / 'bike_bench').is_dir()]
    env['PYTHONPATH'] = os.pathsep.join([str(site)] + kept)
    env.pop('BIKE_BENCH_HOME', None)
    env.pop('BIKE_BENCH_SPECS', None)
    return site, env, wheel


def _cli(env, cwd, *args, timeout=600):
    out = subprocess.run([sys.executable, '-m', 'bike_bench.cli.main', *args],
                         capture_output=True, text=True, cwd=cwd, env=env,
                         timeout=timeout)
    return out.returncode, out.stdout + out.stderr


def test_installed_package_carries_its_data(installed, tmp_path):
    site, env, _ = installed
    data = site / 'bike_bench' / '.mim'
    assert (data / 'mmconfigs' / 'metafile.yml').is_file()
    assert (data / 'mmconfigs' / '_base_' / 'default_runtime.py').is_file()
    assert (data / 'manifests' / 'ucf101.yaml').is_file()
    assert (data / 'results' / 'paper' / 'k400_sota.yaml').is_file()
    # The toy CLIP the smoke configs start from ships too.
    assert (data / 'results' / 'toy_clip' / 'toy-clip_synthetic_fp16.pt').is_file()
    # The reference runs and the CI baseline are package data.
    assert (data / 'results' / 'runs' / 'smoke' / f'{K400_TWIN}.json').is_file()
    assert (data / 'results' / 'ci_baseline.json').is_file()
    code = ('import bike_bench, bike_bench.paths as p; print(bike_bench.__file__); '
            'print(p.data_root()); print(p.output_root()); print(p.source_checkout()); '
            'print(p.reference_runs_dir()); print(p.ci_baseline()); '
            'from bike_bench.reproduction import ci_regression as c; '
            'print(len(c.read_baseline()))')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         cwd=tmp_path, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    module, data_root, output_root, checkout, runs, baseline, count = \
        out.stdout.split('\n')[:7]
    assert module.startswith(str(site))
    assert Path(data_root) == data
    assert Path(output_root) == tmp_path.resolve()
    assert checkout == 'None'
    assert Path(runs) == data / 'results' / 'runs'
    assert Path(baseline) == data / 'results' / 'ci_baseline.json'
    assert int(count) > 0  # the shipped baseline is the default one


def test_wheel_ships_the_package_data(installed):
    _, _, wheel = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    for item in SHIPPED:
        path = (REPO / item)
        files = [path] if path.is_file() else [p for p in path.rglob('*') if p.is_file()
                                               and '__pycache__' not in p.parts
                                               and p.suffix != '.jsonl']
        assert files, item
        for file in files:
            assert 'bike_bench/.mim/' + file.relative_to(REPO).as_posix() in names, file


@pytest.mark.slow
def test_list_synth_and_smoke_test_from_an_empty_folder(installed, tmp_path):
    site, env, _ = installed
    before = _snapshot(site)
    user = tmp_path / 'user'
    user.mkdir()

    code, text = _cli(env, user, 'reproduce', '--list')
    assert code == 0, text
    assert 'bike_vit-l-p14_clip-openai-pre_32xb8-16x1x1-20e_kinetics400-rgb' in text
    assert 'smoke_general_kinetics400' in text

    code, text = _cli(env, user, 'synth', '--flavours', 'ucf101', '--classes', '2',
                      '--videos-per-class', '3')
    assert code == 0, text
    assert (user / 'data' / 'synthetic' / 'manifests' / 'smoke_val.jsonl').is_file()

    # A random-initialised checkpoint of the smoke model (no download needed).
    import torch
    from mmaction.registry import MODELS
    from mmengine.config import Config
    import bike_bench.models  # noqa: F401
    cfg = Config.fromfile(str(site / 'bike_bench' / '.mim' / 'mmconfigs' / f'{SMOKE}.py'))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    checkpoint = tmp_path / 'smoke.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, checkpoint)

    out = user / 'smoke_results.json'
    code, text = _cli(env, user, 'test', SMOKE, str(checkpoint), '--out', str(out))
    assert code == 0, text
    assert out.is_file()
    assert (user / 'work_dirs' / SMOKE).is_dir()  # outputs under the user's root
    assert _snapshot(site) == before  # nothing written into the package


def _files(folder: Path):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob('*') if p.is_file())


@pytest.mark.slow
def test_reproduce_from_an_empty_folder_agrees_with_the_shipped_reference(installed,
                                                                          tmp_path):
    """``reproduce`` of one smoke twin, run from an empty folder with the
    installed package: its outputs lie under that folder (the output root),
    the agreement report compares with the reference runs shipped in the
    package and agrees; ``tables`` writes there too and no README."""
    site, env, _ = installed
    before = _snapshot(site)
    user, home, scratch = tmp_path / 'user', tmp_path / 'home', tmp_path / 'tmp'
    for folder in (user, home, scratch):
        folder.mkdir()
    env = dict(env, HOME=str(home), TMPDIR=str(scratch))
    code, text = _cli(env, user, 'reproduce', '--only', K400, timeout=1800)
    reference = site / 'bike_bench' / '.mim' / 'results' / 'runs'
    assert f'agreement with the reference runs in {reference}:' in text, text
    assert code == 0, text  # every compared metric within tolerance
    rows = [line.split() for line in text.splitlines() if line.startswith(K400_TWIN)]
    assert {row[1] for row in rows} == {'acc/top1', 'fingerprint/test_frames'}
    assert all(row[-1] == 'ok' for row in rows)  # compared, not NEW
    measured = user / 'work_dirs' / 'reproduce' / 'runs' / 'smoke' / f'{K400_TWIN}.json'
    shipped = json.loads((reference / 'smoke' / f'{K400_TWIN}.json').read_text())
    assert json.loads(measured.read_text())['metrics']['acc/top1'] == \
        shipped['metrics']['acc/top1']
    assert (user / 'work_dirs' / 'reproduce' / 'tables' / 'model_zoo.md').is_file()
    assert (user / 'data' / 'synthetic' / 'kinetics400').is_dir()

    code, text = _cli(env, user, 'tables')
    assert code == 0, text
    assert (user / 'results' / 'tables' / 'model_zoo.md').is_file()
    assert not (user / 'results' / 'README.md').exists()  # no README rewritten

    assert _snapshot(site) == before  # nothing written into the package
    assert sorted(p.name for p in tmp_path.iterdir()) == ['home', 'tmp', 'user']
    assert _files(scratch) == []  # no temporary file left behind
    # In $HOME only third-party caches (matplotlib's font list, YAPF's grammar).
    assert all(f.startswith('.cache' + os.sep) for f in _files(home)), _files(home)


@pytest.mark.slow
def test_new_config_inherits_through_the_installed_package(installed, tmp_path):
    """A config written by `new-config` in an empty folder names no path of
    this machine and reads its base from wherever bike-bench is installed."""
    site, env, _ = installed
    user = tmp_path / 'user'
    videos = user / 'videos'
    code = ('import sys, numpy as np; from bike_bench.datasets.synthetic import write_mp4\n'
            'for split in ("train", "val"):\n'
            '    for c in ("jump", "run"):\n'
            '        write_mp4(f"videos/{split}/{c}/a.mp4", np.zeros((8, 32, 32, 3), np.uint8))')
    videos.mkdir(parents=True)
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         cwd=user, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    code, text = _cli(env, user, 'manifests', 'build', 'custom', '--name', 'mydata',
                      '--format', 'folder', '--source', 'videos', '--out', 'data/mydata')
    assert code == 0, text
    code, text = _cli(env, user, 'new-config', 'bike_tiny_mydata', '--from', SMOKE,
                      '--manifests', 'data/mydata', '--max-epochs', '2')
    assert code == 0, text
    written = (user / 'bike_tiny_mydata.py').read_text()
    assert str(site) not in written and str(REPO) not in written
    check = ('from mmengine.config import Config; '
             'c = Config.fromfile("bike_tiny_mydata.py"); '
             'print(c.model.num_classes, c.train_cfg.max_epochs, c.model.backbone.type)')
    out = subprocess.run([sys.executable, '-c', check], capture_output=True, text=True,
                         cwd=user, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ['2', '2', 'CLIPEncoder']


@pytest.mark.slow
def test_own_dataset_route_from_an_empty_folder(installed, tmp_path):
    """The README's "Your own dataset" route, command by command, from an
    empty folder with the installed package: a folder-per-class dataset of 4
    classes -> manifests named ``mydata`` -> a config outside any checkout ->
    train 2 epochs -> ``test --views 4x3`` -> ``zeroshot`` -> ``report`` ->
    ``tables --runs-dir`` puts the run in a row labelled ``mydata``."""
    site, env, _ = installed
    before = _snapshot(site)
    user, home, scratch = tmp_path / 'user', tmp_path / 'home', tmp_path / 'tmp'
    for folder in (user, home, scratch):
        folder.mkdir()
    env = dict(env, HOME=str(home), TMPDIR=str(scratch))
    # videos/<split>/<class>/*.mp4: 4 classes, 3 train and 2 val videos each,
    # 16 frames of 32 px (the smoke pipeline samples 8 segments).
    make = ('import numpy as np; from bike_bench.datasets.synthetic import write_mp4\n'
            'rng = np.random.default_rng(0)\n'
            'for split, count in (("train", 3), ("val", 2)):\n'
            '    for c, name in enumerate(("jump", "run", "swim", "throw")):\n'
            '        for i in range(count):\n'
            '            frames = rng.integers(0, 64, (16, 32, 32, 3), dtype=np.uint8)\n'
            '            frames[..., c % 3] += np.uint8(60 * (1 + c))\n'
            '            write_mp4(f"videos/{split}/{name}/{i}.mp4", frames)')
    out = subprocess.run([sys.executable, '-c', make], capture_output=True, text=True,
                         cwd=user, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    config = 'bike_tiny_mydata'
    ckpt = f'work_dirs/{config}/epoch_2.pth'
    code, text = _cli(env, user, 'manifests', 'build', 'custom', '--name', 'mydata',
                      '--format', 'folder', '--source', 'videos', '--out', 'data/mydata')
    assert code == 0, text
    manifests = sorted(str(p.relative_to(user))
                       for p in (user / 'data' / 'mydata' / 'manifests').glob('*.jsonl'))
    assert manifests, text
    for args in (('manifests', 'check', *manifests),
                 ('new-config', config, '--from', SMOKE, '--manifests', 'data/mydata',
                  '--max-epochs', '2'),
                 ('train', f'{config}.py'),
                 ('test', f'{config}.py', ckpt, '--views', '4x3'),
                 ('zeroshot', f'{config}.py', ckpt,
                  '--manifest', 'data/mydata/manifests/val.jsonl')):
        code, text = _cli(env, user, *args, timeout=1200)
        assert code == 0, f'{args}: {text}'
    results = user / 'work_dirs' / config / 'results'
    tested = sorted(results.glob('test_mydata-val_4x3_official_epoch_2_*.json'))
    assert len(tested) == 1, _files(user / 'work_dirs')
    files = sorted(results.glob('*.json'))
    assert len(files) >= 2, files  # the 4x3 test and the zero-shot run
    for path in files:
        assert json.loads(path.read_text())['dataset']['name'] == 'mydata', path
    # Portable run files: neither results nor the configs that ran hold the
    # user folder's absolute path (recorded relative to the output root).
    for path in files + sorted((user / 'work_dirs').rglob('configs/*.py')):
        assert str(user) not in path.read_text(), path

    code, text = _cli(env, user, 'report', str(tested[0].relative_to(user)), '--out', 'report')
    assert code == 0, text
    assert (user / 'report' / 'index.md').is_file()

    code, text = _cli(env, user, 'tables', '--runs-dir', str(results.relative_to(user)))
    assert code == 0, text
    assert "your_runs.md: row 'mydata'" in text, text
    table = results.parent / 'tables' / 'your_runs.md'
    assert table.is_file(), _files(user / 'work_dirs')
    rows = [line.strip('|').split('|') for line in table.read_text().splitlines()
            if line.startswith('|')]
    mine = [[cell.strip() for cell in row] for row in rows if row[0].strip() == 'mydata']
    assert {row[1] for row in mine} == {'test', 'zeroshot-full'}, table.read_text()
    assert '4x3' in {row[3] for row in mine}, table.read_text()
    assert all(row[8].startswith('work_dirs' + os.sep) for row in mine)  # config, relative

    assert _snapshot(site) == before  # nothing written into the package
    assert sorted(p.name for p in tmp_path.iterdir()) == ['home', 'tmp', 'user']
    assert _files(scratch) == []
    assert all(f.startswith('.cache' + os.sep) for f in _files(home)), _files(home)
