"""``bike-bench bench --quick``: the files and their schema (no timing checks)."""
from __future__ import annotations

import json
import statistics

import pytest
import torch

from bike_bench.cli.main import COMMANDS, build_parser, main
from bike_bench.benchmark import bench, bench_data, bench_models, goals, schema, sections
from bike_bench.benchmark.plans import plan_for


def test_bench_command_is_registered():
    assert COMMANDS['bench'] == 'bench'
    args = build_parser().parse_args(['bench', '--quick', '--repeats', '2'])
    assert args.quick and args.repeats == 2 and args.out_dir == 'results/bench'


def test_unknown_model_is_named():
    with pytest.raises(ValueError, match="unknown bench model 'vit-h-14'"):
        bench_models.parse_names('tiny,vit-h-14')
    with pytest.raises(SystemExit, match='vit-h-14'):
        main(['bench', '--models', 'vit-h-14', '--out-dir', 'unused'])


def test_plan_sizes_the_video_list():
    plan = plan_for('vit-b-32', repeats=3, quick=False)
    # Batches of 1: one warm-up + 24 loader batches.
    assert plan.videos_needed() == 25
    assert not plan.measure_text_cache
    tiny = plan_for('tiny', repeats=3, quick=False)
    assert tiny.runs == 6 and tiny.timed_e2e_batches == 8


@pytest.fixture(scope='module')
def quick_result(tmp_path_factory):
    out = tmp_path_factory.mktemp('bench')
    assert main(['bench', '--quick', '--out-dir', str(out),
                 '--cache-dir', str(out / 'videos')]) == 0
    files = sorted(out.glob('*-quick.json'))
    assert len(files) == 1
    return json.loads(files[0].read_text()), files[0].with_suffix('.md')


@pytest.mark.slow
def test_quick_bench_writes_the_schema(quick_result):
    result, _ = quick_result
    assert result['schema'] == schema.SCHEMA and result['profile'] == 'quick'
    assert result['complete'] is True and result['card'] == {'name': 'cpu'}
    for key in ('environment', 'settings', 'sections', 'models', 'summary', 'wall_time_s'):
        assert key in result
    assert set(result['sections']) == {'flops', 'decoding', 'data_pipeline',
                                       'decoding_backends'}
    assert set(result['summary']) == {'pipeline_efficiency', 'pipeline_efficiency_paired',
                                      'text_cache', 'acceptance'}
    tiny = result['models']['tiny']
    for key in ('text_encode', 'model_only', 'end_to_end', 'pipeline_efficiency',
                'train_step', 'text_cache', 'switches'):
        assert key in tiny
    for layout in ('1x1', '4x3'):
        for workers in (0, 2):
            run = tiny['end_to_end'][layout][f'workers_{workers}']
            assert {'median_s', 'min_s', 'max_s', 'repeats', 'videos_per_s',
                    'videos_per_s_overall', 'peak_rss_mib', 'time_split',
                    'model_only_interleaved'} <= set(run)
            reference = tiny['end_to_end'][layout]['model_only']
            assert run['pipeline_efficiency'] == pytest.approx(
                run['videos_per_s_overall'] / reference['videos_per_s'])
            # Paired rounds: model-only time over end-to-end time per round.
            pairs = zip(run['model_only_interleaved']['samples_s'], run['samples_s'])
            assert run['pipeline_efficiency_paired'] == pytest.approx(
                statistics.median(ref / e2e for ref, e2e in pairs), rel=1e-3)
            assert 'videos_per_s_overall' in \
                tiny['end_to_end'][layout][f'loader_only_workers_{workers}']
            assert result['summary']['pipeline_efficiency']['tiny'][layout][
                f'workers_{workers}'] > 0
    assert result['summary']['acceptance'] is None  # ViT-B/32 not in the quick run
    rows = {(r['model'], r['frames']): r for r in result['sections']['flops']['rows']}
    assert rows[('vit-l-14', 16)]['paper_gflops_per_view'] == 830.0


@pytest.mark.slow
def test_quick_bench_counts_text_encoder_calls(quick_result):
    result, _ = quick_result
    cache = result['summary']['text_cache']['tiny']
    assert cache == result['models']['tiny']['text_cache']
    assert cache['measured'] is True
    assert cache['with_cache']['text_encoder_calls'] == 1
    assert cache['without_cache']['text_encoder_calls'] == cache['batches']
    assert result['models']['tiny']['train_step']['text_encoder_calls_per_step'] == 0
    assert cache['k400_4x3_evaluation']['text_encoder_calls_without_cache'] == 2475


