"""Where ``bike-bench reproduce`` runs its cells: here, or as submitit jobs.

A *cell* is one results file of ``reproduce``: a smoke twin, or a
full-scale entry (every config of it). ``reproduce``'s loops decide which
cells need running (their results file is absent, changed or stale) and hand
each to :func:`dispatch` as a list of :class:`Job` s: the cell's run (the
same entry function whatever the executor: ``SmokeRunner.run_cell`` or
:class:`FullEvalJob`), and before it the jobs it needs (the training of a
parent twin, each few-shot seed).

Executors (``--executor``):

- ``inline`` (default): every job in this process, one after another (the
  loop of before; few-shot seeds in one run).
- ``local``: submitit's ``LocalExecutor``: each job a subprocess, few-shot
  seeds separate jobs, up to ``--array-parallelism`` at once; a level of
  jobs waits for the one it depends on.
- ``slurm``: submitit's ``SlurmExecutor``: one job array per dependency level
  (``executor.batch()``), the jobs of a level depending on the array tasks
  of their parents through Slurm (``--dependency=afterok:<job>_<task>``),
  the tables after all of them (``afterany``). With ``--gpus-per-node G``
  each job has G tasks (one per GPU) and its MMEngine Runner uses
  ``launcher='slurm'``.

Dependencies are Slurm's (or, locally, submitit's results of the level
before), never a job waiting on a file. A job whose parent failed is not
run; unrelated cells go on. Job folders and logs:
``<work_dir>/jobs/<job id>/`` (``<root>/work_dirs/reproduce/jobs/%j``); the
index ``<work_dir>/jobs/index.json`` maps each job name to its submitit job,
read by ``bike-bench reproduce --status``.

Trainings run by a job are requeueable: :class:`Job` is a submitit
*Checkpointable* (a ``checkpoint`` method; submitit calls it on preemption
or timeout and requeues what it returns), whose resubmission resumes with
MMEngine's ``resume=True`` from the last checkpoint in the work dir. Those
trainings save a checkpoint every epoch (at most one epoch is lost) and
their random states (``bike_bench.engine.hooks.RandomStatesHook``), so the
resumed run ends with the weights of an uninterrupted one.

submitit is imported only here, inside the functions that submit, so
``bike-bench --help`` and the inline path never load it.
"""
from __future__ import annotations

import copy
import dataclasses
import json
import os
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from bike_bench.utils.atomic import atomic_write_text

EXECUTORS = ('inline', 'local', 'slurm')
INDEX = 'index.json'


@dataclasses.dataclass(frozen=True)
class ExecutorOptions:
    """How ``reproduce`` runs its cells (the ``--executor`` options).

    Attributes:
        kind: ``inline``, ``local`` or ``slurm``.
        train: train the entries without a released checkpoint (``--train``).
        partition, gpus_per_node, nodes, timeout_min, array_parallelism:
            the Slurm resources of every job (``timeout_min`` also bounds a
            local job); ``array_parallelism`` also caps the local jobs that
            run at once.
        slurm_extra: further ``#SBATCH`` options (``--slurm-extra KEY=VALUE``).
        fewshot_seeds: sampling seeds of the full-scale few-shot entries
            (each a separate job; the cell's figure is their mean).
    """

    kind: str = 'inline'
    train: bool = False
    partition: Optional[str] = None
    gpus_per_node: int = 0
    nodes: int = 1
    timeout_min: int = 24 * 60
    array_parallelism: int = 64
    slurm_extra: Tuple[Tuple[str, str], ...] = ()
    fewshot_seeds: Tuple[int, ...] = (0, 1, 2)

    def __post_init__(self):
        if self.kind not in EXECUTORS:
            raise ValueError(f'--executor must be one of {", ".join(EXECUTORS)}, '
                             f'got {self.kind!r}')
        for name in ('nodes', 'timeout_min', 'array_parallelism'):
            if int(getattr(self, name)) < 1:
                raise ValueError(f'--{name.replace("_", "-")} must be >= 1, got '
                                 f'{getattr(self, name)}')
        if self.gpus_per_node < 0:
            raise ValueError(f'--gpus-per-node must be >= 0, got {self.gpus_per_node}')

    @property
    def launcher(self) -> str:
        """MMEngine launcher of a job's Runner: ``slurm`` for Slurm jobs with
        GPUs (one task per GPU), else ``none``."""
        return 'slurm' if self.kind == 'slurm' and self.gpus_per_node else 'none'


