"""The paper's figures in results/paper/: loading, validation, look-ups."""
import shutil
from pathlib import Path

import pytest

from bike_bench.reproduction import paper
from bike_bench.reproduction.paper import PaperDataError

PAPER = 'reported in the paper'
ZOO = 'official model zoo'


def test_every_file_loads_and_validates():
    tables = paper.load_tables()
    assert set(tables) == set(paper.TABLE_SCHEMAS)
    files = sorted(p.stem for p in paper.PAPER_DIR.glob('*.yaml'))
    assert files == sorted(paper.TABLE_SCHEMAS)
    counts = {name: len(table.rows) for name, table in tables.items()}
    assert counts == {'k400_sota': 24, 'activitynet': 6, 'charades': 6,
                      'few_shot': 6, 'zero_shot': 7, 'model_zoo': 15}
    for table in tables.values():
        for row in table.rows:
            for cell in row.metrics.values():
                if cell is not None:
                    assert cell.source in paper.SOURCES
                    assert 0 <= cell.value <= 100
            expected = ZOO if table.name == 'model_zoo' else PAPER
            assert row.source == expected


def test_k400_rows_match_the_poster():
    vivit = paper.rows('k400_sota')[6]
    assert vivit.id == 'vivit-h-16x2'
    assert vivit.method == 'ViViT-H/16x2'
    assert vivit.name_as_printed == 'ViViT-H/16×2 [1]'
    assert vivit.metrics['top1'].value == 84.8
    assert vivit.metrics['top5'].value == 95.8
    assert vivit.metrics['top1'].views == '4x3'
    assert vivit.flops.as_printed == '8316x12'
    assert vivit.flops.per_view_gflops == 8316
    assert vivit.flops.view_count == 12
    assert vivit.fields['params_m'] == 647.5
    assert vivit.fields['pretraining'] == 'JFT-300M'

    mvf = paper.rows('k400_sota')[1]
    assert (mvf.method, mvf.name_as_printed) == ('MVFNet_En',
                                                 '$MVFNet_{En}$ [54]')
    st_adapter = paper.paper_figure('k400_sota', 'st-adapter-vit-l-14',
                                    'top1')
    assert (st_adapter.value, st_adapter.views) == (87.2, '3x1')
    assert paper.paper_figure('k400_sota', 'cover-jft3b', 'top5') is None


def test_bike_k400_rows_and_flops_note():
    bike = {r.id: r for r in paper.rows('k400_sota') if r.id.startswith(
        'bike-')}
    assert list(bike) == ['bike-vit-l-14-16x224', 'bike-vit-l-14-8x336',
                          'bike-vit-l-14-16x336']
    figures = [(r.fields['frames'], r.fields['resolution'],
                r.metrics['top1'].value, r.metrics['top5'].value,
                r.flops.per_view_gflops, r.flops.view_count,
                r.fields['params_m']) for r in bike.values()]
    assert figures == [(16, 224, 88.1, 97.9, 830, 12, 230),
                       (8, 336, 88.3, 98.1, 932, 12, 230),
                       (16, 336, 88.7, 98.4, 1864, 12, 230)]
    for row in bike.values():
        assert row.method == 'BIKE ViT-L/14'
        assert row.fields['venue'] == "CVPR'23"
        assert row.fields['pretraining'] == 'WIT-400M'
        assert 'attention missing' in row.fields['flops_note']
    assert bike['bike-vit-l-14-16x224'].fields[
        'approx_true_gmac_per_view'] == 1300
    assert bike['bike-vit-l-14-8x336'].fields[
        'approx_true_gmac_per_view'] == 1530


def test_other_poster_tables():
    nsnet = paper.load_tables()['activitynet'].row('nsnet')
    assert (nsnet.metrics['top1'].value, nsnet.metrics['mAP'].value) == (
        90.2, 94.3)
    assert paper.paper_figure('activitynet', 'listentolook', 'top1') is None
    assert paper.paper_figure('few_shot', 'bike-vit-l-2shot',
                              'ucf101').value == 96.1
    assert paper.load_tables()['few_shot'].row('bike-vit-l-5shot').fields[
        'shot'] == 5
    er = paper.paper_figure('zero_shot', 'er', 'k600')
    assert (er.value, er.std) == (42.1, 1.4)
    e2e = paper.paper_figure('zero_shot', 'e2e', 'ucf101_half')
    assert (e2e.value, e2e.std) == (44.1, None)
    bike_ucf = paper.paper_figure('zero_shot', 'bike-vit-l', 'ucf101_full')
    assert bike_ucf.value == 80.8


