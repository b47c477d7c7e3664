"""Zero-shot results files: class set, dump, refusal before evaluation, no
NaN for a top-k of few classes, and their report."""
from __future__ import annotations

import json

import pytest

from bike_bench.cli.main import main as cli
from bike_bench.evaluation.results import validate_results

from .conftest import SMOKE_CONFIG

pytestmark = pytest.mark.slow


def _zeroshot(trained, zeroshot_root, tmp_path, *extra):
    return ['zeroshot', SMOKE_CONFIG, trained['checkpoint'], '--dataset', 'ucf101',
            '--data-root', zeroshot_root, '--work-dir', str(tmp_path / 'work'), *extra]


def test_zero_shot_results_record_the_class_set_and_dump(trained, zeroshot_root, tmp_path):
    out, dump = tmp_path / 'full.json', tmp_path / 'outputs.pkl'
    assert cli(_zeroshot(trained, zeroshot_root, tmp_path, '--protocol', 'full',
                         '--out', str(out), '--dump', str(dump))) == 0
    data = validate_results(str(out))
    # 12 classes the checkpoint was not trained on (docs/reliability.md).
    assert data['class_set']['same_as_training'] is False
    assert data['class_set']['test_classes'] == 12
    assert data['class_set']['shared_classes'] == 0
    import pickle
    rows = pickle.load(open(dump, 'rb'))
    assert len(rows) == 24 and rows[0]['logits'].shape[-1] == 12
    # The data the report shows: per-class accuracy with counts, a confusion matrix.
    full = data['per_class']['full']
    assert len(full) == 12 and sum(v['videos'] for v in full.values()) == 24
    matrix = data['confusion']['ZeroShotMetric']['matrix']
    assert sum(map(sum, matrix)) == 24
    report = tmp_path / 'report'
    assert cli(['report', str(out), '--out', str(report)]) == 0
    assert (report / 'per_class.md').is_file() and (report / 'confusion.png').is_file()


def test_an_existing_out_of_another_run_is_refused_before_evaluation(
        trained, zeroshot_root, tmp_path, monkeypatch, capsys):
    from bike_bench.evaluation.zeroshot import ZeroShotMetric
    out = tmp_path / 'half.json'
    assert cli(_zeroshot(trained, zeroshot_root, tmp_path, '--protocol', 'half',
                         '--out', str(out))) == 0
    before = out.read_text()
    processed = []
    original = ZeroShotMetric.process
    monkeypatch.setattr(ZeroShotMetric, 'process',
                        lambda self, *a: (processed.append(1), original(self, *a)))
    with pytest.raises(SystemExit, match='holds another run'):
        cli(_zeroshot(trained, zeroshot_root, tmp_path, '--protocol', 'full',
                      '--out', str(out)))
    assert processed == []  # not one batch was evaluated
    assert out.read_text() == before
    other = tmp_path / 'notes.json'
    other.write_text('{"mine": 1}')
    with pytest.raises(SystemExit, match='not a results file'):
        cli(_zeroshot(trained, zeroshot_root, tmp_path, '--protocol', 'full',
                      '--out', str(other)))
    assert processed == [] and other.read_text() == '{"mine": 1}'


def test_half_splits_of_few_classes_leave_top5_out_without_nan(trained, zeroshot_root,
                                                               tmp_path):
    """4 classes: every half split has 2, so top-5 is n/a (not NaN, not 1.0)."""
    out = tmp_path / 'small.json'
    manifest = f'{zeroshot_root}/kinetics600/manifests/zeroshot_split1.jsonl'
    assert cli(['zeroshot', SMOKE_CONFIG, trained['checkpoint'], '--manifest', manifest,
                '--protocol', 'half', '--out', str(out),
                '--work-dir', str(tmp_path / 'work')]) == 0
    text = out.read_text()
    assert 'NaN' not in text and 'Infinity' not in text
    data = json.loads(text)
    assert 'half/top1_mean' in data['metrics']
    assert not {'half/top5_mean', 'half/top5_std', 'full/top5'} & set(data['metrics'])
    assert all('top5' not in split for split in data['protocol']['splits'])
    not_applicable = data['metric_options']['ZeroShotMetric']['not_applicable']
    assert not_applicable['half/top5_mean'] == 'top-5 of 2 classes is always 1'
    assert not_applicable['full/top5'] == 'top-5 of 4 classes is always 1'


def test_report_reads_the_fewshot_summary_and_wraps_titles(tmp_path):
    from bike_bench.visualization.run_report import _plt, _title
    summary = tmp_path / 'fewshot_summary.json'
    summary.write_text(json.dumps(dict(
        train_manifest='train.jsonl', shots=[1], seeds=[0, 1],
        by_shots={'1': dict(seeds=[0, 1], results=[], mean={'acc/top1': 0.5},
                            std={'acc/top1': 0.1})})))
    assert cli(['report', str(summary), '--out', str(tmp_path / 'r')]) == 0
    index = (tmp_path / 'r' / 'index.md').read_text()
    assert '| 1 | acc/top1 | 0.5000 | 0.1000 | 2 |' in index
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 3.5))
    _title(ax, fig, 'zeroshot-half_synthetic-ucf101_1x1_head_official_epoch_3: 10 '
           'zero-shot splits')
    fig.tight_layout()
    fig.canvas.draw()
    box = ax.title.get_window_extent(fig.canvas.get_renderer())
    assert box.x0 >= 0 and box.x1 <= fig.bbox.x1
    plt.close(fig)
