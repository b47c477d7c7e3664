"""Which open_clip architectures BIKE runs on: the compatibility table.

``check_architecture(name)`` builds ``name`` as a ``CLIPEncoder`` on the
meta device (shapes only, no weights, no memory) and runs BIKE's video head
on one two-frame clip and two prompts; where an architecture cannot be built
offline (Hugging Face text towers fetch their config from the Hub) it builds
a tiny random model of the same tower family on the CPU instead
(``tiny_archs``). ``docs/architectures.md`` is this table for every name in
``open_clip.list_models()`` but bike-bench's own tiny model configs
(``tests/models/test_architectures.py``
regenerates and compares it).
"""
from __future__ import annotations

import dataclasses
from typing import Iterable, List, Optional

import open_clip
import torch

from bike_bench.models.backbones.clip_encoder import CLIPEncoder
from bike_bench.models.clip import model_configs, text_towers, tokenizer
from bike_bench.models.heads.video_head import BIKEVideoHead
from bike_bench.models.tiny_archs import tiny_arch

PASS, UNSUPPORTED = 'pass', 'unsupported'

# Hugging Face model types of open_clip's text towers (by hf_model_name) and
# tiny local configs of each (CLIP BPE ids: vocabulary 49408, padding 0).
_HF_TYPES = (('xlm-roberta', 'xlm-roberta'), ('roberta', 'roberta'),
             ('mt5', 'mt5'), ('nllb', 'm2m_100'), ('bert', 'bert'))
_TINY_HF = {
    'roberta': dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                    intermediate_size=128, max_position_embeddings=80),
    'xlm-roberta': dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=128, max_position_embeddings=80),
    'bert': dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                 intermediate_size=128, max_position_embeddings=80),
    'mt5': dict(d_model=64, d_kv=32, d_ff=128, num_layers=2, num_decoder_layers=1,
                num_heads=2),
    'm2m_100': dict(d_model=64, encoder_layers=2, decoder_layers=1,
                    encoder_attention_heads=2, decoder_attention_heads=2,
                    encoder_ffn_dim=128, decoder_ffn_dim=128,
                    max_position_embeddings=80),
}


@dataclasses.dataclass
class ArchitectureRow:
    arch: str
    status: str = UNSUPPORTED
    checked: str = ''  # 'meta' or 'tiny <family> (cpu)'
    model_class: str = ''
    text_tower: str = ''
    image_tower: str = ''
    token_positions: Optional[int] = None
    tokenizer: str = ''
    reason: str = ''


def hf_model_type(hf_model_name: str) -> str:
    name = hf_model_name.lower()
    for key, model_type in _HF_TYPES:
        if key in name:
            return model_type
    raise KeyError(f'no tiny Hugging Face config for {hf_model_name!r}')


def tiny_config_like(arch: str) -> dict:
    """A tiny dict architecture with ``arch``'s Hugging Face text tower type,
    pooler and projection (and CoCa's decoder if ``arch`` is a CoCa)."""
    config = open_clip.get_model_config(arch)
    text = config['text_cfg']
    model_type = hf_model_type(text['hf_model_name'])
    base = tiny_arch('coca' if 'multimodal_cfg' in config else 'hf-roberta')
    hf_config = dict(_TINY_HF[model_type], model_type=model_type,
                     vocab_size=49408, pad_token_id=0)
    base['text_cfg'] = dict(context_length=text.get('context_length', 77),
                            hf_model_name=text['hf_model_name'],
                            hf_pooler_type=text.get('hf_pooler_type'),
                            hf_proj_type=text.get('hf_proj_type', 'mlp'),
                            hf_config=hf_config)
    return base


def _tokenizer_name(arch: str) -> str:
    text_cfg = (open_clip.get_model_config(arch) or {}).get('text_cfg', {})
    if tokenizer.uses_clip_bpe(arch):
        return 'CLIP BPE'
    name = text_cfg.get('hf_tokenizer_name') or ('SigLIP (' + arch + ')')
    return f'HF {name}'


def _image_tower(model) -> str:
    visual = model.visual
    trunk = getattr(visual, 'trunk', None)
    if trunk is not None:
        return f'timm {type(trunk).__name__}'
    return type(visual).__name__


def _one_block_per_stack(model: torch.nn.Module) -> None:
    """Keep the first block of every stack of identical blocks.

    On the meta device every op runs through Python reference
    implementations; a 32-block ViT-H forward takes seconds. The blocks of a
    stack (``resblocks`` / ``blocks``) share one code path and shape, so one
    of each exercises the same code at a fraction of the cost.
    """
    from torch import nn
    for module in list(model.modules()):
        for name in ('resblocks', 'blocks'):
            stack = getattr(module, name, None)
            if isinstance(stack, (nn.ModuleList, nn.Sequential)) and len(stack) > 1:
                first = stack[0]
                setattr(module, name, nn.Sequential(first)
                        if isinstance(stack, nn.Sequential) else nn.ModuleList([first]))


