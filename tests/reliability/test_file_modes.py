"""Group 8: files written for colleagues on a shared cluster.

Atomic writes go through a temporary file and a rename; ``mkstemp`` creates
it with mode 0600, which made every checkpoint, results file and attribute
file private whatever the umask. They now get ``0666 & ~umask``, like a
plain ``open(path, 'w')``.
"""
from __future__ import annotations

import os
import stat

import pytest
import torch

from bike_bench.attributes.generate import AttributeWriter
from bike_bench.evaluation.results import write_results
from bike_bench.models.convert import save_mmengine_checkpoint
from bike_bench.utils.atomic import atomic_write_json

GROUP = 'shared files'


@pytest.fixture(params=[0o022, 0o027, 0o077], ids=lambda m: f'umask{m:03o}')
def umask(request):
    previous = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(previous)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_every_atomic_writer_follows_the_umask(umask, tmp_path, faults):
    faults.tried(GROUP, 'files written private (0600) whatever the umask')
    expected = 0o666 & ~umask
    # The plain-open reference: what the user's umask means.
    with open(tmp_path / 'plain.txt', 'w') as handle:
        handle.write('x')
    assert mode(tmp_path / 'plain.txt') == expected

    atomic_write_json(str(tmp_path / 'results' / 'a.json'), {'a': 1})
    assert mode(tmp_path / 'results' / 'a.json') == expected

    # MMEngine's checkpoint writer (patched to write atomically).
    from mmengine.fileio.backends import LocalBackend
    LocalBackend().put(b'weights', tmp_path / 'epoch_1.pth')
    assert mode(tmp_path / 'epoch_1.pth') == expected

    # Converted checkpoints (torch.save to a temporary path).
    save_mmengine_checkpoint({'w': torch.zeros(2)}, str(tmp_path / 'converted.pth'))
    assert mode(tmp_path / 'converted.pth') == expected

    # Attribute files and their meta.
    writer = AttributeWriter(str(tmp_path / 'attributes.json'), ['v0'], {})
    writer.add('v0', ['a red circle'], [0.5])
    writer.flush()
    writer.write_meta(complete=True)
    assert mode(tmp_path / 'attributes.json') == expected
    assert all(mode(p) == expected for p in tmp_path.glob('attributes*.json'))

    # No temporary file is left behind.
    assert not list(tmp_path.rglob('.*.tmp'))


def test_results_files_follow_the_umask(umask, tmp_path, monkeypatch):
    import bike_bench.evaluation.results as results
    # The schema check is not what is tested here; the write is.
    monkeypatch.setattr(results, 'validate_results', lambda data, name=None: data)
    path = tmp_path / 'results' / 'test_run.json'
    write_results({'bike_bench_results': 1}, str(path))
    assert mode(path) == 0o666 & ~umask
