"""Group 3: jobs killed with SIGKILL — resume is exact, nothing is left half-written.

- a real ``bike-bench train`` process, killed after its epoch-1 checkpoint:
  ``train --resume`` ends with the weights (and the skipped-video record) of
  an uninterrupted run;
- a process killed while it writes a results file or a checkpoint (on a
  slow disk, simulated by writing in small timed chunks): the file is
  always either the previous complete version or absent, never partial,
  and the temporary files left behind are never taken for results;
- attribute generation and ``make reproduce`` (skipped until those
  commands exist on this branch).
"""
from __future__ import annotations

import builtins
import json
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from bike_bench.evaluation.results import (ResultsFileError, build_results,
                                           find_results, validate_results)

from . import faults as F
from .conftest import NO_PARTIAL, NO_REPLACEMENT, REPO, SMOKE_CONFIG, write_entries_manifest
from .test_bad_videos import video_entry

GROUP = 'interruptions'


# ------------------------------------------------------------ training kill
def train_command(work_dir: Path, manifest: str, *extra: str):
    return [sys.executable, '-m', 'bike_bench.cli.main', 'train', SMOKE_CONFIG,
            '--work-dir', str(work_dir), '--no-validate', *extra, '--cfg-options',
            f'train_dataloader.dataset.ann_file={manifest}',
            'train_dataloader.batch_size=4', 'train_cfg.max_epochs=4',
            'default_hooks.checkpoint.save_best=None']


def child_env():
    # One thread each: the runs share two cores, and the same thread count
    # everywhere keeps float reductions identical between runs.
    return dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1', PYTHONUNBUFFERED='1')


def default_sigint():
    # A suite started in the background (`make test &`) inherits an ignored
    # SIGINT, and Python then installs no KeyboardInterrupt handler: the
    # children get the default disposition, as from a terminal.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(command, log: Path) -> subprocess.Popen:
    return subprocess.Popen(command, cwd=REPO, env=child_env(), stdout=log.open('w'),
                            stderr=subprocess.STDOUT, preexec_fn=default_sigint)


def finish(process: subprocess.Popen, log: Path, timeout: float = 300) -> None:
    code = process.wait(timeout=timeout)
    assert code == 0, f'exit {code}:\n' + log.read_text()[-3000:]


def last_checkpoint(work_dir: Path) -> str:
    try:
        return (work_dir / 'last_checkpoint').read_text().strip()
    except OSError:
        return ''


@pytest.mark.slow
def test_sigkill_during_training_then_resume_gives_identical_weights(
        clean_videos, tmp_path, faults):
    faults.tried(GROUP, 'SIGKILL of bike-bench train after a checkpoint')
    faults.checked(NO_REPLACEMENT)
    videos = clean_videos['videos']
    entries = [video_entry(p, label, id_) for p, label, id_ in videos[:11]]
    entries.insert(5, video_entry(F.truncated_mp4(videos[0][0], tmp_path / 'trunc.mp4')))
    manifest = write_entries_manifest(tmp_path / 'train.jsonl', clean_videos['classes'],
                                      entries)
    straight, killed = tmp_path / 'straight', tmp_path / 'killed'
    runs = [start(train_command(straight, manifest), tmp_path / 'straight.log'),
            start(train_command(killed, manifest), tmp_path / 'killed.log')]
    victim = runs[1]
    deadline = time.time() + 240
    while not last_checkpoint(killed).endswith('epoch_1.pth'):
        assert victim.poll() is None, (tmp_path / 'killed.log').read_text()[-3000:]
        assert time.time() < deadline, 'no epoch-1 checkpoint'
        time.sleep(0.02)
    os.kill(victim.pid, signal.SIGKILL)
    assert victim.wait() == -signal.SIGKILL
    assert not (killed / 'epoch_4.pth').exists()  # it was killed mid-run

    resumed = start(train_command(killed, manifest, '--resume'), tmp_path / 'resumed.log')
    finish(runs[0], tmp_path / 'straight.log')
    finish(resumed, tmp_path / 'resumed.log')
    assert 'resumed' in (tmp_path / 'resumed.log').read_text().lower()

    a = torch.load(straight / 'epoch_4.pth', weights_only=True)
    b = torch.load(killed / 'epoch_4.pth', weights_only=True)
    assert a['meta']['iter'] == b['meta']['iter'] == 12
    assert a['state_dict'].keys() == b['state_dict'].keys()
    worst = max((a['state_dict'][k].float() - b['state_dict'][k].float()).abs().max().item()
                for k in a['state_dict'])
    assert worst <= 1e-6, f'resumed weights differ by {worst}'
    # The record of skipped videos survives the kill, without double counting.
    records = [json.loads((d / 'skipped_samples.json').read_text()) for d in (straight, killed)]
    assert records[0]['skipped'] == records[1]['skipped']
    assert records[1]['count'] == 4 and records[1]['unique_videos'] == 1


