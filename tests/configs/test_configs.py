"""Every config builds, runs its pipelines, and matches the official setup."""
from __future__ import annotations

import ast
import copy
import re
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

import bike_bench.datasets  # noqa: F401  (registers datasets and transforms)
import bike_bench.engine  # noqa: F401
from bike_bench.engine.schedulers import schedule_kind
from bike_bench.metafile import (find_model, load_metafile,
                                              shipped_config_files, validate_metafile)
from bike_bench.models.convert import build_model_from_config

REPO = Path(__file__).resolve().parents[2]
CONFIG_DIR = REPO / 'mmconfigs'
# Shipped configs only: a user's untracked config under mmconfigs/ is not checked.
CONFIGS = shipped_config_files(CONFIG_DIR)
IDS = [p.stem for p in CONFIGS]
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
# official `arch` -> open_clip name
ARCH = {'ViT-B/32': 'ViT-B-32', 'ViT-B/16': 'ViT-B-16', 'ViT-L/14': 'ViT-L-14',
        'ViT-L/14-336px': 'ViT-L-14-336'}
# official `dataset` -> folder under data/
DATA_FOLDER = {'k400': 'kinetics400', 'ucf101': 'ucf101', 'hmdb51': 'hmdb51',
               'anet': 'activitynet', 'charades': 'charades'}
NAME = re.compile(
    r'^bike(-va|-attr)?_(vit-b-p32|vit-b-p16|vit-l-p14|vit-l-p14-res336|tiny-vit-p16-res64|'
    r'vit-b-p16-siglip2|vit-so400m-p14-siglip2|eva02-b-p16|eva02-l-p14)_'
    r'(clip-openai-pre|k400-pre|toy-clip-pre|webli-pre|merged2b-pre|metaclip-fullcc-pre|'
    r'dfn2b-pre)_'
    r'((fewshot-\d+shot-)?\d+xb\d+-\d+x1x1-\d+e|zeroshot-\d+x1x1)_'
    r'[a-z0-9]+(-split\d)?-rgb$')


@pytest.fixture(scope='module')
def configs():
    return {p.stem: Config.fromfile(str(p)) for p in CONFIGS}


@pytest.fixture(scope='module')
def metafile():
    return load_metafile()


@pytest.fixture(scope='module')
def synthetic_set(tmp_path_factory):
    from bike_bench.datasets.smoke import write_smoke_set
    out = tmp_path_factory.mktemp('synthetic')
    return write_smoke_set(str(out), num_classes=2, train_per_class=1,
                           val_per_class=1, num_frames=12)


def pipeline_step(pipeline, type_name):
    steps = [step for step in pipeline if step['type'] == type_name]
    assert len(steps) == 1, f'expected one {type_name} in {pipeline}'
    return steps[0]


def loaders(cfg):
    return {key: cfg[key] for key in LOADERS if cfg.get(key)}


def test_names_follow_the_scheme():
    bad = [name for name in IDS if not NAME.match(name)]
    assert not bad, f'config names off the naming scheme: {bad}'


def test_metafile_lists_every_config_and_nothing_else():
    records = validate_metafile()
    assert {r.name for r in records} == set(IDS)


@pytest.mark.parametrize('path', CONFIGS, ids=IDS)
def test_model_builds_without_weights(path, configs):
    cfg = configs[path.stem]
    model = build_model_from_config(cfg, device='meta')
    from bike_bench.models import BIKERecognizer
    assert isinstance(model, BIKERecognizer)
    assert type(model).__name__ == cfg.model.type
    assert model.backbone.logit_scale.is_meta
    if cfg.get('load_from'):
        # Weights come from the checkpoint: no CLIP download first.
        assert cfg.model.backbone.pretrained is None
    assert model.num_classes == cfg.model.get('num_classes')


