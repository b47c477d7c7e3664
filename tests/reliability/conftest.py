"""Fault-injection suite: what each test tried, and a closing summary.

Each test asks for the ``faults`` fixture and, first thing, declares with
``faults.tried(group, kind)`` every fault it makes for real and with
``faults.checked(invariant)`` every invariant it asserts
(``NO_REPLACEMENT``: no sample was replaced by another; ``NO_PARTIAL``: no
result file was left half-written). A passing test adds its kinds and
checks to the closing summary; a failing one marks its invariants as not
verified.

Run alone with ``pytest tests/reliability`` (or ``-m reliability``).
"""
from __future__ import annotations

import collections
import os
from pathlib import Path
from typing import Dict, List, Set, Tuple

import pytest

from bike_bench.datasets.class_table import write_class_table
from bike_bench.datasets.manifest import Manifest, ManifestEntry, write_manifest
from bike_bench.datasets.synthetic import choose_classes, generate_videos

REPO = Path(__file__).resolve().parents[2]
SMOKE_CONFIG = str(REPO / 'mmconfigs' /
                   'bike_tiny-vit-p16-res64_toy-clip-pre_1xb16-8x1x1-8e_synthetic-rgb.py')

GROUPS = ('bad videos', 'bad annotations', 'interruptions', 'numerical faults',
          'untrusted checkpoints', 'several ranks', 'shared files', 'mismatches',
          'stale reuse and overwrites')
NO_REPLACEMENT = 'no sample silently replaced'
NO_PARTIAL = 'no partial result file'

# Filled as tests pass: kind -> group; invariant -> number of passing checks.
_TRIED: Dict[Tuple[str, str], int] = collections.Counter()
_CHECKED: Dict[str, int] = collections.Counter()
_FAILED_INVARIANTS: Set[str] = set()
_OUTCOMES: Dict[str, int] = collections.Counter()


class FaultRecorder:
    """What one test tried and checked (committed if the test passes)."""

    def __init__(self):
        self.tried_kinds: List[Tuple[str, str]] = []
        self.checked_invariants: List[str] = []

    def tried(self, group: str, kind: str) -> None:
        if group not in GROUPS:
            raise ValueError(f'unknown fault group {group!r}')
        self.tried_kinds.append((group, kind))

    def checked(self, invariant: str) -> None:
        self.checked_invariants.append(invariant)


@pytest.fixture()
def faults(request) -> FaultRecorder:
    recorder = FaultRecorder()
    request.node._fault_recorder = recorder
    return recorder


def pytest_configure(config):
    config.addinivalue_line('markers', 'reliability: the fault-injection suite '
                            '(tests/reliability)')


def pytest_collection_modifyitems(items):
    here = str(Path(__file__).parent)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.reliability)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    recorder = getattr(item, '_fault_recorder', None)
    if recorder is None or report.when != 'call':
        return
    _OUTCOMES[report.outcome] += 1
    if report.passed:
        for key in recorder.tried_kinds:
            _TRIED[key] += 1
        for invariant in recorder.checked_invariants:
            _CHECKED[invariant] += 1
    elif report.failed:
        _FAILED_INVARIANTS.update(recorder.checked_invariants)


def summary_lines() -> List[str]:
    kinds = sorted(set(_TRIED))
    by_group = collections.Counter(group for group, _ in kinds)
    groups = ', '.join(f'{group} {by_group[group]}' for group in GROUPS if by_group[group])
    verdicts = []
    for invariant in (NO_REPLACEMENT, NO_PARTIAL):
        if invariant in _FAILED_INVARIANTS:
            verdicts.append(f'{invariant}: NOT VERIFIED (a test checking it failed)')
        elif _CHECKED[invariant]:
            verdicts.append(f'{invariant} (checked in {_CHECKED[invariant]} tests)')
        else:
            verdicts.append(f'{invariant}: not checked in this run')
    lines = [f'reliability: {len(kinds)} fault kinds tried ({groups}); '
             + '; '.join(verdicts)]
    if _OUTCOMES['failed']:
        lines.append(f'reliability: {_OUTCOMES["failed"]} fault test(s) failed')
    if os.environ.get('BIKE_RELIABILITY_VERBOSE'):
        lines += [f'  {group}: {kind}' for group, kind in kinds]
    return lines


