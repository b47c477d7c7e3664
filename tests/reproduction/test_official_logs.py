"""Training-log parsing: the official BIKE logs and MMEngine scalars."""
import json

import pytest

from bike_bench.reproduction.official_logs import (LogParseError,
                                              load_training_log,
                                              parse_mmengine_log,
                                              parse_official_log)

# file -> per run: (metric, last, best, best epoch, last epoch, evaluations),
# read off the "Testing Results" lines (and matching the official code's own
# running "Testing: current/best" lines).
OFFICIAL = {
    'k400_vit-B_16_8f_log.txt': [('top1', 82.880, 82.931, 27, 30, 30)],
    'k400_vit-B_32_8f_video_attributes_log.txt': [
        ('top1', 79.540, 79.621, 28, 30, 30),
        ('top1', 69.970, 70.051, 27, 30, 30)],
    'k400_vit-L_14_8f_log.txt': [('top1', 86.384, 86.435, 18, 20, 20)],
    'k400_vit-L_14_16f_log.txt': [('top1', 87.182, 87.182, 20, 20, 20)],
    'k400_vit-L_14-336px_8f_log.txt': [('top1', 87.237, 87.237, 20, 20, 20)],
    'k400_vit-L_14-336px_16f_log.txt': [
        ('top1', 87.899, 87.929, 19, 20, 20)],
    'anet_vit-L_14_f16_log.txt': [('top1', 93.944, 93.944, 20, 20, 4)],
    'anet_vit-L_14-336px_f16_log.txt': [('top1', 94.217, 94.217, 20, 20, 4)],
    'charades_vit-L_14-336px_16f_log.txt': [
        ('mAP', 47.979, 49.077, 13, 20, 20)],
    'hmdb51_vit-L_14_f16_log.txt': [('top1', 82.682, 82.878, 18, 20, 10)],
    'hmdb51_vit-L_14-336px_f16_log.txt': [
        ('top1', 83.073, 84.375, 15, 20, 4)],
    'ucf101_vit-L_14_f16_log.txt': [('top1', 98.705, 98.732, 15, 20, 4)],
    'ucf101_vit-L_14-336px_f16_log.txt': [
        ('top1', 98.923, 98.923, 20, 20, 4)],
}


@pytest.mark.parametrize('name', sorted(OFFICIAL))
def test_official_last_and_best(logs_dir, name):
    log = parse_official_log(logs_dir / name)
    assert log.kind == 'official'
    found = [(s.metric, s.last, s.best, s.best_epoch, s.last_epoch,
              s.evaluations) for s in (run.summary() for run in log.runs)]
    assert found == OFFICIAL[name]


def test_k400_vit_b16_matches_spec_and_config(logs_dir):
    log = load_training_log(logs_dir / 'k400_vit-B_16_8f_log.txt')
    summary = log.summary()
    assert round(summary.best, 2) == 82.93  # docs/method.md#reference
    config = log.config
    assert config['network']['arch'] == 'ViT-B/16'
    assert config['network']['interaction'] == 'VCS'
    assert config['solver']['lr'] == 5e-05
    assert config['solver']['epochs'] == 30
    assert config['solver']['weight_decay'] == 0.2
    assert config['solver']['lr_warmup_step'] == 5
    assert config['data']['batch_size'] == 32
    assert config['data']['num_segments'] == 8
    assert config['seed'] == 1024
    records = log.runs[0].records
    assert [r.epoch for r in records] == list(range(1, 31))
    assert (records[0].value, records[0].top5) == (66.975, 90.232)
    assert records[-1].top5 == 96.090


def test_charades_gives_map(logs_dir):
    log = parse_official_log(logs_dir / 'charades_vit-L_14-336px_16f_log.txt')
    run = log.runs[0]
    assert run.metric == 'mAP'
    assert run.records[0].value == 36.902
    assert all(record.top5 is None for record in run.records)
    assert 'docs/method.md#metrics' in run.note
    assert log.config['data']['num_classes'] == 157


