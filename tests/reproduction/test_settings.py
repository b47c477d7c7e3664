"""The settings of reproduce / ci-regression: built from options, passed down.

No module of ``bike_bench.reproduction`` reads the environment or fixes an
output folder when imported; the seed and epochs a twin trains with come from
``SmokeSettings``, the folders from ``ReproduceSettings`` (output root at
call time).
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from bike_bench.reproduction.registry import SmokeTwin, build_registry, find_entry
from bike_bench.reproduction.settings import ReproduceSettings, SmokeSettings

PACKAGE = Path(__file__).resolve().parents[2] / 'bike_bench'
K400 = 'bike_vit-b-p16_clip-openai-pre_8xb32-8x1x1-30e_kinetics400-rgb'
ZERO_SHOT = 'bike_vit-l-p14_k400-pre_zeroshot-8x1x1_ucf101-rgb'


def _twin(key):
    entries = build_registry()
    entry = find_entry(entries, key)
    return entry, SmokeTwin.of(entry, {e.id: e for e in entries})


def test_twin_trains_with_the_settings_seed_and_epochs(tmp_path, monkeypatch):
    from bike_bench.reproduction.smoke_twins import twin_config
    # An environment variable of the old harness changes nothing any more.
    monkeypatch.setenv('BIKE_BENCH_SMOKE_SEED', '9')
    monkeypatch.setenv('BIKE_BENCH_SMOKE_EPOCHS', '9')
    entry, twin = _twin(K400)
    cfg = twin_config(entry, twin, str(tmp_path), str(tmp_path / 'work'))
    assert cfg.randomness.seed == 0 and cfg.train_cfg.max_epochs == 6
    smoke = SmokeSettings(train_epochs=2, seed=3)
    cfg = twin_config(entry, twin, str(tmp_path), str(tmp_path / 'work'), smoke)
    assert cfg.randomness.seed == 3 and cfg.train_cfg.max_epochs == 2
    assert cfg.param_scheduler[1]['end'] == 2
    assert '2 epochs' in cfg.run_source['derivation'][0]


def test_epochs_by_kind_of_twin():
    smoke = SmokeSettings(train_epochs=5, finetune_epochs=3, fewshot_epochs=2)
    assert smoke.epochs('general', finetuned=False) == 5
    assert smoke.epochs('general', finetuned=True) == 3
    assert smoke.epochs('fewshot', finetuned=False) == 2
    assert SmokeSettings.with_epochs(1) == SmokeSettings(1, 1, 1)
    with pytest.raises(ValueError, match='train_epochs'):
        SmokeSettings(train_epochs=0)


def test_folders_follow_the_output_root_at_call_time(tmp_path, monkeypatch):
    first, second = tmp_path / 'a', tmp_path / 'b'
    monkeypatch.setenv('BIKE_BENCH_HOME', str(first))
    assert ReproduceSettings.under().work_dir == str(first / 'work_dirs' / 'reproduce')
    monkeypatch.setenv('BIKE_BENCH_HOME', str(second))
    settings = ReproduceSettings.under()
    assert settings.output_root == str(second)
    assert settings.runs_dir == str(second / 'work_dirs' / 'reproduce' / 'runs')
    assert settings.synth_root == str(second / 'data' / 'synthetic')
    assert settings.readme is None  # no README is touched unless asked
    runs = ReproduceSettings.under(runs_dir=str(tmp_path / 'results' / 'runs'))
    assert runs.tables_dir == str(tmp_path / 'results' / 'tables')


def test_cli_options_become_the_settings(tmp_path, monkeypatch):
    from bike_bench.cli.main import build_parser
    from bike_bench.cli.reproduce import settings_from
    monkeypatch.setenv('BIKE_BENCH_HOME', str(tmp_path))
    args = build_parser().parse_args(['reproduce', '--smoke-epochs', '2', '--seed', '5'])
    settings = settings_from(args)
    assert settings.smoke == SmokeSettings.with_epochs(2, seed=5)
    assert settings.runs_dir.startswith(str(tmp_path))
    args = build_parser().parse_args(['reproduce', '--data-root', 'datasets'])
    assert settings_from(args).runs_dir == str(tmp_path / 'results' / 'runs')


def test_no_hidden_state_in_the_reproduction_package():
    """Nothing reads the environment, reloads a module or fixes a folder of
    the output root at import."""
    found = []
    for path in sorted((PACKAGE / 'reproduction').glob('*.py')):
        text = path.read_text(encoding='utf-8')
        for pattern in (r'os\.environ', r'importlib\.reload', r'^\w+ = .*paths\.(output_path|'
                        r'user_path|output_root)\('):
            if re.search(pattern, text, re.M):
                found.append(f'{path.name}: {pattern}')
    assert not found


@pytest.fixture(scope='module')
def small_synthetic(tmp_path_factory):
    from bike_bench.datasets.synthetic_benchmark import SynthConfig, write_benchmark
    root = str(tmp_path_factory.mktemp('synthetic'))
    write_benchmark(root, SynthConfig(classes=2, videos_per_class=3))
    return root


def test_eval_transform_changes_what_is_evaluated_not_what_is_trained(
        tmp_path, small_synthetic):
    from bike_bench.reproduction.reproduce import SmokeRunner

    def fault(cfg):
        cfg.model.prompt_template = '{}'

    entry, twin = _twin(ZERO_SHOT)
    settings = ReproduceSettings.under(str(tmp_path), synth_root=small_synthetic)
    clean = SmokeRunner([entry], settings, echo=None)
    faulty = SmokeRunner([entry], settings.replace(eval_transform=fault), echo=None)
    assert faulty.twin_config(twin, entry).model.prompt_template == '{}'
    assert clean.twin_config(twin, entry).model.prompt_template != '{}'
    # The parent's checkpoint is the same; the results file is another run.
    parent = faulty._representative(twin.parent, [])
    assert faulty.key(twin.parent, parent) == clean.key(twin.parent, parent)
    assert faulty.result_keys(twin, entry) != clean.result_keys(twin, entry)
    assert clean.result_keys(twin, entry) == clean.keys_of(twin, entry)
    assert not os.path.exists(tmp_path / 'work_dirs')  # nothing trained or written
