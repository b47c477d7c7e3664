"""A toy CLIP pre-trained on the synthetic benchmark (``bike-bench pretrain-toy``).

The paper's runs start from OpenAI's CLIP; nothing like it can be downloaded
here, so the smoke twins start from this: the tiny open_clip model of the
smoke config (:data:`ARCH`, 3.8 M parameters, OpenAI's BPE tokenizer),
both towers trained contrastively on synthetic clips and their captions.

Data: every colour x shape x motion class of the base vocabulary whose
colour-shape pair is *not* in :data:`~bike_bench.datasets.synthetic.HELD_OUT_PAIRS`
(18 pairs x 6 motions = 108 classes), ``videos_per_class`` videos each,
rendered as the synthetic benchmark renders them (72 x 96, 16 frames,
resized to 64 px short side and centre-cropped to 64 x 64, 8 frames kept).
The held-out pairs (36 classes) are never seen, so the zero-shot flavours
of the benchmark, drawn from them, test compositions new to the model.

Captions: the class name in one of :data:`TEMPLATES` (``"a red circle moving
left"``, ``"This is a video about ..."``), written with spaces or, for
``camel_case_share`` of them, as UCF-101 writes class names
(``"RedCircleMovingLeft"``, whose BPE tokens differ). Loss: symmetric InfoNCE in which
every batch item of the same class counts as a positive; the text tower
runs only on the batch's distinct captions.

Motion: the renderer's fading trail shows a shape's direction in each
frame (``docs/toy_clip.md``). The committed recipe adds a throw-away
*temporal probe* (a linear map of the two half-clip means, added to the
mean; not saved), which lets the contrastive loss reward frame features
that carry position and size and text features that separate the motion
words. Its mean-pooled frame features, what BIKE's header ``None`` pools,
then hold no direction; ``Recipe.temporal_probe=False`` trains on that
mean alone. Downstream, BIKE's temporal transformer and VCS, trained on the
"K400" flavour, learn motion from these features, as in the paper.

Everything follows from the recipe's seed on a given machine and thread
count (CPU); the checkpoint is written in fp16 with a JSON record beside it
(recipe, data, metrics, sha256).
"""
from __future__ import annotations

import dataclasses
import json
import os
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import nn

from bike_bench import paths
from bike_bench.datasets.synthetic import (HELD_OUT_PAIRS, SyntheticClass,
                                           class_vocabulary, is_held_out, render_video,
                                           video_seed)
from bike_bench.models.clip.factory import build_clip
from bike_bench.models.clip.tokenizer import tokenize
from bike_bench.models.tiny_archs import tiny_arch
from bike_bench.utils.hashing import file_sha256

# The smoke config's tiny CLIP (mmconfigs/_base_/models/bike_tiny-vit-p16-res64.py):
# the open_clip model config `bike-tiny-openai-clip`, as a dict.
ARCH = tiny_arch('openai-clip')
TEMPLATES = ('{}', 'a {}', 'a video of a {}', 'This is a video about {}')
CHECKPOINT = os.path.join('results', 'toy_clip', 'toy-clip_synthetic_fp16.pt')
RECORD_SUFFIX = '.json'
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


@dataclasses.dataclass
class Recipe:
    """How the toy CLIP is trained (every field is recorded)."""
    steps: int = 800
    clips_per_batch: int = 32
    frames_per_clip: int = 4         # drawn in order from the 8 kept frames
    videos_per_class: int = 6
    lr: float = 1e-3
    weight_decay: float = 0.1
    warmup_steps: int = 50
    seed: int = 0
    threads: int = 1                 # CPU reductions do not depend on core count
    video_seed_base: int = 1000      # pre-training videos: their own seeds
    eval_videos_per_class: int = 4
    # Share of captions naming the class the way UCF-101 writes its classes
    # ("RedCircleMovingLeft": other BPE tokens than "red circle moving left").
    # Without them UCF zero-shot top-1 was 0.18 against HMDB's 0.80 on the
    # same kind of classes (docs/toy_clip.md).
    camel_case_share: float = 0.3
    # Clips of a batch come in groups of this many motions of one
    # colour-shape pair, so the loss can only be lowered by telling the
    # motion words apart (with 1, batches are drawn class by class at
    # random and a clip rarely meets another motion of its pair; left|right
    # caption cosine 0.996; docs/toy_clip.md).
    motions_per_pair: int = 4
    # Train through the throw-away temporal probe (half-clip means) rather
    # than the plain mean of frames. With it, pre-training can tell motions
    # apart by frame order, and the mean-pooled frame features that BIKE's
    # header "None" gets hold no direction; without it (2,400 steps) they do
    # (docs/toy_clip.md#ten-seeds-the-full-data-ceiling-and-the-frame-features).
    temporal_probe: bool = True


