"""``bike-bench compare-logs`` end to end through the CLI entry point."""
import json

from bike_bench.cli.main import main


def test_compare_logs_writes_plot_and_table(logs_dir, tmp_path, capsys):
    scalars = tmp_path / 'ours' / '20250101_000000' / 'vis_data' / \
        'scalars.json'
    scalars.parent.mkdir(parents=True)
    scalars.write_text(''.join(json.dumps(
        {'acc/top1': top1, 'acc/top5': 0.9, 'step': epoch}) + '\n'
        for epoch, top1 in [(1, 0.7), (2, 0.8)]))
    out = tmp_path / 'report'
    code = main(['compare-logs', str(logs_dir / 'k400_vit-B_16_8f_log.txt'),
                 str(logs_dir / 'k400_vit-B_32_8f_video_attributes_log.txt'),
                 str(logs_dir / 'charades_vit-L_14-336px_16f_log.txt'),
                 str(tmp_path / 'ours'), '--out', str(out)])
    assert code == 0
    png = out / 'val_curves.png'
    assert png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    table = (out / 'summary.md').read_text()
    printed = capsys.readouterr().out
    rows = {line.split('|')[1].strip(): [c.strip() for c in
                                         line.split('|')[2:-1]]
            for line in printed.splitlines() if line.startswith('| ')}
    # columns: kind, metric, epochs, evaluations, last, best, best epoch, note
    assert rows['k400_vit-B_16_8f'][:7] == ['official', 'top1', '30', '30',
                                            '82.880', '82.931', '27']
    assert rows['k400_vit-B_32_8f_video_attributes [run 2/2]'][4:6] == [
        '69.970', '70.051']
    assert rows['k400_vit-B_32_8f_video_attributes [fusion a=0.7 b=0.3]'][
        4] == '81.470'
    assert rows['charades_vit-L_14-336px_16f'][1:2] == ['mAP']
    assert rows['ours'][:6] == ['mmengine', 'top1', '2', '2', '80.000',
                                '80.000']
    assert '| k400_vit-B_16_8f ' in table


def test_compare_logs_error_names_the_file(tmp_path, capsys):
    bad = tmp_path / 'empty_log.txt'
    bad.write_text("[04/25 15:23:35] BIKE INFO: {'solver': {'lr': 1e-5}}\n")
    code = main(['compare-logs', str(bad), '--out', str(tmp_path / 'o')])
    assert code == 2
    error = capsys.readouterr().err
    assert str(bad) in error and 'no validation lines' in error
    assert not (tmp_path / 'o' / 'val_curves.png').exists()