def _run_head(encoder, device) -> None:
    """BIKE's video head on one 2-frame clip against two prompts."""
    size = encoder.image_size
    with torch.device(device):
        images = torch.zeros(2, 3, size, size)
        tokens = torch.zeros(2, encoder.context_length, dtype=torch.long)
        tokens[:, 0] = 1
        tokens[:, 1:3] = 2
        head = BIKEVideoHead(encoder.embed_dim, encoder.default_num_heads,
                             num_layers=1)
    with torch.no_grad():
        frames = encoder.encode_image(images).reshape(1, 2, -1)
        cls, words = encoder.encode_text(tokens)
        logits = head(frames, words, cls)
    expected = (2, encoder.context_length, encoder.embed_dim)
    if tuple(words.shape) != expected:
        raise RuntimeError(f'token features {tuple(words.shape)}, expected {expected}')
    if tuple(logits.shape) != (1, 2):
        raise RuntimeError(f'head logits {tuple(logits.shape)}, expected (1, 2)')


def check_architecture(arch: str) -> ArchitectureRow:
    """Build ``arch`` (meta device, else a tiny model of its family) and run
    the head; never raises: failures become an ``unsupported`` row."""
    row = ArchitectureRow(arch=arch, tokenizer=_tokenizer_name(arch))
    config = open_clip.get_model_config(arch) or {}
    spec, device = arch, 'meta'
    if config.get('text_cfg', {}).get('hf_model_name'):
        # Built from the Hub config otherwise: a tiny one of its type here.
        try:
            import transformers  # noqa: F401
        except ImportError:
            row.reason = 'Hugging Face text tower: needs `transformers`'
            return row
        spec, device = tiny_config_like(arch), 'cpu'
        row.checked = f'tiny {spec["text_cfg"]["hf_config"]["model_type"]} (cpu)'
    else:
        row.checked = 'meta'
    try:
        with torch.device(device):
            encoder = CLIPEncoder(arch=spec, pretrained=None)
        row.model_class = type(encoder.clip).__name__
        row.text_tower = encoder.text_family
        row.image_tower = _image_tower(encoder.clip)
        row.token_positions = encoder.context_length
        if isinstance(spec, dict):  # the real tokenizer's length
            row.token_positions = tokenizer.context_length(arch)
        if device == 'meta':
            _one_block_per_stack(encoder.clip)
        _run_head(encoder, device)
        row.status = PASS
    except text_towers.UnsupportedArchitecture as error:
        row.reason = str(error).replace(f'{arch}: ', '')
    except Exception as error:  # noqa: BLE001 - recorded, not raised
        first = (str(error).strip().splitlines() or [''])[0]
        row.reason = f'{type(error).__name__}: {first[:160]}'
    return row


def compatibility_table(names: Optional[Iterable[str]] = None) -> List[ArchitectureRow]:
    names = list(model_configs.open_clip_architectures() if names is None else names)
    return [check_architecture(name) for name in names]


def render_markdown(rows: List[ArchitectureRow]) -> str:
    passed = sum(row.status == PASS for row in rows)
    lines = [
        '# open_clip architectures in BIKE',
        '',
        f'Every architecture open_clip ships (`open_clip.list_models()` less '
        f'bike-bench\'s own `bike-tiny-*` configs; open_clip '
        f'{open_clip.__version__}: {len(rows)} names): {passed} pass, '
        f'{len(rows) - passed} unsupported.',
        '',
        'Generated by `tests/models/test_architectures.py` '
        '(`BIKE_BENCH_WRITE_ARCH_TABLE=1` rewrites it). "meta": the full-size '
        'model built on the meta device (shapes only); "tiny <type> (cpu)": '
        'a tiny random model of the same tower family (Hugging Face text '
        'towers fetch their config from the Hub when built, so the check '
        'builds one from a local config). Pass = `CLIPEncoder` builds, its '
        'class and token features have the expected shapes and BIKE\'s video '
        'head (Transf + VCS) scores one 2-frame clip against two prompts '
        '(on the meta device with one block of each stack of identical '
        'blocks, to keep the check cheap). '
        'Pretrained weights, tokenizers from the Hugging Face Hub and '
        'accuracy are not checked here.',
        '',
        'Text towers (what BIKE\'s "all 77 positions, padding included" '
        'becomes for each):',
        '',
    ]
    for cls in text_towers.TEXT_TOWERS.values():
        lines.append(f'- `{cls.name}`: {cls.positions}.')
    lines += ['', '| Architecture | Status | Checked | Model | Text tower | '
              'Token positions | Tokenizer | Image tower | Reason |',
              '|---|---|---|---|---|---|---|---|---|']
    for row in rows:
        lines.append(
            f'| `{row.arch}` | {row.status} | {row.checked} | {row.model_class} '
            f'| {row.text_tower} | {row.token_positions or ""} | {row.tokenizer} '
            f'| {row.image_tower} | {row.reason.replace("|", "/")} |')
    return '\n'.join(lines) + '\n'
