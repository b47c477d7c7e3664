"""The run's summary: figures derived from the measured sections and set
against their goals (``summary`` of a bench result).

- ``pipeline_efficiency`` / ``pipeline_efficiency_paired`` / ``text_cache``:
  each model's figures of the CPU sections, side by side;
- ``acceptance``: the pipeline-efficiency target of ``make bench``
  (ViT-B/32, 4x3 views, 2 workers), with a profile of the data pipeline
  when it is missed;
- ``goals``: each GPU figure against its goal;
- ``k400_4x3_projection``: hours for a full Kinetics-400 validation at 4x3
  views from the measured rates.

Each is computed from whatever sections ran (and left out when none it
needs did), so a partial result gets the summary of what it holds.
"""
from __future__ import annotations

from typing import Callable, Dict, List, Optional

from bike_bench.benchmark import bench_models
from bike_bench.benchmark.throughput import profile_pipeline

EFFICIENCY_TARGET = 0.85
TARGET_MODEL, TARGET_VIEWS, TARGET_WORKERS = 'vit-b-32', '4x3', 2
GOALS = {'vit_l_14_frames_per_s': 3660.0, 'vit_l_14_frames_per_s_stretch': 4200.0,
         'ratio_to_eager_autocast': 2.0, 'pipeline_efficiency': 0.95,
         'training_speedup': 1.5}


def summarize_run(models: Dict[str, Dict], manifests: Optional[Dict[str, str]] = None,
                  log: Optional[Callable[[str], None]] = None,
                  profile: bool = False) -> Dict[str, object]:
    """The ``summary`` of a result whose ``models`` section is ``models``.

    ``profile``: profile the data pipeline when the acceptance target is
    missed (needs ``manifests``, the end-to-end video lists by model).
    """
    summary: Dict[str, object] = {}
    cpu = {n: m for n, m in models.items() if 'end_to_end' in m}
    if cpu:
        summary['pipeline_efficiency'] = {n: m['pipeline_efficiency'] for n, m in cpu.items()}
        summary['pipeline_efficiency_paired'] = {n: m['pipeline_efficiency_paired']
                                                 for n, m in cpu.items()}
        summary['acceptance'] = acceptance(models, manifests if profile else None, log)
    cached = {n: m['text_cache'] for n, m in models.items() if 'text_cache' in m}
    if cached:
        summary['text_cache'] = cached
    if any(key in m for m in models.values() for key in ('levers', 'data_paths', 'training')):
        summary['goals'] = goals(models)
        summary['k400_4x3_projection'] = k400_projection(models)
    return summary


def acceptance(models: Dict[str, Dict], manifests: Optional[Dict[str, str]] = None,
               log: Optional[Callable[[str], None]] = None) -> Optional[Dict[str, object]]:
    """The pipeline-efficiency target (None when ViT-B/32 was not measured
    end to end); with ``manifests``, a profile of the data pipeline is added
    when the target is missed."""
    model = models.get(TARGET_MODEL)
    if model is None or 'end_to_end' not in model:
        return None
    efficiency = model['pipeline_efficiency'][TARGET_VIEWS][f'workers_{TARGET_WORKERS}']
    run = model['end_to_end'][TARGET_VIEWS][f'workers_{TARGET_WORKERS}']
    reference = model['end_to_end'][TARGET_VIEWS]['model_only']
    report = {'model': TARGET_MODEL, 'views': TARGET_VIEWS, 'workers': TARGET_WORKERS,
              'pipeline_efficiency': efficiency,
              'pipeline_efficiency_paired': run['pipeline_efficiency_paired'],
              'target': EFFICIENCY_TARGET, 'met': efficiency >= EFFICIENCY_TARGET,
              'time_split': run['time_split'],
              'forward_in_pipeline_s': run['forward_median_s'],
              'forward_model_only_s': reference['median_s'],
              'loader_only_videos_per_s': model['end_to_end'][TARGET_VIEWS][
                  f'loader_only_workers_{TARGET_WORKERS}']['videos_per_s_overall']}
    if not report['met'] and manifests and TARGET_MODEL in manifests:
        if log:
            log('pipeline efficiency below target: profiling the data pipeline')
        spec = bench_models.get(TARGET_MODEL)
        report['data_pipeline_profile'] = profile_pipeline(
            manifests[TARGET_MODEL], spec, (4, 3), 2)
    return report


def goals(models: Dict[str, Dict]) -> List[Dict[str, object]]:
    """Each goal of the issue with the measured figure and whether it is met."""
    rows: List[Dict[str, object]] = []

    def add(figure: str, value: Optional[float], goal: float) -> None:
        rows.append({'figure': figure, 'value': value, 'goal': goal,
                     'met': None if value is None else value >= goal})

    for name, model in models.items():
        if not any(key in model for key in ('levers', 'data_paths', 'training')):
            continue  # measured by the CPU sections only
        default = model.get('levers', {}).get('default', {})
        if name == 'vit-l-14':
            add('ViT-L/14 model-only frames/s (config default)',
                default.get('frames_per_s'), GOALS['vit_l_14_frames_per_s'])
            add('ViT-L/14 model-only frames/s (stretch)', default.get('frames_per_s'),
                GOALS['vit_l_14_frames_per_s_stretch'])
        add(f'{name}: default / eager fp16 autocast',
            default.get('ratio_to_eager_autocast_fp16'), GOALS['ratio_to_eager_autocast'])
        for layout, entry in model.get('data_paths', {}).items():
            fast = entry.get('fast_data_path', {}) if isinstance(entry, dict) else {}
            add(f'{name}: pipeline efficiency {layout} (fast data path)',
                fast.get('pipeline_efficiency'), GOALS['pipeline_efficiency'])
        variants = model.get('training', {}).get('variants', {})
        add(f'{name}: training bf16 fused / fp16 AMP eager',
            variants.get('bf16_amp_fused', {}).get('speedup_over_fp16_amp_eager'),
            GOALS['training_speedup'])
    return rows


def k400_projection(models: Dict[str, Dict], name: str = 'vit-l-14') -> Dict[str, object]:
    """Hours for a full K400 validation at 4x3 views from the measured rates
    (of ``name``, else of the first model measured end to end)."""
    if name not in models:
        name = next((n for n, m in models.items() if 'data_paths' in m), name)
    model = models.get(name)
    if not model:
        return {'skipped': 'no model measured end to end'}
    entry = model.get('data_paths', {}).get('4x3', {})
    videos = bench_models.K400_VAL_VIDEOS
    out: Dict[str, object] = {'model': name, 'videos': videos, 'views': '4x3'}
    for key in ('fast_data_path', 'mmengine_data_path', 'model_only'):
        run = entry.get(key) if isinstance(entry, dict) else None
        if run:
            rate = run.get('videos_per_s_overall', run.get('videos_per_s'))
            out[f'{key}_hours'] = videos / rate / 3600
            out[f'{key}_videos_per_s'] = rate
    if len(out) == 3:
        default = model.get('levers', {}).get('default', {})
        if default.get('frames_per_s'):
            # Model-only rate at 12 views x 8 frames per video.
            rate = default['frames_per_s'] / (12 * 8)
            out['from_model_only_1x1_rate_hours'] = videos / rate / 3600
    return out


