"""The build contract every builder's output passes: classes with entries,
labels known to the class table (closest names suggested), truthful
counts, entries whose file is absent reported at build time."""
from __future__ import annotations

import pytest

from bike_bench.cli.main import main
from bike_bench.datasets.build import BuildContractError, build_dataset
from bike_bench.datasets.builders.context import BuildContext, BuildSpec
from bike_bench.datasets.builders.contract import check_build
from bike_bench.datasets.builders.result import BuildResult
from bike_bench.datasets.builders.sources import SourceError
from bike_bench.datasets.manifest import ManifestEntry, read_manifest

HEADER = 'label,youtube_id,time_start,time_end,split\n'


def _k600(write, tmp_path, split1_names):
    write('annotations/test.csv', HEADER +
          'zumba,aaaaaaaaaaa,0,10,test\n'
          'yodelling,bbbbbbbbbbb,3,13,test\n'
          # the CSV spells a split class with two spaces and lower case
          'passing american  football (not in game),ccccccccccc,1,11,test\n'
          'passing american  football (not in game),ddddddddddd,2,12,test\n'
          'dyeing hair,eeeeeeeeeee,1,11,test\n')
    for split, names in ((1, split1_names), (2, ['zumba']), (3, ['yodelling'])):
        write(f'lists/k160_labels_split{split}.csv', 'id,name\n' + ''.join(
            f'{i},{n}\n' for i, n in enumerate(names)))
    return tmp_path / 'k600'


def test_k600_class_respelled_in_the_csv_keeps_its_rows_and_is_reported(tmp_path, write):
    out = _k600(write, tmp_path, ['yodelling', 'zumba',
                                  'passing American football (not in game)'])
    outcome = build_dataset('kinetics600', 'kinetics-csv', source=str(tmp_path), out=str(out))
    split1 = read_manifest(str(out / 'manifests' / 'zeroshot_split1.jsonl'))
    assert [e.label for e in split1.entries].count(2) == 2   # the respelled rows
    row = outcome.rows()[0]
    assert (row['entries'], row['expected'], row['dropped'], row['classes'],
            row['covered']) == (4, 4, 0, 3, 3)
    warnings = [i.message for i in outcome.issues if i.kind == 'respelled_label']
    assert warnings and "'passing American football (not in game)'" in warnings[0]
    assert "'passing american  football (not in game)'" in warnings[0]
    assert split1.source['rows_of_other_classes'] == 1


def test_k600_class_renamed_in_the_csv_fails_naming_the_closest_label(tmp_path, write):
    out = _k600(write, tmp_path, ['yodelling', 'zumba', 'dying hair'])
    with pytest.raises(BuildContractError) as error:
        build_dataset('kinetics600', 'kinetics-csv', source=str(tmp_path), out=str(out))
    assert "class 'dying hair'" in str(error.value)
    assert "closest source label that is not a class: 'dyeing hair'" in str(error.value)
    assert not (out / 'manifests').exists()  # nothing written


def _typo_csvs(write):
    write('annotations/train.csv', HEADER +
          'cartoon rabbit,aaaaaaaaaaa,0,10,train\ncartoon rabbit,aaaaaaaaaab,0,10,train\n'
          'zumba,bbbbbbbbbbb,0,10,train\nyodelling,ccccccccccc,0,10,train\n'
          'waxing legs,ddddddddddd,0,10,train\n')
    write('annotations/val.csv', HEADER +
          'cartoon rabbit,eeeeeeeeeee,0,10,val\ncartoon rabit,fffffffffff,0,10,val\n'
          'zumba,ggggggggggg,0,10,val\nwaxing legs,hhhhhhhhhhh,0,10,val\n')


