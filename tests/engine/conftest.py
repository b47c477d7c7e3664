from __future__ import annotations

from pathlib import Path

import pytest

from bike_bench.datasets.smoke import write_smoke_set

SMOKE_CONFIG = str(Path(__file__).resolve().parents[2] / 'mmconfigs' /
                   'bike_tiny-vit-p16-res64_toy-clip-pre_1xb16-8x1x1-8e_synthetic-rgb.py')


@pytest.fixture(scope='session')
def smoke_set(tmp_path_factory):
    """The synthetic smoke split (8 classes, 96 train / 32 val videos)."""
    return write_smoke_set(str(tmp_path_factory.mktemp('synthetic')))
