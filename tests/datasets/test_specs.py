"""Dataset specs (manifests/*.yaml), status of a data root, the list command."""
from __future__ import annotations

import re

import pytest

from bike_bench.cli.main import main
from bike_bench.datasets.builders import BUILDERS
from bike_bench.datasets.specs import (DATASETS, SpecError, describe_missing,
                                       list_datasets, load_spec, parse_spec,
                                       source_status)

README_MANIFESTS = {
    'kinetics400': {'train', 'val'},
    'kinetics600': {'zeroshot_split1', 'zeroshot_split2', 'zeroshot_split3'},
    'ucf101': {f'{kind}_split{n}' for kind in ('train', 'val') for n in (1, 2, 3)}
    | {'zeroshot_full'},
    'hmdb51': {f'{kind}_split{n}' for kind in ('train', 'val') for n in (1, 2, 3)}
    | {'zeroshot_full'},
    'activitynet': {'train', 'val', 'zeroshot_full'},
    'charades': {'train', 'test'},
}


def test_all_six_specs_load_and_name_registered_builders():
    assert list_datasets() == list(DATASETS)
    for dataset in DATASETS:
        spec = load_spec(dataset)
        assert set(spec.manifests) == README_MANIFESTS[dataset]
        assert spec.folder == dataset
        for fmt in spec.formats.values():
            assert fmt.builder in BUILDERS, (dataset, fmt.name)
            assert fmt.where and fmt.description
        # The dataset's default format builds every manifest.
        assert set(spec.formats[spec.default_format].builds) == set(spec.manifests)
    assert load_spec('charades').manifests['test'].multi_label
    assert load_spec('kinetics600').manifests['zeroshot_split2'].class_table == \
        'classes_split2.csv'


@pytest.mark.parametrize('data, message', [
    ({'dataset': 'x', 'manifests': {}, 'formats': {}, 'colour': 1},
     "unknown key(s) ['colour']"),
    ({'dataset': 'x', 'manifests': {'a': {}},
      'formats': {'f': {'builder': 'b', 'files': {}, 'builds': {'a': {'needs': ['k']}}}}},
     "needs 'k', which is not in its files"),
    ({'dataset': 'x', 'manifests': {'a': {}},
      'formats': {'f': {'builder': 'b', 'builds': {'z': {'needs': ['k']}}}}},
     "'z' is not one of the manifests"),
])
def test_malformed_spec(data, message):
    with pytest.raises(SpecError, match=re.escape(message)):
        parse_spec(data, 'spec.yaml')


def test_status_of_the_synthetic_data_root(synth_root):
    statuses = source_status(str(synth_root))
    assert len(statuses) == sum(map(len, README_MANIFESTS.values()))
    assert all(s.built for s in statuses)
    by_name = {(s.dataset, s.manifest): s for s in statuses}
    assert by_name[('ucf101', 'val_split2')].buildable == ['ucf101-splits']
    assert by_name[('charades', 'train')].buildable == ['charades-csv']


def test_status_says_what_is_missing(tmp_path):
    statuses = source_status(str(tmp_path), ['ucf101', 'charades'])
    assert not any(s.built or s.buildable for s in statuses)
    text = describe_missing(statuses)
    assert 'ucf101 (files under <data root>/ucf101/):\n' in text
    assert '  val_split3: missing (format ucf101-splits): ' \
        'ucfTrainTestlist/classInd.txt; ucfTrainTestlist/testlist03.txt' in text
    assert 'UCF101TrainTestSplits-RecognitionTask.zip' in text
    assert '  train: missing (format charades-csv)' in text and \
        'lists/Charades_train_split_label.csv | Charades/Charades_v1_train.csv' in text
    (tmp_path / 'ucf101' / 'lists').mkdir(parents=True)
    for name in ('ucf_labels.csv', 'val_rgb_split_1.txt'):
        (tmp_path / 'ucf101' / 'lists' / name).write_text('x')
    status = {s.manifest: s for s in source_status(str(tmp_path), ['ucf101'])}
    assert status['val_split1'].buildable == ['official']
    assert 'manifests build ucf101 --format official' in describe_missing(
        [status['val_split1']])


