"""``make reproduce``: run the registry's experiments, then build the tables.

Without data it writes the synthetic benchmark and runs every entry's smoke
twin on the CPU (scale ``smoke``). With ``data_root`` it runs the real
entries whose manifests and checkpoints are present (scale ``full``) and
lists precisely what is missing for the others.

Every run ends in one results JSON under ``results/runs/<scale>/`` (written
atomically) carrying a ``reproduce`` section: the run key (config, manifests
and parent), the entries it measures and the paper rows it fills. A run
whose file exists with the same key is not repeated, so an interrupted
reproduce resumes where it stopped and a second run executes nothing.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import time
from typing import Callable, Dict, List, Optional, Sequence

from bike_bench.checkpoint_io import last_checkpoint
from bike_bench.evaluation.results import read_valid_results
from bike_bench.reproduction.registry import Experiment, SmokeTwin, build_registry
from bike_bench.reproduction import smoke_twins as twins_mod
from bike_bench.utils.atomic import atomic_write_text

REPO_ROOT = twins_mod.REPO_ROOT
RUNS_DIR = os.path.join(REPO_ROOT, 'results', 'runs')
WORK_DIR = os.path.join(REPO_ROOT, 'work_dirs', 'reproduce')
# `make reproduce` measures here (the committed results/runs are the reference).
LOCAL_RUNS_DIR = os.path.join(WORK_DIR, 'runs')
LOCAL_TABLES_DIR = os.path.join(WORK_DIR, 'tables')
SYNTH_ROOT = os.path.join('data', 'synthetic')
# Enough videos per class for 5-shot sampling from the UCF/HMDB splits.
SYNTH_VIDEOS_PER_CLASS = 12
# Zero-shot flavours: 10 held-out compositions (5 per half-class split).
SYNTH_ZEROSHOT_CLASSES = 10
# Few-shot smoke twins: mean over these seeds (issue 13).
FEWSHOT_SEEDS = (0, 1, 2)


@dataclasses.dataclass
class Missing:
    entry: str
    what: List[str]


@dataclasses.dataclass
class Outcome:
    ran: List[str] = dataclasses.field(default_factory=list)
    skipped: List[str] = dataclasses.field(default_factory=list)
    missing: List[Missing] = dataclasses.field(default_factory=list)


def _finish(results: dict, path: str, *, key: str, scale: str,
            entries: Sequence[Experiment], twin: Optional[str]) -> None:
    """Add the reproduce section and write the results file atomically."""
    from bike_bench.evaluation.results import write_results
    data = {k: v for k, v in results.items() if k != 'path'}
    # One run id per results file (few-shot runs of different datasets share
    # the protocol's own "fewshot_<K>shot_seed<S>").
    data['protocol'] = dict(data['protocol'], run_id=data['run_id'])
    data['run_id'] = twin or entries[0].id
    data['reproduce'] = dict(
        key=key, scale=scale, twin=twin,
        experiments=[e.id for e in entries],
        paper_rows=[dict(table=r.table, row=r.row, metrics=r.metrics,
                         experiment=e.id, views=e.views)
                    for e in entries for r in e.paper_rows])
    write_results(data, path)


class _Progress:
    """One line per step: which run, how far, time left."""

    def __init__(self, total: int, echo: Callable[[str], None]):
        self.total, self.done, self.start, self.echo = total, 0, time.time(), echo
        self.durations: List[float] = []

    @contextlib.contextmanager
    def step(self, name: str, action: str):
        self.done += 1
        left = ''
        if self.durations:
            average = sum(self.durations) / len(self.durations)
            left = f', about {average * (self.total - self.done + 1) / 60:.1f} min left'
        self.echo(f'[{self.done}/{self.total}] {name}: {action}{left}')
        began = time.time()
        yield
        if action != 'done, skipped':
            self.durations.append(time.time() - began)


# --------------------------------------------------------------------- smoke
class SmokeRunner:
    """Runs smoke twins in dependency order, reusing finished runs."""

    def __init__(self, entries: Sequence[Experiment], runs_dir: str, work_dir: str,
                 synth_root: str, echo: Callable[[str], None] = print,
                 rerun: bool = False):
        self.entries = list(entries)
        self.by_id = {e.id: e for e in build_registry()} | {e.id: e for e in entries}
        self.runs_dir = os.path.join(runs_dir, 'smoke')
        self.work_dir = os.path.join(work_dir, 'smoke')
        self.synth_root = synth_root
        self.echo = echo
        self.keys: Dict[str, str] = {}
        self.rerun = rerun
        self.outcome = Outcome()

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
                                     os.path.join(self.work_dir, twin.id))

    def _manifests(self, twin: SmokeTwin, cfg) -> List[str]:
        paths = []
        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            if cfg.get(loader):
                paths.append(cfg[loader]['dataset']['ann_file'])
        if twin.protocol.startswith('zeroshot'):
            found = twins_mod.manifest_path(self.synth_root, twin.dataset, 'zeroshot')
            paths.extend(found if isinstance(found, list) else [found])
        return sorted(set(paths))

    def key(self, twin: SmokeTwin, entry: Experiment) -> str:
        if twin.id not in self.keys:
            parent_key = None
            if twin.parent is not None:
                parent_key = self.key(twin.parent, self._representative(twin.parent, []))
            cfg = self._config(twin, entry)
            self.keys[twin.id] = twins_mod.run_key(
                twin, cfg, self.synth_root, self._manifests(twin, cfg), parent_key)
        return self.keys[twin.id]

    def attributes(self, cfg) -> None:
        """Generate the attribute sentences a twin's datasets read."""
        from bike_bench.attributes.generate import generate_attributes
        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            dataset = cfg[loader]['dataset'] if cfg.get(loader) else {}
            target = dataset.get('attributes_file')
            if target and not os.path.isfile(target):
                generate_attributes(cfg, dataset['ann_file'], target, lexicon='classes',
                                    topk=dataset.get('topk', 5), num_workers=0,
                                    progress=False)

    def checkpoint(self, twin: SmokeTwin) -> str:
        """The trained checkpoint of a twin, training it if needed."""
        from bike_bench.cli.common import build_runner
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
        cfg = self._config(twin, entry)
        self.attributes(cfg)
        if twin.parent is not None:
            cfg.load_from = self.checkpoint(twin.parent)
        build_runner(cfg).train()
        atomic_write_text(marker, key + '\n')
        return last_checkpoint(work_dir)

    def run(self, progress: _Progress) -> Outcome:
        from bike_bench.evaluation.fewshot import run_fewshot
        from bike_bench.evaluation.harness import run_test
        from bike_bench.evaluation.zeroshot import run_zeroshot
        os.makedirs(self.runs_dir, exist_ok=True)
        for twin_id, (twin, entries) in self.twins().items():
            if not entries:
                continue  # a parent only; trained when a child needs it
            entry = entries[0]
            key = self.key(twin, entry)
            out = os.path.join(self.runs_dir, f'{twin_id}.json')
            done = None if self.rerun else read_valid_results(out)
            if done and done.get('reproduce', {}).get('key') == key:
                with progress.step(twin_id, 'done, skipped'):
                    self.outcome.skipped.append(twin_id)
                continue
            scratch = os.path.join(self.work_dir, twin_id, 'results', 'run.json')
            with progress.step(twin_id, f'running ({twin.protocol})'):
                cfg = self._config(twin, entry)
                self.attributes(cfg)
                if twin.protocol == 'general':
                    results = run_test(cfg, self.checkpoint(twin), out=scratch,
                                       run_id=twin_id)
                elif twin.protocol == 'fewshot':
                    summary = run_fewshot(cfg, shots=[twin.shots],
                                          seeds=list(FEWSHOT_SEEDS),
                                          work_dir=os.path.join(self.work_dir, twin_id),
                                          resume=False)
                    results = _fewshot_results(summary['by_shots'][str(twin.shots)])
                else:
                    manifests = twins_mod.manifest_path(self.synth_root, twin.dataset,
                                                        'zeroshot')
                    protocol = 'k600' if twin.protocol == 'zeroshot-k600' else 'half'
                    results = run_zeroshot(
                        cfg, self.checkpoint(twin.parent), manifests, protocol=protocol,
                        class_tables=twins_mod.class_tables(self.synth_root, twin.dataset),
                        dataset_name=f'synthetic-{twin.dataset}', out=scratch,
                        run_id=twin_id)
                _finish(results, out, key=key, scale='smoke', entries=entries,
                        twin=twin_id)
                self.outcome.ran.append(twin_id)
        return self.outcome


