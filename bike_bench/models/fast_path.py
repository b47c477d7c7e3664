"""The fast evaluation path of the image encoder, one switch per lever.

Evaluation (no gradients, eval mode) can run the image encoder through an
``InferenceEncoder``: a separate copy of open_clip's visual tower with

- ``fused_attention``: each self-attention block computes q, k, v with its
  own ``in_proj`` weights and calls ``F.scaled_dot_product_attention`` (the
  flash / memory-efficient kernels on GPUs) instead of going through
  ``nn.MultiheadAttention``'s generic path. Same parameters, same maths;
  not bit-identical to the generic path in fp32.
- ``weights_dtype``: the copy's weights in ``bfloat16`` / ``float16``
  (instead of fp32 weights cast by autocast at every call); frames are cast
  to it, features come back as fp32.
- ``compile``: ``torch.compile`` of the copy (static shapes: evaluation
  shapes are fixed); any failure (no compiler, an unsupported op) falls
  back to the eager copy, and ``status`` says why.
- ``cuda_graphs``: one CUDA graph per input shape (evaluation shapes are
  fixed), replayed from static buffers; falls back to direct calls if
  capture fails.

The training weights are never touched: the copy is made on first use and
dropped when the model goes back to training or loads a state dict.

``FastPath.resolve('auto', device)`` is what the recognizer uses: on CUDA
all levers on with bf16 weights; elsewhere off, so CPU results (and the
parity fixtures) are the official fp32 computation bit for bit.
``'off'`` keeps the official fp32 path on any device.
"""
from __future__ import annotations

import copy
import dataclasses
import types
import warnings
from typing import Callable, Dict, Mapping, Optional, Tuple, Union

import torch
import torch.nn.functional as F
from torch import nn

DTYPES = {'bfloat16': torch.bfloat16, 'float16': torch.float16, 'float32': torch.float32}


@dataclasses.dataclass(frozen=True)
class FastPath:
    """Which levers of the evaluation image encoder are on.

    Attributes:
        fused_attention: ``F.scaled_dot_product_attention`` in the visual
            tower's self-attention blocks.
        weights_dtype: ``'bfloat16'``, ``'float16'`` or ``None`` (fp32).
        compile: ``torch.compile`` the copy (falls back to eager on error).
        compile_mode: ``torch.compile`` mode (``None``: default).
        cuda_graphs: capture one CUDA graph per input shape (CUDA only).
        channels_last: frames in channels-last memory format.
    """

    fused_attention: bool = False
    weights_dtype: Optional[str] = None
    compile: bool = False
    compile_mode: Optional[str] = None
    cuda_graphs: bool = False
    channels_last: bool = False

    @property
    def enabled(self) -> bool:
        return self != FastPath()

    def as_dict(self) -> Dict[str, object]:
        return dataclasses.asdict(self)

    @classmethod
    def gpu_default(cls) -> 'FastPath':
        """What ``'auto'`` means on CUDA."""
        return cls(fused_attention=True, weights_dtype='bfloat16', compile=True,
                   cuda_graphs=True, channels_last=True)

    @classmethod
    def resolve(cls, setting: Union[None, str, Mapping, 'FastPath'],
                device: torch.device) -> 'FastPath':
        """``'auto'`` (fast on CUDA, official fp32 elsewhere), ``'off'`` /
        ``None`` (official fp32), ``'gpu'`` (the CUDA default on any device),
        a mapping of fields, or a ``FastPath``.

        Raises:
            ValueError: an unknown string or field name.
        """
        if isinstance(setting, FastPath):
            return setting
        if setting is None or setting == 'off':
            return cls()
        if setting == 'auto':
            return cls.gpu_default() if device.type == 'cuda' else cls()
        if setting == 'gpu':
            return cls.gpu_default()
        if isinstance(setting, Mapping):
            unknown = set(setting) - {f.name for f in dataclasses.fields(cls)}
            if unknown:
                raise ValueError(f'unknown fast_path fields {sorted(unknown)}; known: '
                                 f'{[f.name for f in dataclasses.fields(cls)]}')
            fields = dict(setting)
            if fields.get('weights_dtype') not in (None, 'bfloat16', 'float16'):
                raise ValueError('fast_path weights_dtype must be None, bfloat16 or '
                                 f'float16, not {fields["weights_dtype"]!r}')
            return cls(**fields)
        raise ValueError(f"fast_path must be 'auto', 'off', 'gpu' or a dict of "
                         f'{[f.name for f in dataclasses.fields(cls)]}, not {setting!r}')


