"""The bench's one orchestrator: ``run_bench``.

``run_bench`` runs the selected sections (``bike_bench.benchmark.sections``:
a profile's, or any subset) for the selected models on one device and
writes ``<out_dir>/<stem>.json`` in the one results schema
(``bike_bench.benchmark.schema``) and its Markdown table beside it
(``bike_bench.benchmark.report``), both rewritten after every model so a
run stopped by a time limit leaves its figures behind (``complete`` False).
The end-to-end videos are rendered first (before CUDA starts: rendering
forks worker processes); the run-level sections before the first
model-level one run first, then each model's sections as one block (one
recognizer built per model), then the remaining run-level sections.
"""
from __future__ import annotations

import dataclasses
import datetime
import os
import platform
import re
import sys
import time
from typing import Callable, Dict, List, Optional, Sequence

import torch

from bike_bench.benchmark import bench_data, bench_models, goals, levers, report, schema
from bike_bench.benchmark import sections as bench_sections
from bike_bench.benchmark.measure import environment
from bike_bench.benchmark.plans import Budget, DevicePlan
from bike_bench.benchmark.sections import Context, Section
from bike_bench.utils.atomic import atomic_write_json, atomic_write_text

DEFAULT_MODELS = {'cpu': 'tiny,vit-b-32', 'quick': 'tiny',
                  'device': 'vit-b-16,vit-l-14,vit-l-14-336', 'device-smoke': 'tiny'}


