"""Generate video attributes with a frozen CLIP (the official release ships
only its output, not the generator; docs/method.md#attributes).

Each video is sampled and cropped as the config's validation pipeline does,
its embedding is the mean of its unit frame embeddings, and the ``topk``
lexicon phrases closest in cosine are its attributes. The output is the
official JSON layout (see ``bike_bench.datasets.attribute_sentences``), rewritten
atomically every ``flush_every`` videos, so an interrupted run resumes from
the last write and is never left half-written.

Determinism: no random sampling or cropping, a seeded build of a randomly
initialised CLIP, and batches that are fixed slices of the manifest, so a
resumed run computes every video in the same batch as an uninterrupted one
and writes the same file.
"""
from __future__ import annotations

import copy
import hashlib
import json
import os
import time
from typing import Dict, List, Optional, Sequence, Tuple

import torch

from bike_bench.datasets.attribute_sentences import (PHRASES_KEY, SCORES_KEY,
                                                     AttributesFileError, meta_path,
                                                     read_attributes, read_meta)
from bike_bench.checkpoint_io import load_model_checkpoint
from bike_bench.datasets.class_table import read_class_table
from bike_bench.datasets.manifest import read_manifest
from bike_bench.datasets.video_dataset import ManifestVideoDataset
from bike_bench.evaluation.provenance import code_identity
from bike_bench.utils.atomic import atomic_write_json

DEFAULT_PROMPT = 'a photo of {}'
META_VERSION = 1
SCORE_DECIMALS = 6
# Fields of the metadata that must match for a run to resume a file.
IDENTITY_KEYS = ('manifest_hash', 'lexicon_hash', 'prompt', 'topk', 'clip',
                 'pipeline', 'code')


def _unit(x: torch.Tensor) -> torch.Tensor:
    return x / x.norm(dim=-1, keepdim=True)


def load_lexicon(spec: str, classes: Sequence[str]) -> Tuple[List[str], str]:
    """Phrases from a file (one per line, or an ``id,name`` class table), or
    the manifest's class names for the literal ``classes``."""
    if spec == 'classes':
        return list(classes), 'classes'
    return read_class_table(spec), spec


