"""The experiment registry: one entry per reproducible row of the paper.

Entries are read from ``mmconfigs/metafile.yml`` (config, views, frames,
paper figures, official weights, and the ``Paper Rows`` each config
reproduces); nothing is repeated here except how to group them: the three
Kinetics-600 split configs form one zero-shot entry (mean and std over the
splits), and zero-shot UCF/HMDB/ActivityNet run the half-class protocol,
which reports the full-class figure too.

Every entry has a *smoke twin* (``SmokeTwin``): the same protocol, views,
frames, header and interaction on the synthetic benchmark with a tiny random
CLIP. Entries whose twins would be identical (e.g. the 8-frame K400 models
of three backbones) share one twin run.
"""
from __future__ import annotations

import dataclasses
import re
from typing import Dict, List, Optional, Sequence

from bike_bench import catalog
from bike_bench.models.tiny_archs import family_of
from bike_bench.protocols import Protocol, tolerance
from bike_bench.metafile import ModelRecord, load_metafile


@dataclasses.dataclass(frozen=True)
class PaperRow:
    """A cell group of a paper table that an entry reproduces."""

    table: str
    row: str
    metrics: Dict[str, object]  # paper metric -> results key or {mean, std}


@dataclasses.dataclass
class Experiment:
    id: str
    configs: List[str]
    dataset: str
    protocol: str  # a bike_bench.protocols.Protocol value
    views: str
    frames: int
    input_size: int
    header: str
    interaction: str
    recognizer: str
    weights: List[Optional[str]]
    parent: Optional[str]  # metafile name whose checkpoint initialises it
    paper_rows: List[PaperRow]
    paper_metrics: Dict[str, float]
    shots: Optional[int] = None
    tolerance: float = 0.5  # percentage points (bike_bench.protocols)
    family: str = 'openai-clip'  # tower family of the backbone (tiny_archs)

    @property
    def config(self) -> str:
        return self.configs[0]

    def twin(self) -> 'SmokeTwin':
        return SmokeTwin.of(self)


@dataclasses.dataclass(frozen=True)
class SmokeTwin:
    """What a smoke-scale run of an entry does; equal twins run once."""

    dataset: str
    protocol: str
    frames: int
    views: str
    header: str
    interaction: str
    recognizer: str
    shots: Optional[int]
    parent: Optional['SmokeTwin']
    family: str = 'openai-clip'

    @classmethod
    def of(cls, experiment: Experiment, registry: Optional[Dict[str, Experiment]] = None
           ) -> 'SmokeTwin':
        parent = None
        if experiment.parent:
            registry = registry or {e.id: e for e in build_registry()}
            parent_entry = _entry_for_config(registry, experiment.parent)
            parent = cls.of(parent_entry, registry)
        return cls(experiment.dataset, experiment.protocol, experiment.frames,
                   experiment.views, experiment.header, experiment.interaction,
                   experiment.recognizer, experiment.shots, parent, experiment.family)

    @property
    def id(self) -> str:
        parts = ['smoke', self.protocol, self.dataset, f'{self.frames}f', self.views]
        if (self.header, self.interaction) != ('Transf', 'VCS'):
            parts.append(f'{self.header}-{self.interaction}')
        if self.recognizer != 'BIKERecognizer':
            parts.append(self.recognizer.replace('Recognizer', '').replace('BIKE', '') or
                         self.recognizer)
        if self.shots:
            parts.append(f'{self.shots}shot')
        if self.family != 'openai-clip':
            parts.append(self.family)
        name = '_'.join(parts)
        if self.parent is not None and self.protocol == 'general':
            name += f'_from-{self.parent.dataset}-{self.parent.frames}f'
        return name


def _entry_for_config(registry: Dict[str, Experiment], name: str) -> Experiment:
    for entry in registry.values():
        if any(name in config for config in entry.configs) or entry.id == name:
            return entry
    raise KeyError(f'no registry entry trains {name} (needed as a parent)')


def _dataset_of(record: ModelRecord) -> str:
    for key in catalog.dataset_names():
        if f'_{key}' in record.name:
            return key
    raise ValueError(f'{record.name}: cannot tell the dataset from the name')


