"""``make reproduce``: run the registry's experiments, then build the tables.

Without data it writes the synthetic benchmark and runs every entry's smoke
twin on the CPU (scale ``smoke``). With ``data_root`` it runs the real
entries whose manifests and checkpoints are present (scale ``full``) and
lists precisely what is missing for the others.

Where it reads and writes and how the twins train is a
:class:`~bike_bench.reproduction.settings.ReproduceSettings` the command line
builds from its options (every folder under the user's output root). Every
run ends in one results JSON under ``<runs_dir>/<scale>/`` (written
atomically) carrying a ``reproduce`` section: the run key (config, manifests
and parent), the entries it measures and the paper rows it fills. A run
whose file exists with the same key is not repeated, so an interrupted
reproduce resumes where it stopped and a second run executes nothing.
"""
from __future__ import annotations

import copy
import dataclasses
import json
import os
import time
from typing import Callable, Dict, List, Optional, Sequence

from bike_bench.checkpoint_io import last_checkpoint
from bike_bench.evaluation.results import read_valid_results
from bike_bench.evaluation.runner import build_runner
from bike_bench.reproduction.executors import (FullEvalJob, dispatch, dispatch_full_training,
                                              dispatch_smoke)
from bike_bench.reproduction.outcome import Missing, Outcome, _Progress
from bike_bench.reproduction.protocols import protocol
from bike_bench.reproduction.run_files import finish as _finish
from bike_bench.reproduction.run_files import measured_with, previous_state
from bike_bench.reproduction.registry import Experiment, SmokeTwin, build_registry
from bike_bench.reproduction import smoke_twins as twins_mod
from bike_bench.reproduction.settings import ReproduceSettings
from bike_bench.utils.atomic import atomic_write_text

DATA_ROOT = twins_mod.DATA_ROOT  # the package data (configs)
# Enough videos per class for 5-shot sampling from the UCF/HMDB splits.
SYNTH_VIDEOS_PER_CLASS = 12
# Zero-shot flavours: 10 held-out compositions (5 per half-class split).
SYNTH_ZEROSHOT_CLASSES = 10


def reuse_or_run(progress: _Progress, outcome: Outcome, name: str,
                 done: Optional[dict], keys: Dict[str, str], keep_stale: bool,
                 running: str) -> Optional[str]:
    """Whether a run's existing results file ``done`` stands (``None``: kept,
    counted in ``outcome`` and shown as a step) or the run goes ahead (the
    step's line, ``running``, said stale where it is).

    A file with the current run key is done; one of the same inputs measured
    with other code is *stale*: run again, or kept when ``keep_stale``;
    anything else (absent, other inputs) runs (``run_files.previous_state``).
    """
    state = previous_state(done, keys)
    if state == 'current':
        with progress.step(name, 'done, skipped'):
            outcome.skipped.append(name)
        return None
    if state == 'stale' and keep_stale:
        with progress.step(name, f'stale (measured with {measured_with(done)}'
                           '), kept as --keep-stale asks'):
            outcome.stale.append(name)
        return None
    if state == 'stale':
        return f'stale: measured with {measured_with(done)}; running again: {running}'
    return running