def record_path(checkpoint: str) -> str:
    return os.path.splitext(checkpoint)[0] + RECORD_SUFFIX


def resolve(path: str) -> str:
    """``path``, or the shipped file of that name (``paths.shipped_file``)."""
    return paths.shipped_file(path)


# ---------------------------------------------------------------------- data
def training_classes():
    """The 108 base-vocabulary classes outside the held-out pairs."""
    return [c for c in class_vocabulary(0) if not is_held_out(c)]


def held_out_classes():
    return [c for c in class_vocabulary(0) if is_held_out(c)]


def _prepare(frames: np.ndarray, keep: int = 8) -> np.ndarray:
    """``(T, 72, 96, 3)`` -> ``(keep, 64, 64, 3)``: the smoke pipeline's view."""
    import cv2
    t, h, w = frames.shape[:3]
    idx = (np.arange(keep) * t // keep + t // (2 * keep)).clip(0, t - 1)
    scale = 64 / min(h, w)
    size = (int(round(w * scale)), int(round(h * scale)))
    out = []
    for i in idx:
        frame = cv2.resize(frames[i], size, interpolation=cv2.INTER_LINEAR)
        y0, x0 = (frame.shape[0] - 64) // 2, (frame.shape[1] - 64) // 2
        out.append(frame[y0:y0 + 64, x0:x0 + 64])
    return np.stack(out)


def render_bank(classes, videos_per_class: int, seed_base: int) -> np.ndarray:
    """``(C, V, 8, 64, 64, 3)`` uint8 clips of ``classes``."""
    bank = np.empty((len(classes), videos_per_class, 8, 64, 64, 3), np.uint8)
    for c, spec in enumerate(classes):
        for v in range(videos_per_class):
            frames = render_video(spec, video_seed(seed_base, spec.name, v), 16, (72, 96))
            bank[c, v] = _prepare(frames)
    return bank


def _to_tensor(clips: np.ndarray) -> torch.Tensor:
    """``(B, T, 64, 64, 3)`` uint8 -> ``(B, T, 3, 64, 64)`` normalised."""
    x = torch.from_numpy(clips).float().div_(255).permute(0, 1, 4, 2, 3)
    mean = torch.tensor(CLIP_MEAN).view(1, 1, 3, 1, 1)
    std = torch.tensor(CLIP_STD).view(1, 1, 3, 1, 1)
    return (x - mean) / std


# --------------------------------------------------------------------- model
class TemporalProbe(nn.Module):
    """Mean of frame features plus a linear map of the two half-clip means.

    Used only during pre-training (not saved). Input ``(B, T, D)``, output
    ``(B, D)`` unnormalised.
    """

    def __init__(self, dim: int):
        super().__init__()
        self.proj = nn.Linear(2 * dim, dim)
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)

    def forward(self, feats: torch.Tensor, use_probe: bool = True) -> torch.Tensor:
        mean = feats.mean(1)
        if not use_probe:
            return mean
        half = feats.shape[1] // 2
        both = torch.cat([feats[:, :half].mean(1), feats[:, half:].mean(1)], -1)
        return mean + self.proj(both)


def build_model(seed: int):
    torch.manual_seed(seed)
    clip = build_clip(ARCH, None)
    probe = TemporalProbe(ARCH['embed_dim'])
    return clip, probe


def encode_clips(clip, probe, clips: torch.Tensor, use_probe: bool = True) -> torch.Tensor:
    b, t = clips.shape[:2]
    feats = clip.encode_image(clips.flatten(0, 1)).view(b, t, -1)
    return nn.functional.normalize(probe(feats, use_probe), dim=-1)


def encode_captions(clip, captions: Sequence[str]) -> torch.Tensor:
    tokens = tokenize(list(captions), ARCH['text_cfg']['context_length'])
    return nn.functional.normalize(clip.encode_text(tokens), dim=-1)