def pytest_terminal_summary(terminalreporter):
    if not _OUTCOMES:
        return  # the suite was not run
    terminalreporter.section('reliability')
    for line in summary_lines():
        terminalreporter.write_line(line)


# ------------------------------------------------------------------ data
def write_entries_manifest(path: Path, classes: List[str], entries: List[ManifestEntry],
                           name: str = 'faults', split: str = 'train') -> str:
    """A manifest with absolute entry paths (its folder holds the class table)."""
    table = path.parent / f'{path.stem}_classes.csv'
    write_class_table(str(table), classes)
    manifest = Manifest(dataset=name, split=split, classes=list(classes),
                        entries=entries, class_table=table.name, data_root='/')
    write_manifest(manifest, str(path))
    return str(path)


@pytest.fixture(scope='session')
def clean_videos(tmp_path_factory):
    """Sixteen readable synthetic mp4 videos of 4 classes (16 frames, 96x72).

    Returns ``{'classes': [...], 'videos': [(abs path, label, id), ...]}``.
    """
    root = tmp_path_factory.mktemp('clean')
    classes = choose_classes(4, seed=3)
    videos = generate_videos(str(root), classes, 4, seed=3, subdir='videos')
    return dict(classes=[c.name for c in classes],
                videos=[(str(root / v.relpath), v.label,
                         os.path.splitext(os.path.basename(v.relpath))[0])
                        for v in videos])


# ------------------------------------------------------------- observers
from mmengine.hooks import Hook  # noqa: E402
from mmaction.registry import HOOKS  # noqa: E402


@HOOKS.register_module(force=True)
class SeenVideosHook(Hook):
    """Records the ``video_id`` of every sample handed to the model.

    Runs last before each iteration (after ``SkippedTrainingSamplesHook``
    took the skipped samples out), so what it sees is the batch the loop
    gives the model. Records go to ``SeenVideosHook.seen[key]`` as
    ``(phase, epoch, video_id)``.
    """

    priority = 'LOWEST'
    seen: Dict[str, List[Tuple[str, int, str]]] = {}

    def __init__(self, key: str):
        self.key = key
        SeenVideosHook.seen[key] = []

    def _record(self, phase: str, epoch: int, data_batch) -> None:
        for sample in (data_batch or {}).get('data_samples') or []:
            SeenVideosHook.seen[self.key].append((phase, epoch, sample.metainfo['video_id']))

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        self._record('train', runner.epoch + 1, data_batch)

    def before_test_iter(self, runner, batch_idx, data_batch=None) -> None:
        self._record('test', 0, data_batch)


def smoke_cfg(work_dir, train: str, val: str = None, **overrides):
    """The smoke config on the given manifests: no validation, quiet log."""
    from mmengine.config import Config
    cfg = Config.fromfile(SMOKE_CONFIG)
    cfg.merge_from_dict({'work_dir': str(work_dir),
                         'train_dataloader.dataset.ann_file': train,
                         'val_dataloader.dataset.ann_file': val or train,
                         'test_dataloader.dataset.ann_file': val or train,
                         'default_hooks.logger.interval': 1,
                         'default_hooks.checkpoint.save_best': None, **overrides})
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    return cfg


@pytest.fixture(scope='session')
def random_checkpoint(tmp_path_factory) -> str:
    """An MMEngine checkpoint of the smoke model at its random init."""
    import torch
    from bike_bench.models.convert import build_model_from_config
    model = build_model_from_config(SMOKE_CONFIG, device='cpu')
    path = tmp_path_factory.mktemp('ckpt') / 'random_init.pth'
    torch.save({'meta': {}, 'state_dict': model.state_dict()}, path)
    return str(path)
