"""Multiply-adds per view, counted on the meta device, beside the paper's.

The models are built under ``torch.device('meta')`` (no weights allocated)
and one view is run under ``torch.utils.flop_counter.FlopCounterMode``,
which counts every matmul, convolution and attention kernel. Counting runs
with autograd enabled so ``nn.MultiheadAttention`` takes its plain path,
where projections (``mm``/``addmm``) and attention (``bmm``/SDPA) are
separate ops and can be told apart.

The paper's per-view figures (830 for ViT-L/14 16x224, 932 for 8x336,
1864 for 16x336) equal the image encoder's MLP and patch-embedding
multiply-adds alone; the ``paper_convention_gmac`` column recomputes exactly
that from the count, which shows where the paper's numbers come from.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Dict, List, Optional

from bike_bench.benchmark import bench_models

# GFLOPs per view printed in the paper's K400 table (poster), views 4x3.
PAPER_PER_VIEW = {('vit-l-14', 16): 830.0, ('vit-l-14-336', 8): 932.0,
                  ('vit-l-14-336', 16): 1864.0}
PAPER_LABEL = 'paper (MLP + patch embedding only)'
COUNTED_LABEL = 'counted (all ops incl. attention)'

# (model, frames) rows of the FLOPs table.
DEFAULT_ROWS = [('tiny', 8), ('vit-b-32', 8), ('vit-b-16', 8), ('vit-l-14', 8),
                ('vit-l-14', 16), ('vit-l-14-336', 8), ('vit-l-14-336', 16)]

FAMILIES = ('patch embedding', 'image MLP', 'image attention projections (qkv, out)',
            'image attention (scores, weighted sum)', 'image other (proj, pos)',
            'video head (temporal transformer + VCS)')
_ATTENTION_CORE_OPS = ('bmm', 'baddbmm', 'scaled_dot_product')


def _op_total(counts: Dict[object, int], core: Optional[bool] = None) -> int:
    total = 0
    for op, flops in counts.items():
        is_core = any(name in str(op) for name in _ATTENTION_CORE_OPS)
        if core is None or core == is_core:
            total += flops
    return total


def count_view(name: str, frames: int, num_classes: int = bench_models.NUM_CLASSES,
               views: int = 1) -> Dict[str, object]:
    """FLOPs of ``views`` views of ``frames`` frames, by op family.

    Returns GMAC (= FLOPs / 2) per view, in total and per family, the
    paper-convention subtotal, and the text tower's GMAC for the class set.
    """
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    spec = bench_models.get(name)
    with torch.device('meta'):
        model = bench_models.build(spec, device='meta')
        backbone = model.backbone
        tokens = backbone.tokenize(model.prompts()[:num_classes]).to('meta')
        with torch.no_grad(), FlopCounterMode(display=False) as text_counter:
            cls, token_feats = backbone.encode_text(tokens)
        size = spec.image_size
        inputs = torch.empty(1, views, 3, frames, size, size)
        with torch.enable_grad(), FlopCounterMode(display=False) as counter:
            model.view_logits(inputs, (cls, token_feats))
    by_module = counter.get_flop_counts()
    visual = backbone.clip.visual
    root = type(visual).__name__
    families = defaultdict(int)
    families['patch embedding'] = _op_total(by_module.get(f'{root}.conv1', {}))
    for sub_name, _ in visual.named_modules():
        key = f'{root}.{sub_name}'
        if sub_name.endswith('.mlp'):
            families['image MLP'] += _op_total(by_module.get(key, {}))
        elif sub_name.endswith('.attn'):
            counts = by_module.get(key, {})
            families['image attention projections (qkv, out)'] += _op_total(counts, False)
            families['image attention (scores, weighted sum)'] += _op_total(counts, True)
    visual_total = _op_total(by_module.get(root, {}))
    total = counter.get_total_flops()
    families['image other (proj, pos)'] = visual_total - sum(families.values())
    families['video head (temporal transformer + VCS)'] = total - visual_total
    gmac = {family: families[family] / 2e9 / views for family in FAMILIES}
    counted = total / 2e9 / views
    paper_convention = gmac['patch embedding'] + gmac['image MLP']
    paper = PAPER_PER_VIEW.get((name, frames))
    return {
        'model': name, 'label': spec.label, 'frames': frames,
        'input': f'{frames}x{size}^2', 'num_classes': num_classes,
        'counted_gmac_per_view': counted,
        'paper_convention_gmac_per_view': paper_convention,
        'paper_gflops_per_view': paper,
        'counted_over_paper': counted / paper if paper else None,
        'gmac_per_frame': counted / frames,
        'breakdown_gmac_per_view': gmac,
        'text_tower_gmac_per_class_set': text_counter.get_total_flops() / 2e9,
    }


def flops_table(rows=DEFAULT_ROWS) -> Dict[str, object]:
    """The bench's ``flops`` section: one entry per (model, frames) row."""
    entries: List[Dict[str, object]] = [count_view(name, frames) for name, frames in rows]
    return {
        'unit': 'GMAC per view (multiply-adds; FLOPs = 2 x MAC)',
        'method': 'torch.utils.flop_counter.FlopCounterMode on meta-device models, '
                  'one view through the image encoder and the video head against '
                  f'{bench_models.NUM_CLASSES} cached class features',
        'labels': {'counted_gmac_per_view': COUNTED_LABEL,
                   'paper_gflops_per_view': PAPER_LABEL,
                   'paper_convention_gmac_per_view':
                       'counted, paper convention (image MLP + patch embedding)'},
        'note': 'The paper prints these figures as GFLOPs; they equal the image '
                "encoder's MLP and patch-embedding multiply-adds, so attention "
                '(projections and scores) and the video head are missing.',
        'rows': entries,
    }


def flops_per_view(name: str, frames: int) -> float:
    """Counted FLOPs (not MACs) of one view, for TFLOP/s figures."""
    return 2e9 * count_view(name, frames)['counted_gmac_per_view']
