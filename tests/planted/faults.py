"""Planted faults: each a registered component that breaks one step of BIKE.

``bike-bench ci-regression`` must catch every one of them
(``tests/reproduction/test_mutations.py``). None of this is in the package:
a fault is a component registered here (``MODELS``, ``TRANSFORMS``,
``DATASETS``, ``TASK_UTILS``) and a config transform that swaps it into a
smoke twin -- a model, head or dataset type, a pipeline step, the few-shot
sampler or the half-class split rule -- and adds this module to the
config's ``custom_imports``, so the written config runs the fault on its own.
The harness applies the transform to the configs a twin is evaluated with
(``ReproduceSettings.eval_transform``), not to the training of the
checkpoints it evaluates.

=====================  ==============================  ========================================
fault                  component (registry)            config key it replaces
=====================  ==============================  ========================================
``text-constant``      ConstantTextRecognizer (MODELS)  ``model.type`` (BIKERecognizer)
``prompt-template``    BareNamePromptRecognizer         ``model.type`` (BIKERecognizer)
                       (MODELS)
``fusion-swap``        SwappedFusionRecognizer          ``model.type``
                       (MODELS)                         (BIKEVideoAttributeRecognizer)
``vcs-mean``           UniformSaliencyVCS (MODELS)      ``model.video_head.interaction``
``skip-temporal``      SkipTemporalHeader (MODELS)      ``model.video_head.header``
``permute-labels``     ShiftedLabelDataset (DATASETS)   ``test_dataloader.dataset.type``
``frame-shift``        ShiftFrameIndices (TRANSFORMS)   inserted after ``BIKESampleFrames`` in
                                                        the test pipeline
``split-seed-shift``   ShiftedHalfClassSplits           ``zeroshot_split_rule``
                       (TASK_UTILS)
``fewshot-from-eval``  EvalManifestFewShotSampler       ``fewshot_sampler``
                       (TASK_UTILS)
=====================  ==============================  ========================================
"""
from __future__ import annotations

import dataclasses
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from mmaction.registry import DATASETS, MODELS, TASK_UTILS, TRANSFORMS

from bike_bench.datasets.video_dataset import ManifestVideoDataset
from bike_bench.engine.run_config import derive
from bike_bench.evaluation.fewshot import SAMPLER_KEY, SeededFewShotSampler
from bike_bench.evaluation.zeroshot import SPLIT_RULE_KEY, OfficialHalfClassSplits
from bike_bench.models.heads.interactions import VCSInteraction
from bike_bench.models.heads.temporal import TransfHeader
from bike_bench.models.recognizers.bike_recognizer import BIKERecognizer
from bike_bench.models.recognizers.video_attribute_recognizer import (
    BIKEVideoAttributeRecognizer)


# ----------------------------------------------------------------- models
@MODELS.register_module()
class ConstantTextRecognizer(BIKERecognizer):
    """Class text features replaced by a constant (every class looks alike)."""

    def encode_texts(self, texts):
        cls, tokens = super().encode_texts(texts)
        return torch.ones_like(cls), torch.ones_like(tokens)


@MODELS.register_module()
class BareNamePromptRecognizer(BIKERecognizer):
    """Class prompts from the bare snake_case class name, without the template."""

    def prompts(self, names: Optional[Sequence[str]] = None) -> List[str]:
        names = self.class_names if names is None else names
        return [name.replace(' ', '_') for name in names]