def test_label_typo_in_a_kinetics_csv_is_reported_with_the_closest_name(tmp_path, write):
    _typo_csvs(write)
    out = tmp_path / 'k400'
    outcome = build_dataset('kinetics400', source=str(tmp_path), out=str(out),
                            pattern='{split}/{label_slug}/{youtube_id}.mp4')
    lines = [i.line() for i in outcome.issues]
    typo = [line for line in lines if 'a typo?' in line]
    assert len(typo) == 1
    assert "label 'cartoon rabit' (1 entry, e.g. val.csv:3) is close to 'cartoon rabbit'" \
        in typo[0]
    rows = {row['manifest']: row for row in outcome.rows()}
    assert (rows['val']['entries'], rows['val']['classes'], rows['val']['covered'],
            rows['val']['missing']) == (4, 5, 4, 4)
    assert any("class 'yodelling' (id 3 of 5) has no entries; it has entries only "
               'in other splits (train 1)' in line for line in lines)
    # the entry of the typo points at a folder that does not exist: reported
    assert 'val/cartoon_rabit/fffffffffff.mp4' in \
        (out / 'manifests' / 'val.missing.txt').read_text()
    with pytest.raises(BuildContractError, match='--strict'):
        build_dataset('kinetics400', source=str(tmp_path), out=str(tmp_path / 'strict'),
                      strict=True)


def test_label_typo_against_a_class_table_fails_naming_the_closest_class(tmp_path, write):
    _typo_csvs(write)
    write('kinetics_400_labels.csv', 'id,name\n0,cartoon rabbit\n1,waxing legs\n'
          '2,yodelling\n3,zumba\n')
    with pytest.raises(SourceError) as error:
        build_dataset('kinetics400', source=str(tmp_path), out=str(tmp_path / 'o'))
    assert "val.csv:3: label 'cartoon rabit' is not in the class table" in str(error.value)
    assert "(closest: 'cartoon rabbit')" in str(error.value)


def test_a_class_table_of_another_name_is_named_and_can_be_given(tmp_path, write, capsys):
    _typo_csvs(write)
    table = write('my_labels.csv', 'id,name\n0,cartoon rabbit\n1,cartoon rabit\n'
                  '2,waxing legs\n3,yodelling\n4,zumba\n')
    out = tmp_path / 'o'
    assert main(['manifests', 'build', 'kinetics400', '--source', str(tmp_path),
                 '--out', str(out)]) == 0
    err = capsys.readouterr().err
    assert 'no class table found (looked for classes: kinetics_400_labels.csv' in err
    assert f'Not used: my_labels.csv -- to use one, give --classes {table}' in err
    assert main(['manifests', 'build', 'kinetics400', '--source', str(tmp_path),
                 '--out', str(out), '--classes', table]) == 0
    captured = capsys.readouterr()
    assert f'classes.csv: class names from {table}' in captured.out
    assert 'Not used' not in captured.err
    assert read_manifest(str(out / 'manifests' / 'val.jsonl')).source['files'][
        'classes']['path'] == table


def test_absent_files_are_counted_at_build(tmp_path, write, capsys):
    write('annotations/val.csv', HEADER + 'zumba,aaaaaaaaaaa,0,10,val\n'
          'zumba,bbbbbbbbbbb,0,10,val\n')
    out = tmp_path / 'o'
    write('o/val/aaaaaaaaaaa_000000_000010.mp4', 'present')
    assert main(['manifests', 'build', 'kinetics400', '--source', str(tmp_path),
                 '--out', str(out)]) == 0
    captured = capsys.readouterr()
    assert 'val: 1 of 2 entries have no file under' in captured.err
    assert 'val/bbbbbbbbbbb_000000_000010.mp4' in captured.err
    assert (out / 'manifests' / 'val.missing.txt').read_text() == \
        'val/bbbbbbbbbbb_000000_000010.mp4\n'
    assert read_manifest(str(out / 'manifests' / 'val.jsonl')).source['missing_files'] == 1
    # all present again: the stale list goes
    write('o/val/bbbbbbbbbbb_000000_000010.mp4', 'present')
    assert main(['manifests', 'build', 'kinetics400', '--source', str(tmp_path),
                 '--out', str(out)]) == 0
    assert not (out / 'manifests' / 'val.missing.txt').exists()


def test_counts_that_do_not_add_up_are_an_error(tmp_path, write):
    source = write('list.txt', 'a.mp4 0\n')
    ctx = BuildContext('x', 'f', {'list': source}, [], out_dir=str(tmp_path))
    result = BuildResult()
    result.add(ctx, BuildSpec('val', ['list'], 'val'), ['a', 'b'],
               [ManifestEntry('a.mp4', 0, source_line=1)], expected=3,
               source_keys=['list'])
    check_build(result, str(tmp_path))
    counts = [i for i in result.issues if i.kind == 'counts']
    assert counts and counts[0].severity == 'error'
    assert '3 records for it, but 1 became entries and 0 were left out' in counts[0].message