@pytest.mark.slow
def test_quick_bench_reports_switches(quick_result):
    result, _ = quick_result
    switches = result['models']['tiny']['switches']
    for name in ('inference_mode', 'one_encoder_call'):
        assert switches[name]['speedup'] > 0 and switches[name]['interleaved']
    if not torch.cuda.is_available():
        assert switches['bf16_autocast'] == 'skipped: no GPU'
    for size in result['sections']['decoding'].values():
        assert size['8_frames']['batch_speedup'] > 0


@pytest.mark.slow
def test_quick_bench_writes_the_markdown_table(quick_result):
    _, markdown = quick_result
    text = markdown.read_text()
    for heading in ('Model-only forward', 'End-to-end evaluation', 'Training step',
                    'Class-text cache', 'Switches', 'Decoding', 'FLOPs per view',
                    'Decoding backends'):
        assert f'## {heading}' in text
    assert 'paper (MLP + patch embedding only)' in text
    assert 'counted (all ops incl. attention)' in text


def test_missed_target_adds_a_data_pipeline_profile(tmp_path):
    spec = bench_models.get('vit-b-32')
    manifest = bench_data.ensure_videos(str(tmp_path), spec.video_size, 1, num_frames=16)
    run = {'pipeline_efficiency_paired': 0.7, 'forward_median_s': 1.0,
           'time_split': {'data_wait': 0.3, 'preprocess': 0.0, 'forward': 0.7}}
    layout = {'workers_2': run, 'model_only': {'median_s': 1.0},
              'loader_only_workers_2': {'videos_per_s_overall': 1.0}}
    models = {'vit-b-32': {'pipeline_efficiency': {'4x3': {'workers_2': 0.7}},
                           'end_to_end': {'4x3': layout}}}
    report = goals.acceptance(models, {'vit-b-32': manifest}, lambda message: None)
    assert report['met'] is False and report['pipeline_efficiency'] == 0.7
    functions = [row['function'] for row in report['data_pipeline_profile']]
    assert any('transform' in name for name in functions)


def test_sections_are_chosen_by_profile_with_what_they_require():
    names = [s.name for s in sections.select_sections(None, 'cpu')]
    assert names == ['text_encode', 'model_only', 'end_to_end', 'train_step', 'text_cache',
                     'switches', 'flops', 'decoding', 'data_pipeline', 'decoding_backends',
                     'decode_throughput']
    assert 'decode_throughput' not in [s.name for s in sections.select_sections(None,
                                                                                'quick')]
    assert [s.name for s in sections.select_sections(None, 'device')] == [
        'matmul_reference', 'levers', 'data_paths', 'training', 'decoding_backends']
    # The text cache reads the text encode and training-step figures.
    assert [s.name for s in sections.select_sections(['text_cache'], 'quick')] == [
        'text_encode', 'train_step', 'text_cache']
    with pytest.raises(ValueError, match="unknown bench section 'decode'; choose from"):
        sections.select_sections(['decode'], 'cpu')
    with pytest.raises(ValueError, match="unknown bench profile 'gpu'"):
        sections.select_sections(None, 'gpu')
    with pytest.raises(SystemExit, match="unknown bench section 'nope'"):
        main(['bench', '--sections', 'nope', '--out-dir', 'unused'])


def test_a_new_section_plugs_into_the_one_orchestrator(tmp_path, monkeypatch):
    """One Section entry: run once, its figures under ``sections``, its
    table in the Markdown, the same file as every other section."""
    calls = []

    def measure(ctx):
        calls.append(ctx.profile)
        return {'frames_per_s': 123.0}

    def render(result):
        figures = result['sections'].get('example_section')
        return f'## Example section\n\n{figures["frames_per_s"]} frames/s' if figures else ''

    extra = sections.Section('example_section', 'run', 'test section', measure, render)
    monkeypatch.setattr(sections, 'SECTIONS', sections.SECTIONS + (extra,))
    paths = bench.run_bench(['tiny'], profile='quick', device='cpu', out_dir=str(tmp_path),
                            sections=['example_section'], log=lambda message: None)
    result = json.loads(open(paths['json']).read())
    assert calls == ['quick']
    assert result['sections'] == {'example_section': {'frames_per_s': 123.0}}
    assert result['models'] == {} and result['complete'] is True
    assert result['settings']['sections'] == ['example_section']
    assert '## Example section\n\n123.0 frames/s' in open(paths['markdown']).read()