def parse_extra(items: Sequence[str]) -> Tuple[Tuple[str, str], ...]:
    """``KEY=VALUE`` strings as pairs; ``ValueError`` naming a malformed one."""
    pairs = []
    for item in items or ():
        key, sep, value = item.partition('=')
        if not sep or not key:
            raise ValueError(f'--slurm-extra {item!r}: expected KEY=VALUE '
                             '(e.g. account=myproject)')
        pairs.append((key.replace('-', '_'), value))
    return tuple(pairs)


# ---------------------------------------------------------------------- jobs
def _main_process() -> bool:
    from mmengine.dist import is_main_process
    return is_main_process()


@dataclasses.dataclass
class Job:
    """One submitit job: a callable that runs part of a cell.

    A submitit *Checkpointable* by duck typing (``checkpoint``), so that
    this module does not import submitit: on preemption or timeout submitit
    calls :meth:`checkpoint` and requeues the returned submission, which
    resumes the training from the work dir's last checkpoint.

    Attributes:
        name: ``<scale>/<cell>`` or ``<scale>/<cell>/<part>``; unique.
        cell: the results file's cell (``<scale>/<cell>``) it belongs to.
        depends: names of the jobs that must have succeeded first.
        light: needs no GPU (aggregation of seeds, tables).
        resume: resume the training from the work dir's last checkpoint.
        launcher: MMEngine launcher of the Runner it builds.
    """

    name: str
    cell: str = ''
    depends: Tuple[str, ...] = ()
    light: bool = False
    resume: bool = False
    launcher: str = 'none'

    def __post_init__(self):
        self.cell = self.cell or self.name

    def __call__(self):
        return self.run()

    def run(self, runner=None):
        raise NotImplementedError

    def checkpoint(self, *args, **kwargs):
        """The resubmission after preemption/timeout: the same job, resuming."""
        from submitit.helpers import DelayedSubmission
        return DelayedSubmission(dataclasses.replace(self, resume=True))


def resumable_train(cfg, resume: bool, launcher: str = 'none') -> None:
    """Train ``cfg`` as a requeueable job does: a checkpoint every epoch
    with the random states (``RandomStatesHook``), resumed with MMEngine's
    ``resume=True`` from the work dir's last checkpoint when ``resume`` and
    one is there; otherwise as ``cfg`` says (``load_from`` a parent)."""
    from bike_bench.checkpoint_io import last_checkpoint
    from bike_bench.evaluation.runner import build_runner
    from mmengine.logging import print_log
    cfg = copy.deepcopy(cfg)
    hook = dict(cfg.default_hooks.get('checkpoint') or dict(type='CheckpointHook'))
    hook.update(interval=1, by_epoch=True)
    cfg.default_hooks.checkpoint = hook
    custom = [h for h in (cfg.get('custom_hooks') or [])
              if h.get('type') != 'RandomStatesHook']
    cfg.custom_hooks = custom + [dict(type='RandomStatesHook')]
    cfg.launcher = launcher
    marker = os.path.join(cfg.work_dir, 'last_checkpoint')
    if resume and os.path.isfile(marker) and os.path.isfile(last_checkpoint(cfg.work_dir)):
        cfg.resume = True
        cfg.load_from = last_checkpoint(cfg.work_dir)
        print(f'resuming {cfg.work_dir} from {cfg.load_from}', flush=True)
    else:
        print_log(f'training {cfg.work_dir} (requeueable: checkpoint every epoch)',
                  logger='current')
    build_runner(cfg).train()


