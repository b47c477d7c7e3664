"""Test views: C temporal clips x S spatial crops, set in a config's pipeline.

All views of a video come from one read of the file (``BIKESampleFrames``
gives the indices of every clip, ``VideoDecode`` decodes them at once, the
crop transform cuts every crop) and reach the model as one ``(V, C, T, H,
W)`` sample, so they run through it in one batch.
"""
from __future__ import annotations

from typing import List, Optional, Union

# Views and their parsing live in the light vocabulary module (the command
# line validates --views without importing torch); re-exported here.
from bike_bench.engine.run_config import derive
from bike_bench.protocols import CROPS, Views, parse_views  # noqa: F401

SAMPLER = 'BIKESampleFrames'
CROP_TYPES = set(CROPS.values())


def _dataset_cfg(cfg, loader: str):
    dataloader = cfg.get(loader)
    if not dataloader or 'dataset' not in dataloader:
        raise ValueError(f'the config has no {loader}.dataset')
    dataset = dataloader['dataset']
    if 'pipeline' not in dataset:
        raise ValueError(f'{loader}.dataset ({dataset.get("type")}) has no '
                         'pipeline to set views in')
    return dataset


def _find(pipeline: List[dict], types, what: str, loader: str) -> int:
    found = [i for i, step in enumerate(pipeline) if step.get('type') in types]
    if len(found) != 1:
        raise ValueError(f'{loader} pipeline: expected exactly one {what} '
                         f'({", ".join(sorted(types))}), found {len(found)}')
    return found[0]


def pipeline_views(pipeline: List[dict], loader: str = 'test_dataloader') -> Views:
    """The views a pipeline produces."""
    sampler = pipeline[_find(pipeline, {SAMPLER}, 'frame sampler', loader)]
    crop = pipeline[_find(pipeline, CROP_TYPES, 'crop transform', loader)]
    clips = int(sampler.get('num_clips', 1)) if sampler.get('mode') == 'test' else 1
    crops = 3 if crop['type'] == CROPS[3] else 1
    return Views(clips, crops)


def config_views(cfg, loader: str = 'test_dataloader') -> Views:
    return pipeline_views(_dataset_cfg(cfg, loader)['pipeline'], loader)


def views_pipeline(pipeline: List[dict], views: Union[str, Views],
                   loader: str = 'test_dataloader') -> List[dict]:
    """A copy of ``pipeline`` producing ``views``.

    The sampler becomes ``BIKESampleFrames(mode='test', num_clips=C)``
    (segments kept); the crop becomes ``BIKECenterCrop`` (S=1) or
    ``OfficialThreeCrop`` (S=3) with the same crop size.
    """
    views = parse_views(views)
    pipeline = [dict(step) for step in pipeline]
    i = _find(pipeline, {SAMPLER}, 'frame sampler', loader)
    sampler = dict(pipeline[i], mode='test', num_clips=views.clips)
    sampler.pop('train_sampling', None)
    pipeline[i] = sampler
    i = _find(pipeline, CROP_TYPES, 'crop transform', loader)
    crop_size = pipeline[i].get('crop_size', 224)
    pipeline[i] = dict(type=CROPS[views.crops], crop_size=crop_size)
    return pipeline


def sample_index_pipeline(pipeline: List[dict]) -> List[dict]:
    """A copy of ``pipeline`` whose ``PackActionInputs`` keeps ``sample_idx``
    (metrics count by it)."""
    pipeline = [dict(step) for step in pipeline]
    for step in pipeline:
        if step.get('type') == 'PackActionInputs':
            keys = tuple(step.get('meta_keys', ('img_shape', 'img_key',
                                                'video_id', 'timestamp')))
            if 'sample_idx' not in keys:
                step['meta_keys'] = keys + ('sample_idx',)
    return pipeline


def set_views(cfg, views: Union[str, Views], loader: str = 'test_dataloader') -> Views:
    """Rewrite ``cfg[loader]``'s pipeline in place for ``views``
    (:func:`views_pipeline`)."""
    dataset = _dataset_cfg(cfg, loader)
    dataset['pipeline'] = views_pipeline(dataset['pipeline'], views, loader)
    return parse_views(views)


def pack_sample_index(cfg, loader: str = 'test_dataloader') -> None:
    """Make ``PackActionInputs`` keep ``sample_idx`` (metrics count by it)."""
    dataset = _dataset_cfg(cfg, loader)
    dataset['pipeline'] = sample_index_pipeline(dataset['pipeline'])


def views_from_option(cfg, option: Optional[str],
                      loader: str = 'test_dataloader') -> Views:
    """Apply ``--views`` if given; otherwise the config's own views.

    Other views than the config's are a derivation of the config (recorded
    under ``run_source``; the stale helper ``test_pipeline`` is dropped).
    """
    current = config_views(cfg, loader)
    if not option or parse_views(option) == current:
        return current
    views = set_views(cfg, option, loader)
    derive(cfg, f'views {views.label} ({loader}; the config has {current.label})')
    return views
