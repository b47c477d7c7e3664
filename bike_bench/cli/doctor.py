"""``bike-bench doctor``: what is installed, fixed, and usable here.

The first thing to run when an install misbehaves: versions of the stack,
which compatibility fixes are active, the devices torch sees, whether the
paper's CLIP weights are available offline, the video decoding backends
usable here (with their library and FFmpeg versions, or what is missing),
and a video write/decode check.
"""
from __future__ import annotations

import importlib
import json
import platform
import tempfile

PACKAGES = [('torch', 'torch'), ('torchvision', 'torchvision'),
            ('mmengine', 'mmengine'), ('mmcv', 'mmcv'),
            ('mmaction2', 'mmaction'), ('open_clip_torch', 'open_clip'),
            ('decord', 'decord'), ('numpy', 'numpy'), ('opencv', 'cv2'),
            ('pandas', 'pandas')]
PAPER_ARCHS = ('ViT-B-32', 'ViT-B-16', 'ViT-L-14', 'ViT-L-14-336')


def add_parser(subparsers):
    parser = subparsers.add_parser(
        'doctor', help='report versions, compat fixes, devices and weights')
    parser.add_argument('--json', action='store_true', help='print JSON')
    parser.set_defaults(func=run)


def _version(module_name: str) -> str:
    try:
        module = importlib.import_module(module_name)
    except Exception as error:  # noqa: BLE001 - report, don't crash
        return f'NOT IMPORTABLE ({type(error).__name__}: {error})'
    return str(getattr(module, '__version__', 'unknown'))


def _devices() -> dict:
    import torch
    info = {'cuda_available': torch.cuda.is_available(),
            'cuda_build': torch.version.cuda or 'none'}
    if torch.cuda.is_available():
        info['gpus'] = [torch.cuda.get_device_name(i)
                        for i in range(torch.cuda.device_count())]
    info['cpu_threads'] = torch.get_num_threads()
    return info


def _video_roundtrip() -> str:
    import numpy as np
    from bike_bench.datasets.synthetic import write_mp4
    from bike_bench.datasets.transforms.decoding import open_video
    with tempfile.TemporaryDirectory() as folder:
        path = f'{folder}/check.mp4'
        write_mp4(path, np.zeros((4, 32, 32, 3), np.uint8))
        frames = len(open_video(path))
    return 'ok' if frames == 4 else f'decoded {frames} of 4 frames'


def config_backbones(config_dir=None) -> dict:
    """Per config under ``mmconfigs/``: its backbone and whether the weights
    it starts from are here (open_clip / Hugging Face cache, a local path or
    its ``load_from`` checkpoint); nothing is downloaded."""
    import os
    from mmengine.config import Config
    from bike_bench.models.clip.weights import pretrained_weights_status
    from bike_bench import paths
    from bike_bench.metafile import config_files
    config_dir = config_dir or str(paths.config_dir())
    out = {}
    for path in config_files(config_dir):
        try:
            cfg = Config.fromfile(str(path))
            backbone = cfg.model.get('backbone', {})
            arch, tag = backbone.get('arch'), backbone.get('pretrained')
            load_from = cfg.get('load_from')
            if not isinstance(arch, str):
                arch = 'dict architecture'
            if load_from:
                found = os.path.isfile(paths.output_path(load_from)) or \
                    os.path.isfile(load_from)
                status = f'load_from {load_from}: ' + ('present' if found else 'missing')
            elif tag is None:
                status = 'random init (nothing to load)'
            elif os.path.sep in tag or tag.endswith(('.pt', '.pth', '.bin')):
                # as the encoder resolves it: relative to the package data
                found = os.path.isfile(paths.shipped_file(tag))
                status = 'local file ' + ('present' if found else 'missing')
            elif arch == 'dict architecture':
                status = f'{tag!r} for a dict architecture: not checked offline'
            else:
                status = pretrained_weights_status(arch, tag)
        except Exception as error:  # noqa: BLE001 - report, don't crash
            arch, tag, status = '?', None, f'cannot read ({type(error).__name__}: {error})'
        out[path.stem] = dict(arch=arch, pretrained=tag, status=status)
    return out


