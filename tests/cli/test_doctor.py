"""``bike-bench doctor`` reports the stack, fixes, devices and weights."""
from __future__ import annotations

import json

from bike_bench.cli.main import main


def test_doctor_json_report(capsys):
    code = main(['doctor', '--json'])
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert report['packages']['mmaction2'] == '1.2.0'
    assert report['mmaction_models_import'] == 'ok'
    assert 'mean_class_accuracy' in report['compat_fixes']
    assert set(report['openai_weights']) == {'ViT-B-32', 'ViT-B-16', 'ViT-L-14',
                                             'ViT-L-14-336'}
    assert report['video_write_decode'] == 'ok'


def test_help_lists_commands(capsys):
    try:
        main(['--help'])
    except SystemExit as exit_:
        assert exit_.code == 0
    out = capsys.readouterr().out
    for command in ('doctor', 'train', 'test'):
        assert command in out