# --------------------------------------------------------------------- smoke
class SmokeRunner:
    """Runs smoke twins in dependency order, reusing finished runs."""

    # Few-shot seeds run as separate jobs (--executor local/slurm): the
    # twin's run reuses each seed's results file (``run_fewshot(resume=)``).
    reuse_fewshot_seeds = False

    def __init__(self, entries: Sequence[Experiment], settings: ReproduceSettings,
                 echo: Callable[[str], None] = print,
                 rerun: bool = False, keep_stale: bool = False, executor=None):
        self.entries = list(entries)
        self.by_id = {e.id: e for e in build_registry()} | {e.id: e for e in entries}
        self.settings = settings
        self.runs_dir = os.path.join(settings.runs_dir, 'smoke')
        self.work_dir = os.path.join(settings.work_dir, 'smoke')
        self.synth_root = settings.synth_root
        self.fewshot_seeds = settings.smoke.fewshot_seeds
        self.echo = echo
        self.keys: Dict[str, Dict[str, str]] = {}
        self.configs: Dict[str, object] = {}
        self.rerun = rerun
        self.keep_stale = keep_stale
        self.outcome = Outcome()
        self.executor = executor  # None: inline (bike_bench.reproduction.executors)

    def twins(self) -> Dict[str, tuple]:
        """twin id -> (twin, entries), parents before children."""
        groups: Dict[str, tuple] = {}
        for entry in self.entries:
            twin = SmokeTwin.of(entry, self.by_id)
            chain = []
            node = twin
            while node is not None:
                chain.append(node)
                node = node.parent
            for node in reversed(chain):
                groups.setdefault(node.id, (node, []))
            groups[twin.id][1].append(entry)
        return groups

    def _representative(self, twin: SmokeTwin, entries: List[Experiment]) -> Experiment:
        if entries:
            return entries[0]
        # A parent twin that no selected entry measures: any entry with it.
        for entry in self.by_id.values():
            if SmokeTwin.of(entry, self.by_id).id == twin.id:
                return entry
        raise KeyError(f'no registry entry has the twin {twin.id}')

    def _config(self, twin, entry):
        return twins_mod.twin_config(entry, twin, self.synth_root,
                                     os.path.join(self.work_dir, twin.id),
                                     self.settings.smoke)

    def _evaluated(self, cfg):
        """``cfg`` as a twin is evaluated with: the settings'
        ``eval_transform`` applied to a copy (``cfg`` itself without one)."""
        transform = self.settings.eval_transform
        if transform is None:
            return cfg
        cfg = copy.deepcopy(cfg)
        transform(cfg)
        return cfg

    def _manifests(self, twin: SmokeTwin, cfg) -> List[str]:
        paths = []
        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            if cfg.get(loader):
                paths.append(cfg[loader]['dataset']['ann_file'])
        if twin.protocol.startswith('zeroshot'):
            found = twins_mod.manifest_path(self.synth_root, twin.dataset, 'zeroshot')
            paths.extend(found if isinstance(found, list) else [found])
        return sorted(set(paths))

    def keys_of(self, twin: SmokeTwin, entry: Experiment) -> Dict[str, str]:
        """``inputs_key`` and ``run_key`` (with the code) of a twin."""
        if twin.id not in self.keys:
            parent_key = None
            if twin.parent is not None:
                parent_key = self.keys_of(
                    twin.parent, self._representative(twin.parent, []))['inputs_key']
            cfg = self._config(twin, entry)
            self.keys[twin.id] = twins_mod.run_keys(
                twin, cfg, self.synth_root, self._manifests(twin, cfg), parent_key)
        return self.keys[twin.id]

    def key(self, twin: SmokeTwin, entry: Experiment) -> str:
        return self.keys_of(twin, entry)['run_key']

    def result_keys(self, twin: SmokeTwin, entry: Experiment) -> Dict[str, str]:
        """The keys of a twin's results file: :meth:`keys_of`, and with an
        ``eval_transform`` also the evaluated config (the checkpoints it
        evaluates keep theirs)."""
        keys = self.keys_of(twin, entry)
        if self.settings.eval_transform is None:
            return keys
        from bike_bench.evaluation.provenance import run_key
        evaluated = self._evaluated(self._config(twin, entry))
        return run_key([keys['inputs_key'],
                        twins_mod.config_key_text(evaluated, self.synth_root)])

    def attributes(self, cfg) -> None:
        """Generate the attribute sentences a twin's datasets read.

        A file generated from other inputs or code is generated again
        (``generate_attributes`` resumes only an identical run).
        """
        from bike_bench.attributes.generate import generate_attributes
        from bike_bench.datasets.attribute_sentences import AttributesFileError, meta_path
        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            dataset = cfg[loader]['dataset'] if cfg.get(loader) else {}
            target = dataset.get('attributes_file')
            if not target:
                continue
            for attempt in (1, 2):
                try:
                    generate_attributes(cfg, dataset['ann_file'], target,
                                        lexicon='classes', topk=dataset.get('topk', 5),
                                        num_workers=0, progress=False)
                    break
                except AttributesFileError as error:
                    if attempt == 2:
                        raise
                    self.echo(f'  {error}: generating it again')
                    for path in (target, meta_path(target)):
                        if os.path.exists(path):
                            os.remove(path)

    def checkpoint(self, twin: SmokeTwin) -> str:
        """The trained checkpoint of a twin, training it if needed."""
        from bike_bench.evaluation.runner import build_runner
        entry = self._representative(twin, [])
        key = self.key(twin, entry)
        work_dir = os.path.join(self.work_dir, twin.id)
        marker = os.path.join(work_dir, 'reproduce_key.txt')
        if not self.rerun and os.path.isfile(marker):
            with open(marker) as handle:
                trained = handle.read().strip() == key
            if trained and os.path.isfile(os.path.join(work_dir, 'last_checkpoint')):
                path = last_checkpoint(work_dir)
                if os.path.isfile(path):
                    return path
        cfg = self.config(twin)
        self.attributes(cfg)
        self.train(cfg)
        atomic_write_text(marker, key + '\n')
        return last_checkpoint(work_dir)

    def train(self, cfg) -> None:
        """Train a twin's config (a job overrides it: resumable training)."""
        build_runner(cfg).train()

    def twin_config(self, twin: SmokeTwin, entry: Experiment):
        """The config the twin is evaluated with (few-shot: trained and
        tested), its attribute files generated."""
        cfg = self._evaluated(self._config(twin, entry))
        self.attributes(cfg)
        return cfg

    def config(self, twin: SmokeTwin):
        """The twin's config as the file that trains and tests it.

        Written (``materialize``) under ``<work_dir>/<twin>/configs/``; a
        fine-tuned twin's ``load_from`` names its parent's checkpoint.
        """
        from bike_bench.engine.run_config import materialize
        if twin.id not in self.configs:
            cfg = self._config(twin, self._representative(twin, []))
            if twin.parent is not None:
                cfg.load_from = self.checkpoint(twin.parent)
            self.configs[twin.id] = materialize(cfg, stem=twin.id)
        return self.configs[twin.id]

    def eval_config(self, twin: SmokeTwin):
        """The file a trained twin is tested with: :meth:`config`, or with an
        ``eval_transform`` its transformed copy written beside it."""
        from bike_bench.engine.run_config import materialize
        cfg = self.config(twin)
        if self.settings.eval_transform is None:
            return cfg
        return materialize(self._evaluated(cfg), stem=twin.id)

    def run(self, progress: _Progress) -> Outcome:
        os.makedirs(self.runs_dir, exist_ok=True)
        for twin_id, (twin, entries) in self.twins().items():
            if not entries:
                continue  # a parent only; trained when a child needs it
            entry = entries[0]
            keys = self.result_keys(twin, entry)
            out = os.path.join(self.runs_dir, f'{twin_id}.json')
            done = None if self.rerun else read_valid_results(out)
            action = reuse_or_run(progress, self.outcome, twin_id, done, keys,
                                  self.keep_stale, f'running ({twin.protocol})')
            if action is None:
                continue
            dispatch_smoke(self, twin, entries, action, progress)
        return self.outcome

    def run_cell(self, twin_id: str) -> None:
        """Run a twin and write its results file: what every executor runs."""
        twin, entries = self.twins()[twin_id]
        entry = entries[0]
        keys = self.result_keys(twin, entry)
        out = os.path.join(self.runs_dir, f'{twin_id}.json')
        scratch = os.path.join(self.work_dir, twin_id, 'results', 'run.json')
        results = protocol(twin.protocol).run_smoke(self, twin, entry, scratch)
        _finish(results, out, keys=keys, scale='smoke', entries=entries, twin=twin_id)


