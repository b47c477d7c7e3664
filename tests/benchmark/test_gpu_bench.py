"""The GPU script: argument parsing, card peaks, clean refusal without CUDA."""
from __future__ import annotations

import json

import pytest
import torch

from bike_bench.benchmark import gpu_bench


def test_out_folder_is_required(capsys):
    with pytest.raises(SystemExit):
        gpu_bench.parse_args([])
    assert '--out' in capsys.readouterr().err


@pytest.mark.parametrize('name, peak', [
    ('NVIDIA H100 80GB HBM3', 989.0), ('NVIDIA H100 PCIe', 756.0),
    ('NVIDIA H200', 989.0), ('NVIDIA A100-SXM4-80GB', 312.0), ('Tesla T4', None)])
def test_card_peaks(name, peak):
    assert gpu_bench.card_peak(name) == peak


@pytest.mark.skipif(torch.cuda.is_available(), reason='a CUDA device is present')
def test_without_cuda_it_says_so_and_writes_a_skip_record(tmp_path, capsys):
    assert gpu_bench.main(['--out', str(tmp_path)]) == gpu_bench.NO_CUDA
    assert 'no CUDA device is available' in capsys.readouterr().err
    record = json.loads(next(tmp_path.glob('gpu-*.json')).read_text())
    assert record['status'] == 'skipped' and '--device cpu' in record['reason']


@pytest.mark.slow
def test_cpu_smoke_run_of_the_script(tmp_path):
    code = gpu_bench.main(['--out', str(tmp_path), '--device', 'cpu', '--models', 'tiny',
                           '--dtype', 'float32', '--batch', '2', '--repeats', '1',
                           '--e2e-batches', '1', '--workers', '0',
                           '--cache-dir', str(tmp_path / 'videos')])
    assert code == 0
    result = json.loads(next(tmp_path.glob('gpu-*.json')).read_text())
    tiny = result['models']['tiny']
    assert result['status'] == 'ok'
    assert tiny['model_only']['achieved']['tflops'] > 0
    assert tiny['counted_gflops_per_view'] > 0
    assert set(tiny['end_to_end']) == {'1x1', '4x3'}
    assert 'pillow_workers_0' in tiny['end_to_end']['1x1']
    assert 'loader_only_workers_0' in tiny['end_to_end']['4x3']
