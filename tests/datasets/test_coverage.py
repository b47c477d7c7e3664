"""Coverage of real data with holes (docs/reliability.md, "Coverage"): a
stand-in of the official K400 validation list with 2 % of its files
deleted is refused by default, naming the count and the missing-list file;
``--min-coverage 0.95`` evaluates the present videos and results, table
cell and footnote say on how many. The list is the official one, read from the reference
annotation lists beside the checkout (skipped where absent)."""
from __future__ import annotations

import json
import os
import shutil

import pytest

from bike_bench.cli.main import main as cli
from bike_bench.datasets.build import build_dataset
from bike_bench.datasets.coverage import (CoverageError, cover_manifests, measure,
                                          results_coverage)
from bike_bench.datasets.manifest import read_manifest
from bike_bench.datasets.synth_like import write_like

ENTRIES = 200
SMOKE_CONFIG = os.path.join(os.path.dirname(__file__), '..', '..', 'mmconfigs',
                            'bike_tiny-vit-p16-res64_toy-clip-pre_1xb16-8x1x1-8e_synthetic-rgb.py')


@pytest.fixture(scope='module')
def holes(reference_dir, tmp_path_factory):
    """Stand-ins of the first 200 K400 validation entries, built into a
    manifest, then every 50th file deleted (2 %)."""
    tmp = tmp_path_factory.mktemp('coverage')
    k400 = reference_dir / 'lists' / 'k400'
    lines = (k400 / 'kinetics_video_val_se320.txt').read_text().splitlines()[:ENTRIES]
    folder = tmp / 'lists'
    folder.mkdir()
    (folder / 'kinetics_video_val_se320.txt').write_text('\n'.join(lines) + '\n')
    shutil.copyfile(k400 / 'kinetics_400_labels.csv', folder / 'kinetics_400_labels.csv')
    out = tmp / 'kinetics400'
    write_like(str(folder / 'kinetics_video_val_se320.txt'), str(out))
    build_dataset('kinetics400', 'official', source=str(out), out=str(out), only=['val'])
    manifest = str(out / 'manifests' / 'val.jsonl')
    data = read_manifest(manifest)
    removed = [data.entry_location(e) for e in data.entries[::50]]
    for path in removed:
        os.remove(path)
    return dict(manifest=manifest, removed=removed, tmp=tmp)


def test_coverage_is_measured_and_the_default_refuses(holes, tmp_path):
    found = measure(holes['manifest'])
    assert (found.present, found.listed) == (ENTRIES - 4, ENTRIES)
    assert found.missing == holes['removed']
    assert found.line() == 'coverage kinetics400/val: 196/200 videos present (98.00 %), 4 missing'
    printed = []
    with pytest.raises(CoverageError) as refused:
        cover_manifests([holes['manifest']], 'k400_entry', work_dir=str(tmp_path),
                        echo=printed.append)
    listing = tmp_path / 'missing_k400_entry.txt'
    assert str(refused.value) == ('k400_entry: 4 of 200 videos missing (98.00 % present, '
                                  f'--min-coverage 1); listed in {listing}')
    assert printed == [found.line()]
    assert [l for l in listing.read_text().splitlines() if not l.startswith('#')] == \
        holes['removed']
    assert not (tmp_path / 'coverage').exists()  # nothing evaluated
    with pytest.raises(CoverageError, match='4 of 200'):
        cover_manifests([holes['manifest']], 'k400_entry', 0.99, str(tmp_path), echo=print)
    # 0.95: the present videos, in a manifest that says where they come from.
    present = cover_manifests([holes['manifest']], 'k400_entry', 0.95, str(tmp_path),
                              echo=print)[0]
    subset = read_manifest(present)
    assert len(subset.entries) == ENTRIES - 4 and subset.num_classes == 400
    assert all(os.path.isfile(subset.entry_location(e)) for e in subset.entries)
    record = subset.source['coverage']
    assert record == dict(present=196, listed=200, missing_file=str(listing),
                          manifest=holes['manifest'],
                          manifest_hash=read_manifest(holes['manifest']).content_hash)
    # A complete manifest is evaluated as it is, nothing written.
    assert cover_manifests([present], 'again', 1.0, str(tmp_path / 'x'), echo=print) == \
        [present]
    assert not (tmp_path / 'x').exists()


