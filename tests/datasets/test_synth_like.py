"""`bike-bench synth --like LIST`: stand-ins named and labelled as an official
list, built, checked and decoded like the real dataset. The K400 list is
read from the reference data (tests/conftest.py; skipped where absent)."""
from __future__ import annotations

import pytest

from bike_bench.cli.main import main
from bike_bench.datasets.build import build_dataset
from bike_bench.datasets.builders.sources import SourceError
from bike_bench.datasets.check import check_manifest
from bike_bench.datasets.synth_like import write_like

ENTRIES = 300


@pytest.fixture
def k400_head(reference_dir, tmp_path):
    """The first 300 lines of the official K400 validation video list, and
    its class table beside it (the spec's file names)."""
    k400 = reference_dir / 'lists' / 'k400'
    lines = (k400 / 'kinetics_video_val_se320.txt').read_text().splitlines()[:ENTRIES]
    folder = tmp_path / 'lists'
    folder.mkdir()
    (folder / 'kinetics_video_val_se320.txt').write_text('\n'.join(lines) + '\n')
    (folder / 'kinetics_400_labels.csv').write_text(
        (k400 / 'kinetics_400_labels.csv').read_text())
    return folder / 'kinetics_video_val_se320.txt', lines


def test_stand_ins_build_check_and_decode_like_the_list(k400_head, tmp_path, capsys):
    list_path, lines = k400_head
    out = tmp_path / 'like'
    assert main(['synth', '--like', str(list_path), '--out', str(out)]) == 0
    printed = capsys.readouterr().out
    assert f'{ENTRIES} stand-ins of kinetics400/official val' in printed
    assert (f'next: bike-bench manifests build kinetics400 --format official --source '
            f'{out} --out {out} --only val') in printed
    for line in lines[:3]:
        name, _ = line.split()
        assert (out / 'val' / name).is_file()
    outcome = build_dataset('kinetics400', 'official', source=str(out), out=str(out),
                            only=['val'])
    val = outcome.result.manifests[0].manifest
    assert len(val.entries) == ENTRIES and val.num_classes == 400
    assert [(e.path, e.label) for e in val.entries[:2]] == [
        (f'val/{lines[0].split()[0]}', int(lines[0].split()[1])),
        (f'val/{lines[1].split()[0]}', int(lines[1].split()[1]))]
    assert outcome.rows()[0]['missing'] == 0
    report = check_manifest(outcome.written['val'], probe_decode=True)
    assert report.found == ENTRIES and report.probed
    assert report.count('missing') == report.count('undecodable') == 0
    # 2 % removed: the build counts and lists them
    removed = sorted((out / 'val').iterdir())[::50]
    for path in removed:
        path.unlink()
    again = build_dataset('kinetics400', 'official', source=str(out), out=str(out),
                          only=['val'])
    assert again.rows()[0]['missing'] == len(removed) == ENTRIES // 50
    assert len((out / 'manifests' / 'val.missing.txt').read_text().split()) == len(removed)
    # a second run writes only what is absent
    rerun = write_like(str(list_path), str(out))
    assert (rerun.written, rerun.kept) == (len(removed), ENTRIES - len(removed))


def test_stand_ins_differ_by_class(k400_head, tmp_path):
    list_path, lines = k400_head
    out = tmp_path / 'like'
    write_like(str(list_path), str(out))
    labels = {}
    for line in lines:
        name, label = line.split()
        labels.setdefault(int(label), (out / 'val' / name).read_bytes())
    assert len(set(labels.values())) == len(labels) > 1


def test_a_folder_of_other_files_is_refused(k400_head, tmp_path):
    list_path, _ = k400_head
    (tmp_path / 'mine').mkdir()
    (tmp_path / 'mine' / 'keep.txt').write_text('mine')
    with pytest.raises(SourceError, match='was not made by `synth --like`'):
        write_like(str(list_path), str(tmp_path / 'mine'))


def test_an_unknown_list_becomes_a_custom_dataset(tmp_path):
    listing = tmp_path / 'my_list.txt'
    listing.write_text('a/x.mp4 0\nb/y.mp4 1\n')
    table = tmp_path / 'names.txt'
    table.write_text('jump\nrun\n')
    out = tmp_path / 'like'
    outcome = write_like(str(listing), str(out), classes=str(table))
    assert (out / 'a' / 'x.mp4').is_file() and (out / 'b' / 'y.mp4').is_file()
    assert outcome.build_command.startswith(
        'bike-bench manifests build custom --name my-list --format mmaction-video')
    assert main(outcome.build_command.split()[1:]) == 0
