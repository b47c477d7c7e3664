"""A regular (non-editable) install works from an empty folder.

The project is installed with pip into a temporary target (as a wheel would
be), then, from an empty working folder and with only that target on the
path, ``reproduce --list``, ``synth`` and a smoke ``test`` run. The shipped
configs, metafile, dataset specs and paper figures must come from the
installed package, and nothing may be written into it.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SMOKE = 'bike_tiny-vit-p16-res64_random-init_1xb16-8x1x1-8e_synthetic-rgb'
# What the build needs from the checkout (results/ beyond paper/ and the toy
# CLIP is output).
SOURCES = ('pyproject.toml', 'setup.py', 'MANIFEST.in', 'README.md', 'bike_bench',
           'mmconfigs', 'manifests', os.path.join('results', 'paper'),
           os.path.join('results', 'toy_clip'))


def _snapshot(folder: Path):
    return sorted((str(p.relative_to(folder)), p.stat().st_size)
                  for p in folder.rglob('*') if p.is_file() and '__pycache__' not in p.parts)


@pytest.fixture(scope='module')
def installed(tmp_path_factory):
    """(site folder, environment) of a fresh non-editable install."""
    root = tmp_path_factory.mktemp('install')
    source, site = root / 'src', root / 'site'
    ignore = shutil.ignore_patterns('__pycache__', '*.pyc', '*.egg-info')
    for name in SOURCES:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=ignore)
        else:
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, source / name)
    out = subprocess.run(
        [sys.executable, '-m', 'pip', 'install', '--no-deps', '--no-build-isolation',
         '--no-compile', '--quiet', '--target', str(site), str(source)],
        capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
    env = dict(os.environ)
    # Keep other path entries (e.g. test shims) but never a bike_bench checkout.
    kept = [p for p in env.get('PYTHONPATH', '').split(os.pathsep)
            if p and not (Path(p) / 'bike_bench').is_dir()]
    env['PYTHONPATH'] = os.pathsep.join([str(site)] + kept)
    env.pop('BIKE_BENCH_HOME', None)
    env.pop('BIKE_BENCH_SPECS', None)
    return site, env


def _cli(env, cwd, *args, timeout=600):
    out = subprocess.run([sys.executable, '-m', 'bike_bench.cli.main', *args],
                         capture_output=True, text=True, cwd=cwd, env=env,
                         timeout=timeout)
    return out.returncode, out.stdout + out.stderr


def test_installed_package_carries_its_data(installed, tmp_path):
    site, env = installed
    data = site / 'bike_bench' / '.mim'
    assert (data / 'mmconfigs' / 'metafile.yml').is_file()
    assert (data / 'mmconfigs' / '_base_' / 'default_runtime.py').is_file()
    assert (data / 'manifests' / 'ucf101.yaml').is_file()
    assert (data / 'results' / 'paper' / 'k400_sota.yaml').is_file()
    # The toy CLIP the smoke configs start from ships too.
    assert (data / 'results' / 'toy_clip' / 'toy-clip_synthetic_fp16.pt').is_file()
    code = ('import bike_bench, bike_bench.paths as p; print(bike_bench.__file__); '
            'print(p.data_root()); print(p.output_root()); print(p.source_checkout())')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         cwd=tmp_path, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    module, data_root, output_root, checkout = out.stdout.split('\n')[:4]
    assert module.startswith(str(site))
    assert Path(data_root) == data
    assert Path(output_root) == tmp_path.resolve()
    assert checkout == 'None'


@pytest.mark.slow
def test_list_synth_and_smoke_test_from_an_empty_folder(installed, tmp_path):
    site, env = installed
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


@pytest.mark.slow
def test_new_config_inherits_through_the_installed_package(installed, tmp_path):
    """A config written by `new-config` in an empty folder names no path of
    this machine and reads its base from wherever bike-bench is installed."""
    site, env = installed
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