def write_synthetic(synth_root: str, echo: Callable[[str], None] = print) -> None:
    """The synthetic benchmark, unless it is already there and complete."""
    from bike_bench.datasets.synthetic_benchmark import SynthConfig, write_benchmark
    marker = os.path.join(synth_root, '.complete')
    config = SynthConfig(videos_per_class=SYNTH_VIDEOS_PER_CLASS,
                         zeroshot_classes=SYNTH_ZEROSHOT_CLASSES)
    expected = json.dumps(dataclasses.asdict(config), sort_keys=True)
    if os.path.isfile(marker) and open(marker).read() == expected:
        return
    echo(f'writing the synthetic benchmark to {synth_root} ...')
    write_benchmark(synth_root, config)
    atomic_write_text(marker, expected)


def _fewshot_results(by_shots: dict) -> dict:
    """The first seed's results file with the metrics as means over seeds.

    ``fewshot_seeds`` keeps every seed's metrics; ``<metric>_std`` the
    population std over seeds (issue 13: few-shot targets are seed means).
    """
    runs = [json.load(open(path)) for path in by_shots['results']]
    results = runs[0]
    results['metrics'] = dict(by_shots['mean'])
    results['metrics'].update({f'{k}_std': v for k, v in by_shots['std'].items()
                               if k == 'acc/top1'})
    results['fewshot_seeds'] = dict(
        seeds=by_shots['seeds'], n=len(runs),
        per_seed=[dict(seed=r['protocol']['seed'], metrics=r['metrics'],
                       fewshot_manifest_hash=r['protocol']['fewshot_manifest_hash'])
                  for r in runs])
    return results


