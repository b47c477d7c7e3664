"""AttributeVideoDataset: sentences from the attributes JSON, missing videos."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from mmaction.datasets.transforms import PackActionInputs

from bike_bench.attributes import AttributesFileError, build_sentence
from bike_bench.datasets import AttributeVideoDataset
from bike_bench.models.clip.tokenizer import tokenize

PACK = [PackActionInputs(collect_keys=('attribute_tokens',),
                         algorithm_keys=('attribute_tokens',))]


def dataset(manifest, attributes, **kwargs):
    return AttributeVideoDataset(manifest, pipeline=PACK, attributes_file=str(attributes),
                                 test_mode=True, **kwargs)


def test_samples_carry_the_official_sentence_and_tokens(smoke_set, smoke_attributes):
    data = dataset(smoke_set['val'], smoke_attributes['val'])
    entries = json.loads(Path(smoke_attributes['val']).read_text())
    info = data.get_data_info(3)
    phrases = entries[info['path']]['classname_topk']
    expected = 'This is a video about ' + ','.join(phrases)
    assert info['attribute_sentence'] == expected == build_sentence(phrases)
    sample = data[3]['data_samples']
    assert torch.equal(sample.attribute_tokens, tokenize([expected])[0])
    assert data.metainfo['attributes_skipped'] == 0


def test_topk_takes_the_first_phrases(smoke_set, smoke_attributes):
    data = dataset(smoke_set['val'], smoke_attributes['val'], topk=2)
    entries = json.loads(Path(smoke_attributes['val']).read_text())
    info = data.get_data_info(0)
    assert info['attribute_sentence'] == build_sentence(
        entries[info['path']]['classname_topk'][:2])


@pytest.fixture
def one_missing(smoke_attributes, tmp_path):
    entries = json.loads(Path(smoke_attributes['val']).read_text())
    missing = list(entries)[5]
    del entries[missing]
    path = tmp_path / 'partial.json'
    path.write_text(json.dumps(entries))
    return path, missing


def test_missing_video_is_an_error_naming_it(smoke_set, one_missing):
    path, missing = one_missing
    with pytest.raises(AttributesFileError, match=f"video '{missing}'.*has no entry"):
        dataset(smoke_set['val'], path)


def test_missing_videos_can_be_skipped_and_counted(smoke_set, one_missing):
    path, missing = one_missing
    data = dataset(smoke_set['val'], path, on_missing='skip')
    assert len(data) == 31
    assert data.metainfo['attributes_skipped'] == 1
    assert data.skipped_videos == [missing]


def test_official_files_keyed_by_file_name(smoke_set, smoke_attributes, tmp_path):
    entries = json.loads(Path(smoke_attributes['val']).read_text())
    by_stem = {Path(path).stem: entry for path, entry in entries.items()}
    official = tmp_path / 'official.json'
    official.write_text(json.dumps(by_stem))
    data = dataset(smoke_set['val'], official, key='stem')
    info = data.get_data_info(0)
    assert info['attribute_sentence'] == build_sentence(
        entries[info['path']]['classname_topk'])
    with pytest.raises(AttributesFileError, match=r'\(path\).*has no entry'):
        dataset(smoke_set['val'], official)


def test_too_few_phrases_is_an_error(smoke_set, smoke_attributes):
    with pytest.raises(AttributesFileError, match='fewer than topk=6'):
        dataset(smoke_set['val'], smoke_attributes['val'], topk=6)


def test_malformed_files_name_file_and_line(smoke_set, tmp_path):
    broken = tmp_path / 'broken.json'
    broken.write_text('{\n  "a.mp4": {"classname_topk": ["x"]},\n  oops\n}')
    with pytest.raises(AttributesFileError, match=r'broken.json:3: not valid JSON'):
        dataset(smoke_set['val'], broken)
    wrong = tmp_path / 'wrong.json'
    wrong.write_text(json.dumps({'a.mp4': {'topk': ['x']}}))
    with pytest.raises(AttributesFileError, match="entry 'a.mp4' has no"):
        dataset(smoke_set['val'], wrong)