def contrastive_loss(video: torch.Tensor, text: torch.Tensor, positives: torch.Tensor,
                     scale: torch.Tensor) -> torch.Tensor:
    """Symmetric InfoNCE with several positives per row (soft targets)."""
    logits = scale * video @ text.T
    pos = positives.float()
    v2t = -(pos / pos.sum(1, keepdim=True) * logits.log_softmax(1)).sum(1).mean()
    t2v = -(pos.T / pos.T.sum(1, keepdim=True) * logits.T.log_softmax(1)).sum(1).mean()
    return (v2t + t2v) / 2


# ----------------------------------------------------------------- evaluation
@torch.no_grad()
def evaluate(clip, probe=None, videos_per_class: int = 4,
             seed_base: int = 5000) -> Dict[str, float]:
    """Zero-shot retrieval of the 36 held-out classes (never trained on).

    Frames are mean-pooled (no probe: that is what BIKE gets) unless a probe
    is given, in which case ``*_probe`` metrics are added.

    Returns fractions: ``heldout_top1`` (among the 36 held-out classes,
    chance 1/36), ``heldout_pair_top1`` (right colour and shape, chance
    1/6), ``heldout_motion_top1`` (right motion among the 6 classes of the
    video's own colour-shape pair: direction and size words, chance 1/6),
    the same with UCF-style names (``*_camel``), ``heldout_among_all_pair_top1`` (pair right among all 144
    classes, chance 1/24).
    """
    held = held_out_classes()
    every = class_vocabulary(0)
    bank = render_bank(held, videos_per_class, seed_base)
    clips = _to_tensor(bank.reshape(-1, *bank.shape[2:]))
    labels = np.repeat(np.arange(len(held)), videos_per_class)
    clip.eval()
    text_held = encode_captions(clip, [TEMPLATES[-1].format(c.name) for c in held])
    text_camel = encode_captions(clip, [TEMPLATES[-1].format(c.camel_name) for c in held])
    text_all = encode_captions(clip, [TEMPLATES[-1].format(c.name) for c in every])
    out = {}
    variants = [('', False)] + ([('_probe', True)] if probe is not None else [])
    for suffix, use_probe in variants:
        video = torch.cat([encode_clips(clip, probe or TemporalProbe(ARCH['embed_dim']),
                                        clips[i:i + 64], use_probe)
                           for i in range(0, len(clips), 64)])
        pred = (video @ text_held.T).argmax(1).numpy()
        pair = np.array([(c.color, c.shape) for c in held], dtype=object)
        out[f'heldout_top1{suffix}'] = float((pred == labels).mean())
        out[f'heldout_pair_top1{suffix}'] = float(np.mean(
            [tuple(pair[p]) == tuple(pair[l]) for p, l in zip(pred, labels)]))
        same_pair = torch.tensor([[tuple(pair[a]) == tuple(pair[b]) for a in range(len(held))]
                                  for b in labels])
        within = (video @ text_held.T).masked_fill(~same_pair, -2).argmax(1).numpy()
        out[f'heldout_motion_top1{suffix}'] = float((within == labels).mean())
        camel = (video @ text_camel.T).argmax(1).numpy()
        out[f'heldout_top1_camel{suffix}'] = float((camel == labels).mean())
        out[f'heldout_pair_top1_camel{suffix}'] = float(np.mean(
            [tuple(pair[p]) == tuple(pair[l]) for p, l in zip(camel, labels)]))
        pred_all = (video @ text_all.T).argmax(1).numpy()
        out[f'heldout_among_all_pair_top1{suffix}'] = float(np.mean(
            [(every[p].color, every[p].shape) == (held[l].color, held[l].shape)
             for p, l in zip(pred_all, labels)]))
    out.update(motion_text_similarity(clip))
    out['chance_heldout_top1'] = 1 / len(held)
    out['chance_heldout_pair_top1'] = 1 / len({(c.color, c.shape) for c in held})
    out['chance_heldout_motion_top1'] = 1 / len({c.motion for c in held})
    out['chance_heldout_among_all_pair_top1'] = 1 / len(
        {(c.color, c.shape) for c in every})
    return out


MOTION_PAIRS = (('moving left', 'moving right'), ('moving up', 'moving down'),
                ('growing', 'shrinking'), ('moving up', 'moving right'))


