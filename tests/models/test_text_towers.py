"""Every open_clip text-tower family gives BIKE class and token features.

Tiny random models of each family (``bike_bench.models.tiny_archs``): the
class embedding equals open_clip's own ``encode_text`` to 1e-6, the token
features have the tokenizer's length, and ``BIKERecognizer`` runs its three
modes on each.
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import open_clip
import pytest
import torch
from open_clip.transformer import QuickGELU

from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample

import bike_bench  # noqa: F401  (registers the models)
from bike_bench.models.clip import factory, model_configs, tokenizer
from bike_bench.models.clip.text_towers import UnsupportedArchitecture
from bike_bench.models.backbones.clip_encoder import CLIPEncoder, default_num_heads
from bike_bench.models.tiny_archs import TINY_FAMILIES, family_of, tiny_arch

HAS_TRANSFORMERS = importlib.util.find_spec('transformers') is not None
needs_transformers = pytest.mark.skipif(
    not HAS_TRANSFORMERS, reason='Hugging Face text towers need `transformers` '
    '(pip install transformers)')

# family -> (text tower class, token positions)
EXPECTED = {'openai-clip': ('openai-clip', 77), 'siglip': ('text-transformer', 64),
            'eva02': ('text-transformer', 77), 'hf-roberta': ('hf-text', 77),
            'coca': ('coca', 76)}
FAMILIES = [pytest.param(name, marks=needs_transformers) if name.startswith('hf')
            else name for name in TINY_FAMILIES]
PROMPTS = ['This is a video about red circle moving left',
           'This is a video about blue square growing',
           'This is a video about a green triangle that moves up and then down again']


def encoder(family, **kwargs):
    torch.manual_seed(0)
    return CLIPEncoder(arch=tiny_arch(family), **kwargs).eval()


@pytest.mark.parametrize('family', FAMILIES)
def test_class_embedding_equals_encode_text(family):
    model = encoder(family)
    tokens = model.tokenize(PROMPTS)
    name, positions = EXPECTED[family]
    assert model.text_family == name
    assert tuple(tokens.shape) == (3, positions) and model.context_length == positions
    with torch.no_grad():
        cls, words = model.encode_text(tokens)
        reference = model.clip.encode_text(tokens, normalize=False)
    assert tuple(cls.shape) == (3, model.embed_dim)
    assert tuple(words.shape) == (3, positions, model.embed_dim)
    assert (cls - reference).abs().max().item() <= 1e-6


def test_pooled_position_is_among_the_token_features():
    """Where the class embedding is one position, that token is it."""
    for family, position in (('openai-clip', 'eot'), ('siglip', -1), ('eva02', 'eot')):
        model = encoder(family)
        tokens = model.tokenize(PROMPTS)
        with torch.no_grad():
            cls, words = model.encode_text(tokens)
        index = tokens.argmax(-1) if position == 'eot' else torch.full((3,), position)
        picked = words[torch.arange(3), index]
        assert torch.allclose(picked, cls, atol=1e-5), family


def test_siglip_style_pads_to_its_length_and_pools_the_last_position():
    model = encoder('siglip')
    tokens = model.tokenize(PROMPTS)
    assert (tokens[:, -1] == 0).all()  # padding up to 64, included on the token axis
    assert model.clip.text.pool_type == 'last' and model.clip.text.attn_mask is None


def test_coca_token_features_exclude_the_appended_class_token():
    model = encoder('coca')
    tokens = model.tokenize(PROMPTS)
    with torch.no_grad():
        cls, words = model.encode_text(tokens)
        reference = model.clip.encode_text(tokens, normalize=True)
    assert words.shape[1] == 76 == tokens.shape[1]
    assert torch.allclose(cls / cls.norm(dim=-1, keepdim=True), reference, atol=1e-6)


def build_recognizer(family):
    torch.manual_seed(0)
    return MODELS.build(dict(
        type='BIKERecognizer',
        backbone=dict(type='CLIPEncoder', arch=tiny_arch(family)),
        video_head=dict(header='Transf', interaction='VCS', num_layers=1),
        class_names=['red circle', 'blue square', 'green triangle']))


@pytest.mark.parametrize('family', FAMILIES)
def test_recognizer_runs_loss_predict_and_tensor(family):
    model = build_recognizer(family)
    clips = torch.randn(2, 1, 3, 4, 64, 64)
    samples = [ActionDataSample().set_gt_label(label) for label in (0, 2)]
    model.train()
    loss = model(clips, samples, mode='loss')['loss']
    loss.backward()
    assert torch.isfinite(loss)
    assert any(p.grad is not None for p in model.backbone.clip.visual.parameters())
    model.eval()
    logits = model(torch.randn(2, 2, 3, 4, 64, 64), mode='tensor')
    assert tuple(logits.shape) == (2, 2, 3)
    out = model(torch.randn(2, 2, 3, 4, 64, 64), samples, mode='predict')
    assert out[0].pred_score.shape == (3,)
    assert torch.allclose(out[0].pred_score.sum(), torch.tensor(1.0))


def test_frames_use_the_backbones_statistics():
    siglip = build_recognizer('siglip')
    assert siglip.data_preprocessor.mean.flatten().tolist() == [127.5] * 3
    clip = build_recognizer('openai-clip')
    from bike_bench.models.data_preprocessors import CLIP_MEAN
    assert clip.data_preprocessor.mean.flatten().tolist() == \
        torch.tensor([255 * m for m in CLIP_MEAN]).tolist()
    assert factory.image_statistics('ViT-B-16-SigLIP2', 'webli') == ((0.5,) * 3, (0.5,) * 3)
    assert factory.image_statistics('ViT-B-16', 'openai')[0] == CLIP_MEAN
    assert factory.image_statistics('EVA02-B-16', None)[0] == CLIP_MEAN


def test_tokenizer_lengths_and_activations_of_named_architectures():
    assert tokenizer.context_length('ViT-B-16-SigLIP2') == 64
    assert tokenizer.context_length('coca_ViT-B-32') == 76
    assert tokenizer.context_length('ViT-L-14') == 77
    assert not tokenizer.uses_clip_bpe('ViT-B-16-SigLIP2')
    assert tokenizer.uses_clip_bpe('EVA02-B-16')
    # QuickGELU follows the weights: OpenAI, MetaCLIP and DFN yes; EVA, SigLIP no.
    assert factory._quick_gelu_for('ViT-B-16', 'openai')
    assert factory._quick_gelu_for('ViT-B-16', None)
    assert factory._quick_gelu_for('ViT-L-14', 'metaclip_fullcc')
    assert factory._quick_gelu_for('ViT-H-14', 'dfn5b')
    assert not factory._quick_gelu_for('EVA02-B-16', 'merged2b_s8b_b131k')
    assert not factory._quick_gelu_for('ViT-B-16-SigLIP2', None)


def test_family_of_named_architectures():
    assert family_of('ViT-B-16-SigLIP2') == 'siglip'
    assert family_of('EVA02-L-14') == 'eva02'
    assert family_of('ViT-L-14') == 'openai-clip'
    assert family_of('coca_ViT-B-32') == 'coca'
    assert family_of('roberta-ViT-B-32') == 'hf-roberta'


def test_unsupported_tower_says_why_in_one_line():
    arch = tiny_arch('siglip')
    arch['text_cfg']['pool_type'] = 'none'
    with pytest.raises(UnsupportedArchitecture) as error:
        CLIPEncoder(arch=arch)
    message = str(error.value)
    assert '\n' not in message and "'none'" in message and 'class embedding' in message


def test_default_heads_follow_the_official_rule_where_it_divides():
    assert default_num_heads(512, 512) == 8  # ViT-B
    assert default_num_heads(768, 768) == 12  # ViT-L
    assert default_num_heads(1024, 512) == 8  # RN50
    assert default_num_heads(512, 768) == 8  # mT5-base text, 512 joint


def test_hub_text_tower_offline_says_why_in_one_line():
    from bike_bench.models.clip.weights import hf_config_cached
    if HAS_TRANSFORMERS and hf_config_cached('roberta-base'):
        pytest.skip('roberta-base is in the Hugging Face cache here')
    with pytest.raises(UnsupportedArchitecture) as error:
        with torch.device('meta'):
            CLIPEncoder(arch='roberta-ViT-B-32')
    message = str(error.value)
    assert '\n' not in message and message.startswith('roberta-ViT-B-32: ')
    assert 'roberta-base' in message
    assert ('transformers' in message) != HAS_TRANSFORMERS or 'cache' in message


def test_train_command_reports_an_unreadable_tower_as_one_error_line(tmp_path):
    from bike_bench.cli.main import main
    from bike_bench.models.clip.weights import hf_config_cached
    if HAS_TRANSFORMERS and hf_config_cached('roberta-base'):
        pytest.skip('roberta-base is in the Hugging Face cache here')
    from pathlib import Path
    config = str(Path(__file__).resolve().parents[2] / 'mmconfigs' /
                 'bike_tiny-vit-p16-res64_toy-clip-pre_1xb16-8x1x1-8e_synthetic-rgb.py')
    with pytest.raises(SystemExit) as stop:
        main(['train', config, '--work-dir', str(tmp_path), '--cfg-options',
              'model.backbone.arch=roberta-ViT-B-32'])
    message = str(stop.value.code)
    assert message.startswith('error: roberta-ViT-B-32: ') and '\n' not in message


def test_tiny_openai_clip_is_the_smoke_configs_and_parity_fixtures_model(tiny_clip_config):
    from mmengine.config import Config
    from bike_bench.reproduction.smoke_twins import SMOKE_CONFIG
    smoke = Config.fromfile(SMOKE_CONFIG).model.backbone.arch
    assert smoke == tiny_clip_config == 'bike-tiny-openai-clip'
    assert open_clip.get_model_config(smoke) == tiny_arch('openai-clip')


@pytest.mark.parametrize('family', TINY_FAMILIES)
def test_each_tiny_architecture_is_one_registered_open_clip_model_config(family):
    name = f'bike-tiny-{family}'
    path = Path(model_configs.CONFIG_DIR) / f'{name}.json'
    assert json.loads(path.read_text()) == tiny_arch(family)
    assert name in open_clip.list_models()
    assert name not in model_configs.open_clip_architectures()
    assert family_of(name) == family


@pytest.mark.parametrize('family', [f for f in FAMILIES if f != 'hf-roberta'] + [
    pytest.param('hf-roberta', marks=needs_transformers)])
def test_a_tiny_name_builds_the_model_of_its_config_dict(family):
    """By name (the configs' way) and from the dict: the same weights, built
    offline (no Hub config for the Hugging Face tower)."""
    torch.manual_seed(0)
    named = CLIPEncoder(arch=f'bike-tiny-{family}')
    torch.manual_seed(0)
    from_dict = CLIPEncoder(arch=tiny_arch(family))
    a, b = named.state_dict(), from_dict.state_dict()
    assert a.keys() == b.keys()
    # open_clip leaves CoCa's decoder projection as torch.empty (BIKE never
    # uses the decoder): its values are whatever memory held.
    assert all(torch.equal(a[k], b[k]) for k in a if not k.startswith('clip.text_decoder.'))
    assert named.context_length == from_dict.context_length
    assert tokenizer.uses_clip_bpe(f'bike-tiny-{family}')  # CLIP BPE ids, SigLIP too


def test_tiny_names_carry_their_statistics():
    from bike_bench.models.data_preprocessors import CLIP_MEAN
    assert factory.image_statistics('bike-tiny-siglip') == ((0.5,) * 3, (0.5,) * 3)
    assert factory.image_statistics('bike-tiny-openai-clip')[0] == CLIP_MEAN


def test_open_clip_builds_the_tiny_openai_clip_as_bike_bench_does():
    """The JSON is an ordinary open_clip model config: open_clip's own
    factory builds the same model (QuickGELU included)."""
    torch.manual_seed(0)
    ours = factory.build_clip('bike-tiny-openai-clip')
    torch.manual_seed(0)
    theirs = open_clip.create_model('bike-tiny-openai-clip')
    a, b = ours.state_dict(), theirs.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert type(theirs.visual.transformer.resblocks[0].mlp.gelu) is QuickGELU


def test_unknown_tiny_family_is_named():
    with pytest.raises(KeyError, match='known: coca, eva02, hf-roberta, openai-clip, siglip'):
        tiny_arch('rn50')