def test_resumed_log_is_one_run_with_training_epochs(logs_dir):
    log = parse_official_log(logs_dir / 'k400_vit-L_14-336px_16f_log.txt')
    assert len(log.runs) == 1 and log.runs[0].resumes == 3
    assert [r.epoch for r in log.runs[0].records] == list(range(1, 21))


def test_eval_every_few_epochs(logs_dir):
    log = parse_official_log(logs_dir / 'hmdb51_vit-L_14_f16_log.txt')
    assert log.config['logging']['eval_freq'] == 2
    assert [r.epoch for r in log.runs[0].records] == list(range(2, 21, 2))


def test_attributes_log_runs_and_fusion(logs_dir):
    log = parse_official_log(
        logs_dir / 'k400_vit-B_32_8f_video_attributes_log.txt')
    assert [run.config_line for run in log.runs] == [8, 3234]
    assert log.runs[0].config['data']['select_topk_attributes'] == 5
    (fusion,) = log.fusions
    assert fusion.weights == {'a': 0.7, 'b': 0.3}
    assert round(fusion.top1, 2) == 81.47
    assert round(fusion.top5, 2) == 95.81
    with pytest.raises(LogParseError, match='holds 2 runs'):
        log.summary()


HEADER = ("[04/25 15:23:35] BIKE INFO: {   'data': {'batch_size': 8},\n"
          "    'solver': {'lr': 5e-05}}\n")


def test_official_log_without_validation_names_the_file(tmp_path):
    path = tmp_path / 'cut_log.txt'
    path.write_text(HEADER + '[04/25 15:24:00] BIKE INFO: Epoch: [0][0/9], '
                    'lr: 0.00e+00\n')
    with pytest.raises(LogParseError, match=f'{path}: no validation lines'):
        parse_official_log(path)


def test_not_a_log_and_bad_lines(tmp_path):
    path = tmp_path / 'notes.txt'
    path.write_text('hello\n')
    with pytest.raises(LogParseError, match=f'{path}: no config dict'):
        load_training_log(path)
    path.write_text(HEADER + '[04/25 16:05:47] BIKE INFO: Testing Results: '
                    'Prec@1 n/a\n')
    with pytest.raises(LogParseError, match=f'{path}:3: unknown result'):
        parse_official_log(path)
    # The config is read with ast.literal_eval: code is rejected, not run.
    path.write_text("[04/25 15:23:35] BIKE INFO: {'a': __import__('os')}\n")
    with pytest.raises(LogParseError, match=f'{path}:1: config dict does '
                       'not parse'):
        parse_official_log(path)


def _scalars(path, entries):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(''.join(json.dumps(e) + '\n' for e in entries))
    return path


def _train(epoch, step):
    return {'lr': 1e-5, 'data_time': 0.1, 'loss': 1.0, 'time': 0.5,
            'epoch': epoch, 'iter': step, 'memory': 100, 'step': step}


def _val(epoch, top1, top5):
    return {'acc/top1': top1, 'acc/top5': top5, 'acc/mean1': top1,
            'data_time': 0.01, 'time': 0.2, 'step': epoch}


def test_mmengine_scalars_by_hand_and_resumed_work_dir(tmp_path):
    work_dir = tmp_path / 'bike_run'
    first = _scalars(work_dir / '20250101_000000/vis_data/scalars.json', [
        _train(1, 10), _val(1, 0.5, 0.8), _train(2, 20), _val(2, 0.625, 0.9)])
    _scalars(work_dir / '20250102_000000/vis_data/scalars.json', [
        _train(3, 30), _val(3, 0.6, 0.95)])
    log = parse_mmengine_log(first)
    assert log.kind == 'mmengine'
    assert [(r.epoch, r.value, r.top5) for r in log.runs[0].records] == [
        (1, 50.0, 80.0), (2, 62.5, 90.0)]
    assert 'fractions scaled to %' in log.runs[0].note
    whole = load_training_log(work_dir)
    assert whole.runs[0].resumes == 1
    summary = whole.summary()
    assert (summary.last, summary.best, summary.best_epoch,
            summary.last_epoch) == (60.0, 62.5, 2, 3)


