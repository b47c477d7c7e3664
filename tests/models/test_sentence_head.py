"""The attributes branch head against the official golden outputs."""
from __future__ import annotations

import pytest
import torch

from mmaction.registry import MODELS

from bike_bench.attributes import build_sentence
from bike_bench.models.clip.tokenizer import tokenize

TOL = 1e-5


def _unit(x):
    return x / x.norm(dim=-1, keepdim=True)


@pytest.fixture(scope='module')
def official_head(parity_dir):
    state = torch.load(parity_dir / 'tiny_attr_head.pt', weights_only=True)
    head = MODELS.build(dict(type='SentenceHead', embed_dim=64))
    head.load_state_dict(state['sentence_head_state_dict'], strict=True)
    return head.eval()


@torch.no_grad()
def test_sentence_head_reproduces_official_logits(official_head, parity_outputs):
    logits = official_head(parity_outputs['attribute_sentence_features'],
                           _unit(parity_outputs['cls_features']))
    assert logits.shape == parity_outputs['attribute_logits'].shape
    assert (logits - parity_outputs['attribute_logits']).abs().max() < TOL


def test_sentences_tokenise_exactly(parity_outputs):
    tokens = tokenize(parity_outputs['attribute_sentences'])
    assert torch.equal(tokens, parity_outputs['attribute_tokens'])


def test_sentences_are_built_the_official_way(parity_outputs):
    classes = parity_outputs['classes']
    first = build_sentence([classes[3], classes[4], classes[0], classes[1]], topk=3)
    assert first == parity_outputs['attribute_sentences'][0]


def test_long_sentences_are_truncated_keeping_end_of_text():
    sentence = build_sentence([f'phrase number {i}' for i in range(40)])
    tokens = tokenize([sentence])[0]
    assert tokens.shape == (77,)
    assert tokens[0] == 49406 and tokens[-1] == 49407


@torch.no_grad()
def test_recognizer_sentence_features_match_fixture(parity_dir, parity_outputs):
    """The frozen text tower gives the fixture's sentence embeddings, and the
    recognizer's attribute logits equal the official head's."""
    from mmaction.structures import ActionDataSample
    model = MODELS.build(dict(
        type='BIKEVideoAttributeRecognizer',
        backbone=dict(type='CLIPEncoder', arch=None,
                      pretrained=str(parity_dir / 'tiny_clip_openai.pt')),
        branches=('attributes',),
        class_names=parity_outputs['classes'],
        prompt_template=parity_outputs['template'])).eval()
    state = torch.load(parity_dir / 'tiny_attr_head.pt', weights_only=True)
    model.attribute_head.load_state_dict(state['sentence_head_state_dict'])
    tokens = parity_outputs['attribute_tokens']
    features = _unit(model.sentence_features(tokens))
    assert (features - parity_outputs['attribute_sentence_features']).abs().max() < TOL
    samples = []
    for row in tokens:
        sample = ActionDataSample().set_gt_label(0)
        sample.set_field(row, 'attribute_tokens')
        samples.append(sample)
    logits = model(None, samples, mode='tensor')['attributes']
    assert (logits - parity_outputs['attribute_logits']).abs().max() < TOL
