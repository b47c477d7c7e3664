"""One source per vocabulary: datasets from manifests/*.yaml, protocols from
one enum, one tolerance table in one unit."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from bike_bench import catalog, paths
from bike_bench.protocols import (TOLERANCE_PP, ZEROSHOT_VARIANTS, Protocol,
                                  parse_views, tolerance, tolerance_fraction)

PACKAGE = Path(__file__).resolve().parents[1] / 'bike_bench'


def test_datasets_are_the_shipped_specs():
    specs = sorted(p.stem for p in paths.spec_dir().glob('*.yaml'))
    assert sorted(catalog.dataset_names()) == specs
    for name in specs:
        info = catalog.get(name)
        assert info.name == name
        for alias in info.aliases:
            assert catalog.get(alias.upper()) == info
    with pytest.raises(catalog.UnknownDatasetError, match='did you mean hmdb51'):
        catalog.get('hmdb-51')


def test_no_module_lists_the_datasets_itself():
    listing = re.compile(r"""['"]kinetics400['"]\s*,\s*['"]kinetics600['"]""")
    offenders = [str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob('*.py')
                 if listing.search(p.read_text(encoding='utf-8'))]
    assert not offenders, f'dataset names listed outside manifests/*.yaml: {offenders}'


def test_layout_and_registry_read_the_catalog():
    from bike_bench.evaluation.layout import dataset_folder
    from bike_bench.datasets.specs import DATASETS
    assert list(DATASETS) == catalog.dataset_names()
    assert dataset_folder('K600', 'root') == str(Path('root') / 'kinetics600')
    with pytest.raises(ValueError, match="unknown dataset 'ucf-101'"):
        dataset_folder('ucf-101')
    ucf = catalog.get('ucf101')
    assert ucf.zeroshot == ('zeroshot_full',)
    assert ucf.fewshot_manifests(2) == ('train_split2', 'val_split2')
    assert set(ucf.roles.values()) <= {'train', 'val', 'test'}


def test_protocol_names():
    assert ZEROSHOT_VARIANTS == ('full', 'half', 'k600')
    assert Protocol.parse('few-shot') is Protocol.FEWSHOT
    assert Protocol.parse('zero-shot') is Protocol.ZEROSHOT_HALF
    assert Protocol.zeroshot('k600') is Protocol.ZEROSHOT_K600
    assert Protocol.ZEROSHOT_K600.family == 'zeroshot'
    assert Protocol.ZEROSHOT_K600.variant == 'k600'
    with pytest.raises(ValueError, match='choose from full, half, k600'):
        Protocol.zeroshot('quarter')


def test_one_tolerance_table_in_points():
    from bike_bench.reproduction import ci_regression
    from bike_bench.reproduction.registry import build_registry
    assert set(TOLERANCE_PP) == {'full', 'smoke'}
    for table in TOLERANCE_PP.values():
        assert set(table) == set(Protocol)
    for entry in build_registry():
        assert entry.tolerance == tolerance(entry.protocol, 'full')
    assert ci_regression.TOLERANCE['general'] == tolerance_fraction('general', 'smoke')
    assert tolerance_fraction('fewshot', 'smoke') == pytest.approx(0.25)


def test_views_parse_without_torch():
    assert parse_views('4x3').label == '4x3'
    for bad in ('5x', '4x2', '0x1'):
        with pytest.raises(ValueError):
            parse_views(bad)