@dataclasses.dataclass
class SmokeSpec:
    """What a job needs to rebuild the ``SmokeRunner`` of ``reproduce``."""

    entries: list
    settings: object
    rerun: bool = False
    keep_stale: bool = False
    # reproduce's SmokeRunner (given by it: reproduce sits above this module)
    runner_class: Optional[type] = None

    def runner(self, job: Job):
        if self.runner_class is None:
            raise ValueError('SmokeSpec needs runner_class (reproduce.SmokeRunner)')

        class JobSmokeRunner(self.runner_class):
            reuse_fewshot_seeds = True

            def train(self, cfg) -> None:
                resumable_train(cfg, job.resume, job.launcher)

        return JobSmokeRunner(self.entries, self.settings, print, self.rerun,
                              self.keep_stale)


@dataclasses.dataclass
class SmokeJob(Job):
    """A smoke twin's cell (``part='run'``), the training of a parent twin
    (``'train'``) or one few-shot seed (``'seed'``)."""

    spec: Optional[SmokeSpec] = None
    twin_id: str = ''
    part: str = 'run'
    seed: Optional[int] = None

    def run(self, runner=None):
        runner = runner or self.spec.runner(self)
        if self.part == 'run':
            return runner.run_cell(self.twin_id)
        twin = _twin_by_id(runner, self.twin_id)
        if self.part == 'train':
            return runner.checkpoint(twin)
        from bike_bench.evaluation.fewshot import run_fewshot
        twin, entries = runner.twins()[self.twin_id]
        cfg = runner.twin_config(twin, entries[0])
        run_fewshot(cfg, shots=[twin.shots], seeds=[self.seed],
                    work_dir=os.path.join(runner.work_dir, twin.id), resume=True)


def _twin_by_id(runner, twin_id: str):
    for name, (twin, _) in runner.twins().items():
        if name == twin_id:
            return twin
        node = twin.parent
        while node is not None:
            if node.id == twin_id:
                return node
            node = node.parent
    raise KeyError(f'no twin {twin_id} in this reproduce run')


@dataclasses.dataclass
class FullEvalJob(Job):
    """A full-scale entry: its released checkpoint evaluated by its protocol."""

    entry: object = None
    cfgs: list = dataclasses.field(default_factory=list)
    checkpoint: str = ''
    manifests: list = dataclasses.field(default_factory=list)
    out: str = ''
    keys: dict = dataclasses.field(default_factory=dict)
    scratch: str = ''

    def run(self, runner=None):
        from bike_bench.reproduction.protocols import protocol
        from bike_bench.reproduction.run_files import finish
        cfgs = copy.deepcopy(self.cfgs)
        for cfg in cfgs:
            cfg.launcher = self.launcher
        results = protocol(self.entry.protocol).run_full(
            cfgs, self.checkpoint, self.manifests, self.scratch, self.entry)
        if results is not None and _main_process():
            finish(results, self.out, keys=self.keys, scale='full', entries=[self.entry],
                   twin=None)


@dataclasses.dataclass
class FullTrainJob(Job):
    """``--train``: a full-scale entry trained by its own config, then tested
    (``part='train'`` / ``'test'``), or one few-shot seed (``'seed'``) and
    the mean over them (``'fewshot'``)."""

    entry: object = None
    cfg: object = None
    part: str = 'train'
    seed: Optional[int] = None
    seeds: Tuple[int, ...] = ()
    parent_work_dir: Optional[str] = None  # load_from its last checkpoint
    out: str = ''
    keys: dict = dataclasses.field(default_factory=dict)

    def run(self, runner=None):
        from bike_bench.checkpoint_io import last_checkpoint
        from bike_bench.reproduction.run_files import finish
        cfg = copy.deepcopy(self.cfg)
        cfg.launcher = self.launcher
        if self.part == 'train':
            from bike_bench.engine.run_config import materialize
            if self.parent_work_dir:
                cfg.load_from = last_checkpoint(self.parent_work_dir)
            resumable_train(materialize(cfg, stem=self.entry.id), self.resume,
                            self.launcher)
            return None
        if self.part == 'test':
            from bike_bench.evaluation.harness import run_test
            from bike_bench.engine.run_config import materialize
            results = run_test(materialize(cfg, stem=self.entry.id),
                               last_checkpoint(cfg.work_dir),
                               out=os.path.join(cfg.work_dir, 'results', 'run.json'),
                               run_id=self.entry.id, replace=True)
        else:
            from bike_bench.evaluation.fewshot import run_fewshot, shot_results
            seeds = [self.seed] if self.part == 'seed' else list(self.seeds)
            summary = run_fewshot(cfg, shots=[self.entry.shots], seeds=seeds,
                                  work_dir=cfg.work_dir, resume=True,
                                  train=lambda c: resumable_train(c, self.resume, self.launcher))
            if self.part == 'seed':
                return None
            results = shot_results(summary['by_shots'][str(self.entry.shots)])
        if results is not None and _main_process():
            finish(results, self.out, keys=self.keys, scale='full', entries=[self.entry],
                   twin=None)
        return None


