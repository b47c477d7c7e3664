"""Convert checkpoints of the official BIKE release into MMEngine checkpoints.

The official training script saves ``{'epoch', 'model_state_dict',
'fusion_model_state_dict', 'optimizer_state_dict'}``:

- ``model_state_dict``: the whole CLIP in OpenAI's layout (``visual.*``,
  ``transformer.*``, ``token_embedding.*``, ...), possibly with a
  ``module.`` prefix (saved from a DDP wrapper) and in fp16;
- ``fusion_model_state_dict``: the video head -- the temporal transformer
  (``frame_position_embeddings.*``, ``transformer.resblocks.*``; empty for
  the "None" header) -- or, in a checkpoint of the attributes stage, the
  sentence head (``query_fc.*``, ``sentence_fc.*``);
- ``sentence_head_state_dict``: the sentence head, where stored separately.

They map onto ``BIKERecognizer`` as ``backbone.clip.<key>``,
``video_head.header.<key>`` and ``attribute_head.<key>``. The
``attribute_head.`` prefix is the name the attributes branch of the
recognizer uses for its sentence head. Nothing is guessed: a key that fits
none of these is reported as unplaced and conversion fails unless the caller
allows it.
"""
from __future__ import annotations

import copy
import dataclasses
import os
from collections import OrderedDict
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

import torch
from torch import nn

import bike_bench
from bike_bench.checkpoint_io import load_untrusted
import bike_bench.models  # noqa: F401  (registers the BIKE modules)
from bike_bench.models.pretrained import weights_from_checkpoint
from bike_bench.utils.atomic import atomic_path

CLIP_PREFIX = 'backbone.clip.'
HEADER_PREFIX = 'video_head.header.'
ATTRIBUTE_PREFIX = 'attribute_head.'

# Sections of an official checkpoint.
CLIP_SECTION = 'model_state_dict'
FUSION_SECTION = 'fusion_model_state_dict'
SENTENCE_SECTION = 'sentence_head_state_dict'
WEIGHT_SECTIONS = (CLIP_SECTION, FUSION_SECTION, SENTENCE_SECTION)
# Entries that are not model weights and are left out on purpose.
NON_WEIGHT_ENTRIES = ('epoch', 'optimizer_state_dict', 'optimizer',
                      'lr_scheduler', 'scaler', 'best_prec1')
# Non-parameter entries of OpenAI's CLIP archives.
OPENAI_META_KEYS = ('input_resolution', 'context_length', 'vocab_size')

_CLIP_NAMES = ('positional_embedding', 'text_projection', 'logit_scale')
_CLIP_MODULES = ('visual.', 'transformer.', 'token_embedding.', 'ln_final.')
_HEADER_MODULES = ('frame_position_embeddings.', 'transformer.')
_SENTENCE_MODULES = ('query_fc.', 'sentence_fc.')

PathOrState = Union[str, os.PathLike, Mapping]


class UnplacedKeysError(ValueError):
    """An official checkpoint holds weights the converter cannot place."""


class StateDictMismatchError(RuntimeError):
    """A state dict does not load strictly into a model (names the keys)."""

    def __init__(self, message: str, missing: List[str], unexpected: List[str],
                 wrong_shape: List[str]):
        super().__init__(message)
        self.missing = missing
        self.unexpected = unexpected
        self.wrong_shape = wrong_shape


@dataclasses.dataclass
class ConversionReport:
    """What the conversion did with every entry of the official checkpoint."""

    source: str = '<state dict>'
    epoch: Optional[int] = None
    placed: Dict[str, int] = dataclasses.field(default_factory=dict)
    cast_to_fp32: int = 0
    stripped_prefix: int = 0
    dropped: List[str] = dataclasses.field(default_factory=list)
    unplaced: List[str] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.unplaced

    def format(self) -> str:
        lines = [f'converted {self.source}'
                 + (f' (epoch {self.epoch})' if self.epoch is not None else '')]
        for prefix, count in self.placed.items():
            lines.append(f'  {count:5d} tensors -> {prefix}*')
        if self.stripped_prefix:
            lines.append(f'  {self.stripped_prefix} keys had a `module.` prefix '
                         '(removed)')
        if self.cast_to_fp32:
            lines.append(f'  {self.cast_to_fp32} fp16 tensors cast to fp32')
        if self.dropped:
            lines.append(f'  left out (not weights): {", ".join(self.dropped)}')
        if self.unplaced:
            lines.append(f'  COULD NOT PLACE {len(self.unplaced)} entries: '
                         + ', '.join(self.unplaced))
        return '\n'.join(lines)


# ----------------------------------------------------------------- detection
def _peek(path: str, trust: bool = False) -> Any:
    """Load a checkpoint's structure cheaply (memory-mapped where possible)."""
    try:
        return torch.load(path, map_location='cpu', weights_only=not trust, mmap=True)
    except RuntimeError:
        # Not a zip-format file (old torch serialisation): load it fully.
        return load_untrusted(path, trust=trust)


def _is_official_mapping(obj: Any) -> bool:
    return (isinstance(obj, Mapping) and 'state_dict' not in obj
            and any(isinstance(obj.get(section), Mapping)
                    for section in WEIGHT_SECTIONS))


