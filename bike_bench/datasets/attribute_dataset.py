"""A manifest dataset whose samples also carry their attribute sentence.

Each video's entry in the attributes JSON (official layout, keyed by the
manifest ``path``) becomes ``"This is a video about a,b,c,d,e"`` and its
CLIP token ids (``attribute_sentence``, ``attribute_tokens`` in the pipeline
results; pack the tokens with ``PackActionInputs(algorithm_keys=
('attribute_tokens',))``). Lookups happen when the dataset is built, so a
missing video fails before any training step.
"""
from __future__ import annotations

import os
from typing import Callable, Dict, List, Union

from mmengine.logging import MMLogger

from mmaction.registry import DATASETS

from bike_bench.datasets.attribute_sentences import (PHRASES_KEY, SENTENCE_PREFIX,
                                                     AttributesFileError,
                                                     build_sentence, read_attributes)
from bike_bench.datasets.video_dataset import ManifestVideoDataset

# How a video is named in the attributes file: its manifest path (what
# `bike-bench attributes generate` writes), its manifest id, or the file or
# folder name with or without extension (the official release's files use
# the names in its frame or video lists).
def _basename(info: dict) -> str:
    return os.path.basename(info['path'].rstrip('/'))


KEYS = {
    'path': lambda info: info['path'],
    'id': lambda info: info['video_id'],
    'basename': _basename,
    'stem': lambda info: os.path.splitext(_basename(info))[0],
}


@DATASETS.register_module()
class AttributeVideoDataset(ManifestVideoDataset):
    """``ManifestVideoDataset`` plus attribute sentences (docs/method.md#attributes).

    Args:
        ann_file: the manifest.
        pipeline: transforms.
        attributes_file: the attributes JSON for this manifest.
        topk: phrases per sentence (the official ``select_topk_attributes``).
        on_missing: ``'raise'`` (default): a video without an entry, or with
            fewer than ``topk`` phrases, is an error naming it; ``'skip'``:
            such videos are left out of the dataset and counted
            (``metainfo['attributes_skipped']``).
        sentence_prefix: text before the phrases.
        separator: between phrases (the official ``','``, no space).
        context_length: token ids per sentence (CLIP: 77; longer sentences
            are truncated, keeping the end-of-text token).
        key: how videos are named in the file: ``'path'`` (default, as
            generated), ``'id'``, ``'basename'`` or ``'stem'``.
        **kwargs: ``ManifestVideoDataset`` arguments.
    """

    def __init__(self, ann_file: str, pipeline: List[Union[dict, Callable]],
                 attributes_file: str, topk: int = 5, on_missing: str = 'raise',
                 sentence_prefix: str = SENTENCE_PREFIX, separator: str = ',',
                 context_length: int = 77, key: str = 'path', **kwargs):
        if key not in KEYS:
            raise ValueError(f'key must be one of {sorted(KEYS)}, not {key!r}')
        if on_missing not in ('raise', 'skip'):
            raise ValueError(f'on_missing must be raise or skip, not {on_missing!r}')
        if topk < 1:
            raise ValueError(f'topk must be >= 1, not {topk}')
        self.attributes_file = attributes_file
        self.topk = topk
        self.on_missing = on_missing
        self.sentence_prefix = sentence_prefix
        self.separator = separator
        self.context_length = context_length
        self.key = key
        self.skipped_videos: List[str] = []
        super().__init__(ann_file, pipeline=pipeline, **kwargs)

    def load_data_list(self) -> List[Dict]:
        attributes = read_attributes(self.attributes_file)
        kept, self.skipped_videos = [], []
        name_of = KEYS[self.key]
        for info in super().load_data_list():
            name = name_of(info)
            problem = self._problem(attributes.get(name))
            if problem is None:
                phrases = attributes[name][PHRASES_KEY]
                info['attribute_sentence'] = build_sentence(
                    phrases, self.topk, self.sentence_prefix, self.separator)
                kept.append(info)
            elif self.on_missing == 'skip':
                self.skipped_videos.append(info['path'])
            else:
                raise AttributesFileError(
                    f'{self.attributes_file}: video {name!r} ({self.key}) of '
                    f'{self.ann_file} {problem}; generate attributes for this '
                    'manifest with `bike-bench attributes generate`, or set '
                    "on_missing='skip' to leave such videos out")
        if self.skipped_videos:
            MMLogger.get_current_instance().warning(
                f'{len(self.skipped_videos)} video(s) of {self.ann_file} left '
                f'out: no usable entry in {self.attributes_file} (e.g. '
                f'{self.skipped_videos[:3]})')
        return kept

    def _problem(self, entry) -> Union[str, None]:
        if entry is None:
            return 'has no entry'
        if len(entry[PHRASES_KEY]) < self.topk:
            return (f'has {len(entry[PHRASES_KEY])} phrases, fewer than '
                    f'topk={self.topk}')
        return None

    @property
    def metainfo(self) -> dict:
        meta = dict(super().metainfo)
        meta.update(attributes_file=self.attributes_file,
                    attributes_topk=self.topk,
                    attributes_skipped=len(self.skipped_videos))
        return meta

    def get_data_info(self, idx: int) -> dict:
        # open_clip's CLIP BPE (as the models' text towers tokenise); imported
        # here, not with the module: it adds ~2 s to every datasets import.
        import open_clip
        info = super().get_data_info(idx)
        info['attribute_tokens'] = open_clip.tokenize(
            [info['attribute_sentence']], context_length=self.context_length)[0]
        return info