@torch.no_grad()
def motion_text_similarity(clip) -> Dict[str, float]:
    """Mean cosine between the caption features of two motions of one shape.

    For each pair ``(a, b)`` of :data:`MOTION_PAIRS`, averaged over every
    colour-shape pair of the base vocabulary: ``text_cos/<a>|<b>`` between
    ``"This is a video about <colour> <shape> <a>"`` and the same with
    ``<b>``. Near 1, the text tower does not tell the two motions apart, and
    no model built on these (frozen) text features can tell such classes
    apart either (docs/toy_clip.md).
    """
    pairs = sorted({(c.color, c.shape) for c in class_vocabulary(0)})
    out = {}
    for a, b in MOTION_PAIRS:
        first = encode_captions(clip, [TEMPLATES[-1].format(SyntheticClass(c, s, a).name)
                                       for c, s in pairs])
        second = encode_captions(clip, [TEMPLATES[-1].format(SyntheticClass(c, s, b).name)
                                        for c, s in pairs])
        out[f'text_cos/{a}|{b}'] = float((first * second).sum(-1).mean())
    return out


# ------------------------------------------------------------------- training
def _classes_by_pair(classes) -> List[List[int]]:
    """Indices of ``classes`` grouped by colour-shape pair (first-seen order)."""
    groups: Dict[Tuple[str, str], List[int]] = {}
    for index, spec in enumerate(classes):
        groups.setdefault((spec.color, spec.shape), []).append(index)
    return list(groups.values())


def _batch_classes(rng: np.random.Generator, by_pair: List[List[int]], size: int,
                   motions_per_pair: int) -> np.ndarray:
    """``size`` class indices: with ``motions_per_pair`` 1, uniform over all
    classes; else groups of ``motions_per_pair`` distinct motions of one
    random colour-shape pair."""
    if motions_per_pair <= 1:
        return rng.integers(0, sum(len(g) for g in by_pair), size)
    out: List[int] = []
    while len(out) < size:
        group = by_pair[int(rng.integers(0, len(by_pair)))]
        take = min(motions_per_pair, len(group), size - len(out))
        out.extend(group[i] for i in rng.choice(len(group), size=take, replace=False))
    return np.array(out)