def write_synthetic(synth_root: str, echo: Callable[[str], None] = print) -> None:
    """The synthetic benchmark, unless it is already there and complete."""
    from bike_bench.datasets.synthetic_benchmark import SynthConfig, write_benchmark
    marker = os.path.join(synth_root, '.complete')
    config = SynthConfig(videos_per_class=SYNTH_VIDEOS_PER_CLASS,
                         zeroshot_classes=SYNTH_ZEROSHOT_CLASSES)
    # The marker names the settings and the renderer's code: videos written
    # by another renderer are written again, never reused.
    from bike_bench.datasets import synthetic, synthetic_benchmark
    from bike_bench.utils.hashing import file_sha256
    renderer = {os.path.basename(m.__file__): file_sha256(m.__file__)
                for m in (synthetic, synthetic_benchmark)}
    expected = json.dumps(dict(dataclasses.asdict(config), renderer=renderer), sort_keys=True)
    if os.path.isfile(marker) and open(marker).read() == expected:
        return
    echo(f'writing the synthetic benchmark to {synth_root} ...')
    write_benchmark(synth_root, config)
    atomic_write_text(marker, expected)


# ---------------------------------------------------------------------- full
def _data_path(path: str, data_root: str) -> str:
    if path.startswith('data/'):
        return os.path.join(data_root, path[len('data/'):])
    return path