# ------------------------------------------------------------ fused attention
def _fused_self_attention(self, q_x: torch.Tensor, k_x=None, v_x=None, attn_mask=None):
    """``ResidualAttentionBlock.attention`` through one SDPA call.

    ``q_x`` is ``(N, L, D)`` (open_clip runs batch-first). Cross-attention
    (``k_x``/``v_x``) goes to the original method.
    """
    if k_x is not None or v_x is not None or not getattr(self.attn, 'batch_first', False):
        return type(self).attention(self, q_x, k_x, v_x, attn_mask)
    attn = self.attn
    batch, length, width = q_x.shape
    heads = attn.num_heads
    qkv = F.linear(q_x, attn.in_proj_weight, attn.in_proj_bias)
    q, k, v = qkv.view(batch, length, 3, heads, width // heads).permute(2, 0, 3, 1, 4)
    mask = attn_mask.to(q.dtype) if attn_mask is not None else None
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    out = out.transpose(1, 2).reshape(batch, length, width)
    return attn.out_proj(out)


def fuse_attention(module: nn.Module) -> int:
    """Route every self-attention block under ``module`` through SDPA.

    Patches blocks that hold an ``nn.MultiheadAttention`` named ``attn`` and
    an ``attention`` method (open_clip's ``ResidualAttentionBlock``); the
    parameters and state dict are unchanged. Returns the number patched.
    """
    count = 0
    for block in module.modules():
        if isinstance(getattr(block, 'attn', None), nn.MultiheadAttention) \
                and hasattr(type(block), 'attention') \
                and block.attn.in_proj_weight is not None:
            block.attention = types.MethodType(_fused_self_attention, block)
            count += 1
    return count


# ------------------------------------------------------------- CUDA graphs
class _GraphedCall:
    """One CUDA graph per input shape/dtype for a pure function of one tensor."""

    def __init__(self, fn: Callable[[torch.Tensor], torch.Tensor], warmup: int = 3):
        self.fn = fn
        self.warmup = warmup
        self.graphs: Dict[Tuple, Tuple[torch.cuda.CUDAGraph, torch.Tensor, torch.Tensor]] = {}

    def _capture(self, x: torch.Tensor):
        static_in = x.clone()
        side = torch.cuda.Stream(device=x.device)
        side.wait_stream(torch.cuda.current_stream(x.device))
        with torch.cuda.stream(side):
            for _ in range(self.warmup):
                self.fn(static_in)
        torch.cuda.current_stream(x.device).wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph, capture_error_mode='thread_local'):
            static_out = self.fn(static_in)
        return graph, static_in, static_out

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        key = (tuple(x.shape), x.dtype, x.device, x.stride())
        if key not in self.graphs:
            self.graphs[key] = self._capture(x)
        graph, static_in, static_out = self.graphs[key]
        static_in.copy_(x)
        graph.replay()
        return static_out.clone()


# ---------------------------------------------------------- the encoder
class InferenceEncoder:
    """The evaluation copy of a visual tower with the levers of ``config``.

    Call with ``(N, 3, H, W)`` normalised frames (any float dtype); returns
    ``(N, D)`` fp32 features. ``status`` records what is in effect for each
    lever (``'on'``, ``'off'`` or ``'fallback: <reason>'``).
    """

    def __init__(self, visual: nn.Module, config: FastPath, device: torch.device):
        self.config = config
        self.status: Dict[str, str] = {}
        model = copy.deepcopy(visual).eval().requires_grad_(False)
        if config.weights_dtype:
            model = model.to(DTYPES[config.weights_dtype])
        self.dtype = DTYPES[config.weights_dtype or 'float32']
        patched = fuse_attention(model) if config.fused_attention else 0
        self.status['fused_attention'] = f'on ({patched} blocks)' if patched else 'off'
        self.status['weights_dtype'] = str(self.dtype).replace('torch.', '')
        self.eager = model
        self.call: Callable[[torch.Tensor], torch.Tensor] = model
        self.status['compile'] = 'off'
        if config.compile:
            try:
                self.call = torch.compile(model, mode=config.compile_mode, dynamic=False)
                self.status['compile'] = f'on (mode {config.compile_mode or "default"})'
            except Exception as error:  # noqa: BLE001 - a clean fallback
                self.status['compile'] = f'fallback: {type(error).__name__}: {error}'[:300]
        self.graphed: Optional[_GraphedCall] = None
        self.status['cuda_graphs'] = 'off'
        if config.cuda_graphs:
            if device.type == 'cuda':
                self.graphed = _GraphedCall(self.call)
                self.status['cuda_graphs'] = 'on'
            else:
                self.status['cuda_graphs'] = 'fallback: needs CUDA'
        self.status['channels_last'] = 'on' if config.channels_last else 'off'

    def _run(self, images: torch.Tensor) -> torch.Tensor:
        if self.graphed is not None:
            try:
                return self.graphed(images)
            except Exception as error:  # noqa: BLE001 - capture failed: no graphs
                self.graphed = None
                self.status['cuda_graphs'] = f'fallback: {type(error).__name__}: {error}'[:300]
                warnings.warn(f'CUDA graph capture failed ({error}); running without')
        try:
            return self.call(images)
        except Exception as error:  # noqa: BLE001 - compile failed at first call
            if self.call is self.eager:
                raise
            self.call = self.eager
            self.status['compile'] = f'fallback: {type(error).__name__}: {error}'[:300]
            warnings.warn(f'torch.compile failed ({type(error).__name__}); running eager')
            return self.eager(images)

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        images = images.to(self.dtype)
        if self.config.channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        return self._run(images).float()