@dataclasses.dataclass
class TablesJob(Job):
    """The tables, from whatever results files exist (after every job)."""

    runs_dir: str = ''
    tables_dir: str = ''

    def run(self, runner=None):
        from bike_bench.reproduction.tables import build_tables
        return build_tables(self.runs_dir, self.tables_dir)


# ------------------------------------------------------------ planning cells
def dispatch(executor, progress, name: str, action: str, jobs: List[Job], outcome,
             runner=None) -> None:
    """Run (inline) or queue (local/slurm) the jobs of the cell ``name``."""
    if executor is None or executor.options.kind == 'inline':
        with progress.step(name, action):
            for job in jobs:
                job.run(runner)
        outcome.ran.append(name)
        return
    executor.queue(progress, name, action, jobs, outcome)


def dispatch_smoke(runner, twin, entries, action: str, progress) -> None:
    """The jobs of a smoke twin's cell; ``SmokeRunner.run`` calls it."""
    executor = runner.executor
    if executor is None or executor.options.kind == 'inline':
        job = SmokeJob(name=f'smoke/{twin.id}', twin_id=twin.id)
        return dispatch(None, progress, twin.id, action, [job], runner.outcome, runner)
    options = executor.options
    spec = SmokeSpec(runner.entries, runner.settings, runner.rerun, runner.keep_stale,
                     type(runner))
    cell = f'smoke/{twin.id}'
    jobs: List[Job] = []
    depends: List[str] = []
    if twin.parent is not None:
        parent = f'smoke/{twin.parent.id}'
        if parent not in executor.jobs:  # not measured here: trained for it
            jobs.append(SmokeJob(name=f'{parent}/train', cell=cell, spec=spec,
                                 twin_id=twin.parent.id, part='train',
                                 depends=executor.parent_of(twin.parent),
                                 launcher=options.launcher))
            parent = jobs[-1].name
        depends.append(parent)
    if twin.protocol == 'fewshot':
        seeds = [SmokeJob(name=f'{cell}/seed{seed}', cell=cell, spec=spec,
                          twin_id=twin.id, part='seed', seed=seed,
                          depends=tuple(depends), launcher=options.launcher)
                 for seed in runner.fewshot_seeds]
        jobs.extend(seeds)
        depends = [job.name for job in seeds]
    jobs.append(SmokeJob(name=cell, spec=spec, twin_id=twin.id, depends=tuple(depends),
                         light=twin.protocol == 'fewshot', launcher=options.launcher))
    dispatch(executor, progress, twin.id, action, jobs, runner.outcome)


