"""``import bike_bench`` survives the transformers a research environment has.

Each case runs in a fresh interpreter whose ``sys.path`` starts with a
folder holding a stub ``transformers`` package (and its dist-info, which is
what mmaction2 reads to decide whether to import its multimodal models).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap


# What transformers 5 no longer has: mmaction's VindLU imports these from
# transformers.modeling_utils; the stub has the module but not the names.
STUB_5X = {
    '__init__.py': "__version__ = '5.0.0'\n"
                   "class BertTokenizer:\n    pass\n",
    'modeling_utils.py': "class PreTrainedModel:\n    pass\n"
                         "def apply_chunking_to_forward(*a):\n    pass\n",
}
STUB_OLD = {'__init__.py': "__version__ = '4.20.0'\n"}


def _write_stub(root, version: str, files) -> str:
    package = root / 'transformers'
    package.mkdir()
    for name, text in files.items():
        (package / name).write_text(text)
    info = root / f'transformers-{version}.dist-info'
    info.mkdir()
    (info / 'METADATA').write_text(
        f'Metadata-Version: 2.1\nName: transformers\nVersion: {version}\n')
    (info / 'RECORD').write_text('transformers/__init__.py,,\n')
    return str(root)


PROBE = textwrap.dedent('''
    import json, sys
    shim = sys.argv[1]
    if shim == 'absent':
        sys.modules['transformers'] = None   # import transformers -> ImportError
    else:
        sys.path.insert(0, shim)
    report = {}
    if sys.argv[2] == 'unguarded':
        # What bike_bench did before: import all of mmaction.models (compat
        # loaded from its file, so bike_bench/__init__ does not run).
        import importlib.util
        spec = importlib.util.spec_from_file_location('compat_alone', sys.argv[3])
        compat = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(compat)
        compat.ensure_importlib_metadata()
        compat.provide_missing_drn()
        try:
            import mmaction.models  # noqa: F401
            report['unguarded'] = 'ok'
        except Exception as error:
            report['unguarded'] = f'{type(error).__name__}: {error}'
        print(json.dumps(report))
        raise SystemExit(0)
    import bike_bench
    import bike_bench.models  # noqa: F401  (registers BIKE, imports mmaction.models)
    from mmaction.registry import MODELS
    report['bike_registered'] = MODELS.get('BIKERecognizer') is not None
    try:
        MODELS.build(dict(type='VindLURetrieval'))
        report['vindlu'] = 'built'
    except Exception as error:
        report['vindlu'] = f'{type(error).__name__}: {error}'
    print(json.dumps(report))
''')


def _probe(shim: str, mode: str = 'guarded') -> dict:
    import bike_bench.compat
    done = subprocess.run([sys.executable, '-c', PROBE, shim, mode,
                           bike_bench.compat.__file__],
                          capture_output=True, text=True, timeout=300,
                          env=dict(os.environ))
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_transformers_5_stub_reproduces_the_failure(tmp_path):
    """The stub is faithful: without the guard, mmaction.models fails on it."""
    shim = _write_stub(tmp_path, '5.0.0', STUB_5X)
    assert _probe(shim, 'unguarded')['unguarded'].startswith(
        ('ImportError', 'ModuleNotFoundError', 'AttributeError'))


def test_import_with_transformers_5(tmp_path):
    report = _probe(_write_stub(tmp_path, '5.0.0', STUB_5X))
    assert report['bike_registered']
    # The unused model fails only when built, naming the version.
    assert report['vindlu'].startswith('ImportError')
    assert 'transformers 5.0.0' in report['vindlu']


def test_import_with_old_transformers(tmp_path):
    report = _probe(_write_stub(tmp_path, '4.20.0', STUB_OLD))
    assert report['bike_registered']
    assert report['vindlu'].startswith('ImportError')


def test_import_without_transformers():
    report = _probe('absent')
    assert report['bike_registered']
    assert report['vindlu'].startswith('ImportError')
