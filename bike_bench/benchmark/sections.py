"""The sections of the bench: what each measures, and the profiles.

A :class:`Section` is one measurement, taken once per run
(``scope='run'``) or once per bench model (``scope='model'``, against one
recognizer per model with random weights and 400 classes). :data:`SECTIONS`
lists them in the order they run and appear in the Markdown table;
:data:`PROFILES` says which run by default:

- ``cpu`` (``make bench``) and ``quick`` (its test size): model-only
  throughput (batch 1 and 8), end to end from synthetic mp4 files (1x1 and
  4x3 views, 0 and 2 loader workers, pipeline efficiency), the training
  step, the class-text cache, the switches, FLOPs per view beside the
  paper's, decord decoding and the CPU cost of the data pipeline per video;
- ``device`` (``bike-bench bench --device cuda``) and ``device-smoke`` (the
  same on the CPU at smoke size, what CI runs): a bf16 matmul on the card,
  the model-only levers one at a time, MMEngine's data path against the
  fast one end to end, three training-step variants, within a time budget;
- both: the registered decoding backends on the same files;
- ``cpu`` only: loader-only decode throughput per core at Kinetics
  resolution for each backend, and the K400 4x3 projection from it
  (``decode_throughput``).

A new measurement is one :class:`Section` entry in :data:`SECTIONS` (its
code in a module of its own, its table a function of ``report``) and, to
run by default, its name in :data:`PROFILES`.
"""
from __future__ import annotations

import dataclasses
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch

from bike_bench.benchmark import (bench_data, bench_models, decode_throughput, flops,
                                  levers, report, text_cache, throughput, training)
from bike_bench.benchmark.plans import Budget, CPUPlan, DevicePlan, plan_for
from bike_bench.benchmark.switches import switches_section

QUICK_FLOP_ROWS = [('tiny', 8), ('vit-l-14', 16)]
VIEW_LAYOUTS = ((1, 1), (4, 3))


@dataclasses.dataclass
class Context:
    """What the sections of one run share."""

    profile: str
    device: torch.device
    models: List[str]
    repeats: int
    cache_dir: str
    device_plan: DevicePlan
    budget: Budget
    log: Callable[[str], None]
    compile_model: bool = False
    # Bench model -> video lists of its end-to-end runs ('cpu', '1x1', '4x3').
    manifests: Dict[str, Dict[str, str]] = dataclasses.field(default_factory=dict)
    card: Dict[str, object] = dataclasses.field(default_factory=dict)
    matmul_tflops: Optional[float] = None

    @property
    def quick(self) -> bool:
        return self.profile == 'quick'

    def cpu_plan(self, name: str) -> CPUPlan:
        return plan_for(name, self.repeats, self.quick)


@dataclasses.dataclass(frozen=True)
class Section:
    """One measurement of the bench.

    Attributes:
        name: key of its figures (``sections.<name>`` or
            ``models.<model>.<name>`` of the result).
        scope: ``'run'`` (``run(ctx)``) or ``'model'`` (``run(ctx, name,
            model, entry)``, ``entry`` holding the model's figures so far;
            ``model`` is the shared recognizer, ``None`` when
            ``needs_model`` is False).
        what: one line for ``--help`` and the docs.
        run: the measurement; returns JSON-ready figures.
        render: the Markdown of its figures (``render(result)``), or None
            when another section's table shows them.
        requires: sections whose figures it reads (run first, added to a
            selection that lacks them).
        applies: whether a model-scope section measures bench model
            ``name`` (default: every model).
        needs_model: whether it uses the shared recognizer (a section that
            builds its own models gets the memory back first).
    """

    name: str
    scope: str
    what: str
    run: Callable
    render: Optional[Callable[[Dict[str, object]], str]]
    requires: Tuple[str, ...] = ()
    applies: Optional[Callable[[Context, str], bool]] = None
    needs_model: bool = True


# ------------------------------------------------------------ run sections
def _matmul_reference(ctx: Context) -> Dict[str, object]:
    if ctx.device.type != 'cuda':
        return {'skipped': 'no GPU'}
    ctx.log('bf16 matmul reference')
    out = levers.matmul_reference(ctx.device)
    ctx.matmul_tflops = out['tflops']
    return out