@MODELS.register_module()
class SwappedFusionRecognizer(BIKEVideoAttributeRecognizer):
    """The video / attribute fusion weights swapped."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fusion_weights = tuple(reversed(self.fusion_weights))


@MODELS.register_module()
class UniformSaliencyVCS(VCSInteraction):
    """VCS with uniform frame weights: plain mean pooling of the unit frames."""

    def saliency(self, video, tokens):
        alpha = super().saliency(video, tokens)
        return torch.full_like(alpha, 1.0 / alpha.shape[-1])


@MODELS.register_module()
class SkipTemporalHeader(TransfHeader):
    """The temporal transformer skipped: frame features pass through (its
    weights are still there, so a trained checkpoint loads)."""

    def forward(self, x):
        return x


# ------------------------------------------------------------------- data
@DATASETS.register_module()
class ShiftedLabelDataset(ManifestVideoDataset):
    """Ground-truth labels rolled by one class in test mode."""

    def load_data_list(self) -> List[dict]:
        data_list = super().load_data_list()
        if self.test_mode:
            count = len(self.manifest.classes)
            for info in data_list:
                if isinstance(info['label'], int):
                    info['label'] = (info['label'] + 1) % count
        return data_list


@TRANSFORMS.register_module()
class ShiftFrameIndices(BaseTransform):
    """Frame indices moved ``offset`` frames later, clamped to the video's
    last frame (after ``BIKESampleFrames``)."""

    def __init__(self, offset: int = 3):
        self.offset = offset

    def transform(self, results: dict) -> dict:
        last = int(results.get('start_index', 0)) + int(results['total_frames']) - 1
        results['frame_inds'] = np.minimum(results['frame_inds'] + self.offset, last)
        return results


# -------------------------------------------------------------- protocols
@TASK_UTILS.register_module()
class ShiftedHalfClassSplits(OfficialHalfClassSplits):
    """The half-class splits of seeds ``10 .. 10 + num_splits - 1`` instead of
    ``0 .. num_splits - 1``."""

    SHIFT = 10

    def __call__(self, num_classes: int) -> List[np.ndarray]:
        return OfficialHalfClassSplits(self.num_splits + self.SHIFT)(
            num_classes)[self.SHIFT:]


@TASK_UTILS.register_module()
class EvalManifestFewShotSampler(SeededFewShotSampler):
    """Few-shot videos drawn from the evaluation manifest."""

    def __call__(self, train_manifest, test_manifest, shots, seed):
        if not test_manifest:
            raise ValueError('fewshot-from-eval needs the evaluation manifest')
        return super().__call__(test_manifest, test_manifest, shots, seed)


# ------------------------------------------------------- config transforms
def _swap_type(node, expected: str, fault: str, where: str):
    if node.get('type') != expected:
        raise ValueError(f'{where}.type is {node.get("type")!r}, not {expected!r}: '
                         'the fault does not apply to this twin')
    node['type'] = fault


def _as_dict(spec, alias: str, expected: str, where: str) -> dict:
    spec = dict(type=expected) if spec == alias else dict(spec)
    if spec.get('type') != expected:
        raise ValueError(f'{where} is {spec!r}, not {expected}')
    return spec


def _text_constant(cfg):
    _swap_type(cfg.model, 'BIKERecognizer', 'ConstantTextRecognizer', 'model')


def _prompt_template(cfg):
    _swap_type(cfg.model, 'BIKERecognizer', 'BareNamePromptRecognizer', 'model')


def _fusion_swap(cfg):
    _swap_type(cfg.model, 'BIKEVideoAttributeRecognizer', 'SwappedFusionRecognizer',
               'model')


def _vcs_mean(cfg):
    head = cfg.model.video_head
    head['interaction'] = dict(_as_dict(head.get('interaction', 'VCS'), 'VCS',
                                        'VCSInteraction', 'model.video_head.interaction'),
                               type='UniformSaliencyVCS')


def _skip_temporal(cfg):
    head = cfg.model.video_head
    head['header'] = dict(_as_dict(head.get('header', 'Transf'), 'Transf',
                                   'TransfHeader', 'model.video_head.header'),
                          type='SkipTemporalHeader')


def _permute_labels(cfg):
    _swap_type(cfg.test_dataloader.dataset, 'ManifestVideoDataset', 'ShiftedLabelDataset',
               'test_dataloader.dataset')


def _frame_shift(cfg):
    dataset = cfg.test_dataloader.dataset
    pipeline = [dict(step) for step in dataset.pipeline]
    types = [step.get('type') for step in pipeline]
    if types.count('BIKESampleFrames') != 1:
        raise ValueError('the test pipeline needs one BIKESampleFrames')
    pipeline.insert(types.index('BIKESampleFrames') + 1,
                    dict(type='ShiftFrameIndices', offset=3))
    dataset.pipeline = pipeline


def _split_seed_shift(cfg):
    cfg[SPLIT_RULE_KEY] = dict(type='ShiftedHalfClassSplits')


def _fewshot_from_eval(cfg):
    # The twin's sampler options (its fill) kept: only where videos come from changes.
    cfg[SAMPLER_KEY] = dict(cfg.get(SAMPLER_KEY) or {}, type='EvalManifestFewShotSampler')


@dataclasses.dataclass(frozen=True)
class Fault:
    name: str
    what: str
    swap: Callable[[object], None]

    def __call__(self, cfg) -> None:
        """Plant the fault in ``cfg`` (in place): swap the component in, add
        this module to ``custom_imports`` and note the derivation."""
        self.swap(cfg)
        imports = dict(cfg.get('custom_imports') or {})
        names = list(imports.get('imports') or [])
        if __name__ not in names:
            names.append(__name__)
        cfg.custom_imports = dict(imports, imports=names)
        derive(cfg, f'planted fault {self.name}: {self.what}')


FAULTS: Dict[str, Fault] = {fault.name: fault for fault in (
    Fault('text-constant', 'class text features replaced by a constant', _text_constant),
    Fault('vcs-mean', 'VCS frame weights uniform (mean pooling)', _vcs_mean),
    Fault('skip-temporal', 'temporal transformer skipped', _skip_temporal),
    Fault('permute-labels', 'test labels rolled by one class', _permute_labels),
    Fault('prompt-template', 'class prompt = bare snake_case class name',
          _prompt_template),
    Fault('split-seed-shift', 'half-class split seeds shifted by 10', _split_seed_shift),
    Fault('fewshot-from-eval', 'few-shot videos drawn from the evaluation manifest',
          _fewshot_from_eval),
    Fault('fusion-swap', 'video/attribute fusion weights swapped', _fusion_swap),
    Fault('frame-shift', 'test-clip frame indices shifted by 3 frames', _frame_shift),
)}