def is_official_checkpoint(obj_or_path: PathOrState, trust: bool = False) -> bool:
    """Whether a file (or loaded object) is in the official release layout.

    A file that cannot be read as plain tensors is not an official
    checkpoint as far as this check goes (``False``).
    """
    if isinstance(obj_or_path, Mapping):
        return _is_official_mapping(obj_or_path)
    path = os.fspath(obj_or_path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f'checkpoint not found: {path}')
    try:
        obj = _peek(path, trust)
    except Exception:  # noqa: BLE001 - any unreadable file is "not official"
        return False
    return _is_official_mapping(obj)


# ---------------------------------------------------------------- conversion
def _clip_target(key: str) -> Optional[str]:
    if key in _CLIP_NAMES or key.startswith(_CLIP_MODULES):
        return CLIP_PREFIX + key
    return None


def _fusion_target(key: str) -> Optional[str]:
    if key.startswith(_HEADER_MODULES):
        return HEADER_PREFIX + key
    if key.startswith(_SENTENCE_MODULES):
        return ATTRIBUTE_PREFIX + key
    return None


def _sentence_target(key: str) -> Optional[str]:
    return ATTRIBUTE_PREFIX + key if key.startswith(_SENTENCE_MODULES) else None


_TARGETS = {CLIP_SECTION: _clip_target, FUSION_SECTION: _fusion_target,
            SENTENCE_SECTION: _sentence_target}


def convert_official(state: Mapping, source: str = '<state dict>'
                     ) -> Tuple['OrderedDict[str, torch.Tensor]', ConversionReport]:
    """Map an official checkpoint onto ``BIKERecognizer``'s state-dict keys.

    Args:
        state: the loaded official checkpoint (the whole dict).
        source: a name for messages (the file path).

    Returns:
        ``(state_dict, report)``. Floating tensors are fp32. Entries that
        could not be placed are listed in ``report.unplaced`` (as
        ``section/key``) and left out of the state dict.
    """
    if not isinstance(state, Mapping):
        raise TypeError(f'{source}: expected a dict checkpoint, got '
                        f'{type(state).__name__}')
    if not _is_official_mapping(state):
        raise ValueError(
            f'{source} is not in the official BIKE layout (no '
            f'{" / ".join(WEIGHT_SECTIONS)} entry, or it is already an '
            'MMEngine checkpoint with a `state_dict`)')
    report = ConversionReport(source=source)
    epoch = state.get('epoch')
    report.epoch = int(epoch) if isinstance(epoch, (int, float)) else None
    converted: 'OrderedDict[str, torch.Tensor]' = OrderedDict()
    for entry, value in state.items():
        if entry not in WEIGHT_SECTIONS:
            if entry in NON_WEIGHT_ENTRIES:
                report.dropped.append(entry)
            else:
                report.unplaced.append(entry)
            continue
        if not isinstance(value, Mapping):
            report.unplaced.append(entry)
            continue
        target_of = _TARGETS[entry]
        for key, tensor in value.items():
            name = key
            if name.startswith('module.'):
                name = name[len('module.'):]
                report.stripped_prefix += 1
            if entry == CLIP_SECTION and name in OPENAI_META_KEYS:
                report.dropped.append(f'{entry}/{name}')
                continue
            target = target_of(name)
            if target is None or not isinstance(tensor, torch.Tensor):
                report.unplaced.append(f'{entry}/{key}')
                continue
            if target in converted:
                raise ValueError(f'{source}: {entry}/{key} maps to {target}, '
                                 'which another entry already filled')
            if tensor.is_floating_point() and tensor.dtype != torch.float32:
                report.cast_to_fp32 += 1
                tensor = tensor.float()
            converted[target] = tensor
            prefix = target[:len(target) - len(name)]
            report.placed[prefix] = report.placed.get(prefix, 0) + 1
    return converted, report


def load_official(path: str, allow_unplaced: bool = False, trust: bool = False
                  ) -> Tuple['OrderedDict[str, torch.Tensor]', ConversionReport]:
    """Read and convert an official checkpoint file (``weights_only`` unless
    ``trust``)."""
    path = os.fspath(path)
    state, report = convert_official(load_untrusted(path, trust=trust), source=path)
    if report.unplaced and not allow_unplaced:
        raise UnplacedKeysError(
            f'{path}: could not place {len(report.unplaced)} entries: '
            f'{_listing(report.unplaced)} (pass --allow-unplaced to convert '
            'without them)')
    return state, report


# ------------------------------------------------------------ strict loading
def _listing(keys: List[str], limit: int = 10) -> str:
    shown = ', '.join(keys[:limit])
    return shown + (f' and {len(keys) - limit} more' if len(keys) > limit else '')