def dispatch_full_training(executor, entry, cfgs, manifests, checkpoints, out_dir,
                           work_dir, progress, outcome) -> None:
    """``--train``: the jobs that train and test an entry without a released
    checkpoint (few-shot: one job per seed, then their mean); a fine-tune
    starts from its parent's released checkpoint, or, when that is not in
    ``checkpoints``, after the job training the parent."""
    from bike_bench.datasets.manifest import read_manifest
    from bike_bench.evaluation.provenance import config_key_hash, run_key
    from bike_bench.reproduction.outcome import Missing
    from bike_bench.reproduction.run_files import measured_with, previous_state
    from bike_bench.evaluation.results import read_valid_results
    cfg = copy.deepcopy(cfgs[0])
    train_manifest = cfg.train_dataloader.dataset.ann_file if cfg.get(
        'train_dataloader') else None
    if not train_manifest or not os.path.isfile(train_manifest):
        outcome.missing.append(Missing(entry.id, [f'training manifest not built: '
                                                  f'{train_manifest}']))
        return
    options = executor.options
    parent_job, parent_dir, parent_checkpoint = None, None, None
    if entry.parent:
        parent = executor.entry_for(entry.parent)
        released = [w for w in (parent.weights if parent else []) if w]
        path = os.path.join(checkpoints or 'checkpoints', released[0]) if released else None
        if path and os.path.isfile(path):
            cfg.load_from = parent_checkpoint = path
        elif parent is not None and f'full/{parent.id}/train' in executor.jobs:
            parent_job = f'full/{parent.id}/train'
            parent_dir = os.path.join(work_dir, 'full', parent.id)
        else:
            outcome.missing.append(Missing(entry.id, [
                f'parent checkpoint of {entry.parent} neither released in '
                f'{checkpoints or "checkpoints"} nor trained in this run']))
            return
    seeds = tuple(options.fewshot_seeds) if entry.protocol == 'fewshot' else ()
    keys = run_key([[config_key_hash(c) for c in cfgs], 'trained',
                    [read_manifest(m, check_labels=False).content_hash
                     for m in [train_manifest] + list(manifests)],
                    parent_checkpoint and os.path.basename(parent_checkpoint),
                    parent_job, list(seeds)])
    out = os.path.join(out_dir, f'{entry.id}.json')
    done = read_valid_results(out)
    state = previous_state(done, keys)
    if state == 'current':
        with progress.step(entry.id, 'done, skipped'):
            outcome.skipped.append(entry.id)
        return
    cfg.work_dir = os.path.join(work_dir, 'full', entry.id)
    cell = f'full/{entry.id}'
    common = dict(entry=entry, cfg=cfg, out=out, keys=keys, cell=cell,
                  launcher=options.launcher)
    if seeds:
        jobs = [FullTrainJob(name=f'{cell}/seed{s}', part='seed', seed=s, **common)
                for s in seeds]
        jobs.append(FullTrainJob(name=cell, part='fewshot', seeds=seeds, light=True,
                                 depends=tuple(j.name for j in jobs), **common))
    else:
        train = FullTrainJob(name=f'{cell}/train', part='train', parent_work_dir=parent_dir,
                             depends=(parent_job,) if parent_job else (), **common)
        jobs = [train, FullTrainJob(name=cell, part='test', depends=(train.name,),
                                    **common)]
    action = f'training ({entry.protocol}{", seeds " + str(list(seeds)) if seeds else ""})'
    if state == 'stale':
        action = f'stale: measured with {measured_with(done)}; ' + action
    dispatch(executor, progress, entry.id, action, jobs, outcome)


# ------------------------------------------------------------------ executors
def jobs_dir(settings) -> str:
    """``<work_dir>/jobs``: submitit's job folders and the index."""
    return os.path.join(settings.work_dir, 'jobs')


def read_index(folder: str) -> Dict[str, dict]:
    path = os.path.join(folder, INDEX)
    if not os.path.isfile(path):
        return {}
    with open(path, encoding='utf-8') as handle:
        return json.load(handle)