# ---------------------------------------------------------------------- full
def _data_path(path: str, data_root: str) -> str:
    if path.startswith('data/'):
        return os.path.join(data_root, path[len('data/'):])
    return path


def _full_config(entry: Experiment, config: str, data_root: str, work_dir: str):
    from mmengine.config import Config
    cfg = Config.fromfile(os.path.join(REPO_ROOT, config))
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if cfg.get(loader):
            dataset = cfg[loader]['dataset']
            for field in ('ann_file', 'class_table'):
                if isinstance(dataset.get(field), str):
                    dataset[field] = _data_path(dataset[field], data_root)
    cfg.work_dir = work_dir
    return cfg


def run_full(entries: Sequence[Experiment], data_root: str, checkpoints: Optional[str],
             runs_dir: str, work_dir: str, progress: _Progress) -> Outcome:
    """Evaluate the official checkpoints of every entry whose data is present."""
    from bike_bench.datasets.specs import describe_missing, source_status
    from bike_bench.evaluation.harness import checkpoint_record, run_test
    from bike_bench.evaluation.zeroshot import run_zeroshot
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
        weights = [w for w in entry.weights if w]
        checkpoint = None
        if entry.protocol == 'fewshot' or not weights:
            what.append('no released checkpoint: train it (`bike-bench train '
                        f'{entry.config}` / `bike-bench fewshot`)')
        else:
            checkpoint = os.path.join(checkpoints or 'checkpoints', weights[0])
            if not os.path.isfile(checkpoint):
                what.append(f'checkpoint {weights[0]} not in {checkpoints or "checkpoints"} '
                            '(official release: github.com/whwu95/BIKE)')
        if what:
            outcome.missing.append(Missing(entry.id, what))
            continue
        from bike_bench.evaluation.provenance import config_record
        key = json.dumps([config_record(cfgs[0])['hash'],
                          checkpoint_record(checkpoint)['sha256']] + manifests)
        out = os.path.join(out_dir, f'{entry.id}.json')
        done = read_valid_results(out)
        if done and done.get('reproduce', {}).get('key') == key:
            with progress.step(entry.id, 'done, skipped'):
                outcome.skipped.append(entry.id)
            continue
        with progress.step(entry.id, f'evaluating ({entry.protocol}, {entry.views})'):
            scratch = os.path.join(work_dir, 'full', entry.id, 'run.json')
            if entry.protocol == 'general':
                results = run_test(cfgs[0], checkpoint, out=scratch, run_id=entry.id)
            else:
                protocol = 'k600' if entry.protocol == 'zeroshot-k600' else 'half'
                tables = [cfg.test_dataloader.dataset.get('class_table') for cfg in cfgs]
                results = run_zeroshot(cfgs[0], checkpoint, manifests, protocol=protocol,
                                       class_tables=tables, out=scratch, run_id=entry.id)
            _finish(results, out, key=key, scale='full', entries=[entry], twin=None)
            outcome.ran.append(entry.id)
    return outcome


# ---------------------------------------------------------------------- main
def reproduce(*, data_root: Optional[str] = None, checkpoints: Optional[str] = None,
              only: Optional[Sequence[str]] = None, runs_dir: str = RUNS_DIR,
              work_dir: str = WORK_DIR, synth_root: str = SYNTH_ROOT,
              tables_dir: Optional[str] = None, readme=None, rerun: bool = False,
              echo: Callable[[str], None] = print) -> Outcome:
    """Run the registry (smoke twins, or real entries with ``data_root``).

    ``rerun`` runs every smoke twin again even where a results file with the
    same key exists (the committed results then get replaced).
    """
    from bike_bench.reproduction.registry import find_entry
    from bike_bench.reproduction.tables import build_tables
    start = time.time()
    entries = build_registry()
    if only:
        entries = [find_entry(entries, key) for key in only]
    if data_root:
        progress = _Progress(len(entries), echo)
        outcome = run_full(entries, data_root, checkpoints, runs_dir, work_dir, progress)
    else:
        write_synthetic(synth_root, echo)
        runner = SmokeRunner(entries, runs_dir, work_dir, synth_root, echo, rerun)
        count = sum(1 for _, group in runner.twins().values() if group)
        outcome = runner.run(_Progress(count, echo))
    written = build_tables(runs_dir, tables_dir, readme=readme)
    echo(f'reproduce: {len(outcome.ran)} run, {len(outcome.skipped)} already done, '
         f'{len(outcome.missing)} missing; {len(written)} table files written '
         f'in {(time.time() - start) / 60:.1f} min')
    if outcome.missing:
        echo('\nNot run — what is missing:')
        for item in outcome.missing:
            echo(f'- {item.entry}')
            for line in item.what:
                echo(f'    {line}')
    return outcome
