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
