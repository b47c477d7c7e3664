"""Fixtures of the dataset tests: a small synthetic benchmark, file writers."""
from __future__ import annotations

from pathlib import Path

import pytest

from bike_bench.datasets.synthetic_benchmark import SynthConfig, write_benchmark

SMALL = SynthConfig(classes=3, videos_per_class=3, seed=7, num_frames=12)


@pytest.fixture(scope='session')
def synth_config() -> SynthConfig:
    return SMALL


@pytest.fixture(scope='session')
def synth_root(tmp_path_factory) -> Path:
    """All six flavours at a tiny size (and no smoke split)."""
    root = tmp_path_factory.mktemp('synth')
    write_benchmark(str(root), SMALL, smoke=False)
    return root


@pytest.fixture
def write(tmp_path):
    """``write('name', text, crlf=False, bom=False)`` -> path under tmp_path."""
    def _write(name: str, text: str, crlf: bool = False, bom: bool = False) -> str:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if crlf:
            text = text.replace('\n', '\r\n')
        path.write_bytes((b'\xef\xbb\xbf' if bom else b'') + text.encode('utf-8'))
        return str(path)
    return _write
