"""The Markdown tables of a bench result (built from its JSON dict)."""
from __future__ import annotations

from typing import Dict, List, Optional

from tabulate import tabulate

from bike_bench.benchmark import flops


def _num(value: Optional[float], digits: int = 2) -> str:
    if value is None:
        return '–'
    if abs(value) >= 100:
        return f'{value:,.0f}'
    if 0 < abs(value) < 1:
        return f'{value:.{max(digits, 3)}g}'
    return f'{value:.{digits}f}'


def _rate(timing: Dict[str, object], unit: str) -> str:
    low, high = timing[f'{unit}_per_s_range']
    return f'{_num(timing[f"{unit}_per_s"])} ({_num(low)}–{_num(high)})'


def _seconds(timing: Dict[str, object]) -> str:
    return (f'{_num(timing["median_s"], 3)} ({_num(timing["min_s"], 3)}–'
            f'{_num(timing["max_s"], 3)}, n={timing["repeats"]})')


def _table(rows: List[List[object]], headers: List[str]) -> str:
    return tabulate(rows, headers=headers, tablefmt='pipe', disable_numparse=True)


def _environment(result: Dict[str, object]) -> str:
    env = result['environment']
    lines = [f'- date: {env["date"]}, host: {env["host"]}, device: {result["device"]} '
             f'({env["device_name"]}), CPU: {env["cpu_model"]} x {env["cpu_count"]}',
             f'- torch {env["torch"]} (CUDA build {env["cuda_build"]}), '
             f'{env["torch_threads"]} threads, commit {env["git_commit"]}',
             f'- load average at start: {env["load_average_at_start"]} '
             '(other work on the machine makes the figures noisy)',
             f'- wall time: {_num(result.get("wall_time_s"), 0)} s'
             + (' (quick mode: tiny sizes, 1 repeat — not a measurement)'
                if result['quick'] else ''),
             '- each figure: median over timed runs after warm-up, range (min–max) '
             'in brackets; rates from the median time']
    return '\n'.join(lines)


def _model_only(models: Dict[str, Dict]) -> str:
    rows = []
    for name, model in models.items():
        for timing in model['model_only'].values():
            rows.append([name, timing['batch'], _rate(timing, 'views'),
                         _num(timing['frames_per_s']), _num(timing['peak_rss_mib'], 0)])
    return _table(rows, ['model', 'batch', 'views/s (range)', 'frames/s',
                         'peak RSS MiB'])


def _end_to_end(models: Dict[str, Dict]) -> str:
    rows = []
    for name, model in models.items():
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
    return _table(rows, ['model', 'views', 'batch', 'workers',
                         'videos/s (per-batch range)', 'model-only videos/s',
                         'loader alone videos/s', 'pipeline efficiency',
                         'paired efficiency',
                         'wait / preprocess / forward', 'peak RSS MiB (all procs)'])


def _acceptance(result: Dict[str, object]) -> str:
    acc = result.get('acceptance')
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


def _training(models: Dict[str, Dict]) -> str:
    rows = [[name, m['train_step']['batch'], _seconds(m['train_step']),
             _num(m['train_step']['videos_per_s']),
             _num(m['train_step']['text_encoder_calls_per_step']),
             _num(m['train_step']['peak_rss_mib'], 0)] for name, m in models.items()]
    return _table(rows, ['model', 'batch', 'forward + backward s (range)', 'videos/s',
                         'text encodes / step', 'peak RSS MiB'])


def _text_cache(models: Dict[str, Dict]) -> str:
    rows = []
    for name, m in models.items():
        cache = m['text_cache']
        with_, without = cache['with_cache'], cache['without_cache']
        k400 = cache['k400_4x3_evaluation']
        rows.append([
            name, cache['batches'], with_['text_encoder_calls'],
            without['text_encoder_calls'],
            _num(with_.get('median_s'), 3), _num(without.get('median_s'), 3),
            _num(cache['saved_s'], 2), 'measured' if cache['measured'] else 'derived',
            _num(cache['encode_s'], 3), f'{_num(k400["saved_s"] / 3600, 2)} h'])
    return _table(rows, ['model', 'eval batches', 'calls (cache)', 'calls (no cache)',
                         'time s (cache)', 'time s (no cache)', 'saved s', 'how',
                         '1 encode of 400 classes s', 'saved in a K400 evaluation'])


def _switches(models: Dict[str, Dict]) -> str:
    rows = []
    for name, m in models.items():
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
    return _table(rows, ['model', 'switch', 'on', 'off', 'speed-up (off / on)'])


def _decoding(decoding: Dict[str, Dict]) -> str:
    rows = []
    for size, entry in decoding.items():
        opened = entry['open_per_video']
        for key, value in entry.items():
            if not key.endswith('_frames'):
                continue
            rows.append([size, value['sampled_frames'], value['distinct_frames'],
                         _rate(value['batch'], 'frames'),
                         _rate(value['frame_by_frame'], 'frames'),
                         f'{value["batch_speedup"]:.2f}x',
                         _num(1000 * opened['median_s'], 2)])
    return _table(rows, ['video', 'sampled frames', 'distinct', 'batch frames/s',
                         'frame-by-frame frames/s', 'batch speed-up', 'open ms/video'])


def _pipeline(pipeline: Dict[str, Dict]) -> str:
    rows = []
    for size, entry in pipeline.items():
        for layout, variants in entry.items():
            if not isinstance(variants, dict):
                continue
            for variant, timing in variants.items():
                rows.append([size, f'{entry["resize_to"]}->{entry["crop"]}', layout, variant,
                             _num(timing['ms_per_video'], 2), _num(timing['videos_per_s'])])
    return _table(rows, ['video', 'resize->crop', 'views', 'variant', 'ms/video',
                         'videos/s (1 process)'])


def _flops(table: Dict[str, object]) -> str:
    rows = [[r['label'], r['input'], _num(r['counted_gmac_per_view'], 2),
             _num(r['paper_gflops_per_view']), _num(r['paper_convention_gmac_per_view'], 2),
             _num(r['counted_over_paper'], 2), _num(r['text_tower_gmac_per_class_set'], 1)]
            for r in table['rows']]
    main = _table(rows, ['model', 'input', f'{flops.COUNTED_LABEL}, GMAC/view',
                         f'{flops.PAPER_LABEL}, "GFLOPs"/view',
                         'counted, paper convention GMAC/view', 'counted / paper',
                         'text tower GMAC per class set'])
    families = list(flops.FAMILIES)
    breakdown = _table([[r['label'], r['input']] + [
        _num(r['breakdown_gmac_per_view'][f], 2) for f in families] for r in table['rows']],
        ['model', 'input'] + families)
    return f'{main}\n\n{table["note"]}\n\nBy op family (GMAC per view):\n\n{breakdown}'


def render(result: Dict[str, object]) -> str:
    models = result['models']
    parts = [
        '# bike-bench bench', _environment(result),
        '## Model-only forward (8 frames, 1 view per video, 400 classes)', _model_only(models),
        '## End-to-end evaluation from mp4 files', _end_to_end(models), _acceptance(result),
        '## Training step (8 frames, frozen text tower)', _training(models),
        '## Class-text cache (400-class evaluation)', _text_cache(models),
        '## Switches', _switches(models),
        '## Decoding (decord)', _decoding(result['decoding']),
        '## Data pipeline per video (decode + resize + crop + format)',
        _pipeline(result['data_pipeline']),
        '## FLOPs per view', _flops(result['flops']),
    ]
    return '\n\n'.join(parts) + '\n'
