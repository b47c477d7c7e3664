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
    backbones = report['config_backbones']
    siglip = backbones['bike_vit-b-p16-siglip2_webli-pre_8xb32-8x1x1-30e_kinetics400-rgb']
    assert (siglip['arch'], siglip['pretrained']) == ('ViT-B-16-SigLIP2', 'webli')
    assert siglip['status'].startswith(('cached', 'not cached'))
    tiny = backbones['bike_tiny-vit-p16-res64_toy-clip-pre_1xb16-8x1x1-8e_synthetic-rgb']
    assert tiny['status'].startswith('local file')  # the toy CLIP it starts from
    finetune = backbones['bike_vit-l-p14_k400-pre_8xb32-16x1x1-20e_ucf101-split1-rgb']
    assert finetune['status'].startswith('load_from checkpoints/')


def test_doctor_text_lists_backbone_weights(capsys):
    main(['doctor'])
    out = capsys.readouterr().out
    assert 'Backbone weights of each config' in out
    assert 'EVA02-L-14 / merged2b_s4b_b131k' in out


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


def test_a_config_loading_a_local_clip_is_not_called_random_init(tmp_path, monkeypatch):
    """A dict architecture with a ``pretrained`` file loads it: doctor said
    'random init (nothing to load)' for any dict architecture, and looked
    for a relative file only in the current directory."""
    from bike_bench.cli.doctor import config_backbones
    configs = tmp_path / 'configs'
    configs.mkdir()
    toy = 'results/toy_clip/toy-clip_synthetic_fp16.pt'  # package data, as the encoder reads it
    for name, pretrained in (('bike_dict-toy_x', toy), ('bike_dict-none_x', None),
                             ('bike_dict-gone_x', 'results/toy_clip/no-such.pt')):
        (configs / f'{name}.py').write_text(
            f'model = dict(backbone=dict(arch=dict(embed_dim=64), pretrained={pretrained!r}))\n')
    monkeypatch.chdir(tmp_path)  # not the checkout: the toy CLIP is found as package data
    found = config_backbones(str(configs))
    assert found['bike_dict-toy_x']['status'] == 'local file present'
    assert found['bike_dict-none_x']['status'] == 'random init (nothing to load)'
    assert found['bike_dict-gone_x']['status'] == 'local file missing'


def test_doctor_lists_the_video_backends(capsys):
    """Every registered backend: its versions, or the one line saying what
    is missing."""
    import decord

    main(['doctor', '--json'])
    report = json.loads(capsys.readouterr().out)
    backends = report['video_backends']
    assert set(backends) == {'decord', 'pyav', 'torchcodec'}
    assert backends['decord'] == {'available': True, 'version': decord.__version__,
                                  'ffmpeg': None}
    assert backends['pyav']['available'] and backends['pyav']['ffmpeg']
    codec = backends['torchcodec']
    assert codec['available'] or 'FFmpeg' in codec['problem'] \
        or 'not installed' in codec['problem']
    assert report['default_video_backend'] in backends
    main(['doctor'])
    out = capsys.readouterr().out
    assert 'Video decoding backends (default ' in out
    assert f'  decord       {decord.__version__}' in out