def test_committed_results_read_in_the_current_schema():
    from pathlib import Path
    from bike_bench.benchmark import report
    files = sorted((Path(__file__).resolve().parents[2] / 'results' / 'bench').glob('*.json'))
    assert files
    for path in files:
        result = schema.load_result(str(path))
        assert result['schema'] == schema.SCHEMA, path
        assert schema.upgrade(result) is result
        text = report.render(result, sections.SECTIONS)
        if result['models']:
            assert '## Model-only forward' in text, path
        if 'flops' in result['sections']:
            assert '## FLOPs per view' in text, path
        if 'decode_throughput' in result['sections']:
            assert '## Decode throughput at Kinetics resolution' in text, path


def test_first_bench_schema_upgrades_without_touching_a_figure():
    old = {'schema': schema.CPU_BENCH_1, 'quick': False, 'device': 'cpu',
           'environment': {'device_name': 'cpu'},
           'settings': {'models': ['tiny'], 'repeats': 3, 'tiny': {'repeats': 3}},
           'flops': {'rows': []}, 'decoding': {'a': 1}, 'data_pipeline': {'b': 2},
           'models': {'tiny': {'model_only': {'batch_1': {'median_s': 0.5}}}},
           'pipeline_efficiency': {'tiny': {}}, 'pipeline_efficiency_paired': {'tiny': {}},
           'text_cache': {'tiny': {}}, 'acceptance': None, 'wall_time_s': 10.0}
    new = schema.upgrade(old)
    assert new['profile'] == 'cpu' and new['converted_from'] == schema.CPU_BENCH_1
    assert new['sections'] == {'flops': {'rows': []}, 'decoding': {'a': 1},
                               'data_pipeline': {'b': 2}}
    assert new['settings']['cpu_plans'] == {'tiny': {'repeats': 3}}
    assert new['models'] == old['models'] and new['summary']['acceptance'] is None
    assert new['wall_time_s'] == 10.0
    with pytest.raises(schema.SchemaError, match="unknown bench schema 'x/9'"):
        schema.upgrade({'schema': 'x/9'})


def test_decode_throughput_section_measures_every_backend(tmp_path):
    """Kinetics-like stand-ins (H.264 High, B-frames, one GOP), each usable
    backend at 1x1 and 4x3, the K400 projection, in the one orchestrator."""
    from bike_bench.datasets.transforms.video_backends import available_backends
    paths = bench.run_bench(['tiny'], profile='quick', device='cpu', out_dir=str(tmp_path),
                            cache_dir=str(tmp_path / 'videos'),
                            sections=['decode_throughput'], log=lambda message: None)
    result = json.loads(open(paths['json']).read())
    data = result['sections']['decode_throughput']
    video = data['videos']
    assert (video['codec'], video['profile'], video['width'], video['height']) == (
        'h264', 'High', 340, 256)
    assert video['b_frames'] and video['keyframes'] == 1 and video['frames'] == 50
    assert set(data['backends']) == set(available_backends()) >= {'decord', 'pyav'}
    for entry in data['backends'].values():
        assert entry['library']['version']
        for layout in ('1x1', '4x3'):
            assert entry[layout]['videos_per_s'] > 0 and entry[layout]['repeats'] == 1
    rows = data['projection']['rows']
    assert {'decord, eager model', 'decord, compiled model'} <= set(rows)
    row = rows['decord, compiled model']
    assert row['model_videos_per_s'] == pytest.approx(2745 / 96)
    rate = min(row['model_videos_per_s'],
               16 * data['backends']['decord']['4x3']['videos_per_s'])
    assert row['minutes'] == pytest.approx(19796 / rate / 60)
    markdown = open(paths['markdown']).read()
    assert '## Decode throughput at Kinetics resolution' in markdown
    assert '| decord | 0.6.0 |' in markdown