def _flops(ctx: Context) -> Dict[str, object]:
    ctx.log('counting FLOPs on the meta device')
    return flops.flops_table(QUICK_FLOP_ROWS if ctx.quick else flops.DEFAULT_ROWS)


def _video_sizes(ctx: Context) -> List[bench_models.BenchModel]:
    """One bench model per video size; the tiny model's small videos only
    when it is the only model benched."""
    names = [n for n in ctx.models if n != 'tiny'] or ctx.models
    specs: Dict[str, bench_models.BenchModel] = {}
    for name in names:
        spec = bench_models.get(name)
        specs.setdefault(spec.video_key, spec)
    return list(specs.values())


def _repeats(ctx: Context) -> int:
    return 1 if ctx.quick else ctx.repeats


def _decoding(ctx: Context) -> Dict[str, object]:
    out = {}
    for spec in _video_sizes(ctx):
        manifest = bench_data.ensure_videos(ctx.cache_dir, spec.video_size,
                                            2 if ctx.quick else 8)
        ctx.log(f'decoding {spec.video_key} videos')
        out[spec.video_key] = bench_data.decoding_benchmark(manifest, _repeats(ctx))
    return out


def _data_pipeline(ctx: Context) -> Dict[str, object]:
    out = {}
    for spec in _video_sizes(ctx):
        manifest = bench_data.ensure_videos(ctx.cache_dir, spec.video_size,
                                            2 if ctx.quick else 4)
        ctx.log(f'data pipeline on {spec.video_key} videos')
        out[spec.video_key] = dict(
            bench_data.pipeline_benchmark(manifest, spec.image_size, spec.resize,
                                          _repeats(ctx)),
            resize_to=spec.resize, crop=spec.image_size)
    return out


def _decoding_backends(ctx: Context) -> Dict[str, object]:
    from bike_bench.datasets.transforms.video_backends import available_backends
    backends = tuple(available_backends())
    ctx.log(f'decoding backends ({", ".join(backends)}) on the same files')
    if ctx.profile == 'device':
        repeats, warmup, quick = 3, 1, False
    elif ctx.profile == 'device-smoke':
        repeats, warmup, quick = 1, 1, True
    else:
        repeats, warmup, quick = _repeats(ctx), 0 if ctx.quick else 1, False
    return bench_data.backend_decoding_benchmark(ctx.cache_dir, repeats=repeats,
                                                 warmup=warmup, log=ctx.log, quick=quick,
                                                 backends=backends)


def _decode_throughput(ctx: Context) -> Dict[str, object]:
    """Loader-only videos/s per core at Kinetics resolution, every usable
    backend, 1x1 and 4x3 (quick: one 2-second stand-in, one pass)."""
    from bike_bench.datasets.transforms.video_backends import available_backends
    backends = available_backends()
    ctx.log(f'decode throughput at Kinetics resolution ({", ".join(backends)})')
    if ctx.quick or ctx.profile == 'device-smoke':
        spec = dict(decode_throughput.STANDIN, seconds=2)
        return decode_throughput.decode_throughput(ctx.cache_dir, backends, videos=1,
                                                   repeats=1, warmup=0, log=ctx.log,
                                                   spec=spec)
    return decode_throughput.decode_throughput(ctx.cache_dir, backends, videos=4,
                                               repeats=5, warmup=1, log=ctx.log)


# ---------------------------------------------------------- model sections
def _text_encode(ctx: Context, name: str, model, entry) -> Dict[str, object]:
    plan = ctx.cpu_plan(name)
    ctx.log(f'{name}: encoding {bench_models.NUM_CLASSES} class prompts')
    measured = plan.measure_text_cache
    return text_cache.text_encode_time(model, plan.runs if measured else 1,
                                       plan.warmup if measured else 0)


def _model_only(ctx: Context, name: str, model, entry) -> Dict[str, object]:
    plan, spec = ctx.cpu_plan(name), bench_models.get(name)
    out = {}
    for batch in plan.model_batches:
        ctx.log(f'{name}: model-only, batch {batch}')
        out[f'batch_{batch}'] = throughput.model_only(model, spec, batch, 1, plan.frames,
                                                      plan.runs, plan.warmup)
    return out


