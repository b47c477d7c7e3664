"""Smoke-scale twins of the paper's experiments on the synthetic benchmark.

A twin keeps everything of an experiment's real config that defines its
protocol — pipelines (sampling, crops, flips), test views, header,
interaction, loss, evaluators — and swaps in what makes it run on the CPU in
seconds: the tiny random CLIP of the smoke config (for backbones of another
tower family -- SigLIP, EVA02, CoCa, Hugging Face text -- the tiny model of
that family, ``bike_bench.models.tiny_archs``), the synthetic benchmark's
manifests of the same dataset, 64 px frames and a short, higher-lr schedule.
"""
from __future__ import annotations

import copy
import hashlib
import json
import os
from typing import Dict, List, Optional

from bike_bench import catalog
from bike_bench import metafile
from bike_bench.protocols import Protocol
from bike_bench.reproduction.registry import Experiment, SmokeTwin
from bike_bench.reproduction.settings import SmokeSettings

DATA_ROOT = str(metafile.DATA_ROOT)  # the package data (configs)
SMOKE_CONFIG = os.path.join(
    DATA_ROOT, 'mmconfigs',
    'bike_tiny-vit-p16-res64_toy-clip-pre_1xb16-8x1x1-8e_synthetic-rgb.py')
INPUT_SIZE = 64

# Manifests of each synthetic flavour used for training, validation and
# test (names as in manifests/README.md). Zero-shot manifests and their
# class tables are the dataset specs' (``protocols.zeroshot``).
FLAVOUR_MANIFESTS: Dict[str, Dict[str, str]] = {
    'kinetics400': dict(train='train', val='val', test='val'),
    'ucf101': dict(train='train_split1', val='val_split1', test='val_split1'),
    'hmdb51': dict(train='train_split1', val='val_split1', test='val_split1'),
    'activitynet': dict(train='train', val='val', test='val'),
    'charades': dict(train='train', val='test', test='test'),
    'kinetics600': dict(test=catalog.get('kinetics600').zeroshot[0]),
}


def manifest_path(synth_root: str, dataset: str, role: str):
    """The flavour's manifest of ``role``; for ``zeroshot`` the spec's
    zero-shot manifests (a list when there are several)."""
    folder = os.path.join(synth_root, dataset, 'manifests')
    if role == 'zeroshot':
        names = list(catalog.get(dataset).zeroshot)
        if not names:
            raise KeyError(f'{dataset} has no zero-shot manifests in its spec')
        paths = [os.path.join(folder, f'{name}.jsonl') for name in names]
        return paths if len(paths) > 1 else paths[0]
    return os.path.join(folder, f'{FLAVOUR_MANIFESTS[dataset][role]}.jsonl')


def class_tables(synth_root: str, dataset: str) -> Optional[List[str]]:
    """Class tables of the zero-shot manifests where each has its own (the
    K600 splits; the spec's), else None: the manifests' own classes."""
    info = catalog.get(dataset)
    tables = info.zeroshot_class_tables()
    if len(set(tables)) < 2:
        return None
    return [os.path.join(synth_root, dataset, t) for t in tables]


# Training augmentations the twins drop (docs/toy_clip.md#twins-what-differs-from-the-papers-configs):
# a flip turns "moving left" into "moving right" and a grey clip of a "red
# circle" shows no red, so on the synthetic classes both relabel the clip.
DROPPED_TRANSFORMS = ('RandomHorizontalFlip', 'RandomGrayscale')
# The few-shot twins' sampler: the official K videos a class, each class's
# cycled to its training count, so that every K trains as many steps
# (``evaluation.fewshot.sample_fewshot``; with the synthetic sets' 8-12
# videos a class the official whole-subset repeat gives the 5-shot runs
# 5/8 of the 1-shot steps; docs/toy_clip.md#k400-few-shot).
FEWSHOT_SAMPLER = dict(type='SeededFewShotSampler', fill='per_class')
# The few-shot twins' learning rate, as a multiple of the smoke config's: a
# few-shot twin trains about 20 steps (80-120 clips an epoch at batch 16, 4
# epochs), and at the smoke lr it keeps the toy CLIP's confusions of class
# pairs whatever K; at 3x it learns more of those pairs, and 1 shot falls
# below 2 (docs/toy_clip.md#few-shot-learning-rate).
FEWSHOT_LR_FACTOR = 3
# Smallest area of the training crop (OfficialRandomResizedCrop; the official
# 0.08): a shape covers about a tenth of a synthetic frame, so a smaller
# crop often holds none of it, or none of its trail.
MIN_CROP_AREA = 0.5


def _resize_pipeline(pipeline) -> list:
    out = []
    for step in pipeline:
        step = dict(step)
        kind = step.get('type')
        if kind in DROPPED_TRANSFORMS:
            continue
        if kind in ('ShortSideResize', 'OfficialRandomResizedCrop'):
            step['size'] = INPUT_SIZE
            if kind == 'OfficialRandomResizedCrop':
                step['area_range'] = (MIN_CROP_AREA, 1.0)
        elif kind in ('BIKECenterCrop', 'OfficialThreeCrop'):
            step['crop_size'] = INPUT_SIZE
        out.append(step)
    return out


def attributes_path(manifest: str) -> str:
    """Where the twin's generated attributes of ``manifest`` go."""
    folder = os.path.join(os.path.dirname(os.path.dirname(manifest)), 'attributes')
    return os.path.join(folder, os.path.basename(manifest).replace('.jsonl', '.json'))