def test_cli_list(synth_root, capsys):
    assert main(['manifests', 'list', '--data-root', str(synth_root), '--dataset',
                 'hmdb51', '--formats']) == 0
    out = capsys.readouterr().out
    assert 'zeroshot_full' in out and 'yes' in out
    assert '--format hmdb51-splits (default)' in out
    assert 'testTrainMulti_7030_splits' in out


def test_protocols_in_the_spec():
    base = {'dataset': 'x', 'manifests': {'a': {}, 'b': {'role': 'train'}},
            'formats': {'f': {'builder': 'b'}}}
    spec = parse_spec(dict(base, protocols={'zeroshot': ['a']}), 'x.yaml')
    assert spec.zeroshot == ('a',) and spec.zeroshot_variants == ('full', 'half')
    spec = parse_spec(dict(base, protocols={'zeroshot': {'manifests': ['a'],
                                                         'variants': ['k600']}}), 'x.yaml')
    assert spec.zeroshot_variants == ('k600',) and spec.zeroshot_class_tables() == ['classes.csv']
    for protocols, message in (
            ({'zeroshot': ['c']}, "protocols.zeroshot names 'c'"),
            ({'zeroshot': {'manifests': ['a'], 'variants': ['quarter']}},
             "'quarter' is not one of full, half, k600"),
            ({'fewshot': {'train': 'b'}}, 'needs exactly "train" and "val"'),
            ({'fewshot': {'train': 'b', 'val': 'z'}}, "protocols.fewshot.val names 'z'")):
        with pytest.raises(SpecError, match=re.escape(message)):
            parse_spec(dict(base, protocols=protocols), 'x.yaml')
    with pytest.raises(SpecError, match=r"x.yaml: manifests.a.role: 'dev' is not one of"):
        parse_spec(dict(base, manifests={'a': {'role': 'dev'}}), 'x.yaml')


def test_one_reader_of_the_specs():
    """catalog reads the YAML; specs, the CLI and the layouts use its objects."""
    from pathlib import Path
    from bike_bench import catalog
    package = Path(catalog.__file__).parent
    readers = [str(p.relative_to(package)) for p in package.rglob('*.py')
               if 'spec_dir()' in p.read_text(encoding='utf-8') and p.name != 'paths.py']
    assert readers == ['catalog.py']
    assert load_spec('ucf101') is catalog.get('ucf') is catalog.datasets()['ucf101']


def test_zero_shot_facts_come_from_the_specs():
    """Which datasets have zero-shot (and few-shot), with which manifests and
    class tables: the specs, read by the smoke twins, targets and benchmark."""
    from bike_bench import catalog
    from bike_bench.datasets import synthetic_benchmark
    from bike_bench.reproduction import smoke_twins, targets
    assert catalog.zeroshot_datasets() == ('kinetics600', 'ucf101', 'hmdb51', 'activitynet')
    assert catalog.zeroshot_datasets('k600') == ('kinetics600',)
    assert synthetic_benchmark.ZEROSHOT_FLAVOURS == catalog.zeroshot_datasets()
    assert targets.ZEROSHOT_DATASETS == catalog.zeroshot_datasets('half')
    assert targets.FEWSHOT_DATASETS == catalog.fewshot_datasets()
    assert all('zeroshot' not in roles and 'class_tables' not in roles
               for roles in smoke_twins.FLAVOUR_MANIFESTS.values())
    for name in catalog.zeroshot_datasets():
        info = catalog.get(name)
        found = smoke_twins.manifest_path('R', name, 'zeroshot')
        found = found if isinstance(found, list) else [found]
        assert found == [f'R/{name}/manifests/{m}.jsonl' for m in info.zeroshot]
    assert smoke_twins.class_tables('R', 'kinetics600') == [
        f'R/kinetics600/{t}' for t in load_spec('kinetics600').zeroshot_class_tables()]
    assert smoke_twins.class_tables('R', 'ucf101') is None