def _full_config(entry: Experiment, config: str, data_root: str, work_dir: str):
    from mmengine.config import Config
    from bike_bench.engine.run_config import derive
    cfg = Config.fromfile(os.path.join(DATA_ROOT, config))
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if cfg.get(loader):
            dataset = cfg[loader]['dataset']
            for field in ('ann_file', 'class_table'):
                if isinstance(dataset.get(field), str):
                    dataset[field] = _data_path(dataset[field], data_root)
    cfg.work_dir = work_dir
    if os.path.normpath(data_root) != 'data':
        derive(cfg, f'data root {data_root}')
    return cfg


def run_full(entries: Sequence[Experiment], data_root: str, checkpoints: Optional[str],
             runs_dir: str, work_dir: str, progress: _Progress,
             keep_stale: bool = False, min_coverage: float = 1.0,
             executor=None) -> Outcome:
    """Evaluate the official checkpoints of every entry whose data is present
    (and covers ``min_coverage`` of its manifests: datasets.coverage)."""
    from bike_bench.datasets.specs import describe_missing, source_status
    from bike_bench.evaluation.harness import checkpoint_record
    from bike_bench.models.pretrained import (PretrainedWeightsUnavailable,
                                              weights_from_checkpoint)
    outcome = Outcome()
    out_dir = os.path.join(runs_dir, 'full')
    for entry in entries:
        cfgs = [_full_config(entry, c, data_root, os.path.join(work_dir, 'full', entry.id))
                for c in entry.configs]
        manifests = [cfg.test_dataloader.dataset.ann_file for cfg in cfgs]
        lacking = [m for m in manifests if not os.path.isfile(m)]
        what = []
        if lacking:
            statuses = [s for s in source_status(data_root, [entry.dataset])
                        if os.path.abspath(s.path) in map(os.path.abspath, lacking)]
            what.append('manifests not built: ' + ', '.join(lacking))
            if any(s.buildable for s in statuses):
                what.append(f'  sources present: run `bike-bench manifests build '
                            f'{entry.dataset} --data-root {data_root}`')
            else:
                what.append(describe_missing(statuses))
        else:  # videos present / listed, measured and printed before anything runs
            from bike_bench.datasets.coverage import CoverageError, cover_configs
            try:
                manifests = cover_configs(cfgs, entry.id, min_coverage,
                                          os.path.join(work_dir, 'full'), progress.echo)
            except CoverageError as error:
                what.append(str(error))
        weights = [w for w in entry.weights if w]
        checkpoint = None
        if not protocol(entry.protocol).released_checkpoint or not weights:
            what.append('no released checkpoint: train it (`bike-bench train '
                        f'{entry.config}` / `bike-bench fewshot`)')
        else:
            checkpoint = os.path.join(checkpoints or 'checkpoints', weights[0])
            if not os.path.isfile(checkpoint):
                what.append(f'checkpoint {weights[0]} not in {checkpoints or "checkpoints"} '
                            '(official release: github.com/whwu95/BIKE)')
        if what and executor is not None and executor.options.train and not lacking:
            dispatch_full_training(executor, entry, cfgs, manifests, checkpoints,
                                   out_dir, work_dir, progress, outcome)
            continue
        if what:
            outcome.missing.append(Missing(entry.id, what))
            continue
        for cfg in cfgs:  # the checkpoint holds every weight: no CLIP download
            weights_from_checkpoint(cfg)
        from bike_bench.datasets.manifest import read_manifest
        from bike_bench.evaluation.provenance import config_key_hash, run_key
        keys = run_key([[config_key_hash(cfg) for cfg in cfgs],
                        checkpoint_record(checkpoint)['sha256'],
                        [read_manifest(m, check_labels=False).content_hash
                         for m in manifests]])
        out = os.path.join(out_dir, f'{entry.id}.json')
        action = reuse_or_run(progress, outcome, entry.id, read_valid_results(out), keys,
                              keep_stale, f'evaluating ({entry.protocol}, {entry.views})')
        if action is None:
            continue
        job = FullEvalJob(name=f'full/{entry.id}', entry=entry, cfgs=cfgs,
                          checkpoint=checkpoint, manifests=manifests, out=out, keys=keys,
                          scratch=os.path.join(work_dir, 'full', entry.id, 'run.json'))
        try:
            dispatch(executor, progress, entry.id, action, [job], outcome)
        except PretrainedWeightsUnavailable as error:  # missing weights: go on
            outcome.missing.append(Missing(entry.id, [str(error)]))
            continue
    return outcome