@pytest.mark.parametrize('path', CONFIGS, ids=IDS)
def test_settings_agree_with_pipelines_and_metafile(path, configs, metafile):
    """A config's video variables are what its pipelines and metafile say."""
    cfg = configs[path.stem]
    record = find_model(metafile, path.stem)
    expected_scale = 256 if cfg.input_size == 224 else cfg.input_size
    assert cfg.scale_size == expected_scale
    video_free = tuple(cfg.model.get('branches', ('video',))) == ('attributes',)
    for key, loader in loaders(cfg).items():
        pipeline = loader.dataset.pipeline
        if video_free:  # attributes-only: sentences, no frames to sample
            assert not any(s['type'] == 'BIKESampleFrames' for s in pipeline)
            continue
        sample = pipeline_step(pipeline, 'BIKESampleFrames')
        assert sample['num_segments'] == cfg.num_segments, key
        assert pipeline_step(pipeline, 'ShortSideResize')['size'] == cfg.scale_size
        if key == 'train_dataloader':
            assert pipeline_step(pipeline, 'OfficialRandomResizedCrop')['size'] == cfg.input_size
        elif key == 'test_dataloader':
            assert sample['mode'] == 'test' and sample['num_clips'] == cfg.num_test_clips
            crop_type = 'OfficialThreeCrop' if cfg.num_test_crops == 3 else 'BIKECenterCrop'
            assert pipeline_step(pipeline, crop_type)['crop_size'] == cfg.input_size
        else:
            assert sample['mode'] == 'val'
    assert record.frames == cfg.num_segments
    assert record.input_size == cfg.input_size
    assert record.views == f'{cfg.num_test_clips}x{cfg.num_test_crops}'


def _attributes_for(manifest_path: str, out: Path) -> str:
    """An attributes JSON (official layout) naming each video's own class."""
    import json
    from bike_bench.datasets.manifest import read_manifest
    manifest = read_manifest(manifest_path)
    out.write_text(json.dumps({e.path: {'classname_topk': [manifest.classes[e.label]] * 5}
                               for e in manifest.entries}))
    return str(out)


@pytest.mark.parametrize('path', CONFIGS, ids=IDS)
def test_datasets_build_and_pipelines_run(path, configs, synthetic_set, tmp_path):
    """Every dataloader builds on a synthetic manifest and yields the views."""
    cfg = configs[path.stem]
    init_default_scope('mmaction')
    views = {'train_dataloader': 1, 'val_dataloader': 1,
             'test_dataloader': cfg.num_test_clips * cfg.num_test_crops}
    assert loaders(cfg), 'a config needs at least a test dataloader'
    for key, loader_cfg in loaders(cfg).items():
        loader_cfg = copy.deepcopy(loader_cfg)  # the configs are shared
        split = 'train' if key == 'train_dataloader' else 'val'
        loader_cfg.dataset.update(ann_file=synthetic_set[split],
                                  class_table=synthetic_set['classes'])
        if 'attributes_file' in loader_cfg.dataset:
            loader_cfg.dataset.attributes_file = _attributes_for(
                synthetic_set[split], tmp_path / f'{split}_attributes.json')
        loader_cfg.update(batch_size=1, num_workers=0, persistent_workers=False)
        batch = next(iter(Runner.build_dataloader(loader_cfg, seed=0)))
        inputs = batch['inputs']
        if isinstance(inputs, dict):  # attributes branch: sentences (+ frames)
            assert inputs['attribute_tokens'][0].shape[-1] == 77
            if 'imgs' not in inputs:
                continue
            inputs = inputs['imgs']
        inputs = inputs[0]
        size = cfg.input_size
        assert tuple(inputs.shape) == (views[key], 3, cfg.num_segments, size, size), key
        assert inputs.dtype == torch.uint8


def _official_loss_name(loss) -> str:
    from bike_bench.models.losses import LOSS_ALIASES
    name = loss if isinstance(loss, str) else loss['type']
    by_class = {cls: alias for alias, cls in LOSS_ALIASES.items()}
    return by_class.get(name, name)


