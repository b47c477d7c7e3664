"""Every committed number points to the file that produced it; code changes
make results stale."""
from __future__ import annotations

import glob
import json
import os
import shutil
from pathlib import Path

import pytest

from bike_bench.evaluation.provenance import code_hash, code_identity, run_key
from bike_bench.reproduction.run_files import previous_state
from bike_bench.reproduction.tables import is_stale

REPO = Path(__file__).resolve().parents[2]
COMMITTED = sorted(glob.glob(str(REPO / 'results' / 'runs' / '**' / '*.json'),
                             recursive=True))


def _copy_code(tmp_path) -> Path:
    root = tmp_path / 'checkout'
    for folder in ('bike_bench', 'mmconfigs'):
        shutil.copytree(REPO / folder, root / folder,
                        ignore=shutil.ignore_patterns('__pycache__'))
    return root


def test_one_changed_line_under_models_marks_runs_stale(tmp_path):
    root = _copy_code(tmp_path)
    before = code_hash(str(root))
    assert before == code_hash(str(root))  # deterministic
    assert before == code_identity()['hash']  # the copy is this checkout's code
    inputs = dict(config='c', manifests=['m'], checkpoint='k')
    code = dict(hash=before)
    keys = run_key(inputs, code)
    done = dict(reproduce=dict(key=keys['run_key'], inputs_key=keys['inputs_key']),
                environment=dict(code=code, git_commit='abc'))
    assert previous_state(done, keys) == 'current'
    assert not is_stale(done, before)

    module = root / 'bike_bench' / 'models' / 'heads' / 'temporal.py'
    lines = module.read_text().splitlines(keepends=True)
    lines[-1] = lines[-1].rstrip('\n') + '  # one changed line\n'
    module.write_text(''.join(lines))
    after = code_hash(str(root))
    assert after != before
    new_keys = run_key(inputs, dict(hash=after))
    assert new_keys['inputs_key'] == keys['inputs_key']
    assert previous_state(done, new_keys) == 'stale'
    assert is_stale(done, after)
    # Every committed results file is stale against the changed code.
    for path in COMMITTED:
        data = json.loads(Path(path).read_text())
        assert is_stale(data, after), path
    # Another config is not "stale" but "changed": it always runs again.
    other = run_key(dict(inputs, config='d'), dict(hash=after))
    assert previous_state(done, other) == 'changed'


@pytest.mark.parametrize('path', COMMITTED or [None],
                         ids=[os.path.relpath(p, REPO) for p in COMMITTED] or ['none'])
def test_committed_results_point_to_the_config_that_ran(path):
    """config.path exists and builds the architecture that produced the run.

    Passes once results/runs/ is regenerated with this code
    (``bike-bench reproduce --rerun``).
    """
    if path is None:
        pytest.skip('no committed results under results/runs/')
    from mmaction.registry import MODELS
    from mmengine.config import Config
    from bike_bench.evaluation.harness import model_record
    from bike_bench.evaluation.provenance import config_hash
    data = json.loads(Path(path).read_text())
    config = data['config']
    assert config.get('path'), f'{path}: no config.path'
    config_path = config['path'] if os.path.isabs(config['path']) else \
        str(REPO / config['path'])
    assert os.path.isfile(config_path), f'{path}: {config["path"]} does not exist'
    cfg = Config.fromfile(config_path)
    assert config_hash(cfg) == config['hash']
    assert 'model' in data, f'{path}: no model record'
    backbone = cfg.model.get('backbone', {})
    if isinstance(backbone.get('pretrained'), str) and not os.path.exists(
            backbone['pretrained']):
        backbone['pretrained'] = None  # the architecture, without downloading weights
    assert model_record(MODELS.build(cfg.model))['signature'] == \
        data['model']['signature']