# ------------------------------------------------------------- Ctrl-C (SIGINT)
# Python started with this folder on its path imports it first: MMEngine then
# imports a yapf whose FormatCode stalls when called from save_checkpoint
# (the config is formatted into every checkpoint's meta), so the SIGINT lands
# inside MMEngine's bare `except:` around it, which re-raises a SyntaxError.
STALL_WHILE_SAVING = """
import os, time, traceback
import yapf.yapflib.yapf_api as api
_format = api.FormatCode
def FormatCode(*args, **kwargs):
    if any(frame.name == 'save_checkpoint' for frame in traceback.extract_stack()):
        open(os.environ['BIKE_TEST_SAVING'], 'w').close()
        time.sleep(120)
    return _format(*args, **kwargs)
api.FormatCode = FormatCode
"""


def _interrupt_when(process: subprocess.Popen, ready, log: Path, timeout: float = 240):
    deadline = time.time() + timeout
    while not ready():
        assert process.poll() is None, log.read_text()[-3000:]
        assert time.time() < deadline, 'never reached the point to interrupt'
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    return process.wait(timeout=120)


@pytest.mark.slow
def test_ctrl_c_while_a_checkpoint_is_saved_reads_interrupted(clean_videos, tmp_path,
                                                              faults):
    """Before: `error: Failed to format the config file, please check the
    syntax` and exit 1 (MMEngine turned the KeyboardInterrupt into that)."""
    faults.tried(GROUP, 'Ctrl-C while a checkpoint is saved')
    videos = clean_videos['videos']
    manifest = write_entries_manifest(
        tmp_path / 'train.jsonl', clean_videos['classes'],
        [video_entry(p, label, id_) for p, label, id_ in videos[:8]])
    site = tmp_path / 'site'
    site.mkdir()
    (site / 'sitecustomize.py').write_text(STALL_WHILE_SAVING)
    saving = tmp_path / 'saving'
    env = dict(child_env(), BIKE_TEST_SAVING=str(saving),
               PYTHONPATH=os.pathsep.join([str(site), os.environ.get('PYTHONPATH', '')]))
    log = tmp_path / 'train.log'
    process = subprocess.Popen(train_command(tmp_path / 'work', manifest), cwd=REPO,
                               env=env, stdout=log.open('w'), stderr=subprocess.STDOUT,
                               preexec_fn=default_sigint)
    code = _interrupt_when(process, saving.exists, log)
    text = log.read_text()
    assert code == 130, text[-3000:]
    assert text.rstrip().splitlines()[-1] == 'error: interrupted'
    assert 'Failed to format' not in text


@pytest.mark.slow
def test_ctrl_c_during_training_reads_interrupted(clean_videos, tmp_path, faults):
    faults.tried(GROUP, 'Ctrl-C during training')
    videos = clean_videos['videos']
    manifest = write_entries_manifest(
        tmp_path / 'train.jsonl', clean_videos['classes'],
        [video_entry(p, label, id_) for p, label, id_ in videos[:8]])
    work, log = tmp_path / 'work', tmp_path / 'train.log'
    process = start(train_command(work, manifest), log)
    code = _interrupt_when(process, lambda: last_checkpoint(work).endswith('epoch_1.pth'),
                           log)
    text = log.read_text()
    assert code == 130, text[-3000:]
    assert text.rstrip().splitlines()[-1] == 'error: interrupted'
    # `train` logs the frozen text tower in one line, not one per parameter.
    assert 'is skipped since its requires_grad=False' not in text
    assert sum(line.startswith('optimizer:') or ' optimizer: ' in line
               for line in text.splitlines()) == 1