def _log_header(path: Path) -> dict:
    """The config dict the official training script prints at the top."""
    lines = path.read_text(encoding='utf-8', errors='replace').splitlines()
    start = next(i for i, line in enumerate(lines) if re.search(r'INFO: \{', line))
    text = [lines[start].split('INFO: ', 1)[1]]
    for line in lines[start + 1:]:
        if line.startswith('['):  # the next timestamped log line
            break
        text.append(line)
    return ast.literal_eval('\n'.join(text))


def _warmup_epochs(param_scheduler) -> float:
    kind = schedule_kind(param_scheduler)
    if kind == 'official':
        return param_scheduler[0]['warmup_epochs']
    if kind == 'smooth':
        return param_scheduler[0]['end']
    return 0


def _official_view(cfg: Config, records) -> dict:
    """The config's settings in the vocabulary of the official yaml files."""
    train = cfg.train_dataloader
    pipeline = train.dataset.pipeline
    optimizer = cfg.optim_wrapper.optimizer
    schedulers = [s['type'] for s in cfg.param_scheduler]
    pretrain = None
    if cfg.get('load_from'):
        pretrain = find_model(records, Path(cfg.load_from).stem).weights
    return {
        'arch': cfg.model.backbone.arch,
        'num_classes': cfg.model.num_classes,
        'num_segments': pipeline_step(pipeline, 'BIKESampleFrames')['num_segments'],
        'input_size': pipeline_step(pipeline, 'OfficialRandomResizedCrop')['size'],
        'scale_size': pipeline_step(pipeline, 'ShortSideResize')['size'],
        'batch_size': train.batch_size,
        'train_manifest_folder': Path(train.dataset.ann_file).parts[1],
        'sim_header': cfg.model.video_head.header,
        'interaction': cfg.model.video_head.interaction,
        'fix_text': cfg.model.backbone.freeze_text,
        'loss_type': _official_loss_name(cfg.model.loss),
        'optim': optimizer.type.lower(),
        'lr': optimizer.lr,
        'weight_decay': optimizer.weight_decay,
        'clip_ratio': cfg.optim_wrapper.paramwise_cfg.custom_keys.backbone.lr_mult,
        'epochs': cfg.train_cfg.max_epochs,
        'lr_warmup_step': _warmup_epochs(cfg.param_scheduler),
        'type': 'cosine' if schedule_kind(cfg.param_scheduler) else schedulers,
        'grad_accumulation_steps': cfg.optim_wrapper.get('accumulative_counts', 1),
        'eval_freq': cfg.train_cfg.val_interval,
        'seed': cfg.randomness.seed,
        'pretrain': pretrain,
    }


def _expected(header: dict) -> dict:
    data, network, solver = header['data'], header['network'], header['solver']
    size = data['input_size']
    return {
        'arch': ARCH[network['arch']],
        'num_classes': data['num_classes'],
        'num_segments': data['num_segments'],
        'input_size': size,
        'scale_size': 256 if size == 224 else size,
        'batch_size': data['batch_size'],
        'train_manifest_folder': DATA_FOLDER[data['dataset']],
        'sim_header': network['sim_header'],
        'interaction': network['interaction'],
        'fix_text': network['fix_text'],
        'loss_type': solver['loss_type'],
        'optim': solver['optim'],
        'lr': solver['lr'],
        'weight_decay': solver['weight_decay'],
        'clip_ratio': solver['clip_ratio'],
        'epochs': solver['epochs'],
        'lr_warmup_step': solver['lr_warmup_step'],
        'type': solver['type'],
        'grad_accumulation_steps': solver['grad_accumulation_steps'],
        'eval_freq': header['logging']['eval_freq'],
        'seed': header['seed'],
        'pretrain': Path(header['pretrain']).name if header.get('pretrain') else None,
    }


TRAINED_WITH_LOG = [r for r in load_metafile()
                    if r.training_log and r.protocol != 'zero-shot']