# ---------------------------------------------------------------------- main
def reproduce(settings: Optional[ReproduceSettings] = None, *,
              data_root: Optional[str] = None, checkpoints: Optional[str] = None,
              only: Optional[Sequence[str]] = None, rerun: bool = False,
              keep_stale: bool = False, min_coverage: float = 1.0,
              echo: Callable[[str], None] = print, executor=None) -> Outcome:
    """Run the registry (smoke twins, or real entries with ``data_root``).

    ``settings`` (default ``ReproduceSettings.under()``: everything under
    the output root) says where results, work dirs, the synthetic benchmark
    and tables go and how the smoke twins train.

    A results file counts as done only when its run key (config, data,
    parent or checkpoint, and the code identity) equals the current one.
    One measured with other code is *stale* and run again, unless
    ``keep_stale``: then it is kept and its table cells say so. ``rerun``
    runs every smoke twin again even where the key is current.
    """
    settings = settings or ReproduceSettings.under()
    from bike_bench.evaluation.provenance import code_identity
    code_identity()  # the code as it is before anything is written
    from bike_bench.reproduction.registry import find_entry
    from bike_bench.reproduction.tables import build_tables
    start = time.time()
    entries = build_registry()
    if only:
        entries = [find_entry(entries, key) for key in only]
    if data_root:
        progress = _Progress(len(entries), echo)
        outcome = run_full(entries, data_root, checkpoints, settings.runs_dir,
                           settings.work_dir, progress, keep_stale, min_coverage,
                           executor)
    else:
        write_synthetic(settings.synth_root, echo)
        runner = SmokeRunner(entries, settings, echo, rerun, keep_stale, executor)
        count = sum(1 for _, group in runner.twins().values() if group)
        outcome = runner.run(_Progress(count, echo))
    if executor is not None:  # submit what the loop queued (local: and wait)
        executor.finish(outcome)
    written = build_tables(settings.runs_dir, settings.tables_dir, readme=settings.readme)
    kept = f', {len(outcome.stale)} stale kept' if outcome.stale else ''
    echo(f'reproduce: {len(outcome.ran)} run, {len(outcome.skipped)} already done'
         f'{kept}, {len(outcome.missing)} missing; {len(written)} table files written '
         f'in {(time.time() - start) / 60:.1f} min')
    if outcome.missing:
        echo('\nNot run — what is missing:')
        for item in outcome.missing:
            echo(f'- {item.entry}')
            for line in item.what:
                echo(f'    {line}')
    return outcome