def load_state_dict_checked(model: nn.Module, state_dict: Mapping[str, torch.Tensor],
                            source: str = 'checkpoint', strict: bool = True
                            ) -> Dict[str, List[str]]:
    """``load_state_dict`` whose failure names every offending key.

    torch raises one long message and MMEngine only logs mismatches; here a
    strict load raises ``StateDictMismatchError`` naming missing keys (in
    the model, not in the checkpoint), unexpected keys (the reverse) and
    shape mismatches. A model built on the ``meta`` device receives the
    checkpoint's tensors (``assign``), which checks a conversion without
    allocating random weights first.

    Returns:
        ``{'missing': [...], 'unexpected': [...]}`` (empty when strict).
    """
    expected = model.state_dict()
    missing = [k for k in expected if k not in state_dict]
    unexpected = [k for k in state_dict if k not in expected]
    wrong_shape = [f'{k} (checkpoint {tuple(v.shape)}, model '
                   f'{tuple(expected[k].shape)})'
                   for k, v in state_dict.items()
                   if k in expected and tuple(v.shape) != tuple(expected[k].shape)]
    name = type(model).__name__
    if wrong_shape:
        raise StateDictMismatchError(
            f'{source} does not fit {name}: shapes differ for '
            f'{_listing(wrong_shape)}', missing, unexpected, wrong_shape)
    if strict and (missing or unexpected):
        parts = []
        if missing:
            parts.append(f'missing keys (in the model, not in the checkpoint): '
                         f'{_listing(missing)}')
        if unexpected:
            parts.append('unexpected keys (in the checkpoint, not in the '
                         f'model): {_listing(unexpected)}')
        raise StateDictMismatchError(
            f'{source} does not load strictly into {name}: ' + '; '.join(parts),
            missing, unexpected, wrong_shape)
    on_meta = any(t.is_meta for t in expected.values())
    model.load_state_dict(state_dict, strict=False, assign=on_meta)
    return {'missing': missing, 'unexpected': unexpected}


def load_official_into(model: nn.Module, path: str, strict: bool = True,
                       allow_unplaced: bool = False) -> ConversionReport:
    """Convert an official checkpoint and load it into ``model``."""
    state, report = load_official(path, allow_unplaced=allow_unplaced)
    load_state_dict_checked(model, state, source=os.fspath(path), strict=strict)
    return report


# ------------------------------------------------------------------- writing
def conversion_meta(report: ConversionReport, **extra: Any) -> Dict[str, Any]:
    """The ``meta`` block of a converted checkpoint (plain data only)."""
    meta = {
        'source': 'official BIKE release (github.com/whwu95/BIKE)',
        'converted_from': os.path.basename(report.source),
        'official_epoch': report.epoch,
        'bike_bench_version': bike_bench.__version__,
        'dropped': list(report.dropped),
        'unplaced': list(report.unplaced),
    }
    meta.update(extra)
    return meta


def save_mmengine_checkpoint(state_dict: Mapping[str, torch.Tensor], path: str,
                             meta: Optional[Dict[str, Any]] = None) -> str:
    """Write ``{'meta', 'state_dict'}`` atomically (temporary file + rename)."""
    path = os.fspath(path)
    with atomic_path(path) as tmp:
        torch.save({'meta': dict(meta or {}), 'state_dict': OrderedDict(state_dict)},
                   tmp)
    return path


def convert_file(src: str, out: str, allow_unplaced: bool = False,
                 model: Optional[nn.Module] = None, trust: bool = False,
                 **meta: Any) -> ConversionReport:
    """Convert ``src`` to an MMEngine checkpoint at ``out``.

    With ``model``, the converted weights must first load strictly into it
    (nothing is written otherwise). ``trust`` loads a source holding
    arbitrary pickled objects (only the weights are written out).
    """
    state, report = load_official(src, allow_unplaced=allow_unplaced, trust=trust)
    if model is not None:
        load_state_dict_checked(model, state, source=f'{src} (converted)')
    save_mmengine_checkpoint(state, out, conversion_meta(report, **meta))
    return report


def build_model_from_config(config: Any, device: str = 'meta',
                            cfg_options: Optional[dict] = None) -> nn.Module:
    """The config's model with ``pretrained=None``, built on ``device``.

    On ``'meta'`` no weights are allocated, so even ViT-L/14 builds in a
    second; load weights with ``load_state_dict_checked`` (which assigns).
    """
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from mmaction.registry import MODELS

    if isinstance(config, (str, os.PathLike)):
        cfg = Config.fromfile(os.fspath(config))
    else:
        cfg = copy.deepcopy(config)  # the caller's config stays untouched
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    weights_from_checkpoint(cfg)  # shapes only: no pretrained download
    model_cfg = cfg.model
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    with torch.device(device):
        return MODELS.build(model_cfg)


def prepare_checkpoint_for_test(path: str, work_dir: str, trust: bool = False) -> str:
    """A checkpoint path MMEngine can load for ``bike-bench test``.

    An official checkpoint is converted once into
    ``work_dir/converted/<name>.pth`` (reused while newer than the source);
    any other file is returned unchanged.
    """
    path = os.fspath(path)
    if not is_official_checkpoint(path, trust):
        return path
    stem = os.path.splitext(os.path.basename(path))[0]
    out = os.path.join(work_dir, 'converted', f'{stem}_mmengine.pth')
    if not (os.path.isfile(out) and os.path.getmtime(out) >= os.path.getmtime(path)):
        convert_file(path, out, trust=trust)
    return out