@pytest.mark.parametrize('record', TRAINED_WITH_LOG, ids=[r.name for r in TRAINED_WITH_LOG])
def test_hyperparameters_match_the_official_log(record, configs, metafile, logs_dir):
    """Each trained config against the config printed in its official log.

    Covers among others K400 ViT-B/16 8f and ViT-L/14-336 16f.
    """
    header = _log_header(logs_dir / record.training_log)
    cfg = configs[record.name]
    assert _official_view(cfg, metafile) == _expected(header)
    gpus = int(record.metadata['Training Resources'].split()[0])
    assert f'_{gpus}xb{cfg.train_dataloader.batch_size}-' in record.name
    assert gpus * cfg.train_dataloader.batch_size == 256  # the paper's global batch


def test_the_two_named_models_are_checked():
    names = {r.name for r in TRAINED_WITH_LOG}
    assert 'bike_vit-b-p16_clip-openai-pre_8xb32-8x1x1-30e_kinetics400-rgb' in names
    assert 'bike_vit-l-p14-res336_clip-openai-pre_32xb8-16x1x1-20e_kinetics400-rgb' in names


def test_log_header_parser(logs_dir):
    header = _log_header(logs_dir / 'k400_vit-B_16_8f_log.txt')
    assert header['network']['arch'] == 'ViT-B/16'
    assert header['solver']['epochs'] == 30 and header['data']['batch_size'] == 32


def test_finetunes_and_zeroshot_start_from_a_k400_config(configs, metafile):
    for name, cfg in configs.items():
        load_from = cfg.get('load_from')
        if 'k400-pre' not in name:
            assert load_from is None, name
            continue
        assert load_from.startswith('checkpoints/'), name  # relative path
        source = find_model(metafile, Path(load_from).stem)
        assert source.dataset == 'Kinetics-400' and source.protocol == 'general'
        record = find_model(metafile, name)
        if record.protocol == 'zero-shot':
            assert source.weights == record.weights == 'k400-vit-l-14-f8.pt'
            assert cfg.get('train_dataloader') is None
        else:
            assert source.frames == 16 and source.input_size == cfg.input_size


def test_fewshot_configs(configs, metafile):
    fewshot = [r for r in metafile if r.protocol == 'few-shot']
    assert len(fewshot) == 12
    for record in fewshot:
        cfg = configs[record.name]
        assert cfg.shot == record.metadata['Shot']
        assert f'fewshot-{cfg.shot}shot' in record.name
        assert cfg.train_dataloader.dataset.ann_file.endswith(
            f'manifests/fewshot_{cfg.shot}shot_seed{cfg.fewshot_seed}.jsonl')
        assert cfg.model.video_head.header == 'None'
        assert cfg.model.video_head.interaction == 'VCS'
        assert cfg.model.backbone.arch == 'ViT-L-14'
        assert cfg.model.backbone.pretrained == 'openai'


def test_kinetics600_splits_use_their_class_tables(configs):
    for split in (1, 2, 3):
        cfg = configs[f'bike_vit-l-p14_k400-pre_zeroshot-8x1x1_kinetics600-split{split}-rgb']
        dataset = cfg.test_dataloader.dataset
        assert dataset.ann_file == f'data/kinetics600/manifests/zeroshot_split{split}.jsonl'
        assert dataset.class_table == f'data/kinetics600/classes_split{split}.csv'


@pytest.mark.parametrize('path', CONFIGS, ids=IDS)
def test_evaluators_build(path, configs):
    """Every val/test evaluator names registered metrics with valid options."""
    from mmengine.evaluator import Evaluator
    from mmengine.registry import DefaultScope
    import bike_bench.evaluation  # noqa: F401  (registers the metrics)
    cfg = configs[path.stem]
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        for key in ('val_evaluator', 'test_evaluator'):
            if cfg.get(key):
                evaluator = Evaluator(cfg[key])
                assert evaluator.metrics, f'{key} of {path} has no metric'
