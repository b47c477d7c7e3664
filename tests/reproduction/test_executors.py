"""reproduce --executor local/slurm through submitit: same results as inline,
one array per dependency level with Slurm dependencies, nothing submitted
twice, a killed training resumes to the same weights, --status."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bike_bench.reproduction.executors import ExecutorOptions, build_executor
from bike_bench.reproduction.status import status
from bike_bench.reproduction.reproduce import reproduce, write_synthetic
from bike_bench.reproduction.settings import ReproduceSettings, SmokeSettings

from tests.reproduction import stub_slurm

REPO = Path(__file__).resolve().parents[2]
K400 = 'bike_vit-b-p16_clip-openai-pre_8xb32-8x1x1-30e_kinetics400-rgb'
ZERO_SHOT = 'bike_vit-l-p14_k400-pre_zeroshot-8x1x1_ucf101-rgb'  # child of the K400 twin
TWINS = ['smoke_general_kinetics400_8f_4x3', 'smoke_zeroshot-half_ucf101_8f_1x1']
QUIET = dict(echo=lambda *_: None)


@pytest.fixture(scope='module')
def synth_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('synthetic'))
    write_synthetic(root, echo=lambda *_: None)
    return root


def _settings(folder: Path, synth_root: str, epochs: int = 1) -> ReproduceSettings:
    return ReproduceSettings.under(
        str(folder), runs_dir=str(folder / 'runs'), work_dir=str(folder / 'work'),
        tables_dir=str(folder / 'tables'), synth_root=synth_root,
        smoke=SmokeSettings.with_epochs(epochs))


def _results(settings, twin):
    return json.loads(Path(settings.runs_dir, 'smoke', f'{twin}.json').read_text())


def test_help_does_not_import_submitit_and_starts_fast():
    env = dict(os.environ, PYTHONPATH=str(REPO))
    command = [sys.executable, '-X', 'importtime', '-m', 'bike_bench.cli.main', '--help']
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    assert 'submitit' not in done.stderr
    assert 'reproduce' in done.stdout

    def once():
        start = time.perf_counter()
        subprocess.run([sys.executable, '-m', 'bike_bench.cli.main', '--help'], env=env,
                       stdout=subprocess.DEVNULL, check=True)
        return time.perf_counter() - start
    assert min(once() for _ in range(3)) < 0.5


def test_options_are_checked():
    from bike_bench.reproduction.executors import parse_extra
    assert parse_extra(['account=proj', 'qos=high']) == (('account', 'proj'),
                                                         ('qos', 'high'))
    with pytest.raises(ValueError, match="--slurm-extra 'account': expected KEY=VALUE"):
        parse_extra(['account'])
    with pytest.raises(ValueError, match='--nodes must be >= 1'):
        ExecutorOptions(kind='slurm', nodes=0)
    assert ExecutorOptions(kind='slurm', gpus_per_node=8).launcher == 'slurm'
    assert ExecutorOptions(kind='local', gpus_per_node=8).launcher == 'none'


@pytest.mark.slow
def test_local_executor_gives_the_inline_results(synth_root, tmp_path):
    inline = _settings(tmp_path / 'inline', synth_root)
    reproduce(inline, only=[K400, ZERO_SHOT], **QUIET)
    local = _settings(tmp_path / 'local', synth_root)
    executor = build_executor(ExecutorOptions(kind='local', array_parallelism=2), local,
                              echo=lambda *_: None)
    outcome = reproduce(local, only=[K400, ZERO_SHOT], executor=executor, **QUIET)
    assert sorted(outcome.ran) == TWINS and not outcome.failed
    for twin in TWINS:
        a, b = _results(inline, twin), _results(local, twin)
        assert a['metrics'] == b['metrics'] or json.dumps(a['metrics']) == json.dumps(
            b['metrics'])  # NaN top-5 of the 5-class half splits
        assert a['reproduce']['key'] == b['reproduce']['key']
        assert a['reproduce']['inputs_key'] == b['reproduce']['inputs_key']
    index = json.loads((tmp_path / 'local' / 'work' / 'jobs' / 'index.json').read_text())
    assert set(index) == {f'smoke/{t}' for t in TWINS}
    for record in index.values():  # the job logs stay under work_dirs/reproduce/jobs
        assert Path(record['stderr']).is_file()
        assert Path(record['folder']).parent == tmp_path / 'local' / 'work' / 'jobs'
    lines = []
    states = status(local, ExecutorOptions(kind='local'), only=[K400, ZERO_SHOT],
                    echo=lines.append)
    assert states == {t: 'done' for t in TWINS}, lines


@pytest.mark.slow
def test_slurm_arrays_dependencies_and_nothing_submitted_twice(synth_root, tmp_path,
                                                               monkeypatch):
    state = stub_slurm.install(tmp_path / 'bin', tmp_path / 'slurm', monkeypatch)
    settings = _settings(tmp_path / 'run', synth_root)
    options = ExecutorOptions(kind='slurm', partition='gpu', gpus_per_node=0,
                              timeout_min=90, array_parallelism=3,
                              slurm_extra=(('account', 'bike'),))
    executor = build_executor(options, settings, echo=lambda *_: None)
    outcome = reproduce(settings, only=[K400, ZERO_SHOT], executor=executor, **QUIET)
    assert sorted(outcome.submitted) == TWINS and outcome.ran == []
    recorded = stub_slurm.scripts(state)
    assert len(recorded) == 3  # the K400 twin, its zero-shot child, the tables
    parent, child, tables = recorded.values()
    first = min(recorded)
    for script in (parent, child):
        assert stub_slurm.option(script, 'partition') == 'gpu'
        assert stub_slurm.option(script, 'time') == '90'
        assert stub_slurm.option(script, 'account') == 'bike'
        assert stub_slurm.array_size(script) == 1
        assert str(settings.work_dir) + '/jobs/' in script
    assert stub_slurm.dependencies(parent) == []
    # One job, no array (submitit submits a batch of one as a plain job).
    assert stub_slurm.option(child, 'dependency') == f'afterok:{first}'
    index = json.loads((Path(settings.work_dir) / 'jobs' / 'index.json').read_text())
    assert index[f'smoke/{TWINS[0]}']['job_id'] == str(first)
    assert stub_slurm.option(tables, 'dependency').startswith('afterany:')
    lines = []
    states = status(settings, options, only=[K400, ZERO_SHOT], echo=lines.append)
    assert set(states.values()) == {'queued'}, lines
    task_states = stub_slurm.drain(state)
    assert set(task_states.values()) == {'COMPLETED'}, task_states
    for twin in TWINS:
        assert _results(settings, twin)['reproduce']['twin'] == twin
    # Every results file current: a second invocation submits nothing.
    again = reproduce(settings, only=[K400, ZERO_SHOT],
                      executor=build_executor(options, settings, echo=lambda *_: None),
                      **QUIET)
    assert sorted(again.skipped) == TWINS and again.submitted == []
    assert len(stub_slurm.scripts(state)) == 3


@pytest.mark.slow
def test_full_registry_with_train_one_array_per_level(synth_root, tmp_path, monkeypatch):
    state = stub_slurm.install(tmp_path / 'bin', tmp_path / 'slurm', monkeypatch)
    settings = _settings(tmp_path / 'run', synth_root)
    options = ExecutorOptions(kind='slurm', partition='gpu', gpus_per_node=8, train=True)
    executor = build_executor(options, settings, echo=lambda *_: None)
    outcome = reproduce(settings, executor=executor, **QUIET)
    levels = executor.levels()
    recorded = list(stub_slurm.scripts(state).values())
    seeds = [n for n in executor.jobs if '/seed' in n]
    assert seeds and len(seeds) == 3 * len({n.rsplit('/', 1)[0] for n in seeds})
    # Level 0: one array over every twin without a parent and every seed.
    heavy0 = [j for j in levels[0] if not j.light]
    first = recorded[0]
    assert stub_slurm.array_size(first) == len(heavy0) and not stub_slurm.dependencies(first)
    assert stub_slurm.option(first, 'gpus-per-node') == '8'
    assert stub_slurm.option(first, 'ntasks-per-node') == '8'
    first_id = min(stub_slurm.scripts(state))
    task_of = {job.name: f'{first_id}_{i}' for i, job in enumerate(heavy0)}
    # Every twin with a parent (fine-tunes, zero-shot) waits for its parent's task.
    children = [j for j in levels[1] if not j.light]
    assert children
    wanted = {task_of[p] for j in children for p in j.depends if p in task_of}
    assert wanted and wanted <= set(stub_slurm.dependencies(recorded[1]))
    assert len(outcome.submitted) == len({j.cell for j in executor.jobs.values()}) - 1
    assert stub_slurm.option(recorded[-1], 'dependency').startswith('afterany:')


@pytest.mark.slow
def test_killed_training_job_resumes_to_the_same_weights(synth_root, tmp_path):
    import submitit
    import torch
    from bike_bench.reproduction.executors import SmokeJob, SmokeSpec
    from bike_bench.reproduction.registry import build_registry, find_entry
    from bike_bench.reproduction.reproduce import SmokeRunner
    entries = [find_entry(build_registry(), K400)]
    twin = TWINS[0]
    plain = _settings(tmp_path / 'plain', synth_root, epochs=4)
    runner = SmokeRunner(entries, plain, echo=lambda *_: None)
    uninterrupted = runner.checkpoint(runner.twins()[twin][0])  # inline, in one go
    killed = _settings(tmp_path / 'killed', synth_root, epochs=4)
    job = SmokeJob(name=f'smoke/{twin}/train', spec=SmokeSpec(entries, killed, runner_class=SmokeRunner),
                   twin_id=twin, part='train')
    executor = submitit.AutoExecutor(folder=str(tmp_path / 'jobs' / '%j'), cluster='local')
    executor.update_parameters(timeout_min=30)
    handle = executor.submit(job)
    work = Path(killed.work_dir) / 'smoke' / twin
    deadline = time.time() + 600
    while not (work / 'epoch_1.pth').exists() and time.time() < deadline:
        assert not handle.done(), handle.stderr()
        time.sleep(0.5)
    assert not (work / 'epoch_4.pth').exists()
    # The signal Slurm sends before preemption / the time limit (USR2), to
    # the job's task (submitit's controller, its parent, then requeues it).
    controller = handle._process.pid
    children = Path(f'/proc/{controller}/task/{controller}/children').read_text().split()
    os.kill(int(children[0]), signal.SIGUSR2)
    resumed = handle.result()
    log = handle.stdout()
    assert f'resuming {work} from {work}/epoch_' in log
    assert Path(resumed).name == 'epoch_4.pth'
    a = torch.load(uninterrupted, map_location='cpu', weights_only=False)['state_dict']
    b = torch.load(resumed, map_location='cpu', weights_only=False)['state_dict']
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