class SubmititExecutor:
    """Queues the cells' jobs while ``reproduce`` plans, submits them in
    :meth:`finish` (one array per dependency level)."""

    def __init__(self, options: ExecutorOptions, settings, echo: Callable[[str], None]
                 = print, entries: Sequence = ()):
        self.options = options
        self.settings = settings
        self.echo = echo
        self.folder = jobs_dir(settings)
        self.jobs: Dict[str, Job] = {}
        self.registry = {e.id: e for e in entries}

    def entry_for(self, name: str):
        from bike_bench.reproduction.registry import _entry_for_config
        try:
            return _entry_for_config(self.registry, name)
        except KeyError:
            return None

    def parent_of(self, twin) -> Tuple[str, ...]:
        if twin.parent is None:
            return ()
        for name in (f'smoke/{twin.parent.id}', f'smoke/{twin.parent.id}/train'):
            if name in self.jobs:
                return (name,)
        return ()

    def queue(self, progress, name, action, jobs, outcome) -> None:
        with progress.step(name, f'{action}: queued for --executor {self.options.kind} '
                           f'({len(jobs)} job{"s" if len(jobs) > 1 else ""})'):
            for job in jobs:
                if job.name not in self.jobs:
                    self.jobs[job.name] = job
        outcome.submitted.append(name)

    def levels(self) -> List[List[Job]]:
        """The queued jobs by dependency level (parents first)."""
        depth: Dict[str, int] = {}

        def level(name: str) -> int:
            if name not in depth:
                parents = [p for p in self.jobs[name].depends if p in self.jobs]
                depth[name] = 1 + max((level(p) for p in parents), default=-1)
            return depth[name]
        for name in self.jobs:
            level(name)
        out: List[List[Job]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
        for name, job in self.jobs.items():
            out[depth[name]].append(job)
        return out

    def _executor(self, light: bool, dependency: Optional[str] = None):
        import submitit
        executor = submitit.AutoExecutor(folder=os.path.join(self.folder, '%j'),
                                         cluster=self.options.kind)
        gpus = 0 if light else self.options.gpus_per_node
        params = dict(timeout_min=self.options.timeout_min, gpus_per_node=gpus,
                      tasks_per_node=max(1, gpus), nodes=1 if light else self.options.nodes,
                      name='bike-bench-reproduce')
        if self.options.kind == 'slurm':
            extra = dict(self.options.slurm_extra)
            if dependency:
                extra['dependency'] = dependency
            params.update(slurm_array_parallelism=self.options.array_parallelism,
                          slurm_additional_parameters=extra)
            if self.options.partition:
                params['slurm_partition'] = self.options.partition
        executor.update_parameters(**params)
        return executor

    def _record(self, submitted: Dict[str, object]) -> None:
        index = read_index(self.folder)
        for name, job in submitted.items():
            index[name] = dict(job_id=str(job.job_id), executor=self.options.kind,
                               cell=self.jobs[name].cell if name in self.jobs else name,
                               folder=os.path.dirname(str(job.paths.stdout)),
                               stdout=str(job.paths.stdout), stderr=str(job.paths.stderr),
                               submitted=time.strftime('%Y-%m-%dT%H:%M:%S'))
        os.makedirs(self.folder, exist_ok=True)
        atomic_write_text(os.path.join(self.folder, INDEX),
                          json.dumps(index, indent=1, sort_keys=True) + '\n')

    def finish(self, outcome) -> Dict[str, object]:
        """Submit every queued job; ``local`` waits for them (a level after
        the one it depends on), ``slurm`` returns once submitted."""
        if not self.jobs:
            return {}
        submitted: Dict[str, object] = {}
        failed: Dict[str, str] = {}
        for level in self.levels():
            runnable = []
            for job in level:
                broken = [p for p in job.depends if p in failed]
                if broken:
                    failed[job.name] = f'not run: {broken[0]} failed ({failed[broken[0]]})'
                    continue
                runnable.append(job)
            for light in (False, True):
                group = [job for job in runnable if job.light == light]
                if self.options.kind == 'slurm':
                    self._submit_slurm(group, light, submitted)
                else:
                    self._run_local(group, light, submitted, failed)
        if self.options.kind == 'slurm' and submitted:
            after = ':'.join(str(j.job_id) for j in submitted.values())
            tables = TablesJob(name='tables', runs_dir=self.settings.runs_dir,
                               tables_dir=self.settings.tables_dir, light=True)
            executor = self._executor(True, f'afterany:{after}')
            self.jobs['tables'] = tables
            submitted['tables'] = executor.submit(tables)
            self._record({'tables': submitted['tables']})
            self.echo(f'submitted {len(submitted)} Slurm jobs ({len(submitted) - 1} '
                      f'cells\' jobs and the tables); logs under {self.folder}; '
                      'watch with `bike-bench reproduce --status`')
        cells_failed = sorted({self.jobs[n].cell for n in failed})
        for cell in cells_failed:
            name = cell.split('/', 1)[1]
            outcome.failed.append(name)
            reasons = [f'{n}: {why}' for n, why in failed.items() if self.jobs[n].cell == cell]
            self.echo(f'- {name} failed: ' + '; '.join(reasons))
        if self.options.kind == 'local':
            cells = {job.cell for job in self.jobs.values()}
            outcome.ran.extend(c.split('/', 1)[1] for c in sorted(cells)
                               if c not in cells_failed and c != 'tables')
        return submitted

    def _submit_slurm(self, group: List[Job], light: bool, submitted) -> None:
        if not group:
            return
        parents = sorted({str(submitted[p].job_id) for job in group for p in job.depends
                          if p in submitted})
        executor = self._executor(light, 'afterok:' + ':'.join(parents) if parents else None)
        with executor.batch():
            handles = [executor.submit(job) for job in group]
        batch = {job.name: handle for job, handle in zip(group, handles)}
        submitted.update(batch)
        self._record(batch)

    def _run_local(self, group: List[Job], light: bool, submitted, failed) -> None:
        size = self.options.array_parallelism
        for start in range(0, len(group), size):
            chunk = group[start:start + size]
            executor = self._executor(light)
            with executor.batch():
                handles = [executor.submit(job) for job in chunk]
            batch = {job.name: handle for job, handle in zip(chunk, handles)}
            submitted.update(batch)
            self._record(batch)
            for name, handle in batch.items():
                error = handle.exception()
                if error is not None:
                    failed[name] = f'log {handle.paths.stderr}'
                    self.echo(f'{name}: failed, see {handle.paths.stderr}')


def build_executor(options: ExecutorOptions, settings, echo: Callable[[str], None] = print):
    """None for ``inline`` (``reproduce`` runs the cells itself), else the
    executor that queues and submits them."""
    if options.kind == 'inline':
        if options.train:
            return _InlineTraining(options)
        return None
    from bike_bench.reproduction.registry import build_registry
    return SubmititExecutor(options, settings, echo, build_registry())


class _InlineTraining:
    """``--executor inline --train``: the training jobs run here, in order."""

    def __init__(self, options: ExecutorOptions):
        from bike_bench.reproduction.registry import build_registry
        self.options = options
        self.jobs: Dict[str, Job] = {}
        self.registry = {e.id: e for e in build_registry()}

    entry_for = SubmititExecutor.entry_for

    def finish(self, outcome) -> None:
        return None


# -------------------------------------------------------------------- status
def _job_state(record: dict) -> Tuple[str, str]:
    """(``done``/``queued``/``running``/``failed``, detail) of a job record."""
    import pickle
    folder, job_id = record['folder'], record['job_id']
    result = os.path.join(folder, f'{job_id}_0_result.pkl')
    if os.path.isfile(result):
        with open(result, 'rb') as handle:
            outcome, _ = pickle.load(handle)
        if outcome == 'success':
            return 'done', ''
        return 'failed', f'log {record["stderr"]}'
    if record['executor'] == 'slurm':
        import submitit
        state = submitit.SlurmJob(folder=os.path.dirname(folder) + '/%j',
                                  job_id=job_id).state
        if state in ('PENDING', 'REQUEUED', 'CONFIGURING'):
            return 'queued', f'job {job_id}'
        if state in ('RUNNING', 'COMPLETING'):
            return 'running', f'job {job_id}, log {record["stdout"]}'
        if state in ('UNKNOWN',):
            return 'queued', f'job {job_id} (Slurm does not know it yet)'
        return 'failed', f'{state}, log {record["stderr"]}'
    try:  # local: the controller's process
        os.kill(int(job_id), 0)
        return 'running', f'pid {job_id}, log {record["stdout"]}'
    except (OSError, ValueError):
        return 'failed', f'ended without a result, log {record["stderr"]}'


class _Recorder:
    """Stands in for an executor while ``--status`` plans: records which
    cells would run and their jobs, runs nothing."""

    def __init__(self, options: ExecutorOptions):
        from bike_bench.reproduction.registry import build_registry
        self.options = dataclasses.replace(options, kind='local')
        self.jobs: Dict[str, Job] = {}
        self.cells: Dict[str, Tuple[str, List[Job]]] = {}
        self.registry = {e.id: e for e in build_registry()}

    entry_for = SubmititExecutor.entry_for
    parent_of = SubmititExecutor.parent_of

    def queue(self, progress, name, action, jobs, outcome) -> None:
        for job in jobs:
            self.jobs.setdefault(job.name, job)
        self.cells[name] = (action, jobs)

    def finish(self, outcome) -> None:
        return None
