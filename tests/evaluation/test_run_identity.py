"""One run, one config: the file that ran, run keys, reuse and overwrites."""
from __future__ import annotations

import os

import pytest
from mmengine.config import Config

from bike_bench.cli.main import main as cli
from bike_bench.evaluation.results import validate_results

from .conftest import SMOKE_CONFIG

pytestmark = pytest.mark.slow


def _rebuilt_signature(config_path: str) -> str:
    from mmaction.registry import MODELS
    from bike_bench.evaluation.harness import model_record
    cfg = Config.fromfile(config_path)
    return model_record(MODELS.build(cfg.model))['signature']


def test_dumped_config_is_what_ran_and_reproduces_the_metrics(trained, tmp_path):
    first = tmp_path / 'first.json'
    assert cli(['test', SMOKE_CONFIG, trained['checkpoint'], '--views', '4x3',
                '--out', str(first), '--work-dir', str(tmp_path / 'work'),
                '--cfg-options',
                f'test_dataloader.dataset.ann_file={trained["val12"]}']) == 0
    data = validate_results(str(first))
    config = data['config']
    # The file exists, was written before the run and holds the 4x3 pipeline.
    assert os.path.isfile(config['path'])
    dumped = Config.fromfile(config['path'])
    pipeline = dumped.test_dataloader.dataset.pipeline
    assert dict(type='OfficialThreeCrop', crop_size=64) in pipeline
    assert 'test_pipeline' not in dumped  # no stale 1x1 helper variable
    assert config['source']['config'].endswith(os.path.basename(SMOKE_CONFIG))
    assert any(step.startswith('views 4x3') for step in config['source']['derivation'])
    assert config['command'].startswith('bike-bench test ')
    assert '--views 4x3' in config['command']
    code = data['environment']['code']
    assert len(code['hash']) == 64 and code['git_commit'] and 'version' in code
    assert data['run_key'] != data['inputs_key']
    # The model the file builds is the one that produced the numbers.
    assert _rebuilt_signature(config['path']) == data['model']['signature']
    # Plain `bike-bench test <config.path>` runs the same evaluation: the
    # file names the checkpoint and where its results go; nothing changes.
    second = tmp_path / 'second.json'
    os.rename(first, second)
    assert cli(['test', config['path'], trained['checkpoint']]) == 0
    again = validate_results(str(first))
    assert again['metrics'] == data['metrics']
    assert again['views'] == data['views'] and again['counts'] == data['counts']
    assert again['config']['path'] == config['path']
    assert again['inputs_key'] == data['inputs_key']
    # Another --out writes another file (it is in the config) of the same run.
    third = tmp_path / 'third.json'
    assert cli(['test', config['path'], trained['checkpoint'], '--out', str(third)]) == 0
    other = validate_results(str(third))
    assert other['config']['path'] != config['path']
    assert other['inputs_key'] == data['inputs_key'] and other['metrics'] == data['metrics']
