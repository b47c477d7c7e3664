"""The compatibility table of open_clip architectures (docs/architectures.md).

``test_table_is_current`` builds every name of ``open_clip.list_models()``
on the meta device (or a tiny model of its family), runs BIKE's head, and
compares with the committed table; ``BIKE_BENCH_WRITE_ARCH_TABLE=1``
rewrites the table instead. It is marked slow (about 2 s per architecture
on one CPU core); the other tests here check the table and one
architecture per family quickly.
"""
from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

import open_clip
import pytest

from bike_bench.models.architectures import (PASS, check_architecture,
                                             compatibility_table, render_markdown)
from bike_bench.models.clip.model_configs import open_clip_architectures

TABLE = Path(__file__).resolve().parents[2] / 'docs' / 'architectures.md'
ROW = re.compile(r'^\| `([^`]+)` \| (\w+) \| ([^|]*) \|.*\| ([^|]*) \|$')
HAS_TRANSFORMERS = importlib.util.find_spec('transformers') is not None


def committed_rows():
    rows = {}
    for line in TABLE.read_text(encoding='utf-8').splitlines():
        match = ROW.match(line)
        if match:
            rows[match.group(1)] = (match.group(2), match.group(3).strip(),
                                    match.group(4).strip())
    return rows


def test_table_lists_every_open_clip_architecture_once():
    rows = committed_rows()
    names = open_clip_architectures()  # bike-bench's own tiny configs are not listed
    assert sorted(rows) == sorted(names)
    assert set(open_clip.list_models()) - set(names) == {
        f'bike-tiny-{f}' for f in ('openai-clip', 'siglip', 'eva02', 'hf-roberta', 'coca')}
    assert f'{len(names)} names' in TABLE.read_text(encoding='utf-8')
    for name, (status, _, reason) in rows.items():
        assert status in ('pass', 'unsupported'), name
        assert status == 'pass' or reason, f'{name}: unsupported without a reason'


@pytest.mark.parametrize('arch', ['ViT-B-32', 'RN50', 'convnext_tiny', 'ViT-B-16-SigLIP2',
                                  'EVA02-B-16', 'coca_ViT-B-32', 'MobileCLIP-S1',
                                  'roberta-ViT-B-32'])
def test_one_architecture_per_family(arch):
    row = check_architecture(arch)
    if arch.startswith('roberta') and not HAS_TRANSFORMERS:
        assert row.status != PASS and 'transformers' in row.reason
        return
    assert row.status == PASS, row.reason
    assert (row.status, row.checked) == committed_rows()[arch][:2]


@pytest.mark.slow
def test_table_is_current():
    rows = compatibility_table()
    if os.environ.get('BIKE_BENCH_WRITE_ARCH_TABLE'):
        if not HAS_TRANSFORMERS:
            pytest.fail('write the table with `transformers` installed (HF text towers)')
        TABLE.write_text(render_markdown(rows), encoding='utf-8')
    committed = committed_rows()
    for row in rows:
        if not HAS_TRANSFORMERS and 'transformers' in row.reason:
            continue  # the committed table was made with transformers
        assert (row.status, row.checked, row.reason) == committed[row.arch], row.arch
