"""The Markdown table of a bench result (built from its JSON dict).

``render(result, sections)`` writes the header (where it was measured, the
goals when GPU sections ran) and then, in the order of ``sections``
(``bike_bench.benchmark.bench.SECTIONS``), the table of every section the
result holds. Each function below renders one section from the whole
result, or returns '' when the result does not hold it.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence

from tabulate import tabulate

from bike_bench.benchmark import flops as flops_counts


def _num(value: Optional[float], digits: int = 2) -> str:
    if value is None:
        return '–'
    if isinstance(value, bool):
        return 'yes' if value else 'no'
    if abs(value) >= 100:
        return f'{value:,.0f}'
    if 0 < abs(value) < 1:
        return f'{value:.{max(digits, 3)}g}'
    return f'{value:.{digits}f}'


def _fixed(value, digits: int = 1) -> str:
    """Fixed decimals with thousands separators (GPU figures)."""
    if value is None:
        return '–'
    if isinstance(value, bool):
        return 'yes' if value else 'no'
    return f'{value:,.{digits}f}'


def _rate(timing: Dict[str, object], unit: str) -> str:
    low, high = timing[f'{unit}_per_s_range']
    return f'{_num(timing[f"{unit}_per_s"])} ({_num(low)}–{_num(high)})'


def _seconds(timing: Dict[str, object]) -> str:
    return (f'{_num(timing["median_s"], 3)} ({_num(timing["min_s"], 3)}–'
            f'{_num(timing["max_s"], 3)}, n={timing["repeats"]})')


def _table(rows: List[List[object]], headers: List[str]) -> str:
    return tabulate(rows, headers=headers, tablefmt='pipe', disable_numparse=True)


def _models_with(result: Dict[str, object], key: str) -> Dict[str, Dict]:
    return {name: model for name, model in result.get('models', {}).items() if key in model}


def _section(title: str, *parts: str) -> str:
    return '\n\n'.join([f'## {title}', *[p for p in parts if p]])


# ------------------------------------------------------------------ header
def header(result: Dict[str, object]) -> str:
    env = result.get('environment', {})
    card = result.get('card', {})
    name = card.get('name', result.get('device', '?'))
    lines = [f'# bike-bench bench on {name} ({result.get("profile", "?")} profile)', '']
    if not result.get('complete', True):
        lines += ['**Partial result: the run stopped before every section was measured.**',
                  '']
    if 'converted_from' in result:
        lines += [f'(Converted from schema `{result["converted_from"]}`; the figures are '
                  'the ones measured then.)', '']
    lines += [
        f'- date: {env.get("date", "?")}, host: {env.get("host", "?")}, device: '
        f'{result.get("device", "?")} ({env.get("device_name", name)}), CPU: '
        f'{env.get("cpu_model", "?")} x {env.get("cpu_count", "?")}',
        f'- torch {env.get("torch", "?")} (CUDA build {env.get("cuda_build", "?")}), '
        f'Python {env.get("python", "?")}, {env.get("torch_threads", "?")} threads, '
        f'commit {env.get("git_commit", "?")}',
        f'- load average at start: {env.get("load_average_at_start", "?")} '
        '(other work on the machine makes the figures noisy)',
        f'- wall time: {_num(result.get("wall_time_s"), 0)} s'
        + (' (quick mode: tiny sizes, 1 repeat — not a measurement)'
           if result.get('profile') == 'quick' else ''),
        '- each figure: median over timed runs after warm-up, range (min–max) '
        'in brackets; rates from the median time']
    matmul = result.get('sections', {}).get('matmul_reference', {})
    if 'tflops' in matmul:
        lines.append(f'- bf16 matmul {matmul.get("size", "?")}³: {_fixed(matmul["tflops"], 0)} '
                     f'TFLOP/s (dense peak on paper '
                     f'{_fixed(card.get("peak_bf16_dense_tflops_on_paper"), 0)})')
    text = '\n'.join(lines)
    rows = result.get('summary', {}).get('goals')
    if rows:
        text += '\n\n' + _section('Goals', _table(
            [[g['figure'], _fixed(g['value'], 2), _fixed(g['goal'], 2), _fixed(g['met'])]
             for g in rows], ['figure', 'measured', 'goal', 'met']))
    return text


# ------------------------------------------------------------ CPU sections
def model_only(result: Dict[str, object]) -> str:
    rows = []
    for name, model in _models_with(result, 'model_only').items():
        for timing in model['model_only'].values():
            rows.append([name, timing['batch'], _rate(timing, 'views'),
                         _num(timing['frames_per_s']), _num(timing['peak_rss_mib'], 0)])
    if not rows:
        return ''
    return _section('Model-only forward (8 frames, 1 view per video, 400 classes)',
                    _table(rows, ['model', 'batch', 'views/s (range)', 'frames/s',
                                  'peak RSS MiB']))


def end_to_end(result: Dict[str, object]) -> str:
    rows = []
    for name, model in _models_with(result, 'end_to_end').items():
        for layout, entry in model['end_to_end'].items():
            for key, run in entry.items():
                if not key.startswith('workers_'):
                    continue
                reference = entry['model_only']
                split = run['time_split']
                loader = entry.get(f'loader_only_{key}', {})
                low, high = run['videos_per_s_range']
                rows.append([name, layout, run['batch'], run['workers'],
                             f'{_num(run["videos_per_s_overall"])} ({_num(low)}–{_num(high)})',
                             _num(reference['videos_per_s']),
                             _num(loader.get('videos_per_s_overall')),
                             _num(run['pipeline_efficiency']),
                             _num(run['pipeline_efficiency_paired']),
                             f'{split["data_wait"]:.0%} / {split["preprocess"]:.0%} / '
                             f'{split["forward"]:.0%}',
                             _num(run['peak_rss_mib'], 0)])
    if not rows:
        return ''
    table = _table(rows, ['model', 'views', 'batch', 'workers',
                          'videos/s (per-batch range)', 'model-only videos/s',
                          'loader alone videos/s', 'pipeline efficiency',
                          'paired efficiency',
                          'wait / preprocess / forward', 'peak RSS MiB (all procs)'])
    return _section('End-to-end evaluation from mp4 files', table, _acceptance(result))


def _acceptance(result: Dict[str, object]) -> str:
    acc = result.get('summary', {}).get('acceptance')
    if not acc:
        return 'ViT-B/32 was not benched: no acceptance figure.'
    verdict = 'met' if acc['met'] else 'NOT met'
    text = (f'Pipeline efficiency, {acc["model"]} {acc["views"]} views, {acc["workers"]} '
            f'workers: **{acc["pipeline_efficiency"]:.3f}** (target '
            f'{acc["target"]}: {verdict}; paired with interleaved model-only calls: '
            f'{acc["pipeline_efficiency_paired"]:.3f}). The forward pass takes '
            f'{acc["time_split"]["forward"]:.1%} of the end-to-end time; forward inside '
            'the pipeline '
            f'{_num(acc["forward_in_pipeline_s"], 3)} s vs model-only '
            f'{_num(acc["forward_model_only_s"], 3)} s per batch; the loader alone '
            f'delivers {_num(acc["loader_only_videos_per_s"])} videos/s.')
    if acc.get('data_pipeline_profile'):
        top = acc['data_pipeline_profile'][:6]
        text += '\n\nData pipeline profile (cumulative s, top functions):\n\n' + _table(
            [[r['function'], r['calls'], _num(r['cumulative_s'], 3)] for r in top],
            ['function', 'calls', 'cumulative s'])
    return text


def train_step(result: Dict[str, object]) -> str:
    models = _models_with(result, 'train_step')
    if not models:
        return ''
    rows = [[name, m['train_step']['batch'], _seconds(m['train_step']),
             _num(m['train_step']['videos_per_s']),
             _num(m['train_step']['text_encoder_calls_per_step']),
             _num(m['train_step']['peak_rss_mib'], 0)] for name, m in models.items()]
    return _section('Training step (8 frames, frozen text tower)',
                    _table(rows, ['model', 'batch', 'forward + backward s (range)',
                                  'videos/s', 'text encodes / step', 'peak RSS MiB']))


def text_cache(result: Dict[str, object]) -> str:
    rows = []
    for name, m in _models_with(result, 'text_cache').items():
        cache = m['text_cache']
        with_, without = cache['with_cache'], cache['without_cache']
        k400 = cache['k400_4x3_evaluation']
        rows.append([
            name, cache['batches'], with_['text_encoder_calls'],
            without['text_encoder_calls'],
            _num(with_.get('median_s'), 3), _num(without.get('median_s'), 3),
            _num(cache['saved_s'], 2), 'measured' if cache['measured'] else 'derived',
            _num(cache['encode_s'], 3), f'{_num(k400["saved_s"] / 3600, 2)} h'])
    if not rows:
        return ''
    return _section('Class-text cache (400-class evaluation)', _table(
        rows, ['model', 'eval batches', 'calls (cache)', 'calls (no cache)',
               'time s (cache)', 'time s (no cache)', 'saved s', 'how',
               '1 encode of 400 classes s', 'saved in a K400 evaluation']))


def switches(result: Dict[str, object]) -> str:
    rows = []
    for name, m in _models_with(result, 'switches').items():
        for key, switch in m['switches'].items():
            if isinstance(switch, str):
                if switch.startswith('skipped'):
                    rows.append([name, key, '–', '–', switch])
                continue
            on_s = _num(switch['on_timing']['median_s'], 3)
            off_s = _num(switch['off_timing']['median_s'], 3)
            rows.append([name, key, f'{switch["on"]}: {on_s} s', f'{switch["off"]}: {off_s} s',
                         f'{switch["speedup"]:.2f}x'
                         + (' (interleaved)' if switch.get('interleaved') else '')])
    if not rows:
        return ''
    return _section('Switches', _table(rows, ['model', 'switch', 'on', 'off',
                                              'speed-up (off / on)']))


# ------------------------------------------------------------ GPU sections
def levers(result: Dict[str, object]) -> str:
    rows = []
    for name, model in _models_with(result, 'levers').items():
        only = model['levers']
        for step, entry in only['steps'].items():
            if 'frames_per_s' not in entry:
                rows.append([name, step, entry['lever'],
                             entry.get('skipped') or entry.get('failed'), '', '', ''])
                continue
            rows.append([name, step, entry['lever'], _fixed(entry['frames_per_s']),
                         _fixed(entry['achieved']['tflops']),
                         _fixed(entry['achieved']['fraction_of_peak'], 2),
                         _fixed(entry.get('speedup_over_previous'), 2)])
        default = only.get('default', {})
        if 'frames_per_s' in default:
            rows.append([name, 'config default', 'fast_path=auto: '
                         + ', '.join(f'{k} {v}' for k, v in default['fast_path'].get(
                             'status', {}).items()),
                         _fixed(default['frames_per_s']),
                         _fixed(default['achieved']['tflops']),
                         _fixed(default['achieved']['fraction_of_peak'], 2),
                         f'{_fixed(default["ratio_to_eager_autocast_fp16"], 2)} x fp16 eager'])
        for key, entry in only.get('batch_sweep', {}).items():
            if key.startswith('batch_'):
                rows.append([name, key, 'eager levers, other batch',
                             _fixed(entry.get('frames_per_s')) if 'frames_per_s' in entry
                             else entry.get('skipped') or entry.get('failed'), '', '', ''])
    if not rows:
        return ''
    return _section('Model-only levers (each row adds one lever to the row above)',
                    _table(rows, ['model', 'step', 'lever', 'frames/s', 'TFLOP/s',
                                  'of peak', 'x previous']))


def data_paths(result: Dict[str, object]) -> str:
    rows = []
    for name, model in _models_with(result, 'data_paths').items():
        for layout, entry in model['data_paths'].items():
            if 'model_only' not in entry:
                rows.append([name, layout, entry.get('skipped', ''), '', '', ''])
                continue
            for path in ('mmengine_data_path', 'fast_data_path'):
                run = entry[path]
                split = ', '.join(f'{k} {v:.0%}' for k, v in run['time_split'].items())
                rows.append([name, layout, path, _fixed(run['views_per_s_overall']),
                             _fixed(run['pipeline_efficiency'], 2), split])
    if not rows:
        return ''
    projection = result.get('summary', {}).get('k400_4x3_projection', {})
    figures = [[k, _fixed(v, 2)] for k, v in projection.items()
               if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return '\n\n'.join([
        _section('End to end: data paths (mp4 files, DataLoader workers)',
                 _table(rows, ['model', 'views', 'data path', 'views/s', 'efficiency',
                               'time split'])),
        _section('Projection: full Kinetics-400 validation, 4x3 views',
                 _table(figures, ['figure', 'value']))])


def training(result: Dict[str, object]) -> str:
    rows = []
    for name, model in _models_with(result, 'training').items():
        for variant, entry in model['training'].get('variants', {}).items():
            rows.append([name, variant, entry['what'],
                         _fixed(entry.get('videos_per_s')) if 'videos_per_s' in entry
                         else entry.get('skipped') or entry.get('failed'),
                         _fixed(entry.get('speedup_over_fp16_amp_eager'), 2),
                         _fixed(entry.get('peak_gpu_memory_gib'), 1)])
    if not rows:
        return ''
    return _section('Training step variants (forward + backward + optimizer)',
                    _table(rows, ['model', 'variant', 'what', 'videos/s', 'x baseline',
                                  'peak GiB']))


# ------------------------------------------------------------ run sections
def flops(result: Dict[str, object]) -> str:
    table = result.get('sections', {}).get('flops')
    if not table:
        return ''
    rows = [[r['label'], r['input'], _num(r['counted_gmac_per_view'], 2),
             _num(r['paper_gflops_per_view']), _num(r['paper_convention_gmac_per_view'], 2),
             _num(r['counted_over_paper'], 2), _num(r['text_tower_gmac_per_class_set'], 1)]
            for r in table['rows']]
    main = _table(rows, ['model', 'input', f'{flops_counts.COUNTED_LABEL}, GMAC/view',
                         f'{flops_counts.PAPER_LABEL}, "GFLOPs"/view',
                         'counted, paper convention GMAC/view', 'counted / paper',
                         'text tower GMAC per class set'])
    families = list(flops_counts.FAMILIES)
    breakdown = _table([[r['label'], r['input']] + [
        _num(r['breakdown_gmac_per_view'][f], 2) for f in families] for r in table['rows']],
        ['model', 'input'] + families)
    return _section('FLOPs per view', main, table['note'],
                    f'By op family (GMAC per view):\n\n{breakdown}')


def decoding(result: Dict[str, object]) -> str:
    rows = []
    for size, entry in result.get('sections', {}).get('decoding', {}).items():
        opened = entry['open_per_video']
        for key, value in entry.items():
            if not key.endswith('_frames'):
                continue
            rows.append([size, value['sampled_frames'], value['distinct_frames'],
                         _rate(value['batch'], 'frames'),
                         _rate(value['frame_by_frame'], 'frames'),
                         f'{value["batch_speedup"]:.2f}x',
                         _num(1000 * opened['median_s'], 2)])
    if not rows:
        return ''
    return _section('Decoding (decord)', _table(
        rows, ['video', 'sampled frames', 'distinct', 'batch frames/s',
               'frame-by-frame frames/s', 'batch speed-up', 'open ms/video']))


def data_pipeline(result: Dict[str, object]) -> str:
    rows = []
    for size, entry in result.get('sections', {}).get('data_pipeline', {}).items():
        for layout, variants in entry.items():
            if not isinstance(variants, dict):
                continue
            for variant, timing in variants.items():
                rows.append([size, f'{entry["resize_to"]}->{entry["crop"]}', layout, variant,
                             _num(timing['ms_per_video'], 2), _num(timing['videos_per_s'])])
    if not rows:
        return ''
    return _section('Data pipeline per video (decode + resize + crop + format)', _table(
        rows, ['video', 'resize->crop', 'views', 'variant', 'ms/video',
               'videos/s (1 process)']))


def decoding_backends(result: Dict[str, object]) -> str:
    rows = []
    for key, entry in result.get('sections', {}).get('decoding_backends', {}).items():
        if 'skipped' in entry:
            rows.append([key, entry['skipped'], '', '', ''])
            continue
        for backend in ('decord', 'pyav', 'torchcodec'):
            if backend in entry:
                rows.append([f'{key} ({entry["frames"]} frames)', backend] + [
                    f'{entry[backend][label]["frames_per_s"]:,.0f}'
                    for label in ('8_frames', '32_frames', 'all_frames')])
    if not rows:
        return ''
    return _section('Decoding backends (frames/s, opening the file included)', _table(
        rows, ['video', 'backend', '8 sampled', '32 sampled', 'every frame']))


def render(result: Dict[str, object], sections: Sequence) -> str:
    """The Markdown of ``result`` (current schema): the header, then each of
    ``sections`` (objects with ``render``) that the result holds."""
    parts = [header(result)]
    for section in sections:
        if section.render is not None:
            text = section.render(result)
            if text:
                parts.append(text)
    return '\n\n'.join(parts) + '\n'
