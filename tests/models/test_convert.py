"""Converting official BIKE checkpoints: parity, key mapping, strict loading."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
from mmengine.runner import load_checkpoint

from bike_bench.cli.main import main as cli_main
from bike_bench.models.convert import (ATTRIBUTE_PREFIX, CLIP_PREFIX,
                                       HEADER_PREFIX, StateDictMismatchError,
                                       UnplacedKeysError,
                                       build_model_from_config,
                                       convert_official, is_official_checkpoint,
                                       load_official, load_official_into,
                                       load_state_dict_checked,
                                       prepare_checkpoint_for_test)

REPO = Path(__file__).resolve().parents[2]
TINY_CONFIG = str(REPO / 'mmconfigs' /
                  'bike_tiny-vit-p16-res64_toy-clip-pre_1xb16-8x1x1-8e_synthetic-rgb.py')
TOL = 1e-5


@pytest.fixture(scope='module')
def official_path(parity_dir) -> Path:
    return parity_dir / 'tiny_bike_official_format.pt'


@pytest.fixture()
def official(official_path) -> dict:
    return torch.load(official_path, weights_only=True)


def tiny_model(parity_outputs, device='cpu'):
    model = build_model_from_config(TINY_CONFIG, device=device)
    if device != 'meta':
        model.set_class_names(parity_outputs['classes'])
        model.prompt_template = parity_outputs['template']
    return model


@torch.no_grad()
def vcs_logits(model, parity_outputs) -> torch.Tensor:
    inputs = parity_outputs['frames'].float().transpose(1, 2)  # B C T H W
    return model.eval()(inputs, mode='tensor')[:, 0]


def test_converted_official_checkpoint_reproduces_vcs_logits(
        official_path, parity_outputs):
    model = tiny_model(parity_outputs)
    report = load_official_into(model, str(official_path))
    assert report.ok and report.placed == {CLIP_PREFIX: 62, HEADER_PREFIX: 73}
    assert report.cast_to_fp32 == 62  # the fixture's CLIP is stored in fp16
    diff = (vcs_logits(model, parity_outputs) - parity_outputs['logits_vcs']).abs().max()
    assert diff < TOL


def test_cli_writes_mmengine_checkpoint_that_loads_strictly(
        official_path, parity_outputs, tmp_path, capsys):
    out = tmp_path / 'tiny_bike.pth'
    code = cli_main(['convert', str(official_path), '--out', str(out),
                     '--config', TINY_CONFIG])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert 'loads strictly' in printed and '62 fp16 tensors cast' in printed
    saved = torch.load(out, weights_only=True)
    assert set(saved) == {'meta', 'state_dict'}  # no optimizer state
    assert saved['meta']['converted_from'] == official_path.name
    assert saved['meta']['official_epoch'] == 0
    assert all(v.dtype == torch.float32 for v in saved['state_dict'].values()
               if v.is_floating_point())
    # MMEngine's own loader, strict, as `load_from` / `bike-bench test` use it.
    model = tiny_model(parity_outputs)
    load_checkpoint(model, str(out), map_location='cpu', strict=True)
    diff = (vcs_logits(model, parity_outputs) - parity_outputs['logits_vcs']).abs().max()
    assert diff < TOL


def test_missing_key_fails_strict_loading_naming_it(official, parity_outputs):
    del official['model_state_dict']['visual.proj']
    state, report = convert_official(official)
    assert report.ok
    with pytest.raises(StateDictMismatchError, match=r'backbone\.clip\.visual\.proj') as info:
        load_state_dict_checked(tiny_model(parity_outputs, 'meta'), state)
    assert info.value.missing == ['backbone.clip.visual.proj']
    assert 'missing keys' in str(info.value)


def test_extra_key_fails_strict_loading_naming_it(official, parity_outputs):
    extra = torch.zeros(3)
    official['fusion_model_state_dict']['transformer.resblocks.6.ln_1.weight'] = extra
    state, _ = convert_official(official)
    with pytest.raises(StateDictMismatchError,
                       match=r'video_head\.header\.transformer\.resblocks\.6\.ln_1'
                       r'\.weight') as info:
        load_state_dict_checked(tiny_model(parity_outputs, 'meta'), state)
    assert 'unexpected keys' in str(info.value)
    assert info.value.missing == []


def test_cli_reports_key_mismatch_and_writes_nothing(official, tmp_path, capsys):
    official['model_state_dict']['visual.extra_token'] = torch.zeros(4)
    src = tmp_path / 'official.pt'
    torch.save(official, src)
    out = tmp_path / 'converted.pth'
    code = cli_main(['convert', str(src), '--out', str(out), '--config', TINY_CONFIG])
    assert code == 1
    assert 'backbone.clip.visual.extra_token' in capsys.readouterr().err
    assert not out.exists()


def test_shape_mismatch_is_named(official, parity_outputs):
    official['model_state_dict']['visual.proj'] = torch.zeros(128, 32)
    state, _ = convert_official(official)
    with pytest.raises(StateDictMismatchError, match=r'visual\.proj \(checkpoint'):
        load_state_dict_checked(tiny_model(parity_outputs, 'meta'), state)


def test_unplaced_keys_fail_unless_allowed(official, tmp_path):
    official['fusion_model_state_dict']['mystery.weight'] = torch.zeros(2)
    official['something_else'] = {'a': torch.zeros(1)}
    src = tmp_path / 'official.pt'
    torch.save(official, src)
    with pytest.raises(UnplacedKeysError,
                       match=r'fusion_model_state_dict/mystery\.weight'):
        load_official(str(src))
    state, report = load_official(str(src), allow_unplaced=True)
    assert report.unplaced == ['fusion_model_state_dict/mystery.weight',
                               'something_else']
    assert not any('mystery' in key for key in state)
    assert 'COULD NOT PLACE 2 entries' in report.format()


def test_module_prefix_fp16_and_openai_meta_keys(official):
    plain, _ = convert_official(official)
    wrapped = dict(official)
    wrapped['model_state_dict'] = {f'module.{k}': v.half() for k, v in
                                   official['model_state_dict'].items()}
    wrapped['model_state_dict'].update(
        {'module.input_resolution': 64, 'module.context_length': 77,
         'module.vocab_size': 49408})
    wrapped['fusion_model_state_dict'] = {
        f'module.{k}': v for k, v in official['fusion_model_state_dict'].items()}
    state, report = convert_official(wrapped)
    assert report.ok
    assert report.stripped_prefix == 62 + 3 + 73
    assert sorted(report.dropped) == ['epoch', 'model_state_dict/context_length',
                                      'model_state_dict/input_resolution',
                                      'model_state_dict/vocab_size']
    assert list(state) == list(plain)
    assert all(torch.equal(state[k], plain[k]) for k in plain)


def test_sentence_head_keys_map_to_attribute_head(official, parity_dir):
    sentence = torch.load(parity_dir / 'tiny_attr_head.pt',
                          weights_only=True)['sentence_head_state_dict']
    # Released separately ...
    state, report = convert_official(dict(official, sentence_head_state_dict=sentence))
    assert report.ok and report.placed[ATTRIBUTE_PREFIX] == len(sentence)
    assert torch.equal(state['attribute_head.query_fc.0.weight'],
                       sentence['query_fc.0.weight'])
    # ... or as the `fusion_model_state_dict` of the attributes stage.
    stage = {'epoch': 3, 'model_state_dict': official['model_state_dict'],
             'fusion_model_state_dict': sentence}
    state, report = convert_official(stage)
    assert report.placed == {CLIP_PREFIX: 62, ATTRIBUTE_PREFIX: 8}
    assert 'attribute_head.sentence_fc.2.bias' in state


def test_is_official_checkpoint(official_path, parity_dir, tmp_path):
    assert is_official_checkpoint(official_path)
    assert not is_official_checkpoint(parity_dir / 'tiny_clip_openai.pt')
    mmengine = tmp_path / 'mmengine.pth'
    torch.save({'meta': {}, 'state_dict': {'a': torch.zeros(1)}}, mmengine)
    assert not is_official_checkpoint(mmengine)
    assert not is_official_checkpoint({'state_dict': {}, 'model_state_dict': {}})
    with pytest.raises(FileNotFoundError):
        is_official_checkpoint(tmp_path / 'absent.pt')


def test_prepare_checkpoint_for_test(official_path, tmp_path):
    converted = prepare_checkpoint_for_test(str(official_path), str(tmp_path))
    assert converted == str(tmp_path / 'converted' / 'tiny_bike_official_format_mmengine.pth')
    assert not is_official_checkpoint(converted)
    stamp = Path(converted).stat().st_mtime_ns
    assert prepare_checkpoint_for_test(str(official_path), str(tmp_path)) == converted
    assert Path(converted).stat().st_mtime_ns == stamp  # reused, not rewritten
    assert prepare_checkpoint_for_test(converted, str(tmp_path)) == converted