# ------------------------------------------------------------- write kills
class Trickle:
    """A file object that writes in 64 KiB pieces with a pause: a slow disk."""

    def __init__(self, stream, started):
        self._stream, self._started = stream, started

    def write(self, data):
        view = memoryview(data if isinstance(data, bytes) else data.encode())
        for start in range(0, len(view), 1 << 16):
            self._stream.write(view[start:start + (1 << 16)])
            self._stream.flush()
            self._started()
            time.sleep(0.002)
        return len(view)

    def __getattr__(self, name):
        return getattr(self._stream, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._stream.__exit__(*exc)


def slow_disk(started) -> None:
    """In this (child) process, every file opened for writing trickles."""
    real_open, real_fdopen = builtins.open, os.fdopen

    def wrap(opener):
        def opened(file, mode='r', *args, **kwargs):
            stream = opener(file, mode, *args, **kwargs)
            return Trickle(stream, started) if any(c in mode for c in 'wax') else stream
        return opened

    builtins.open, os.fdopen = wrap(real_open), wrap(real_fdopen)


def results_payload(seq: int) -> dict:
    counts = dict(expected=3, evaluated=3, skipped=0)
    return build_results(
        run_id='killed-write', protocol=dict(name='test'), metrics={'acc/top1': 0.5},
        views=dict(clips=1, crops=1, label='1x1', views_per_video=1), aggregation='official',
        dataset=dict(name='synthetic', split='val', manifest='m.jsonl', manifest_hash='0' * 64,
                     num_classes=3),
        checkpoint=dict(path='c.pth', sha256='0' * 64),
        config=dict(path='c.py', hash='0' * 64, resolved={'x': 1}),
        environment=dict(git_commit='0' * 40, git_dirty=False, packages={'torch': 'x'},
                         device='cpu'),
        wall_time_s=1.0, counts=counts, skipped=[],
        # ~3 MB of per-class detail, so the write takes a while.
        per_class={'BIKEAccMetric': {f'class {i}': dict(seq=seq, acc=i / 7.0, n=i)
                                     for i in range(40000)}},
        extra=dict(seq=seq))


def write_results_forever(path: str, ready) -> None:
    from bike_bench.evaluation.results import write_results
    seq = 0
    slow_disk(lambda: seq >= 2 and ready.set())
    while True:
        seq += 1
        write_results(results_payload(seq), path)


def write_checkpoints_forever(path: str, ready) -> None:
    from mmengine.runner.checkpoint import save_checkpoint
    torch.set_num_threads(1)  # no OpenMP pool in a forked child
    seq = 0
    state = {f'layer{i}.weight': torch.full((256, 256), float(i)) for i in range(12)}
    slow_disk(lambda: seq >= 2 and ready.set())
    while True:
        seq += 1
        save_checkpoint({'meta': {'seq': seq}, 'state_dict': state}, path)


def check_results_file(folder: Path, target: Path) -> None:
    data = validate_results(str(target))  # complete, or this raises
    assert data['seq'] == 1 and len(data['per_class']['BIKEAccMetric']) == 40000
    leftovers = [p for p in folder.iterdir() if p.name.endswith('.tmp')]
    assert leftovers, 'the kill did not land inside a write'
    assert find_results(folder) == [str(target)]  # the temporary files are not results
    for leftover in leftovers:
        with pytest.raises(ResultsFileError, match='temporary file of an unfinished write'):
            validate_results(str(leftover))


def check_checkpoint(folder: Path, target: Path) -> None:
    checkpoint = torch.load(target, weights_only=True)  # complete, or this raises
    assert checkpoint['meta']['seq'] == 1 and len(checkpoint['state_dict']) == 12
    assert [p for p in folder.iterdir() if p.name.endswith('.tmp')], \
        'the kill did not land inside a write'


WRITERS = {
    'SIGKILL while a results JSON is being written': (write_results_forever,
                                                      check_results_file, 'run.json'),
    'SIGKILL while a checkpoint is being written': (write_checkpoints_forever,
                                                    check_checkpoint, 'epoch_3.pth'),
}


@pytest.mark.parametrize('kind', list(WRITERS))
def test_sigkill_mid_write_never_leaves_a_partial_file(kind, tmp_path, faults):
    faults.tried(GROUP, kind)
    faults.checked(NO_PARTIAL)
    writer, check, name = WRITERS[kind]
    context = multiprocessing.get_context('fork')  # the child inherits the imports
    rng = random.Random(0)
    for round_ in range(3):
        folder = tmp_path / f'round{round_}'
        folder.mkdir()
        target = folder / name
        ready = context.Event()
        child = context.Process(target=writer, args=(str(target), ready), daemon=True)
        child.start()
        try:
            # The first version is complete; kill somewhere inside the second.
            assert ready.wait(timeout=120), 'the writer never started its second write'
            time.sleep(rng.uniform(0.0, 0.03))
        finally:
            os.kill(child.pid, signal.SIGKILL)
            child.join()
        assert child.exitcode == -signal.SIGKILL
        check(folder, target)


# ------------------------------------------- attribute generation, reproduce
VA_CONFIG = str(REPO / 'mmconfigs' /
                'bike-va_tiny-vit-p16-res64_toy-clip-pre_1xb16-8x1x1-8e_synthetic-rgb.py')
# Runs the CLI and SIGKILLs its own process right after the N-th write of
# the output, i.e. in the middle of a run, with no chance to clean up.
KILL_AFTER_FLUSH = '''
import os, signal, sys
from bike_bench.attributes import generate
flush = generate.AttributeWriter.flush
writes = []
def flush_then_die(self):
    flush(self)
    writes.append(1)
    if len(writes) == int(os.environ['KILL_AFTER']):
        os.kill(os.getpid(), signal.SIGKILL)
generate.AttributeWriter.flush = flush_then_die
from bike_bench.cli.main import main
sys.exit(main(sys.argv[1:]))
'''


def generate_args(manifest, out):
    return ['attributes', 'generate', VA_CONFIG, '--manifest', manifest, '--out',
            str(out), '--batch-size', '4', '--num-workers', '0', '--flush-every',
            '4', '--no-progress']


def test_sigkill_during_attribute_generation_resumes(faults, tmp_path_factory, tmp_path):
    """A generation killed right after a flush resumes to the same bytes."""
    from mmengine.config import Config
    from bike_bench.attributes import read_attributes, read_meta
    from bike_bench.attributes.generate import generate_attributes
    from bike_bench.datasets.smoke import write_smoke_set
    faults.tried('interruptions', 'SIGKILL during attribute generation')
    faults.checked(NO_PARTIAL)
    smoke = write_smoke_set(str(tmp_path_factory.mktemp('synthetic')))
    straight = tmp_path / 'straight.json'
    generate_attributes(Config.fromfile(VA_CONFIG), smoke['val'], str(straight),
                        batch_size=4, num_workers=0, flush_every=4, progress=False)
    out = tmp_path / 'killed.json'
    proc = subprocess.run([sys.executable, '-c', KILL_AFTER_FLUSH,
                           *generate_args(smoke['val'], out)],
                          cwd=REPO, env=dict(os.environ, KILL_AFTER='2'),
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    partial = read_attributes(str(out))  # a complete JSON, never half-written
    assert len(partial) == 8  # two flushes of four videos, of 32
    assert not read_meta(str(out))['complete']
    from bike_bench.cli.main import main as cli
    assert cli(generate_args(smoke['val'], out)) == 0
    assert out.read_bytes() == straight.read_bytes()
    assert read_meta(str(out))['last_run']['resumed'] == 8


def test_sigkill_during_make_reproduce_resumes(faults, tmp_path_factory, tmp_path):
    """``bike-bench reproduce`` killed after its first run: the rerun keeps
    that run, runs only the rest, and no results file is ever partial."""
    from bike_bench.evaluation.results import validate_results
    from bike_bench.reproduction.reproduce import reproduce, write_synthetic
    from bike_bench.reproduction.settings import ReproduceSettings, SmokeSettings
    faults.tried('interruptions', 'SIGKILL during make reproduce')
    faults.checked(NO_PARTIAL)
    k400 = 'bike_vit-b-p16_clip-openai-pre_8xb32-8x1x1-30e_kinetics400-rgb'
    zero_shot = 'bike_vit-l-p14_k400-pre_zeroshot-8x1x1_ucf101-rgb'
    synth_root = str(tmp_path_factory.mktemp('synthetic'))
    write_synthetic(synth_root, echo=lambda *_: None)
    settings = ReproduceSettings.under(
        str(tmp_path), runs_dir=str(tmp_path / 'runs'), work_dir=str(tmp_path / 'work'),
        tables_dir=str(tmp_path / 'tables'), synth_root=synth_root,
        smoke=SmokeSettings.with_epochs(1))
    command = [sys.executable, '-m', 'bike_bench.cli.main', 'reproduce',
               '--only', k400, zero_shot, '--synth-root', synth_root,
               '--runs-dir', settings.runs_dir, '--work-dir', settings.work_dir,
               '--tables-dir', settings.tables_dir, '--smoke-epochs', '1']
    process = subprocess.Popen(command, cwd=REPO,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    smoke_runs = Path(settings.runs_dir) / 'smoke'
    deadline = time.time() + 300
    while not list(smoke_runs.glob('*.json')) and process.poll() is None:
        assert time.time() < deadline, 'the first entry never finished'
        time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert sorted(p.name for p in smoke_runs.glob('*.json')) == [
        'smoke_general_kinetics400_8f_4x3.json']
    for path in smoke_runs.iterdir():  # nothing half-written, no stray temp file
        assert path.suffix in ('.json', '.py') and not path.name.startswith('.'), path
        if path.suffix == '.json':  # the .py beside it: the config that ran
            validate_results(str(path))
            assert (smoke_runs / (path.stem + '.py')).is_file()
    resumed = reproduce(settings, only=[k400, zero_shot], echo=lambda *_: None)
    assert resumed.skipped == ['smoke_general_kinetics400_8f_4x3']
    assert resumed.ran == ['smoke_zeroshot-half_ucf101_8f_1x1']