def _end_to_end(ctx: Context, name: str, model, entry) -> Dict[str, object]:
    """1x1 and 4x3 views, each loader worker count: the loader alone, end to
    end with interleaved model-only calls, and the pipeline efficiency
    (also kept as ``pipeline_efficiency`` / ``_paired`` of the model)."""
    plan, spec = ctx.cpu_plan(name), bench_models.get(name)
    runs, warmup, frames = plan.runs, plan.warmup, plan.frames
    manifest = ctx.manifests[name]['cpu']
    measured = entry.get('model_only', {})
    e2e: Dict[str, object] = {}
    efficiency: Dict[str, object] = {}
    paired: Dict[str, object] = {}
    for clips, crops in VIEW_LAYOUTS:
        layout = f'{clips}x{crops}'
        batch = plan.e2e_batch[(clips, crops)]
        if clips * crops == 1 and f'batch_{batch}' in measured:
            standalone = measured[f'batch_{batch}']  # same shape: measured before
        else:
            ctx.log(f'{name}: model-only {layout}, batch {batch}')
            standalone = throughput.model_only(model, spec, batch, clips * crops, frames,
                                               runs, warmup)
        layout_entry: Dict[str, object] = {'model_only': standalone}
        efficiency[layout], paired[layout] = {}, {}
        for workers in plan.workers:
            ctx.log(f'{name}: data loader alone {layout}, batch {batch}, {workers} workers')
            layout_entry[f'loader_only_workers_{workers}'] = throughput.loader_only(
                spec, manifest, (clips, crops), batch, workers, plan.loader_batches,
                warmup, frames)
            ctx.log(f'{name}: end-to-end {layout}, batch {batch}, {workers} workers '
                    '(model-only reference interleaved)')
            run = throughput.end_to_end(model, spec, manifest, (clips, crops), batch,
                                        workers, plan.timed_e2e_batches, warmup, frames)
            run['pipeline_efficiency'] = (run['videos_per_s_overall']
                                          / standalone['videos_per_s'])
            layout_entry[f'workers_{workers}'] = run
            efficiency[layout][f'workers_{workers}'] = run['pipeline_efficiency']
            paired[layout][f'workers_{workers}'] = run['pipeline_efficiency_paired']
        e2e[layout] = layout_entry
    entry['pipeline_efficiency'] = efficiency
    entry['pipeline_efficiency_paired'] = paired
    return e2e


def _train_step(ctx: Context, name: str, model, entry) -> Dict[str, object]:
    plan, spec = ctx.cpu_plan(name), bench_models.get(name)
    ctx.log(f'{name}: training step, batch {plan.train_batch}')
    return training.train_step(model, spec, plan.train_batch, plan.frames, plan.runs,
                               plan.warmup, plan.train_warmup_batch)


def _text_cache(ctx: Context, name: str, model, entry) -> Dict[str, object]:
    return text_cache.text_cache_section(model, bench_models.get(name), ctx.cpu_plan(name),
                                         entry, ctx.log)


def _switches(ctx: Context, name: str, model, entry) -> Dict[str, object]:
    return switches_section(model, bench_models.get(name), ctx.cpu_plan(name), ctx.log,
                            ctx.compile_model)


def _levers(ctx: Context, name: str, model, entry) -> Dict[str, object]:
    return levers.model_levers(model, bench_models.get(name), ctx.device_plan, ctx.budget,
                               ctx.card.get('peak_bf16_dense_tflops_on_paper'),
                               ctx.matmul_tflops, ctx.log)


def _data_paths(ctx: Context, name: str, model, entry) -> Dict[str, object]:
    return throughput.data_paths(model, bench_models.get(name), ctx.manifests[name],
                                 ctx.device_plan, ctx.budget, ctx.log)


def _training(ctx: Context, name: str, model, entry) -> Dict[str, object]:
    return training.training(bench_models.get(name), str(ctx.device), ctx.device_plan,
                             ctx.budget, ctx.log)


def e2e_model(ctx: Context, name: str) -> bool:
    return name in ctx.device_plan.e2e_models


def _train_model(ctx: Context, name: str) -> bool:
    return name in ctx.device_plan.train_models


