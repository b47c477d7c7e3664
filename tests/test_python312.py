"""bike-bench on Python 3.12 (the GPU machines' Python), when one is here.

CI runs on this machine's Python; this test uses a 3.12 interpreter that
has the pinned stack installed — ``$BIKE_BENCH_PY312``, else
``python3.12`` on the PATH or under ~/.pyenv — and skips otherwise.
"""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SMOKE = '''
import sys, torch
assert sys.version_info[:2] == (3, 12), sys.version
import bike_bench, bike_bench.models, bike_bench.datasets
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
tiny = 'bike-tiny-openai-clip'  # bike-bench's open_clip model config
model = MODELS.build(dict(type='BIKERecognizer',
                          backbone=dict(type='CLIPEncoder', arch=tiny),
                          video_head=dict(header='Transf', interaction='VCS'),
                          class_names=['a', 'b', 'c'])).eval()
out = model(torch.randn(2, 1, 3, 8, 64, 64),
            [ActionDataSample().set_gt_label(i) for i in range(2)], mode='predict')
print('ok', len(out), sys.version.split()[0], torch.__version__)
'''


def _interpreters():
    named = os.environ.get('BIKE_BENCH_PY312')
    if named:
        yield named
    found = shutil.which('python3.12')
    if found:
        yield found
    yield from sorted(glob.glob(os.path.expanduser('~/.pyenv/versions/3.12*/bin/python3.12')))


def _python312_with_stack():
    if sys.version_info[:2] == (3, 12):
        return sys.executable
    for candidate in _interpreters():
        try:
            done = subprocess.run([candidate, '-c', 'import torch, mmaction, open_clip'],
                                  capture_output=True, timeout=120)
        except (OSError, subprocess.SubprocessError):
            continue
        if done.returncode == 0:
            return candidate
    return None


def test_imports_and_predicts_on_python_312():
    python = _python312_with_stack()
    if python is None:
        pytest.skip('no Python 3.12 with the pinned stack here (set BIKE_BENCH_PY312 to '
                    'one, e.g. a venv made with `make install PYTHON=python3.12`)')
    env = dict(os.environ, PYTHONPATH=ROOT)
    done = subprocess.run([python, '-c', SMOKE], capture_output=True, text=True,
                          timeout=600, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1].startswith('ok 2 3.12')
