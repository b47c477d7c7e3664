"""make reproduce: resumable, idempotent, honest about what is missing."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from bike_bench.evaluation.results import ResultsFileError
from bike_bench.reproduction.reproduce import reproduce, write_synthetic
from bike_bench.reproduction.settings import ReproduceSettings, SmokeSettings
from bike_bench.reproduction.tables import build_tables

REPO = Path(__file__).resolve().parents[2]
K400 = 'bike_vit-b-p16_clip-openai-pre_8xb32-8x1x1-30e_kinetics400-rgb'
ZERO_SHOT = 'bike_vit-l-p14_k400-pre_zeroshot-8x1x1_ucf101-rgb'

pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def synth_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('synthetic'))
    write_synthetic(root, echo=lambda *_: None)
    return root


def _settings(tmp_path, synth_root=None, epochs=None):
    """Everything under ``tmp_path``; every smoke training ``epochs`` long."""
    return ReproduceSettings.under(
        str(tmp_path), runs_dir=str(tmp_path / 'runs'), work_dir=str(tmp_path / 'work'),
        tables_dir=str(tmp_path / 'tables'), synth_root=synth_root,
        smoke=SmokeSettings.with_epochs(epochs))


def _tables(folder):
    return {p.name: p.read_bytes() for p in sorted(Path(folder).iterdir())}


def test_second_run_executes_nothing_and_writes_identical_tables(synth_root, tmp_path):
    settings = _settings(tmp_path, synth_root, epochs=1)
    first = reproduce(settings, only=[K400], echo=lambda *_: None)
    assert first.ran == ['smoke_general_kinetics400_8f_4x3'] and not first.skipped
    tables = _tables(settings.tables_dir)
    assert {'k400_sota.md', 'k400_sota.tex', 'k400_sota.csv', 'model_zoo.md'} <= set(tables)
    second = reproduce(settings, only=[K400], echo=lambda *_: None)
    assert second.ran == [] and second.skipped == ['smoke_general_kinetics400_8f_4x3']
    assert _tables(settings.tables_dir) == tables
    zoo = tables['model_zoo.md'].decode()
    assert 'smoke' in zoo and 'not a reproduction' in zoo
    results = json.loads((tmp_path / 'runs' / 'smoke' /
                          'smoke_general_kinetics400_8f_4x3.json').read_text())
    assert results['views']['label'] == '4x3'
    assert results['reproduce']['experiments'] == [K400]
    # The twin's config file lies beside its results; it is what ran.
    config = results['config']
    assert config['path'] == str(tmp_path / 'runs' / 'smoke' /
                                 'smoke_general_kinetics400_8f_4x3.py')
    assert config['source']['config'] == f'mmconfigs/{K400}.py'
    assert config['source']['derivation'][0].startswith(
        'smoke twin smoke_general_kinetics400_8f_4x3')
    assert results['reproduce']['code'] == results['environment']['code']['hash']
    # `bike-bench test <config.path> <checkpoint>` gives the same metrics.
    from bike_bench.cli.main import main
    out = tmp_path / 'again.json'
    assert main(['test', config['path'], results['checkpoint']['path'],
                 '--out', str(out)]) == 0
    again = json.loads(out.read_text())
    assert again['metrics'] == results['metrics']
    assert again['counts'] == results['counts']
    assert again['model']['signature'] == results['model']['signature']


def test_stale_results_run_again_or_are_kept_and_labelled(synth_root, tmp_path,
                                                          monkeypatch):
    from bike_bench.evaluation import provenance
    settings = _settings(tmp_path, synth_root, epochs=1)
    reproduce(settings, only=[K400], echo=lambda *_: None)
    # Pretend the code changed since the run.
    changed = dict(provenance.code_identity(), hash='0' * 64)
    monkeypatch.setattr(provenance, '_CODE', changed)
    lines = []
    kept = reproduce(settings, only=[K400], keep_stale=True, echo=lines.append)
    assert kept.ran == [] and kept.stale == ['smoke_general_kinetics400_8f_4x3']
    assert any('stale' in line and 'kept' in line for line in lines)
    zoo = (tmp_path / 'tables' / 'model_zoo.md').read_text()
    assert 'older commit' in zoo and 'STALE' in zoo
    again = reproduce(settings, only=[K400], echo=lines.append)
    assert again.ran == ['smoke_general_kinetics400_8f_4x3']
    assert any('stale: measured with commit' in line for line in lines)
    zoo = (tmp_path / 'tables' / 'model_zoo.md').read_text()
    assert 'older commit' not in zoo


def test_full_scale_lists_what_is_missing(tmp_path, capsys):
    outcome = reproduce(_settings(tmp_path), data_root=str(tmp_path / 'datasets'),
                        only=[K400, ZERO_SHOT], checkpoints=str(tmp_path / 'ckpts'))
    assert outcome.ran == [] and len(outcome.missing) == 2
    report = capsys.readouterr().out
    assert 'manifests not built' in report
    assert 'kinetics400' in report and 'annotations' in report  # the spec's sources
    assert 'k400-vit-b-16-f8.pt not in' in report


def _results(run_id: str) -> dict:
    from bike_bench.evaluation.results import FORMAT_KEY, FORMAT_VERSION
    return {FORMAT_KEY: FORMAT_VERSION, 'run_id': run_id, 'created': '2026-11-26T00:00:00+00:00',
            'protocol': {'name': 'test'}, 'metrics': {'acc/top1': 0.5},
            'views': {'label': '4x3'}, 'aggregation': 'official',
            'dataset': {'name': 'synthetic', 'manifest_hash': 'abc'},
            'checkpoint': {'path': 'x.pth', 'sha256': 'def'},
            'config': {'hash': '123', 'resolved': 'model = ...'},
            'environment': {'git_commit': '0123456789', 'packages': {'torch': 'x'},
                            'device': {'type': 'cpu'}},
            'wall_time_s': 1.0, 'counts': {'expected': 1, 'evaluated': 1, 'skipped': 0},
            'skipped': [],
            'reproduce': {'key': 'k', 'scale': 'smoke', 'twin': run_id,
                          'experiments': [K400],
                          'paper_rows': [{'table': 'model_zoo', 'row': 'k400-vit-b16-8x224',
                                          'metrics': {'top1': 'acc/top1'},
                                          'experiment': K400, 'views': '4x3'}]}}


def test_tables_refuse_results_without_provenance(tmp_path, capsys):
    runs = tmp_path / 'runs' / 'smoke'
    runs.mkdir(parents=True)
    (runs / 'good.json').write_text(json.dumps(_results('good')))
    build_tables(str(tmp_path / 'runs'), str(tmp_path / 'tables'))
    zoo = (tmp_path / 'tables' / 'model_zoo.md').read_text()
    # No code identity recorded: measured with older code than this checkout.
    assert '50.00' in zoo and '[1, older commit 0123456]' in zoo
    assert 'commit 0123456789' in zoo and 'STALE' in zoo
    data = _results('broken')
    del data['environment']['git_commit']
    broken = runs / 'broken.json'
    broken.write_text(json.dumps(data))
    with pytest.raises(ResultsFileError,
                       match=r"missing field 'environment.git_commit'") as error:
        build_tables(str(tmp_path / 'runs'), str(tmp_path / 'tables'))
    assert str(broken) in str(error.value)
    from bike_bench.cli.main import main
    assert main(['tables', '--runs-dir', str(tmp_path / 'runs'),
                 '--out', str(tmp_path / 'tables')]) == 2
    assert 'broken.json' in capsys.readouterr().out


def test_synthetic_benchmark_of_another_renderer_is_written_again(tmp_path, monkeypatch):
    """The `.complete` marker names the renderer's code: a folder written by
    another renderer (e.g. before the motion trail) is not reused."""
    import json
    from bike_bench.datasets import synthetic_benchmark
    from bike_bench.reproduction import reproduce as reproduce_mod
    written = []
    monkeypatch.setattr(synthetic_benchmark, 'write_benchmark',
                        lambda root, config: written.append(root))
    reproduce_mod.write_synthetic(str(tmp_path), echo=lambda line: None)
    reproduce_mod.write_synthetic(str(tmp_path), echo=lambda line: None)
    assert len(written) == 1  # complete and current: reused
    marker = tmp_path / '.complete'
    record = json.loads(marker.read_text())
    assert set(record['renderer']) == {'synthetic.py', 'synthetic_benchmark.py'}
    record['renderer']['synthetic.py'] = '0' * 64  # as an older renderer left it
    marker.write_text(json.dumps(record, sort_keys=True))
    reproduce_mod.write_synthetic(str(tmp_path), echo=lambda line: None)
    assert len(written) == 2