def test_charades_names_are_missing_not_guessed():
    charades = paper.rows('charades')
    assert len(charades) == 6
    assert all(r.method is None and r.name_missing for r in charades)
    assert all(r.name_as_printed is None for r in charades)
    assert [r.fields['frames'] for r in charades] == [
        None, '16', '16+64', '16', '32', '16']
    assert [r.metrics['mAP'].value for r in charades] == [
        25.2, 35.3, 42.5, 43.4, 44.3, 50.4]


def test_model_zoo_figures():
    def zoo(row_id, metric):
        return paper.paper_figure('model_zoo', row_id, metric)

    assert (zoo('k400-vit-b16-8x224', 'top1').value,
            zoo('k400-vit-b16-8x224', 'top1').views) == (84.0, '4x3')
    assert zoo('k400-vit-b32-va-8x224', 'top1').views == '1x1'
    assert zoo('anet-vit-l14-16x336', 'mAP').value == 96.1
    assert zoo('charades-vit-l14-16x336', 'mAP').views == '4x1'
    assert zoo('hmdb51-vit-l14-16x336', 'top1').value == 84.3
    attributes = zoo('k400-vit-b32-attributes-8x224', 'top1')
    assert (attributes.value, attributes.approx) == (70.0, True)
    half = zoo('zero-shot-k400-vit-l14-8x224', 'hmdb51_half')
    assert (half.value, half.std, half.source) == (61.37, 3.68, ZOO)
    splits = [zoo('zero-shot-k400-vit-l14-8x224', f'k600_split{i}').value
              for i in (1, 2, 3)]
    assert splits == [70.14, 68.31, 67.15]
    assert round(sum(splits) / 3, 2) == zoo('zero-shot-k400-vit-l14-8x224',
                                            'k600').value
    va = paper.load_tables()['model_zoo'].row('k400-vit-b32-va-8x224')
    assert va.fields['fusion_weights'] == {'video': 0.7, 'attributes': 0.3}


def test_unknown_lookups_raise_key_errors():
    with pytest.raises(KeyError, match='no paper table'):
        paper.rows('nope')
    with pytest.raises(KeyError, match='no row'):
        paper.paper_figure('k400_sota', 'nope', 'top1')
    with pytest.raises(KeyError, match='no metric'):
        paper.paper_figure('k400_sota', 'mtv-h', 'mAP')


def _broken_copy(tmp_path: Path, table: str, old: str, new: str) -> Path:
    for source in paper.PAPER_DIR.glob('*.yaml'):
        shutil.copy(source, tmp_path / source.name)
    target = tmp_path / f'{table}.yaml'
    text = target.read_text(encoding='utf-8')
    assert old in text
    target.write_text(text.replace(old, new, 1), encoding='utf-8')
    return target


@pytest.mark.parametrize('table, old, new, message', [
    ('k400_sota', 'metrics: {top1: 84.8, top5: 95.8}',
     'metrics: {top1: 184.8, top5: 95.8}',
     r"row 7 \(id 'vivit-h-16x2'\).*top1.*outside \[0, 100\]"),
    ('k400_sota', 'views: 10x5', 'views: 10 by 5',
     r"row 5 \(id 'videoswin-l'\).*views must look like"),
    ('k400_sota', 'flops: 8316x12', 'flops: 8316x30',
     r"id 'vivit-h-16x2'.*counts 30 views but views are 4x3"),
    ('activitynet', 'source: reported in the paper',
     'source: a blog post', r"row 1 \(id 'listentolook'\).*source"),
    ('few_shot', '    shot: 5\n', '',
     r"row 2 \(id 'videoprompt-5shot'\).*misses \['shot'\]"),
    ('charades', 'name_missing: true', 'name_missing: false',
     r"row 1 \(id 'charades-row-1'\).*name_missing"),
    ('zero_shot', 'ucf101_half: {value: 17.3, std: 1.1}',
     'ucf101_half: {value: 17.3, sd: 1.1}',
     r"id 'ga'.*metric 'ucf101_half'.*cell needs"),
    ('model_zoo', 'id: k400-vit-b16-8x224', 'id: K400 ViT-B/16',
     r"row 3 \(id 'K400 ViT-B/16'\).*slug"),
])
def test_malformed_file_names_file_and_row(tmp_path, table, old, new,
                                           message):
    target = _broken_copy(tmp_path, table, old, new)
    with pytest.raises(PaperDataError, match=message) as info:
        paper.load_tables(tmp_path)
    assert str(target) in str(info.value)


def test_error_gives_the_rows_line(tmp_path):
    target = _broken_copy(tmp_path, 'activitynet', 'mAP: 94.3', 'mAP: -4')
    with pytest.raises(PaperDataError) as info:
        paper.load_table(target)
    line = next(number for number, text in enumerate(
        target.read_text(encoding='utf-8').splitlines(), 1)
        if 'id: nsnet' in text)
    assert f'{target}:{line}: row 5' in str(info.value)
