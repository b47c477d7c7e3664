"""One V+A checkpoint from separately trained branches (the official way:
``train.py`` for the video branch, ``train_attributes.py`` for the sentence
head, scores fused afterwards)."""
from __future__ import annotations

from typing import Dict

import torch

from bike_bench.checkpoint_io import load_untrusted, state_dict_of
from bike_bench.utils.atomic import atomic_write_bytes

HEAD_PREFIX = 'attribute_head.'
TEXT_PREFIX = 'backbone.clip.'


def _text_tower(state: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """CLIP text-tower weights (everything but the image tower and scale)."""
    return {k: v for k, v in state.items() if k.startswith(TEXT_PREFIX)
            and not k.startswith(TEXT_PREFIX + 'visual.')
            and k != TEXT_PREFIX + 'logit_scale'}


def combine_checkpoints(video_path: str, attributes_path: str, out: str,
                        trust: bool = False) -> dict:
    """Video model weights plus the attributes model's ``attribute_head.*``.

    The attributes branch reads sentences with the V+A model's text tower,
    so both checkpoints must hold the same text tower (true for a frozen,
    pretrained one); otherwise this is an error naming the first difference.

    Returns:
        ``{'video_keys': n, 'attribute_head_keys': m}``.
    """
    video = {k.replace('module.', '', 1): v for k, v in
             state_dict_of(load_untrusted(video_path, trust=trust)).items()}
    attributes = {k.replace('module.', '', 1): v for k, v in
                  state_dict_of(load_untrusted(attributes_path, trust=trust)).items()}
    head = {k: v for k, v in attributes.items() if k.startswith(HEAD_PREFIX)}
    if not head:
        raise ValueError(f'{attributes_path} has no {HEAD_PREFIX}* weights (not '
                         'a BIKEVideoAttributeRecognizer checkpoint)')
    if any(k.startswith(HEAD_PREFIX) for k in video):
        raise ValueError(f'{video_path} already has an attributes head')
    if not any(k.startswith('video_head.') for k in video):
        raise ValueError(f'{video_path} has no video_head.* weights')
    video_text, attr_text = _text_tower(video), _text_tower(attributes)
    if set(video_text) != set(attr_text):
        raise ValueError(f'{video_path} and {attributes_path} have different '
                         'CLIP architectures')
    for key, value in video_text.items():
        if not torch.equal(value, attr_text[key]):
            raise ValueError(
                f'the text towers of {video_path} and {attributes_path} differ '
                f'(first at {key}); the sentence head only fits the text tower '
                'it was trained with')
    state = dict(video)
    state.update(head)
    import io
    buffer = io.BytesIO()
    torch.save({'state_dict': state,
                'meta': {'combined_from': {'video': video_path,
                                           'attributes': attributes_path}}}, buffer)
    atomic_write_bytes(out, buffer.getvalue())
    return {'video_keys': len(video), 'attribute_head_keys': len(head)}
