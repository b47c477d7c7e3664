"""Shared fixtures: the reference data beside the checkout, tiny models."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import bike_bench.models  # noqa: F401  (registers modules, applies compat)

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get('BIKE_SHARED', REPO_ROOT.parent / 'shared'))
REFERENCE = SHARED / 'reference'

# The tiny CLIP of the parity fixtures (embed 64, visual 128x2 @ 64 px / 16,
# text 64x2): bike-bench's open_clip model config of that name
# (bike_bench/models/clip/model_configs/).
TINY_CLIP = 'bike-tiny-openai-clip'


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f'reference data not found at {path} (../shared is only '
                    'present in the development and CI checkouts)')
    return path


@pytest.fixture(scope='session')
def reference_dir() -> Path:
    return _need(REFERENCE)


@pytest.fixture(scope='session')
def parity_dir(reference_dir) -> Path:
    return _need(reference_dir / 'parity')


@pytest.fixture(scope='session')
def lists_dir(reference_dir) -> Path:
    return _need(reference_dir / 'lists')


@pytest.fixture(scope='session')
def logs_dir(reference_dir) -> Path:
    return _need(reference_dir / 'logs')


@pytest.fixture(scope='session')
def parity_outputs(parity_dir):
    import torch
    return torch.load(parity_dir / 'tiny_bike_outputs.pt', weights_only=True)


@pytest.fixture(scope='session')
def protocol_indices(parity_dir):
    return json.loads((parity_dir / 'protocol_indices.json').read_text())


@pytest.fixture(scope='session')
def tiny_clip_config():
    return TINY_CLIP