#: Every section, in the order they run and appear in the table. The model
#: sections run as one block per model, where the first of them stands.
SECTIONS: Tuple[Section, ...] = (
    Section('matmul_reference', 'run', 'bf16 matmul TFLOP/s the card sustains (GPU)',
            _matmul_reference, None),
    Section('text_encode', 'model', 'one encode of the 400 class prompts',
            _text_encode, None),
    Section('model_only', 'model', 'predict on pre-made clips, batch 1 and 8',
            _model_only, report.model_only),
    Section('end_to_end', 'model', 'evaluation from mp4 files, 1x1 and 4x3 views, '
            '0 and 2 workers; pipeline efficiency', _end_to_end, report.end_to_end,
            requires=('model_only',)),
    Section('train_step', 'model', 'forward + backward, frozen text tower',
            _train_step, report.train_step),
    Section('text_cache', 'model', 'text-encoder calls and time with and without the '
            'class-text cache', _text_cache, report.text_cache,
            requires=('text_encode', 'train_step')),
    Section('switches', 'model', 'each recognizer switch on and off, interleaved',
            _switches, report.switches),
    Section('levers', 'model', 'model-only levers one at a time, batch sweep, config '
            'default (GPU sections)', _levers, report.levers),
    Section('data_paths', 'model', "MMEngine's data path against the fast one, end to "
            'end (GPU sections)', _data_paths, report.data_paths, applies=e2e_model),
    Section('training', 'model', 'training step variants with optimizer (GPU sections)',
            _training, report.training, applies=_train_model, needs_model=False),
    Section('flops', 'run', 'multiply-adds per view, counted, beside the paper\'s',
            _flops, report.flops),
    Section('decoding', 'run', 'decord batch access vs frame by frame, open cost',
            _decoding, report.decoding),
    Section('data_pipeline', 'run', 'CPU cost of the data pipeline per video',
            _data_pipeline, report.data_pipeline),
    Section('decoding_backends', 'run', 'the decoding backends on the same files',
            _decoding_backends, report.decoding_backends),
    Section('decode_throughput', 'run', 'loader-only videos/s per core at Kinetics '
            'resolution per backend, 1x1 and 4x3; K400 4x3 projection',
            _decode_throughput, decode_throughput.render),
    # A new run-level measurement goes here: Section(name, 'run', '<one line>',
    # <run(ctx) -> dict>, <render(result) -> str>), and its name in the
    # PROFILES that should run it by default.
)
CPU_SECTIONS = ('text_encode', 'model_only', 'end_to_end', 'train_step', 'text_cache', 'switches',
        'flops', 'decoding', 'data_pipeline', 'decoding_backends')
#: ``make bench`` also measures decode throughput (minutes; not at test size).
CPU_FULL_SECTIONS = CPU_SECTIONS + ('decode_throughput',)
DEVICE_SECTIONS = ('matmul_reference', 'levers', 'data_paths', 'training', 'decoding_backends')
#: The sections each profile runs by default.
PROFILES: Dict[str, Tuple[str, ...]] = {'cpu': CPU_FULL_SECTIONS, 'quick': CPU_SECTIONS,
                                        'device': DEVICE_SECTIONS,
                                        'device-smoke': DEVICE_SECTIONS}


def select_sections(names: Optional[Sequence[str]], profile: str) -> List[Section]:
    """The sections to run, in :data:`SECTIONS` order, with what they require.

    Raises:
        ValueError: an unknown section or profile (the known ones named).
    """
    if profile not in PROFILES:
        raise ValueError(f'unknown bench profile {profile!r}; choose from '
                         f'{", ".join(PROFILES)}')
    known = [s.name for s in SECTIONS]
    wanted = set(PROFILES[profile] if names is None else names)
    unknown = sorted(wanted - set(known))
    if unknown:
        raise ValueError(f'unknown bench section {unknown[0]!r}; choose from '
                         f'{", ".join(known)}')
    by_name = {s.name: s for s in SECTIONS}
    pending = list(wanted)
    while pending:
        for required in by_name[pending.pop()].requires:
            if required not in wanted:
                wanted.add(required)
                pending.append(required)
    return [s for s in SECTIONS if s.name in wanted]
