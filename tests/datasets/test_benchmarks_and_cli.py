"""Data benchmarks (tiny sizes) and the `manifests build` command."""
from __future__ import annotations

from bike_bench.cli.main import main
from bike_bench.datasets.benchmarks import bench_decode, bench_manifest_build
from bike_bench.datasets.manifest import read_manifest


def test_bench_manifest_build_on_a_k400_sized_list():
    result = bench_manifest_build(repeats=1)
    assert result['entries'] == 19796 and result['seconds'] > 0
    assert result['source'] == 'generated K400-sized list'


def test_bench_decode_small():
    result = bench_decode(frames_per_video=(8, 32), repeats=1, bench_videos=2,
                          bench_frames=40, bench_size=(48, 64))
    assert result['count'] == 2
    for key in ('T=8', 'T=32'):
        assert result[key]['frames_per_s'] > 0
    assert result['T=32']['seconds'] > 0


def test_cli_build(tmp_path, capsys):
    source = tmp_path / 'src'
    source.mkdir()
    (source / 'ucf_labels.csv').write_text('id,name\n0,Archery\n1,YoYo\n')
    (source / 'val_rgb_split_1.txt').write_text('Archery/v_1 40 0\nYoYo/v_2 33 1\n')
    out = tmp_path / 'ucf101'
    assert main(['manifests', 'build', 'ucf101', '--format', 'official', '--source',
                 str(source), '--out', str(out), '--media', '*=UCF101-frames',
                 '--filename-tmpl', 'img_{:05d}.jpg']) == 0
    printed = capsys.readouterr().out
    assert 'val_split1' in printed and 'not built, missing: train_split1' in printed
    manifest = read_manifest(str(out / 'manifests' / 'val_split1.jsonl'))
    assert manifest.entries[1].path == 'UCF101-frames/YoYo/v_2'
    assert manifest.entries[1].filename_tmpl == 'img_{:05d}.jpg'
    assert main(['manifests', 'build', 'ucf101', '--format', 'official', '--source',
                 str(source), '--out', str(out), '--only', 'val_split2']) == 1
    assert 'val_split2: val_split2' in capsys.readouterr().err
    (source / 'val_rgb_split_1.txt').write_text('Archery/v_1 40 0\nYoYo/v_2 33 7\n')
    assert main(['manifests', 'build', 'ucf101', '--format', 'official', '--source',
                 str(source), '--out', str(out)]) == 1
    assert 'val_rgb_split_1.txt:2: label 7 out of range for 2 classes' in \
        capsys.readouterr().err