def test_mmengine_map_and_errors(tmp_path):
    path = _scalars(tmp_path / 'a/b/vis_data/scalars.json', [
        {'acc/mean_average_precision': 0.4, 'step': 1},
        {'acc/mean_average_precision': 0.45, 'step': 2}])
    assert parse_mmengine_log(path).summary().metric == 'mAP'
    _scalars(path, [_train(1, 10)])
    with pytest.raises(LogParseError, match=f'{path}: no validation lines'):
        parse_mmengine_log(path)
    path.write_text(json.dumps(_train(1, 10)) + '\n{oops\n')
    with pytest.raises(LogParseError, match=f'{path}:2: not JSON'):
        parse_mmengine_log(path)
    _scalars(path, [_val(1, 0.5, 0.8)])
    with pytest.raises(LogParseError, match='no validation line has'):
        parse_mmengine_log(path, metric_key='acc/top3')
    with pytest.raises(LogParseError, match='no <timestamp>/vis_data'):
        load_training_log(tmp_path)  # one level above the work dir
    # the work dir ('a', with one launch 'b') and the launch dir both work
    assert load_training_log(tmp_path / 'a').summary().last == 50.0
    assert load_training_log(tmp_path / 'a' / 'b').summary().last == 50.0


def test_real_mmengine_runner_scalars(tmp_path):
    """A tiny MMEngine Runner writes the scalars.json this parser reads."""
    import torch
    from mmengine.evaluator import BaseMetric
    from mmengine.model import BaseModel
    from mmengine.runner import Runner

    class Tiny(BaseModel):
        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(2, 3)

        def forward(self, inputs, labels, mode='tensor'):
            logits = self.linear(inputs)  # default_collate stacked them
            if mode == 'loss':
                return {'loss': torch.nn.functional.cross_entropy(logits,
                                                                  labels)}
            return list(zip(logits.argmax(1).tolist(), labels.tolist()))

    class Accuracy(BaseMetric):
        default_prefix = 'acc'

        def process(self, data_batch, data_samples):
            self.results.extend(data_samples)

        def compute_metrics(self, results):
            hits = sum(pred == label for pred, label in results)
            return {'top1': hits / len(results), 'top5': 1.0}

    generator = torch.Generator().manual_seed(0)
    data = [{'inputs': torch.randn(2, generator=generator),
             'labels': torch.tensor(i % 3)} for i in range(8)]
    loader = dict(dataset=data, batch_size=4,
                  sampler=dict(type='DefaultSampler', shuffle=False),
                  collate_fn=dict(type='default_collate'))
    runner = Runner(
        model=Tiny(), work_dir=str(tmp_path / 'work'),
        # the Runner makes its scope the process default: keep the suite's
        default_scope='mmaction',
        train_dataloader=loader, val_dataloader=loader,
        val_evaluator=dict(type=Accuracy),
        train_cfg=dict(by_epoch=True, max_epochs=3, val_interval=1),
        val_cfg=dict(), optim_wrapper=dict(optimizer=dict(type='SGD',
                                                          lr=0.1)),
        default_hooks=dict(logger=dict(type='LoggerHook', interval=1),
                           checkpoint=dict(type='CheckpointHook',
                                           interval=10)),
        visualizer=dict(type='Visualizer',
                        vis_backends=[dict(type='LocalVisBackend')]))
    runner.train()
    log = load_training_log(tmp_path / 'work')
    records = log.runs[0].records
    assert [r.epoch for r in records] == [1, 2, 3]
    assert all(r.top5 == 100.0 for r in records)
    assert all(r.value in (0.0, 12.5, 25.0, 37.5, 50.0, 62.5, 75.0, 87.5,
                           100.0) for r in records)
