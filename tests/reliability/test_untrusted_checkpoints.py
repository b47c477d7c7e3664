"""Group 5: checkpoints are untrusted pickles.

A checkpoint whose pickle calls a function on load (here ``open(sentinel,
'w')``: harmless, but it would run) is refused by ``bike-bench test``,
``train --resume``, ``train`` with ``load_from`` and ``convert``, with a
message naming the file and ``--trust-checkpoint``, and the sentinel is
never created. A checkpoint holding a harmless foreign object
(``argparse.Namespace``, common in the wild) loads with
``--trust-checkpoint``. MMEngine's own checkpoints (message hub history
buffers, numpy scalars) load without the flag.
"""
from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import pytest
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner import Runner

from bike_bench.checkpoint_io import load_untrusted
from bike_bench.cli.main import main as cli
from bike_bench.evaluation.results import validate_results

from .conftest import NO_PARTIAL, SMOKE_CONFIG, smoke_cfg, write_entries_manifest
from .test_bad_videos import video_entry

GROUP = 'untrusted checkpoints'


class OpensAFile:
    """Pickles as a call to ``open(path, 'w')``: loading it creates ``path``."""

    def __init__(self, path: Path):
        self.path = str(path)

    def __reduce__(self):
        return io.open, (self.path, 'w')


@pytest.fixture()
def manifest(clean_videos, tmp_path) -> str:
    entries = [video_entry(p, label, id_) for p, label, id_ in clean_videos['videos'][:8]]
    return write_entries_manifest(tmp_path / 'videos.jsonl', clean_videos['classes'], entries)


@pytest.fixture()
def sentinel(tmp_path) -> Path:
    path = tmp_path / 'PAYLOAD_RAN'
    yield path
    assert not path.exists(), 'a refused checkpoint ran code on load'


def with_extra(source: str, out: Path, **extra) -> str:
    """``source`` (MMEngine checkpoint) with extra top-level entries."""
    checkpoint = torch.load(source, weights_only=False)
    checkpoint.update(extra)
    torch.save(checkpoint, out)
    return str(out)


def refused(stop, path: str) -> None:
    message = str(stop.value)
    assert message.startswith(f'refusing to load {path}: it contains pickled objects'), message
    assert 'GLOBAL io.open' in message and 'pass --trust-checkpoint' in message


def test_bike_bench_test_refuses_a_code_running_checkpoint(
        random_checkpoint, manifest, sentinel, tmp_path, faults):
    faults.tried(GROUP, 'code-running pickle given to bike-bench test')
    faults.checked(NO_PARTIAL)
    evil = with_extra(random_checkpoint, tmp_path / 'evil.pth', payload=OpensAFile(sentinel))
    common = ['--work-dir', str(tmp_path / 'work'), '--cfg-options',
              f'test_dataloader.dataset.ann_file={manifest}']
    with pytest.raises(SystemExit) as stop:
        cli(['test', SMOKE_CONFIG, evil, '--out', str(tmp_path / 'evil.json'), *common])
    refused(stop, evil)
    assert not (tmp_path / 'evil.json').exists()
    # A foreign but harmless object: refused, then loaded when trusted.
    odd = with_extra(random_checkpoint, tmp_path / 'odd.pth',
                     args=argparse.Namespace(lr=0.1, epochs=30))
    with pytest.raises(SystemExit, match='GLOBAL argparse.Namespace'):
        cli(['test', SMOKE_CONFIG, odd, *common])
    out = tmp_path / 'trusted.json'
    assert cli(['test', SMOKE_CONFIG, odd, '--trust-checkpoint', '--out', str(out),
                *common]) == 0
    assert validate_results(str(out))['counts']['evaluated'] == 8


@pytest.fixture()
def resumable(manifest, tmp_path) -> str:
    """A real MMEngine checkpoint after one short epoch (with message hub)."""
    work = tmp_path / 'first'
    cfg = smoke_cfg(work, manifest, **{'train_cfg.max_epochs': 1,
                                       'train_dataloader.batch_size': 4})
    Runner.from_cfg(cfg).train()
    return str(work / 'epoch_1.pth')


def test_mmengine_checkpoints_load_without_the_flag(resumable, faults):
    faults.tried(GROUP, "MMEngine's own checkpoint (HistoryBuffer, numpy) without the flag")
    checkpoint = load_untrusted(resumable)  # weights_only with the allow-list
    buffers = checkpoint['message_hub']['log_scalars']
    assert buffers and all(isinstance(b, HistoryBuffer) for b in buffers.values())
    assert checkpoint['meta']['epoch'] == 1