@pytest.mark.slow
def test_test_command_refuses_then_evaluates_the_present_videos_and_tables_say_so(
        holes, tmp_path, capsys):
    from mmengine.runner import Runner
    from bike_bench.datasets.smoke import write_smoke_set
    from bike_bench.reproduction.registry import build_registry
    from bike_bench.reproduction.run_files import finish
    from bike_bench.reproduction.tables import build_tables
    from mmengine.config import Config
    # A tiny checkpoint: the smoke config after 3 epochs on 8 videos.
    smoke = write_smoke_set(str(tmp_path / 'smoke'), num_classes=2, train_per_class=4,
                            val_per_class=1, num_frames=12)
    cfg = Config.fromfile(SMOKE_CONFIG)
    cfg.merge_from_dict({'work_dir': str(tmp_path / 'train'), 'train_cfg.max_epochs': 3,
                         'train_dataloader.dataset.ann_file': smoke['train'],
                         'train_dataloader.batch_size': 4,
                         'default_hooks.checkpoint.save_best': None})
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    Runner.from_cfg(cfg).train()
    checkpoint = str(tmp_path / 'train' / 'epoch_3.pth')
    work = tmp_path / 'work'
    command = ['test', SMOKE_CONFIG, checkpoint, '--work-dir', str(work), '--cfg-options',
               f'test_dataloader.dataset.ann_file={holes["manifest"]}']
    with pytest.raises(SystemExit) as refused:
        cli(command)
    listing = work / 'missing_kinetics400_val.txt'
    assert str(refused.value) == ('error: kinetics400_val: 4 of 200 videos missing '
                                  f'(98.00 % present, --min-coverage 1); listed in {listing}')
    assert listing.is_file() and not (work / 'results').exists()
    out = tmp_path / 'results.json'
    assert cli(command + ['--min-coverage', '0.95', '--out', str(out)]) == 0
    assert 'coverage kinetics400/val: 196/200 videos present' in capsys.readouterr().out
    data = json.loads(out.read_text())
    assert data['counts']['evaluated'] == 196
    assert data['dataset']['coverage']['present'] == 196
    assert data['dataset']['coverage']['listed'] == 200
    assert data['dataset']['coverage']['missing_file'] == str(listing)
    assert results_coverage(data) == dict(present=196, listed=200,
                                          missing_files=[str(listing)])
    # As a full-scale run of a K400 entry, its table cell and footnote say so.
    entry = next(e for e in build_registry() if e.dataset == 'kinetics400' and
                 any('acc/top1' in r.metrics.values() for r in e.paper_rows))
    runs = tmp_path / 'runs'
    data['path'] = str(out)
    finish(data, str(runs / 'full' / f'{entry.id}.json'), keys=dict(run_key='k', inputs_key='i'),
           scale='full', entries=[entry], twin=None)
    written = build_tables(str(runs), str(tmp_path / 'tables'))
    table = next(p for p in written if p.endswith('model_zoo.md'))
    text = open(table).read()
    top1 = 100 * data['metrics']['acc/top1']
    assert f'{top1:.2f} [n=196/200]' in text
    assert f'measured on 196 of 200 videos (4 missing, listed in {listing})' in text


def test_reproduce_data_root_measures_coverage_first_and_lists_the_refusal(holes, tmp_path):
    """``reproduce --data-root`` with the stand-in (and no checkpoint): the
    coverage is printed and the refusal is among what is missing, beside
    the checkpoint."""
    from bike_bench.reproduction.registry import build_registry
    from bike_bench.reproduction.reproduce import reproduce
    from bike_bench.reproduction.settings import ReproduceSettings
    entry = next(e for e in build_registry() if e.dataset == 'kinetics400'
                 and e.protocol == 'general' and e.weights and e.weights[0])
    settings = ReproduceSettings.under(str(tmp_path), runs_dir=str(tmp_path / 'runs'))
    printed = []
    outcome = reproduce(settings, data_root=str(holes['tmp']), only=[entry.id],
                        checkpoints=str(tmp_path / 'none'), echo=printed.append)
    assert 'coverage kinetics400/val: 196/200 videos present (98.00 %), 4 missing' in printed
    (missing,) = outcome.missing
    listing = os.path.join(settings.work_dir, 'full', f'missing_{entry.id}.txt')
    assert f'{entry.id}: 4 of 200 videos missing (98.00 % present, --min-coverage 1); ' \
        f'listed in {listing}' in missing.what
    assert any('checkpoint' in line for line in missing.what)
    assert os.path.isfile(listing)