def collect() -> dict:
    report = {'python': platform.python_version(),
              'platform': platform.platform(),
              'packages': {name: _version(module) for name, module in PACKAGES}}
    try:
        from bike_bench import compat
        report['compat_fixes'] = dict(compat.apply())
        report['mmaction_models_import'] = 'ok'
    except Exception as error:  # noqa: BLE001
        report['compat_fixes'] = {}
        report['mmaction_models_import'] = f'FAILED: {error}'
    try:
        from bike_bench.install_checks import shared_packages
        report['shared_package_folders'] = shared_packages()
    except Exception as error:  # noqa: BLE001
        report['shared_package_folders'] = f'cannot check: {error}'
    report['devices'] = _devices()
    try:
        from bike_bench.models.clip.weights import pretrained_weights_status
        report['openai_weights'] = {arch: pretrained_weights_status(arch)
                                    for arch in PAPER_ARCHS}
    except Exception as error:  # noqa: BLE001
        report['openai_weights'] = f'cannot check: {error}'
    try:
        report['config_backbones'] = config_backbones()
    except Exception as error:  # noqa: BLE001
        report['config_backbones'] = f'cannot check: {error}'
    try:
        from bike_bench.datasets.transforms.video_backends import (DEFAULT_BACKEND,
                                                                   backend_status)
        report['video_backends'] = backend_status()
        report['default_video_backend'] = DEFAULT_BACKEND
    except Exception as error:  # noqa: BLE001
        report['video_backends'] = f'cannot check: {error}'
    try:
        report['video_write_decode'] = _video_roundtrip()
    except Exception as error:  # noqa: BLE001
        report['video_write_decode'] = f'FAILED: {error}'
    return report


def _print_shared(clashes) -> None:
    from bike_bench.install_checks import describe
    if isinstance(clashes, str):
        print(f'Package folders: {clashes}')
    for clash in clashes if isinstance(clashes, list) else ():
        print(f'warning: {describe(clash)}')


def run(args) -> int:
    report = collect()
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"Python {report['python']} on {report['platform']}")
        print('Packages:')
        for name, version in report['packages'].items():
            print(f'  {name:16s} {version}')
        print('Compatibility fixes active:')
        for name, what in report['compat_fixes'].items():
            print(f'  {name:22s} {what}')
        if not report['compat_fixes']:
            print('  none')
        print(f"import mmaction.models: {report['mmaction_models_import']}")
        _print_shared(report['shared_package_folders'])
        devices = report['devices']
        print(f"Devices: CUDA available={devices['cuda_available']} "
              f"(build {devices['cuda_build']}), "
              f"GPUs={devices.get('gpus', [])}, CPU threads={devices['cpu_threads']}")
        print("OpenAI CLIP weights (open_clip, offline):")
        weights = report['openai_weights']
        if isinstance(weights, dict):
            for arch, status in weights.items():
                print(f'  {arch:14s} {status}')
        else:
            print(f'  {weights}')
        print('Backbone weights of each config (offline; configs sharing one are grouped):')
        backbones = report['config_backbones']
        if isinstance(backbones, dict):
            groups = {}
            for name, item in backbones.items():
                key = (item['arch'], item['pretrained'], item['status'])
                groups.setdefault(key, []).append(name)
            for (arch, tag, status), names in groups.items():
                what = f'{arch} / {tag}' if tag else arch
                print(f'  {what:40s} {status} [{len(names)} config(s), e.g. {names[0]}]')
        else:
            print(f'  {backbones}')
        print(f"Video decoding backends (default {report.get('default_video_backend')}):")
        backends = report['video_backends']
        for name, item in (backends.items() if isinstance(backends, dict) else ()):
            if item['available']:
                ffmpeg = f", FFmpeg {item['ffmpeg']}" if item.get('ffmpeg') else ''
                print(f'  {name:12s} {item["version"]}{ffmpeg}')
            else:
                print(f'  {name:12s} unavailable: {item["problem"]}')
        if not isinstance(backends, dict):
            print(f'  {backends}')
        print(f"Video write + decode: {report['video_write_decode']}")
    broken = [n for n, v in report['packages'].items() if v.startswith('NOT')]
    ok = not broken and report['mmaction_models_import'] == 'ok' \
        and report['video_write_decode'] == 'ok'
    return 0 if ok else 1
