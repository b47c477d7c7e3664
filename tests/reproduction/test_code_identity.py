"""The code identity covers the shipped package only, and a stale message
names the files that changed (docs/reliability.md, "Stale results")."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from bike_bench.evaluation import provenance
from bike_bench.evaluation.provenance import (changed_code_files, code_files,
                                              code_identity, describe_code_change,
                                              run_key)
from bike_bench.metafile import shipped_config_files, validate_metafile
from bike_bench.reproduction.run_files import measured_with, previous_state

REPO = Path(__file__).resolve().parents[2]
USER_CONFIG = ("_base_ = ['./bike_tiny-vit-p16-res64_toy-clip-pre_1xb16-8x1x1-8e_"
               "synthetic-rgb.py']\ntrain_cfg = dict(max_epochs=2)\n")


@pytest.fixture(scope='module')
def checkout(tmp_path_factory):
    """A git checkout holding exactly the files of this checkout's code
    identity (staged, as git tracks them)."""
    if shutil.which('git') is None:
        pytest.skip('git is not installed')
    root = tmp_path_factory.mktemp('checkout')
    for relative, path in code_files():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    for args in (['init', '-q'], ['add', 'bike_bench', 'mmconfigs']):
        subprocess.run(['git', '-C', str(root), *args], check=True, capture_output=True)
    return root


def _done(code):
    """A results file measured with ``code``, and its keys."""
    keys = run_key(dict(config='c', manifests=['m']), code)
    done = dict(reproduce=dict(key=keys['run_key'], inputs_key=keys['inputs_key']),
                environment=dict(code=code, git_commit='abc1234567'))
    return done, keys


def test_identity_is_the_checkouts_code(checkout):
    identity = code_identity(str(checkout))
    assert identity['hash'] == code_identity()['hash']
    assert identity['files'] == code_identity()['files']
    assert 'bike_bench/evaluation/provenance.py' in identity['files']
    assert len(identity['files']['bike_bench/evaluation/provenance.py']) == \
        provenance.FILE_HASH_CHARS


def test_untracked_user_config_leaves_shipped_runs_current(checkout):
    before = code_identity(str(checkout))
    done, _ = _done(before)
    user = checkout / 'mmconfigs' / 'mydata_bike_tiny_4cls.py'
    user.write_text(USER_CONFIG)
    try:
        after = code_identity(str(checkout))
        assert after['hash'] == before['hash']
        assert 'mmconfigs/mydata_bike_tiny_4cls.py' not in after['files']
        assert previous_state(done, run_key(dict(config='c', manifests=['m']),
                                            after)) == 'current'
        # Naming and metafile checks see shipped configs only.
        shipped = shipped_config_files(checkout / 'mmconfigs')
        assert user not in shipped and len(shipped) == len(shipped_config_files())
        validate_metafile(checkout / 'mmconfigs' / 'metafile.yml')
        # Once tracked, it is a shipped config: part of the code, and checked.
        subprocess.run(['git', '-C', str(checkout), 'add', str(user)], check=True)
        assert code_identity(str(checkout))['hash'] != before['hash']
        assert user in shipped_config_files(checkout / 'mmconfigs')
    finally:
        subprocess.run(['git', '-C', str(checkout), 'rm', '-q', '--cached',
                        '--ignore-unmatch', str(user)], check=True)
        user.unlink()
    assert code_identity(str(checkout))['hash'] == before['hash']


def test_stale_message_names_the_changed_shipped_file(checkout, monkeypatch):
    before = code_identity(str(checkout))
    done, keys = _done(before)
    base = checkout / 'mmconfigs' / '_base_' / 'default_runtime.py'
    original = base.read_text()
    base.write_text(original + '# one changed line\n')
    try:
        after = code_identity(str(checkout))
    finally:
        base.write_text(original)
    assert after['hash'] != before['hash']
    new_keys = run_key(dict(config='c', manifests=['m']), after)
    assert previous_state(done, new_keys) == 'stale'
    assert changed_code_files(before, after) == ['mmconfigs/_base_/default_runtime.py']
    monkeypatch.setattr(provenance, '_CODE', after)  # "this process's" code
    message = measured_with(done)
    assert message == ('commit abc1234567 and other code '
                       '(changed: mmconfigs/_base_/default_runtime.py)')


def test_stale_message_of_a_run_without_per_file_hashes():
    code = {k: v for k, v in code_identity().items() if k != 'files'}
    assert changed_code_files(code) is None
    assert 'recorded no per-file hashes' in describe_code_change(dict(code, hash='x'))
    many = dict(code_identity(), files={f'a{i}.py': 'x' for i in range(7)})
    text = describe_code_change(many, dict(many, files={}), limit=2)
    assert text == 'other code (changed: a0.py (removed), a1.py (removed) and 5 more)'