# The trusted resume at the end makes MMEngine's torch.load warn that it loads in full.
@pytest.mark.filterwarnings('ignore:Environment variable TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD')
def test_train_refuses_code_running_checkpoints_for_resume_and_load_from(
        resumable, manifest, sentinel, tmp_path, faults):
    faults.tried(GROUP, 'code-running pickle given to train --resume')
    faults.tried(GROUP, 'code-running pickle as load_from')
    evil = with_extra(resumable, tmp_path / 'evil.pth', payload=OpensAFile(sentinel))
    base = ['train', SMOKE_CONFIG, '--no-validate', '--cfg-options',
            f'train_dataloader.dataset.ann_file={manifest}', 'train_dataloader.batch_size=4',
            'train_cfg.max_epochs=2', 'default_hooks.checkpoint.save_best=None']
    with pytest.raises(SystemExit) as stop:
        cli(base[:2] + ['--work-dir', str(tmp_path / 'a'), '--resume', evil] + base[2:])
    refused(stop, evil)
    # Auto-resume from a work dir whose latest checkpoint is the bad one.
    work = tmp_path / 'b'
    work.mkdir()
    (work / 'last_checkpoint').write_text(evil)
    with pytest.raises(SystemExit) as stop:
        cli(base[:2] + ['--work-dir', str(work), '--resume'] + base[2:])
    refused(stop, evil)
    # A fine-tune's load_from.
    with pytest.raises(SystemExit) as stop:
        cli(base[:2] + ['--work-dir', str(tmp_path / 'c')] + base[2:] + [f'load_from={evil}'])
    refused(stop, evil)
    # Trusted: a checkpoint with a harmless foreign object resumes.
    odd = with_extra(resumable, tmp_path / 'odd.pth', args=argparse.Namespace(lr=0.1))
    work = tmp_path / 'd'
    assert cli(base[:2] + ['--work-dir', str(work), '--resume', odd,
                           '--trust-checkpoint'] + base[2:]) == 0
    assert torch.load(work / 'epoch_2.pth', weights_only=True)['meta']['epoch'] == 2


def official_layout(state_dict: dict, **extra) -> dict:
    """The official release layout of a BIKERecognizer state dict."""
    sections = {'model_state_dict': {}, 'fusion_model_state_dict': {}}
    for key, tensor in state_dict.items():
        if key.startswith('backbone.clip.'):
            sections['model_state_dict'][key[len('backbone.clip.'):]] = tensor
        elif key.startswith('video_head.header.'):
            sections['fusion_model_state_dict'][key[len('video_head.header.'):]] = tensor
        else:
            raise AssertionError(f'{key} has no place in the official layout')
    return dict(epoch=3, **sections, **extra)


def test_convert_refuses_a_code_running_checkpoint(random_checkpoint, sentinel, tmp_path,
                                                   capsys, faults):
    faults.tried(GROUP, 'code-running pickle given to bike-bench convert')
    state = torch.load(random_checkpoint, weights_only=True)['state_dict']
    evil = tmp_path / 'official_evil.pt'
    torch.save(official_layout(state, optimizer_state_dict={'x': OpensAFile(sentinel)}), evil)
    out = tmp_path / 'converted.pth'
    assert cli(['convert', str(evil), '--out', str(out)]) == 1
    message = capsys.readouterr().err
    assert f'refusing to load {evil}' in message and '--trust-checkpoint' in message
    assert not out.exists()
    odd = tmp_path / 'official_odd.pt'
    torch.save(official_layout(state, optimizer_state_dict={'args': argparse.Namespace(lr=1)}),
               odd)
    assert cli(['convert', str(odd), '--out', str(out), '--config', SMOKE_CONFIG,
                '--trust-checkpoint']) == 0
    # What was written holds plain weights only: it loads without trust.
    converted = load_untrusted(str(out))
    assert converted['state_dict'].keys() == state.keys()
    assert json.dumps(converted['meta'])  # plain data


def test_the_loader_line_is_logged_at_debug_not_printed(tmp_path, capsys):
    """MMEngine printed "Loads checkpoint by ..." whatever the runner's log
    level (``Runner.load_checkpoint`` passes no logger): ``make reproduce``
    showed it once per fine-tuned twin. It is a DEBUG line of the current
    logger now, for every path through MMEngine's loader."""
    import logging
    import torch
    from mmengine.logging import MMLogger
    from mmengine.runner.checkpoint import _load_checkpoint
    import bike_bench.engine  # noqa: F401  (the compat fixes, as any runner has)
    path = tmp_path / 'w.pth'
    torch.save({'state_dict': {'w': torch.zeros(1)}}, path)
    for level in ('ERROR', 'INFO'):
        MMLogger.get_instance(f'quiet-loader-{level}', log_level=level)
        assert _load_checkpoint(str(path))['state_dict']['w'].shape == (1,)
        captured = capsys.readouterr()
        assert 'Loads checkpoint' not in captured.out + captured.err, level
    logger = MMLogger.get_instance('verbose-loader', log_level='DEBUG')
    seen = []
    handler = logging.Handler(level=logging.DEBUG)
    handler.emit = lambda record: seen.append((record.levelno, record.getMessage()))
    logger.addHandler(handler)
    try:
        _load_checkpoint(str(path))
    finally:
        logger.removeHandler(handler)
    assert seen == [(logging.DEBUG, f'Loads checkpoint by local backend from path: {path}')]