def _protocol_of(record: ModelRecord, dataset: str) -> str:
    protocol = Protocol.parse(record.protocol or Protocol.GENERAL)
    if protocol.family == 'zeroshot' and dataset == 'kinetics600':
        protocol = Protocol.ZEROSHOT_K600
    return protocol.value


def _model_settings(record: ModelRecord) -> Dict[str, str]:
    from mmengine.config import Config
    cfg = Config.fromfile(str(record.config_path()))
    head = cfg.model.get('video_head', {})
    load_from = cfg.get('load_from')
    parent = None
    if load_from:
        parent = re.sub(r'\.pth$', '', str(load_from).split('/')[-1])
    return dict(header=str(head.get('header', 'Transf')),
                interaction=str(head.get('interaction', 'VCS')),
                recognizer=str(cfg.model.get('type', 'BIKERecognizer')), parent=parent,
                family=family_of(cfg.model.get('backbone', {}).get('arch')))


def _paper_rows(record: ModelRecord) -> List[PaperRow]:
    return [PaperRow(str(row['table']), str(row['row']), dict(row['metrics']))
            for row in record.metadata.get('Paper Rows') or []]


def is_beyond_paper(record: ModelRecord) -> bool:
    """An experiment the paper has no figure for (other backbones)."""
    return bool(record.metadata.get('Beyond Paper'))


def build_beyond_registry(records: Optional[Sequence[ModelRecord]] = None
                          ) -> List[Experiment]:
    """The metafile's "beyond the paper" entries (``Beyond Paper: true``):
    BIKE on other open_clip backbones, no paper figure to compare with.
    Their smoke twins use a tiny model of the backbone's tower family."""
    records = list(records if records is not None else load_metafile())
    return [_experiment(record, []) for record in records if is_beyond_paper(record)]


def _experiment(record: ModelRecord, rows: List[PaperRow]) -> Experiment:
    dataset = _dataset_of(record)
    protocol = _protocol_of(record, dataset)
    settings = _model_settings(record)
    shots = None
    if protocol == Protocol.FEWSHOT:
        shots = int(re.search(r'fewshot-(\d+)shot', record.name).group(1))
    return Experiment(
        id=record.name, configs=[record.config], dataset=dataset,
        protocol=protocol, views=record.views, frames=record.frames,
        input_size=record.input_size, header=settings['header'],
        interaction=settings['interaction'], recognizer=settings['recognizer'],
        weights=[record.weights],
        parent=settings['parent'], paper_rows=rows,
        paper_metrics=dict(record.metrics), shots=shots,
        tolerance=tolerance(protocol, 'full'), family=settings['family'])


def build_registry(records: Optional[Sequence[ModelRecord]] = None) -> List[Experiment]:
    """Every entry with paper figures, in metafile order."""
    records = list(records if records is not None else load_metafile())
    entries: List[Experiment] = []
    k600: Optional[Experiment] = None
    for record in records:
        rows = _paper_rows(record)
        if not rows or record.protocol == 'smoke':
            continue
        entry = _experiment(record, rows)
        protocol = entry.protocol
        if protocol == Protocol.ZEROSHOT_K600:
            if k600 is None:
                k600 = dataclasses.replace(
                    entry, id=re.sub(r'-split\d', '', record.name))
                entries.append(k600)
            else:
                k600.configs.append(record.config)
                k600.weights.append(record.weights)
                k600.paper_rows.extend(rows)
                k600.paper_metrics.update(
                    {f'{key}_{len(k600.configs)}': value
                     for key, value in record.metrics.items()})
            continue
        entries.append(entry)
    return entries


def find_entry(entries: Sequence[Experiment], key: str) -> Experiment:
    matches = [e for e in entries if e.id == key] or \
        [e for e in entries if key in e.id]
    if len(matches) != 1:
        names = ', '.join(e.id for e in matches[:5]) or 'none'
        raise KeyError(f'{key!r} matches {len(matches)} registry entries ({names})')
    return matches[0]
