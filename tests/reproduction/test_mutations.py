"""Every planted fault makes ci-regression fail; the unmutated suite passes.

Each fault of ``tests/planted/faults.py`` is a registered component that a
config transform swaps into the smallest smoke twin it affects
(``ReproduceSettings.eval_transform``); the twin is run and compared with
the shipped CI baseline (``results/ci_baseline.json``). The transform acts on
the configs a twin is evaluated with, not on the training of the checkpoints
it evaluates, so trained checkpoints are shared between the runs: a fault
that acts at evaluation is measured on the unmutated model; few-shot
sampling is re-run because it happens at training.

Cost: the unmutated twins once (the K400 8f parent, the V+A twin, the UCF
2-shot twin over its seeds), then one evaluation per fault and one few-shot
run for ``fewshot-from-eval``.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from bike_bench import paths
from bike_bench.reproduction import ci_regression
from bike_bench.reproduction.registry import SmokeTwin, build_registry, find_entry
from bike_bench.reproduction.settings import ReproduceSettings
from planted import faults
from planted.faults import FAULTS

K400 = 'bike_vit-b-p16_clip-openai-pre_8xb32-8x1x1-30e_kinetics400-rgb'
ZEROSHOT = 'bike_vit-l-p14_k400-pre_zeroshot-8x1x1_hmdb51-rgb'
# Untrimmed: VCS's frame weighting only matters where frames differ in
# relevance (background between the segments).
ZEROSHOT_UNTRIMMED = 'bike_vit-l-p14_k400-pre_zeroshot-8x1x1_activitynet-rgb'
FEWSHOT = 'bike_vit-l-p14_clip-openai-pre_fewshot-2shot-8xb32-8x1x1-20e_ucf101-split1-rgb'
VIDEO_ATTRIBUTES = 'bike-va_vit-b-p32_clip-openai-pre_8xb32-8x1x1-30e_kinetics400-rgb'
# fault -> the smallest twin it affects
TWIN_OF = {
    'text-constant': ZEROSHOT,
    'vcs-mean': ZEROSHOT_UNTRIMMED,
    'skip-temporal': K400,
    'permute-labels': ZEROSHOT,
    'prompt-template': K400,
    'split-seed-shift': ZEROSHOT,
    'frame-shift': ZEROSHOT,
    'fusion-swap': VIDEO_ATTRIBUTES,
    'fewshot-from-eval': FEWSHOT,
}
PACKAGE = Path(__file__).resolve().parents[2] / 'bike_bench'


def test_every_fault_has_a_twin():
    assert set(TWIN_OF) == set(FAULTS)
    assert len(FAULTS) == 9


def test_no_fault_branch_in_the_package():
    # A word that starts with "mutation" ("permutation" is numpy's, not a fault's).
    hits = [str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob('*.py')
            if re.search(r'\bmutation', p.read_text(encoding='utf-8'))]
    assert hits == []


def _twin_config(key, tmp_path):
    from bike_bench.reproduction.smoke_twins import twin_config
    entries = build_registry()
    entry = find_entry(entries, key)
    twin = SmokeTwin.of(entry, {e.id: e for e in entries})
    return twin_config(entry, twin, str(tmp_path / 'synthetic'), str(tmp_path / 'work'))


@pytest.mark.parametrize('name', sorted(TWIN_OF))
def test_fault_is_a_config_swap_that_runs_from_its_file(name, tmp_path):
    """The transform swaps the registered component in and names this
    module in ``custom_imports``; the written config reads back and builds
    the faulty component."""
    from mmaction.registry import DATASETS, MODELS, TASK_UTILS, TRANSFORMS
    from mmengine.config import Config
    from bike_bench.engine.run_config import materialize
    cfg = _twin_config(TWIN_OF[name], tmp_path)
    clean = cfg.to_dict()
    FAULTS[name](cfg)
    assert cfg.to_dict() != clean
    assert faults.__name__ in cfg.custom_imports['imports']
    assert cfg.run_source['derivation'][-1].startswith(f'planted fault {name}')
    written = Config.fromfile(materialize(cfg, str(tmp_path / 'configs')).filename)
    swapped = {
        'text-constant': lambda c: MODELS.get(c.model.type),
        'prompt-template': lambda c: MODELS.get(c.model.type),
        'fusion-swap': lambda c: MODELS.get(c.model.type),
        'vcs-mean': lambda c: MODELS.get(c.model.video_head.interaction['type']),
        'skip-temporal': lambda c: MODELS.get(c.model.video_head.header['type']),
        'permute-labels': lambda c: DATASETS.get(c.test_dataloader.dataset.type),
        'frame-shift': lambda c: TRANSFORMS.get(c.test_dataloader.dataset.pipeline[2]['type']),
        'split-seed-shift': lambda c: TASK_UTILS.get(c.zeroshot_split_rule['type']),
        'fewshot-from-eval': lambda c: TASK_UTILS.get(c.fewshot_sampler['type']),
    }[name](written)
    assert swapped is not None and swapped.__module__ == faults.__name__


@pytest.fixture(scope='module')
def shared(tmp_path_factory):
    if not paths.ci_baseline().is_file():
        pytest.fail(f'no {paths.ci_baseline()}; create it with '
                    '`bike-bench ci-regression --update-baseline --seeds 0 1 2`')
    root = tmp_path_factory.mktemp('mutations')
    return dict(work=str(root / 'work'), synth=str(root / 'synthetic'), root=root)


def _check(shared, entry: str, name: str):
    """Run ``entry``'s twin (with fault ``name``) into a fresh runs folder;
    the checks of its run."""
    runs = shared['root'] / f'runs-{name or "clean"}-{abs(hash(entry))}'
    settings = ReproduceSettings.under(
        str(shared['root']), runs_dir=str(runs), work_dir=shared['work'],
        synth_root=shared['synth'], tables_dir=str(runs) + '-tables',
        eval_transform=FAULTS[name] if name else None)
    measured = ci_regression.run_suite(settings, entries=[entry], echo=lambda _: None)
    baseline = ci_regression.read_baseline()
    tolerances = ci_regression.read_tolerances()
    subset = {run: baseline[run] for run in measured if run in baseline}
    assert subset, f'{entry}: its run is not in the CI baseline'
    return ci_regression.compare(measured, subset, tolerances)


@pytest.mark.slow
@pytest.mark.parametrize('entry', [K400, ZEROSHOT, ZEROSHOT_UNTRIMMED, VIDEO_ATTRIBUTES, FEWSHOT])
def test_unmutated_twin_passes(shared, entry):
    changes = _check(shared, entry, '')
    failed = [c for c in changes if not c.ok]
    assert not failed, ('the unmutated suite moved (stale baseline? regenerate it with '
                        '`bike-bench ci-regression --update-baseline --seeds 0 1 2`):\n'
                        + ci_regression.format_changes(failed))


@pytest.mark.slow
@pytest.mark.parametrize('name', sorted(TWIN_OF))
def test_mutation_fails_the_regression_check(shared, name):
    changes = _check(shared, TWIN_OF[name], name)
    failed = [c for c in changes if not c.ok]
    assert failed, f'planted fault {name!r} went unnoticed:\n' + \
        ci_regression.format_changes(changes)
    print(f'\n{name}: caught by\n' + ci_regression.format_changes(failed))


# --------------------------------------------- each component is live (fast)
def test_shifted_split_rule_changes_the_splits_and_is_chosen_by_the_config():
    from mmengine.config import Config
    from bike_bench.evaluation.zeroshot import build_split_rule, half_class_splits
    clean = [s.tolist() for s in half_class_splits(10)]
    assert [s.tolist() for s in build_split_rule(None)(10)] == clean
    cfg = Config(dict(zeroshot_split_rule=dict(type='ShiftedHalfClassSplits')))
    shifted = build_split_rule(cfg, num_splits=10)
    assert isinstance(shifted, faults.ShiftedHalfClassSplits)
    assert [s.tolist() for s in shifted(10)] != clean
    assert [s.tolist() for s in shifted(10)] == \
        [s.tolist() for s in half_class_splits(10, 20)[10:]]


def test_frame_shift_moves_test_frames_and_the_fingerprint(tmp_path):
    from bike_bench.datasets.transforms.sampling import BIKESampleFrames
    test = BIKESampleFrames(num_segments=8, mode='test', num_clips=2)
    clean = test.transform(dict(total_frames=16))['frame_inds']
    shifted = faults.ShiftFrameIndices(3).transform(dict(total_frames=16,
                                                         frame_inds=clean.copy()))
    assert shifted['frame_inds'].tolist() != clean.tolist()
    assert shifted['frame_inds'].max() == 15  # clamped to the last frame
    cfg = _twin_config(ZEROSHOT, tmp_path)
    before = ci_regression.test_frame_indices(dict(config=dict(resolved=cfg.to_dict())))
    FAULTS['frame-shift'](cfg)
    after = ci_regression.test_frame_indices(dict(config=dict(resolved=cfg.to_dict())))
    assert before is not None and after != before


def test_model_faults_change_the_model_outputs():
    import torch
    from mmaction.registry import MODELS
    from bike_bench.models.heads.interactions import VCSInteraction
    torch.manual_seed(0)
    video, tokens, cls = torch.randn(2, 8, 16), torch.randn(3, 5, 16), torch.randn(3, 16)
    vcs, uniform = VCSInteraction(), faults.UniformSaliencyVCS()
    assert not torch.allclose(uniform(video, tokens, cls), vcs(video, tokens, cls))
    head = dict(type='BIKEVideoHead', embed_dim=16, num_heads=2, num_layers=1)
    clean = MODELS.build(head)
    skip = MODELS.build(dict(head, header=dict(type='SkipTemporalHeader')))
    skip.load_state_dict(clean.state_dict())  # same weights: a checkpoint loads
    assert torch.equal(skip.header(video), video)
    assert not torch.equal(clean.header(video), video)


def test_eval_manifest_sampler_draws_from_the_test_manifest(tmp_path):
    from bike_bench.datasets.synthetic_benchmark import SynthConfig, write_benchmark
    from bike_bench.evaluation.fewshot import build_sampler
    from mmengine.config import Config
    write_benchmark(str(tmp_path), SynthConfig(classes=2, videos_per_class=3))
    folder = tmp_path / 'ucf101' / 'manifests'
    train, test = str(folder / 'train_split1.jsonl'), str(folder / 'val_split1.jsonl')
    clean = build_sampler(None)(train, test, 1, 0)
    cfg = Config(dict(fewshot_sampler=dict(type='EvalManifestFewShotSampler')))
    faulty = build_sampler(cfg)(train, test, 1, 0)
    assert clean.source['fewshot']['from_manifest'] == train
    assert faulty.source['fewshot']['from_manifest'] == test
    assert {e.path for e in faulty.entries} != {e.path for e in clean.entries}


def test_fewshot_from_eval_fault_keeps_the_twins_fill():
    from mmengine.config import Config
    cfg = Config(dict(fewshot_sampler=dict(type='SeededFewShotSampler', fill='per_class')))
    faults._fewshot_from_eval(cfg)
    assert cfg.fewshot_sampler == dict(type='EvalManifestFewShotSampler', fill='per_class')