class AttributeScorer:
    """A frozen CLIP that ranks lexicon phrases for videos.

    Args:
        encoder: a ``CLIPEncoder``.
        phrases: the lexicon.
        prompt: template each phrase is put in before text encoding.
        topk: phrases kept per video.
        text_batch: phrases encoded per text-tower call.
    """

    def __init__(self, encoder, phrases: Sequence[str], prompt: str = DEFAULT_PROMPT,
                 topk: int = 5, text_batch: int = 256):
        if '{}' not in prompt:
            raise ValueError(f'prompt {prompt!r} has no "{{}}" for the phrase')
        if not 1 <= topk <= len(phrases):
            raise ValueError(f'topk={topk} but the lexicon has {len(phrases)} '
                             'phrases')
        self.encoder = encoder.eval()
        for param in self.encoder.parameters():
            param.requires_grad_(False)
        self.phrases = list(phrases)
        self.topk = topk
        device = encoder.logit_scale.device
        features = []
        with torch.no_grad():
            for start in range(0, len(phrases), text_batch):
                texts = [prompt.format(p) for p in phrases[start:start + text_batch]]
                tokens = encoder.tokenize(texts).to(device)
                features.append(encoder.encode_text(tokens)[0])
        self.lexicon = _unit(torch.cat(features))

    @torch.no_grad()
    def video_embeddings(self, inputs: torch.Tensor) -> torch.Tensor:
        """Unit ``(B, D)``: mean of unit frame embeddings over views and frames.

        ``inputs`` are normalised clips ``(B, V, C, T, H, W)``.
        """
        if inputs.dim() == 5:
            inputs = inputs.unsqueeze(1)
        if inputs.dim() != 6:
            raise ValueError('expected clips (B, V, C, T, H, W); the config\'s '
                             'validation pipeline must decode video frames')
        batch, views, channels, frames, height, width = inputs.shape
        size = self.encoder.image_size
        if (height, width) != (size, size):
            raise ValueError(f'the validation pipeline gives {height}x{width} '
                             f'frames but the CLIP takes {size}x{size}')
        images = inputs.transpose(2, 3).reshape(-1, channels, height, width)
        features = _unit(self.encoder.encode_image(images))
        return _unit(features.reshape(batch, views * frames, -1).mean(dim=1))

    @torch.no_grad()
    def rank(self, inputs: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Top-k cosine scores and phrase indices, each ``(B, k)``."""
        sims = self.video_embeddings(inputs) @ self.lexicon.t()
        return sims.topk(self.topk, dim=-1)


class AttributeWriter:
    """The output file of one generation run: resume, add, atomic flush."""

    def __init__(self, out: str, order: Sequence[str], identity: dict):
        self.out = out
        self.order = list(order)
        self.identity = identity
        self.entries: Dict[str, dict] = {}

    def load_existing(self) -> int:
        """Entries already written by an earlier, identical run."""
        if not os.path.exists(self.out):
            return 0
        meta = read_meta(self.out)
        if meta is None:
            raise AttributesFileError(
                f'{self.out} exists but has no {os.path.basename(meta_path(self.out))}'
                ': it was not written by `bike-bench attributes generate`, so it '
                'cannot be resumed; choose another --out or remove it')
        changed = [k for k in IDENTITY_KEYS if meta.get(k) != self.identity.get(k)]
        if changed:
            raise AttributesFileError(
                f'{self.out} was generated with different settings ({", ".join(changed)}'
                ' differ); choose another --out or remove it to start over')
        entries = read_attributes(self.out)
        known = set(self.order)
        for key, entry in entries.items():
            if key not in known:
                raise AttributesFileError(f'{self.out}: entry {key!r} is not a '
                                          'video of the manifest')
            if len(entry[PHRASES_KEY]) != self.identity['topk']:
                raise AttributesFileError(
                    f'{self.out}: entry {key!r} has {len(entry[PHRASES_KEY])} '
                    f'phrases, expected {self.identity["topk"]}')
        self.entries = entries
        return len(entries)

    def add(self, path: str, phrases: List[str], scores: List[float]) -> None:
        self.entries[path] = {PHRASES_KEY: phrases,
                              SCORES_KEY: [round(s, SCORE_DECIMALS) for s in scores]}

    def write_meta(self, **extra) -> None:
        meta = dict(bike_bench_attributes=META_VERSION, **self.identity)
        meta.update(extra)
        atomic_write_json(meta_path(self.out), meta)

    def flush(self) -> None:
        """Rewrite the file (manifest order) atomically."""
        ordered = {path: self.entries[path] for path in self.order
                   if path in self.entries}
        atomic_write_json(self.out, ordered, indent=None)


def build_encoder(cfg, checkpoint: Optional[str] = None,
                  pretrained: Optional[str] = None, arch=None, seed: int = 0,
                  trust_checkpoint: bool = False):
    """The frozen CLIP and a description of where its weights came from.

    ``checkpoint``: a bike-bench (MMEngine) checkpoint of the config's model,
    whose backbone is used; ``pretrained``: ``'openai'`` or a local CLIP file
    for ``arch`` (default: the config's); neither: the config's backbone as
    configured (seeded when it is randomly initialised).
    """
    from mmaction.registry import MODELS
    backbone = copy.deepcopy(dict(cfg.model.backbone))
    if checkpoint is not None:
        if pretrained is not None or arch is not None:
            raise ValueError('--checkpoint takes the CLIP from the checkpoint; '
                             'do not combine it with --pretrained or --arch')
        model_cfg = copy.deepcopy(cfg.model)
        model_cfg.backbone.pretrained = None  # weights come from the checkpoint
        torch.manual_seed(seed)
        model = MODELS.build(model_cfg)
        load_model_checkpoint(model, checkpoint, strict=True, trust=trust_checkpoint)
        return model.backbone, dict(source='checkpoint', checkpoint=checkpoint,
                                    arch=backbone.get('arch'))
    if arch is not None:
        backbone['arch'] = arch
    if pretrained is not None:
        backbone['pretrained'] = pretrained
    torch.manual_seed(seed)
    encoder = MODELS.build(backbone)
    description = dict(source='pretrained' if pretrained else 'config',
                       arch=backbone.get('arch'),
                       pretrained=backbone.get('pretrained'))
    if backbone.get('pretrained') is None:
        description['random_init_seed'] = seed
    return encoder, description


def frame_pipeline(cfg) -> List[dict]:
    """The config's validation pipeline, packing only the frames."""
    pipeline = []
    for transform in copy.deepcopy(list(cfg.val_dataloader.dataset.pipeline)):
        transform = dict(transform)
        if transform.get('type') == 'PackActionInputs':
            # Whatever else a config packs (attribute tokens) is not needed.
            transform = dict(type='PackActionInputs')
        pipeline.append(transform)
    if not any('Decode' in str(t.get('type', '')) for t in pipeline):
        raise ValueError('the config\'s validation pipeline decodes no video '
                         '(an attributes-only config?); use a video config')
    return pipeline


def _hash_phrases(phrases: Sequence[str]) -> str:
    return hashlib.sha256('\n'.join(phrases).encode('utf-8')).hexdigest()


def _check_unique_paths(manifest) -> None:
    seen = {}
    for number, entry in enumerate(manifest.entries, start=2):
        if entry.path in seen:
            raise AttributesFileError(
                f'{manifest.path}:{number}: {entry.path!r} is also on line '
                f'{seen[entry.path]}; attributes are keyed by video path, so '
                'each video may appear once')
        seen[entry.path] = number


def generate_attributes(cfg, *args, **kwargs) -> dict:
    """Write ``out`` (and ``out.meta.json``); returns run statistics.

    See ``_generate`` for the arguments. Registries are searched in the
    config's default scope (``mmaction``).
    """
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmaction')):
        return _generate(cfg, *args, **kwargs)


def _generate(cfg, manifest_path: str, out: str, lexicon: str = 'classes',
              topk: int = 5, prompt: str = DEFAULT_PROMPT,
              checkpoint: Optional[str] = None, pretrained: Optional[str] = None,
              arch=None, batch_size: int = 16, num_workers: int = 2,
              flush_every: int = 512, device: Optional[str] = None,
              media_root: Optional[str] = None, seed: int = 0,
              progress: bool = True, trust_checkpoint: bool = False) -> dict:
    """Generate attributes for every video of a manifest.

    Args:
        cfg: an MMEngine config; its ``val_dataloader`` pipeline samples the
            frames and its model's backbone / data preprocessor are used.
        manifest_path: the videos.
        out: the attributes JSON; an existing file from an identical run is
            resumed.
        lexicon: phrase file, or ``'classes'`` for the manifest's classes.
        topk: phrases per video.
        prompt: template for each phrase (default ``'a photo of {}'``:
            phrases are matched against frames, which CLIP saw as photos).
        checkpoint, pretrained, arch, seed, trust_checkpoint: see
            ``build_encoder``.
        batch_size: videos per forward pass (also the resume granularity).
        num_workers: data-loading processes.
        flush_every: rewrite the file after at least this many new videos.
        device: ``'cuda'`` / ``'cpu'`` (default: CUDA when available).
        media_root: overrides the manifest's ``data_root``.
        progress: show a progress bar.
    """
    from mmaction.registry import MODELS
    from mmengine.dataset import pseudo_collate
    from tqdm import tqdm
    if batch_size < 1 or flush_every < 1:
        raise ValueError('batch_size and flush_every must be >= 1')
    manifest = read_manifest(manifest_path)
    _check_unique_paths(manifest)
    phrases, lexicon_source = load_lexicon(lexicon, manifest.classes)
    pipeline = frame_pipeline(cfg)
    identity = dict(manifest=manifest_path, manifest_hash=manifest.content_hash,
                    lexicon=lexicon_source, lexicon_size=len(phrases),
                    lexicon_hash=_hash_phrases(phrases), prompt=prompt, topk=topk,
                    pipeline=json.loads(json.dumps(pipeline, default=str)),
                    code=code_identity()['hash'])
    device = device or ('cuda' if torch.cuda.is_available() else 'cpu')
    encoder, identity['clip'] = build_encoder(cfg, checkpoint, pretrained, arch,
                                              seed, trust_checkpoint)
    identity['clip'] = json.loads(json.dumps(identity['clip'], default=str))
    scorer = AttributeScorer(encoder.to(device), phrases, prompt, topk)
    preprocessor = MODELS.build(dict(cfg.model.get(
        'data_preprocessor', None) or dict(type='CLIPDataPreprocessor'))).to(device)

    order = [entry.path for entry in manifest.entries]
    writer = AttributeWriter(out, order, identity)
    resumed = writer.load_existing()
    if resumed == 0:
        writer.write_meta(complete=False)
    batches = [list(range(start, min(start + batch_size, len(order))))
               for start in range(0, len(order), batch_size)]
    pending = [b for b in batches if any(order[i] not in writer.entries for i in b)]
    dataset = ManifestVideoDataset(manifest_path, pipeline=pipeline, test_mode=True,
                                   media_root=media_root)
    loader = torch.utils.data.DataLoader(
        dataset, batch_sampler=pending, num_workers=num_workers,
        collate_fn=pseudo_collate)
    todo = sum(len(b) for b in pending)
    started = time.perf_counter()
    since_flush = 0
    with tqdm(total=todo, unit='video', disable=not progress,
              desc=f'attributes {os.path.basename(out)}') as bar:
        for indices, data in zip(pending, loader):
            data = preprocessor(data, False)
            scores, picks = scorer.rank(data['inputs'].to(device))
            for index, row_scores, row_picks in zip(indices, scores.tolist(),
                                                    picks.tolist()):
                writer.add(order[index], [phrases[p] for p in row_picks], row_scores)
            since_flush += len(indices)
            bar.update(len(indices))
            if since_flush >= flush_every:
                writer.flush()
                since_flush = 0
    elapsed = time.perf_counter() - started
    writer.flush()
    stats = dict(videos=len(order), computed=todo, resumed=resumed,
                 seconds=round(elapsed, 3),
                 videos_per_second=round(todo / elapsed, 3) if todo and elapsed else None,
                 device=device, batch_size=batch_size)
    writer.write_meta(complete=True, last_run=stats)
    return stats
