"""Manifest builders: one small module per source format.

Shared by all of them: ``sources`` (reading source files), ``context``
(what a builder is asked), ``result`` (what it made), ``labels`` (names
against a class table) and ``contract`` (the checks every build passes
before it is written; run by ``bike_bench.datasets.build``). ``custom``
builds a dataset of one's own (folder, CSV).

``BUILDERS`` maps the builder names used in the dataset specs
(``manifests/<dataset>.yaml``) to functions ``builder(ctx: BuildContext) ->
BuildResult``; ``bike_bench.datasets.build.build_dataset`` resolves a
dataset and format to its builder through the spec.
"""
from __future__ import annotations

from typing import Callable, Dict

from .activitynet import build_activitynet_json
from .charades import build_charades_csv
from .context import BuildContext, BuildSpec
from .result import BuildResult, BuiltManifest, Dropped, Issue
from .sources import SourceError
from .hmdb51 import build_hmdb51_splits
from .kinetics import build_kinetics600_zeroshot, build_kinetics_csv
from .lists import (build_bike_lists, build_mmaction_rawframes,
                    build_mmaction_video)
from .ucf101 import build_ucf101_splits

BUILDERS: Dict[str, Callable[[BuildContext], BuildResult]] = {
    'bike-list': build_bike_lists,
    'mmaction-video': build_mmaction_video,
    'mmaction-rawframes': build_mmaction_rawframes,
    'kinetics-csv': build_kinetics_csv,
    'kinetics600-csv': build_kinetics600_zeroshot,
    'ucf101-splits': build_ucf101_splits,
    'hmdb51-splits': build_hmdb51_splits,
    'activitynet-json': build_activitynet_json,
    'charades-csv': build_charades_csv,
}


def get_builder(name: str) -> Callable[[BuildContext], BuildResult]:
    if name not in BUILDERS:
        raise KeyError(f'unknown builder {name!r}; known: {sorted(BUILDERS)}')
    return BUILDERS[name]


__all__ = ['BUILDERS', 'get_builder', 'BuildContext', 'BuildResult',
           'BuildSpec', 'BuiltManifest', 'Dropped', 'Issue', 'SourceError']
