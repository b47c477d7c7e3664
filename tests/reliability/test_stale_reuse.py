"""Group 9: results reused or replaced when they should not be.

A result is reused only when everything that determines it matches (run
key: manifests' content, config, views, code); a results file of another
run is never replaced silently.
"""
from __future__ import annotations

import json
import os

import pytest
from mmengine.config import Config

from bike_bench.cli.main import main as cli
from bike_bench.evaluation.results import validate_results

from evaluation.conftest import SMOKE_CONFIG, smoke, subset_manifest, trained  # noqa: F401

pytestmark = pytest.mark.slow
GROUP = 'stale reuse and overwrites'


def test_same_dataset_and_split_names_never_overwrite(trained, tmp_path, capsys, faults):
    faults.tried(GROUP, 'results file of another run replaced (same dataset and split names)')
    # Two manifests of the same dataset and split name with other videos.
    a = subset_manifest(trained['val'], str(tmp_path / 'a.jsonl'), lambda i, e: i % 4 == 0)
    b = subset_manifest(trained['val'], str(tmp_path / 'b.jsonl'), lambda i, e: i % 4 == 1)
    work = tmp_path / 'work'
    for manifest in (a, b):
        assert cli(['test', SMOKE_CONFIG, trained['checkpoint'], '--work-dir', str(work),
                    '--cfg-options', f'test_dataloader.dataset.ann_file={manifest}']) == 0
    files = sorted((work / 'results').glob('*.json'))
    assert len(files) == 2
    manifests = {validate_results(str(p))['dataset']['manifest'] for p in files}
    assert manifests == {os.path.abspath(a), os.path.abspath(b)}
    # An explicit --out holding the other run is refused, not replaced.
    out = tmp_path / 'one.json'
    assert cli(['test', SMOKE_CONFIG, trained['checkpoint'], '--out', str(out),
                '--work-dir', str(work),
                '--cfg-options', f'test_dataloader.dataset.ann_file={a}']) == 0
    before = out.read_bytes()
    with pytest.raises(SystemExit) as refused:
        cli(['test', SMOKE_CONFIG, trained['checkpoint'], '--out', str(out),
             '--work-dir', str(work),
             '--cfg-options', f'test_dataloader.dataset.ann_file={b}'])
    assert str(refused.value).startswith('error: ') and str(out) in str(refused.value)
    assert out.read_bytes() == before
    # The same run again may replace its own file.
    assert cli(['test', SMOKE_CONFIG, trained['checkpoint'], '--out', str(out),
                '--work-dir', str(work),
                '--cfg-options', f'test_dataloader.dataset.ann_file={a}']) == 0


def test_fewshot_reruns_when_the_training_manifest_changes(smoke, tmp_path, capsys, faults):
    faults.tried(GROUP, 'few-shot results reused after the training manifest changed')
    train_a = subset_manifest(smoke['train'], str(tmp_path / 'a' / 'train.jsonl'),
                              lambda i, e: i % 6 < 2)
    train_b = subset_manifest(smoke['train'], str(tmp_path / 'b' / 'train.jsonl'),
                              lambda i, e: i % 6 >= 4)
    val = subset_manifest(smoke['val'], str(tmp_path / 'val8.jsonl'), lambda i, e: i % 2 == 0)
    work = tmp_path / 'work'

    def run(train):
        return cli(['fewshot', SMOKE_CONFIG, '--shots', '1', '--seeds', '0',
                    '--train-manifest', train, '--val-manifest', val,
                    '--max-epochs', '1', '--no-validate', '--work-dir', str(work)])

    from bike_bench.datasets.manifest import read_manifest
    result = work / '1shot_seed0' / 'results' / 'fewshot_1shot_seed0.json'

    def source_hash():
        data = validate_results(str(result))
        fewshot = read_manifest(data['protocol']['fewshot_manifest'])
        assert fewshot.content_hash == data['protocol']['fewshot_manifest_hash']
        return fewshot.source['fewshot']['from_hash']

    assert run(train_a) == 0
    assert source_hash() == read_manifest(train_a).content_hash
    first = json.loads(result.read_text())
    capsys.readouterr()
    assert run(train_b) == 0
    assert 'another training manifest; running again' in capsys.readouterr().out
    assert source_hash() == read_manifest(train_b).content_hash
    second = json.loads(result.read_text())
    assert second['reuse_key'] != first['reuse_key']
    summary = json.loads((work / 'fewshot_summary.json').read_text())
    assert summary['train_manifest'] == os.path.abspath(train_b)
    # The same inputs again: reused, nothing trained.
    stamp = os.path.getmtime(result)
    assert run(train_b) == 0
    assert os.path.getmtime(result) == stamp
    # The results point to the config that trained and tested.
    config = Config.fromfile(second['config']['path'])
    assert config.train_dataloader.dataset.ann_file == second['protocol']['fewshot_manifest']
    assert any(step.startswith('fewshot 1-shot seed 0')
               for step in second['config']['source']['derivation'])