def pretrain(recipe: Recipe = Recipe(), out: Optional[str] = None,
             echo: Callable[[str], None] = print) -> Dict[str, object]:
    """Train the toy CLIP; write ``out`` (fp16) and its JSON record.

    Returns the record (``losses`` every 50 steps, ``metrics`` of
    :func:`evaluate`, ``sha256`` when written, timings).
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(recipe.threads)
    try:
        return _pretrain(recipe, out, echo)
    finally:
        torch.set_num_threads(threads)


def _pretrain(recipe: Recipe, out: Optional[str], echo) -> Dict[str, object]:
    start = time.time()
    classes = training_classes()
    bank = render_bank(classes, recipe.videos_per_class, recipe.video_seed_base)
    rendered = time.time() - start
    echo(f'pretrain-toy: {len(classes)} classes x {recipe.videos_per_class} videos '
         f'rendered in {rendered:.0f} s; {recipe.steps} steps')
    clip, probe = build_model(recipe.seed)
    params = list(clip.parameters()) + (list(probe.parameters())
                                        if recipe.temporal_probe else [])
    decay = [p for p in params if p.ndim >= 2]
    no_decay = [p for p in params if p.ndim < 2]
    optimizer = torch.optim.AdamW([dict(params=decay, weight_decay=recipe.weight_decay),
                                   dict(params=no_decay, weight_decay=0.0)],
                                  lr=recipe.lr)

    def lr_at(step: int) -> float:
        if step < recipe.warmup_steps:
            return recipe.lr * (step + 1) / recipe.warmup_steps
        progress = (step - recipe.warmup_steps) / max(1, recipe.steps - recipe.warmup_steps)
        return recipe.lr * 0.5 * (1 + np.cos(np.pi * progress))

    rng = np.random.default_rng(recipe.seed)
    by_pair = _classes_by_pair(classes)
    losses: List[Tuple[int, float]] = []
    window: List[float] = []
    train_start = time.time()
    clip.train()
    for step in range(recipe.steps):
        for group in optimizer.param_groups:
            group['lr'] = lr_at(step)
        cls = _batch_classes(rng, by_pair, recipe.clips_per_batch, recipe.motions_per_pair)
        vid = rng.integers(0, recipe.videos_per_class, recipe.clips_per_batch)
        frames = np.sort(np.stack([rng.choice(8, recipe.frames_per_clip, replace=False)
                                   for _ in range(recipe.clips_per_batch)]), axis=1)
        clips = bank[cls[:, None], vid[:, None], frames]
        templates = rng.integers(0, len(TEMPLATES), recipe.clips_per_batch)
        camel = (rng.random(recipe.clips_per_batch) < recipe.camel_case_share
                 if recipe.camel_case_share > 0 else np.zeros(recipe.clips_per_batch, bool))
        captions = sorted({(int(c), int(t), bool(k))
                           for c, t, k in zip(cls, templates, camel)})
        text = encode_captions(clip, [TEMPLATES[t].format(
            classes[c].camel_name if k else classes[c].name) for c, t, k in captions])
        video = encode_clips(clip, probe, _to_tensor(clips), recipe.temporal_probe)
        positives = torch.from_numpy(cls[:, None] == np.array([c for c, _, _ in captions])[None])
        scale = clip.logit_scale.exp().clamp(max=100)
        loss = contrastive_loss(video, text, positives, scale)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        window.append(loss.item())
        if (step + 1) % 50 == 0 or step == 0:
            losses.append((step + 1, float(np.mean(window))))
            window = []
            rate = (step + 1) / (time.time() - train_start)
            echo(f'  step {step + 1}/{recipe.steps}: loss {losses[-1][1]:.3f} '
                 f'({rate:.1f} steps/s, about {(recipe.steps - step - 1) / rate:.0f} s left)')
    train_time = time.time() - train_start
    metrics = evaluate(clip, probe if recipe.temporal_probe else None,
                       recipe.eval_videos_per_class)
    record: Dict[str, object] = dict(
        what='toy CLIP pre-trained on the synthetic benchmark (bike-bench pretrain-toy)',
        arch=ARCH, recipe=dataclasses.asdict(recipe), templates=list(TEMPLATES),
        data=dict(
            generator='bike_bench.datasets.synthetic.render_video (72x96, 16 frames) '
                      '-> 64 px short side, centre crop 64, 8 frames',
            training_classes=len(classes),
            held_out_pairs=[list(p) for p in _held_out_pairs()],
            video_seeds=f'video_seed({recipe.video_seed_base}, class name, 0..'
                        f'{recipe.videos_per_class - 1})'),
        losses=losses, metrics=metrics,
        timing=dict(render_s=round(rendered, 1), train_s=round(train_time, 1),
                    steps_per_s=round(recipe.steps / train_time, 2),
                    total_s=round(time.time() - start, 1)),
        torch=torch.__version__, threads=recipe.threads)
    if out:
        out = os.path.abspath(out)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        state = {k: v.detach().half() for k, v in clip.state_dict().items()}
        from bike_bench.utils.atomic import atomic_path
        with atomic_path(out) as tmp:
            torch.save(state, tmp)
        record['checkpoint'] = os.path.basename(out)
        record['sha256'] = file_sha256(out)
        from bike_bench.utils.atomic import atomic_write_text
        atomic_write_text(record_path(out), json.dumps(record, indent=2) + '\n')
    echo(f'pretrain-toy: done in {record["timing"]["total_s"]:.0f} s; held-out top-1 '
         f'{metrics["heldout_top1"]:.3f} (chance {metrics["chance_heldout_top1"]:.3f}), '
         f'pair {metrics["heldout_pair_top1"]:.3f} '
         f'(chance {metrics["chance_heldout_pair_top1"]:.3f})')
    return record


def _held_out_pairs():
    return HELD_OUT_PAIRS


def verify(checkpoint: str = CHECKPOINT) -> Dict[str, object]:
    """The record of a written checkpoint, after checking its sha256.

    Raises:
        FileNotFoundError: no checkpoint or record.
        ValueError: the checkpoint's sha256 differs from its record.
    """
    checkpoint = resolve(checkpoint)
    with open(record_path(checkpoint), encoding='utf-8') as handle:
        record = json.load(handle)
    found = file_sha256(checkpoint)
    if found != record.get('sha256'):
        raise ValueError(f'{checkpoint}: sha256 {found} differs from its record '
                         f'{record.get("sha256")}')
    return record
