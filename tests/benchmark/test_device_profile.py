"""``bike-bench bench --device cpu --models tiny``: the CPU smoke run of the
device profile (every GPU section, CUDA-only levers skipped or fallen back),
and the pure parts of its sections. No assertion on timings."""
from __future__ import annotations

import json

import pytest
import torch

from bike_bench.benchmark import goals, levers, report, schema, sections, training
from bike_bench.cli.main import main


@pytest.mark.parametrize('name, peak', [
    ('NVIDIA H100 80GB HBM3', 989.0), ('NVIDIA H100 PCIe', 756.0),
    ('NVIDIA H200', 989.0), ('NVIDIA A100-SXM4-80GB', 312.0), ('Tesla T4', None)])
def test_card_peaks(name, peak):
    assert levers.card_peak(name) == peak


@pytest.mark.skipif(torch.cuda.is_available(), reason='a CUDA device is present')
def test_cuda_without_a_gpu_is_one_error_line(tmp_path):
    with pytest.raises(SystemExit, match='error: --device cuda: no CUDA device'):
        main(['bench', '--device', 'cuda', '--out-dir', str(tmp_path)])


def test_lever_steps_add_one_lever_each():
    steps = levers.lever_steps(compile_=True)
    names = [s['name'] for s in steps]
    assert names == ['official_fp32', 'eager_autocast_fp16', 'eager_autocast_bf16',
                     'bf16_weights', 'fused_attention', 'channels_last', 'torch_compile',
                     'cuda_graphs']
    fast = [s['fast_path'] for s in steps if isinstance(s['fast_path'], dict)]
    for before, after in zip(fast, fast[1:]):
        added = {k for k in after if after[k] != before.get(k)}
        assert len(added) == 1, (before, after)


def test_goals_and_projection_from_figures():
    models = {'vit-l-14': {
        'levers': {'default': {'frames_per_s': 4000.0,
                               'ratio_to_eager_autocast_fp16': 1.5}},
        'data_paths': {'4x3': {'fast_data_path': {'pipeline_efficiency': 0.97,
                                                  'videos_per_s_overall': 11.0}}},
        'training': {'variants': {'bf16_amp_fused': {'speedup_over_fp16_amp_eager': 1.6}}}}}
    rows = {g['figure']: g for g in goals.goals(models)}
    assert rows['ViT-L/14 model-only frames/s (config default)']['met'] is True
    assert rows['ViT-L/14 model-only frames/s (stretch)']['met'] is False
    assert rows['vit-l-14: default / eager fp16 autocast']['met'] is False
    assert rows['vit-l-14: pipeline efficiency 4x3 (fast data path)']['met'] is True
    assert rows['vit-l-14: training bf16 fused / fp16 AMP eager']['met'] is True
    projection = goals.k400_projection(models)
    assert projection['fast_data_path_hours'] == pytest.approx(19795 / 11.0 / 3600)


@pytest.mark.slow
def test_cpu_smoke_run_of_the_gpu_command(tmp_path):
    code = main(['bench', '--device', 'cpu', '--models', 'tiny', '--out-dir', str(tmp_path),
                 '--cache-dir', str(tmp_path / 'videos')])
    assert code == 0
    path = next(tmp_path.glob('*-cpu.json'))
    result = json.loads(path.read_text())
    assert result['schema'] == schema.SCHEMA and result['card']['name'] == 'cpu'
    assert result['profile'] == 'device-smoke' and result['complete'] is True
    assert result['sections']['matmul_reference'] == {'skipped': 'no GPU'}
    tiny = result['models']['tiny']
    steps = tiny['levers']['steps']
    for name in ('official_fp32', 'eager_autocast_fp16', 'eager_autocast_bf16',
                 'bf16_weights', 'fused_attention', 'channels_last'):
        assert steps[name]['frames_per_s'] > 0, (name, steps[name])
    assert steps['fused_attention']['status']['fused_attention'].startswith('on')
    assert steps['bf16_weights']['status']['weights_dtype'] == 'bfloat16'
    # On the CPU the config default is the official fp32 path.
    assert tiny['levers']['default']['fast_path']['official_fp32'] is True
    for layout in ('1x1', '4x3'):
        entry = tiny['data_paths'][layout]
        for path_name in ('mmengine_data_path', 'fast_data_path'):
            assert entry[path_name]['pipeline_efficiency'] > 0
            assert set(entry[path_name]['time_split']) >= {'data_wait', 'forward'}
    variants = tiny['training']['variants']
    assert set(variants) == set(training.TRAIN_VARIANTS)
    for name, entry in variants.items():
        assert entry['videos_per_s'] > 0, (name, entry)
    assert {g['figure'] for g in result['summary']['goals']} >= {
        'tiny: pipeline efficiency 4x3 (fast data path)'}
    assert result['summary']['k400_4x3_projection']['model'] == 'tiny'
    decoded = [v for k, v in result['sections']['decoding_backends'].items()
               if 'skipped' not in v]
    assert decoded and all({'decord', 'pyav'} <= set(v) for v in decoded)
    table = path.with_suffix('.md').read_text()
    assert '## Model-only levers' in table and '## Decoding backends' in table
    assert '## Goals' in table and '## Training step variants' in table


def test_device_suite_files_read_in_the_current_schema():
    """A result of the former device suite (its own schema) reads as this
    one: its model-only, end-to-end and training figures are this schema's
    levers, data paths and training."""
    old = {'schema': schema.DEVICE_BENCH_1, 'device': 'cuda', 'environment': {},
           'plan': {'batch': 48, 'budget_s': 360.0}, 'goals_set': goals.GOALS,
           'card': {'name': 'NVIDIA H200'}, 'matmul_reference': {'tflops': 700.0},
           'models': {'vit-l-14': {'label': 'ViT-L/14', 'model_only': {'steps': {}},
                                   'end_to_end': {'1x1': {'skipped': 'time budget'}},
                                   'training': {'variants': {}}}},
           'goals': [], 'k400_4x3_projection': {'model': 'vit-l-14'},
           'decoding_backends': {}, 'wall_time_s': 300.0, 'complete': False}
    new = schema.upgrade(old)
    assert new['profile'] == 'device' and new['complete'] is False
    assert set(new['models']['vit-l-14']) == {'label', 'levers', 'data_paths', 'training'}
    assert new['sections'] == {'matmul_reference': {'tflops': 700.0}, 'decoding_backends': {}}
    assert new['settings']['device_plan']['batch'] == 48
    assert new['summary'] == {'goals': [], 'k400_4x3_projection': {'model': 'vit-l-14'}}
    text = report.render(new, sections.SECTIONS)
    assert 'Partial result' in text and 'time budget' in text