def _set_loader(cfg, loader: str, manifest: Optional[str], batch_size: int) -> None:
    if not cfg.get(loader):
        return
    dataloader = cfg[loader]
    dataloader.update(batch_size=batch_size, num_workers=0, persistent_workers=False)
    dataset = dataloader['dataset']
    if manifest:
        dataset['ann_file'] = manifest
        if 'attributes_file' in dataset:
            dataset['attributes_file'] = attributes_path(manifest)
    dataset['class_table'] = None  # the synthetic manifest's own classes
    dataset.pop('media_root', None)
    dataset['pipeline'] = _resize_pipeline(dataset['pipeline'])


def twin_config(entry: Experiment, twin: SmokeTwin, synth_root: str, work_dir: str,
                settings: SmokeSettings = SmokeSettings()):
    """The MMEngine config of ``twin``: a transform of ``entry``'s real config.

    The backbone (architecture and ``pretrained`` setting) is the smoke
    config's; epochs and training seed are ``settings``'. The result carries
    ``run_source`` (the real config and the
    derivation ``smoke twin ...``) and the evaluation setup of its test
    loader, so ``engine.run_config.materialize`` writes it as the one file
    that trains and tests the twin.
    """
    from mmengine.config import Config
    from bike_bench.engine.run_config import derive
    from bike_bench.evaluation.harness import prepare_eval_config
    real = Config.fromfile(os.path.join(DATA_ROOT, entry.config))
    smoke = Config.fromfile(SMOKE_CONFIG)
    cfg = copy.deepcopy(real)
    cfg.model.backbone = copy.deepcopy(smoke.model.backbone)
    if twin.family != 'openai-clip':
        # Beyond-the-paper backbones: a tiny model of the same tower family.
        from bike_bench.models.tiny_archs import tiny_arch
        cfg.model.backbone.arch = tiny_arch(twin.family)
        # The toy CLIP is OpenAI-style: other families start from random weights.
        cfg.model.backbone.pretrained = None
    cfg.model.num_classes = None
    cfg.model.class_names = None
    roles = FLAVOUR_MANIFESTS[entry.dataset]
    for loader, role, batch in (('train_dataloader', 'train', 16),
                                ('val_dataloader', 'val', 8),
                                ('test_dataloader', 'test', 8)):
        manifest = manifest_path(synth_root, entry.dataset, role) if role in roles else None
        _set_loader(cfg, loader, manifest, batch)
    epochs = settings.epochs(twin.protocol, finetuned=twin.parent is not None)
    if cfg.get('train_cfg') and cfg.train_cfg.get('type') == 'EpochBasedTrainLoop':
        cfg.train_cfg.max_epochs = epochs
        cfg.train_cfg.val_interval = epochs  # validate once, at the end
        cfg.optim_wrapper = copy.deepcopy(real.optim_wrapper)
        cfg.optim_wrapper.type = 'OptimWrapper'  # no AMP on the CPU
        lr_factor = FEWSHOT_LR_FACTOR if twin.protocol == Protocol.FEWSHOT else 1
        cfg.optim_wrapper.optimizer.lr = lr_factor * smoke.optim_wrapper.optimizer.lr
        cfg.param_scheduler = [
            dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=1,
                 convert_to_iter_based=True),
            dict(type='CosineAnnealingLR', T_max=max(1, epochs - 1), eta_min=0,
                 by_epoch=True, begin=1, end=max(2, epochs), convert_to_iter_based=True)]
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=epochs,
                                        max_keep_ckpts=1, save_best=None)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=10)
    cfg.load_from = None
    cfg.resume = False
    cfg.randomness = dict(seed=settings.seed, deterministic=False)
    cfg.work_dir = work_dir
    cfg.launcher = 'none'
    cfg.log_level = 'ERROR'  # reproduce prints its own progress
    cfg.env_cfg = dict(cfg.get('env_cfg', {}), dist_cfg=dict(backend='gloo'))
    fewshot = ''
    if twin.protocol == Protocol.FEWSHOT:
        from bike_bench.evaluation.fewshot import SAMPLER_KEY
        cfg[SAMPLER_KEY] = copy.deepcopy(FEWSHOT_SAMPLER)
        fewshot = (f', few-shot videos filled per class, lr x{FEWSHOT_LR_FACTOR} '
                   'of the smoke config')
    derive(cfg, f'smoke twin {twin.id}: backbone of '
           f'{os.path.relpath(SMOKE_CONFIG, DATA_ROOT)}, synthetic {entry.dataset} '
           f'manifests, {INPUT_SIZE} px, no horizontal flip, no grayscale, crop area >= '
           f'{MIN_CROP_AREA}{fewshot}, {epochs} epochs, CPU')
    prepare_eval_config(cfg)
    return cfg


def config_key_text(cfg, synth_root: str) -> str:
    """The config as text, without the paths that say where, not what."""
    data = copy.deepcopy(cfg.to_dict())
    for key in ('work_dir', 'load_from', 'resume', 'launcher', 'run_source'):
        data.pop(key, None)
    text = json.dumps(data, sort_keys=True, default=str)
    return text.replace(os.path.abspath(synth_root), '<synthetic>').replace(
        synth_root, '<synthetic>')


def run_keys(twin: SmokeTwin, cfg, synth_root: str, manifests: List[str],
             parent_key: Optional[str]) -> Dict[str, str]:
    """What identifies a twin run: ``inputs_key`` (its config, data and
    parent) and ``run_key`` (the same and the code identity)."""
    from bike_bench.datasets.manifest import read_manifest
    from bike_bench.evaluation.provenance import run_key
    digest = hashlib.sha256()
    digest.update(twin.id.encode())
    digest.update(config_key_text(cfg, synth_root).encode())
    for manifest in manifests:
        digest.update(read_manifest(manifest, check_labels=False).content_hash.encode())
    digest.update(str(parent_key).encode())
    return run_key(digest.hexdigest())
