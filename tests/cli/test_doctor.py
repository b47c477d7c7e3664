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


def test_doctor_warns_about_two_opencv_wheels(monkeypatch, capsys):
    from bike_bench import install_checks
    clash = {'package': 'cv2', 'location': '/site',
             'distributions': [{'name': 'opencv-contrib-python', 'version': '5.1.0.95'},
                               {'name': 'opencv-python', 'version': '5.0.0.93'}]}
    monkeypatch.setattr(install_checks, 'shared_packages', lambda paths=None: [clash])
    main(['doctor'])
    out = capsys.readouterr().out
    assert 'warning: opencv-contrib-python 5.1.0.95 and opencv-python 5.0.0.93 are ' \
           'installed into the same folder cv2/' in out