class Progress:
    """Timestamped progress lines on stderr."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    def __call__(self, message: str) -> None:
        print(f'[bench {time.perf_counter() - self.start:6.1f}s] {message}',
              file=sys.stderr, flush=True)


def _prepare_videos(ctx: Context, sections: List[Section]) -> None:
    """The end-to-end video lists, rendered before CUDA starts (rendering
    forks worker processes)."""
    names = {s.name for s in sections}
    for name in ctx.models:
        spec = bench_models.get(name)
        lists: Dict[str, str] = {}
        if 'end_to_end' in names:
            plan = ctx.cpu_plan(name)
            lists['cpu'] = bench_data.ensure_videos(ctx.cache_dir, spec.video_size,
                                                    plan.videos_needed(),
                                                    distinct=plan.distinct_videos)
        if 'data_paths' in names and bench_sections.e2e_model(ctx, name):
            ctx.log(f'{name}: synthetic videos for the end-to-end runs')
            plan = ctx.device_plan
            for layout, count in plan.videos_needed().items():
                lists[layout] = bench_data.ensure_videos(
                    ctx.cache_dir, spec.video_size, count, processes=max(1, plan.workers),
                    distinct=plan.distinct_videos)
        ctx.manifests[name] = lists


def _build(ctx: Context, name: str, prime_text: bool):
    spec = bench_models.get(name)
    ctx.log(f'{name}: building (random weights, {bench_models.NUM_CLASSES} classes)')
    model = bench_models.build(spec, device=str(ctx.device))
    if prime_text:  # else the text_encode section encodes them, timed
        model.class_text_features()
    return model


def _release(ctx: Context) -> None:
    if ctx.device.type == 'cuda':
        torch.cuda.empty_cache()


def _bench_model(ctx: Context, name: str, sections: List[Section]) -> Dict[str, object]:
    spec = bench_models.get(name)
    frames = (ctx.device_plan.frames if ctx.profile.startswith('device')
              else ctx.cpu_plan(name).frames)
    entry: Dict[str, object] = {'label': spec.label, 'image_size': spec.image_size,
                                'frames': frames, 'classes': bench_models.NUM_CLASSES,
                                'weights': 'random (speed does not depend on them)'}
    todo = [s for s in sections if s.applies is None or s.applies(ctx, name)]
    model = None
    for index, section in enumerate(todo):
        if section.needs_model and model is None:
            model = _build(ctx, name, prime_text='text_encode' not in
                           {s.name for s in todo})
        entry[section.name] = section.run(ctx, name, model if section.needs_model else None,
                                          entry)
        if model is not None and not any(s.needs_model for s in todo[index + 1:]):
            del model  # before sections that build their own
            model = None
            _release(ctx)
    return entry


def run_bench(models: List[str], profile: str = 'cpu', device: Optional[str] = None,
              out_dir: str = 'results/bench', repeats: int = 3,
              cache_dir: str = os.path.join('work_dirs', 'bench', 'videos'),
              sections: Optional[Sequence[str]] = None,
              device_plan: Optional[DevicePlan] = None, compile_model: bool = False,
              threads: Optional[int] = None,
              log: Optional[Callable[[str], None]] = None,
              stem: Optional[str] = None) -> Dict[str, str]:
    """Run the bench and write its JSON and Markdown; returns their paths.

    Args:
        models: bench model names (``bench_models``).
        profile: ``'cpu'``, ``'quick'``, ``'device'`` or ``'device-smoke'``
            (``sections.PROFILES``): the default sections and their sizes.
        device: ``'cpu'`` or ``'cuda'`` (default: CUDA when present).
        sections: run these (names of ``sections.SECTIONS``) instead of
            the profile's.
        device_plan: sizes of the GPU sections (default ``DevicePlan()`` on
            CUDA, ``DevicePlan.smoke()`` elsewhere); its ``budget_s`` bounds
            the device profiles' wall time.
        stem: the output file name without suffix (default
            ``output_stem(profile, device)``).

    Raises:
        ValueError: an unknown profile, section or model.
    """
    for name in models:
        bench_models.get(name)
    selected = bench_sections.select_sections(sections, profile)
    log = log or Progress()
    device = device or ('cuda' if torch.cuda.is_available() else 'cpu')
    dev = torch.device(device)
    if threads:
        torch.set_num_threads(threads)
    if device_plan is None:
        device_plan = DevicePlan() if dev.type == 'cuda' else DevicePlan.smoke()
    device_profile = profile.startswith('device')
    ctx = Context(profile=profile, device=dev, models=list(models), repeats=repeats,
                  cache_dir=cache_dir, device_plan=device_plan,
                  budget=Budget(device_plan.budget_s if device_profile else None),
                  log=log, compile_model=compile_model)
    started = time.perf_counter()
    names = [s.name for s in selected]
    settings: Dict[str, object] = {
        'models': list(models), 'sections': names, 'repeats': repeats,
        'torch_threads': torch.get_num_threads(),
        'statistic': 'median over repeats after warm-up; spread = min, max, IQR'}
    if any(s.scope == 'model' and s.name in bench_sections.CPU_SECTIONS for s in selected):
        settings['cpu_plans'] = {n: ctx.cpu_plan(n).record() for n in models}
    if any(s.name in ('levers', 'data_paths', 'training') for s in selected):
        settings['device_plan'] = dataclasses.asdict(device_plan)
        settings['goals_set'] = goals.GOALS
    if device_profile:
        settings['budget_s'] = device_plan.budget_s
    result: Dict[str, object] = {
        'schema': schema.SCHEMA, 'profile': profile, 'complete': False, 'device': device,
        'environment': environment(), 'settings': settings, 'sections': {},
        'models': {}, 'summary': {}}
    _prepare_videos(ctx, selected)
    ctx.card = result['card'] = levers.card(dev)
    if dev.type == 'cuda' and device_profile:
        # As the official code runs: TF32 matmuls for the fp32 reference.
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    stem = os.path.join(out_dir, stem or output_stem(profile, device))

    def write(complete: bool) -> None:
        result['summary'] = goals.summarize_run(
            result['models'], {n: m.get('cpu') for n, m in ctx.manifests.items()
                               if m.get('cpu')}, log, profile=complete)
        result['wall_time_s'] = time.perf_counter() - started
        result['complete'] = complete
        if complete:
            result['environment']['load_average_at_end'] = (
                list(os.getloadavg()) if hasattr(os, 'getloadavg') else None)
        write_results(result, stem)

    model_sections = [s for s in selected if s.scope == 'model']
    models_done = False
    for section in selected:
        if section.scope == 'model':
            if not models_done:
                for name in models:
                    result['models'][name] = _bench_model(ctx, name, model_sections)
                    write(complete=False)
                models_done = True
            continue
        result['sections'][section.name] = section.run(ctx)
    write(complete=True)
    log(f'wrote {stem}.json and {stem}.md')
    return {'json': stem + '.json', 'markdown': stem + '.md'}


def card_slug(device: str) -> str:
    """``'nvidia-h200'`` for a CUDA card, ``'cpu'`` otherwise (file names)."""
    if device.startswith('cuda') and torch.cuda.is_available():
        name = torch.cuda.get_device_name(torch.device(device))
        return re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')
    return 'cpu'


def output_stem(profile: str = 'cpu', device: str = 'cpu') -> str:
    """``<date>-<host>`` (``-quick`` for the test size) for the CPU
    profiles, ``<date>-<card>`` for the device ones."""
    date = datetime.date.today().isoformat()
    if profile.startswith('device'):
        return f'{date}-{card_slug(device)}'
    host = platform.node().split('.')[0] or 'host'
    return f'{date}-{host}' + ('-quick' if profile == 'quick' else '')


def write_results(result: Dict[str, object], stem: str) -> Dict[str, str]:
    """Write ``<stem>.json`` and its Markdown table ``<stem>.md``."""
    atomic_write_json(stem + '.json', result)
    atomic_write_text(stem + '.md', report.render(result, bench_sections.SECTIONS))
    return {'json': stem + '.json', 'markdown': stem + '.md'}
