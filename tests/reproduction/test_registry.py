"""The experiment registry: built from the metafile, linked to paper rows."""
from __future__ import annotations

from bike_bench.reproduction.paper import load_tables
from bike_bench.reproduction.registry import SmokeTwin, build_registry, find_entry


def test_every_entry_links_to_existing_paper_cells():
    tables = load_tables()
    entries = build_registry()
    assert len(entries) == 29  # 28 rows of figures + the K600 group of 3 configs
    for entry in entries:
        assert entry.paper_rows, entry.id
        for link in entry.paper_rows:
            row = tables[link.table].row(link.row)
            for metric in link.metrics:
                assert metric in row.metrics, (entry.id, link.table, link.row, metric)


def test_protocols_views_and_grouping():
    entries = build_registry()
    k600 = find_entry(entries, 'kinetics600')
    assert k600.protocol == 'zeroshot-k600' and len(k600.configs) == 3
    assert find_entry(entries, 'zeroshot-8x1x1_ucf101').protocol == 'zeroshot-half'
    assert find_entry(entries, 'vit-l-p14-res336_clip-openai-pre_32xb8-16x1x1').views == '4x3'
    assert find_entry(entries, 'k400-pre_8xb32-16x1x1-20e_activitynet').views == '4x1'
    few = find_entry(entries, 'fewshot-5shot-8xb32-8x1x1-20e_hmdb51')
    assert few.shots == 5 and few.header == 'None'


def test_smoke_twins_share_runs_and_follow_parents():
    entries = build_registry()
    by_id = {e.id: e for e in entries}
    twins = {e.id: SmokeTwin.of(e, by_id) for e in entries}
    # The three 8-frame K400 backbones share one smoke twin.
    k400_8f = {twins[e.id].id for e in entries
               if e.dataset == 'kinetics400' and e.protocol == 'general'
               and e.frames == 8 and e.recognizer == 'BIKERecognizer'}
    assert k400_8f == {'smoke_general_kinetics400_8f_4x3'}
    ucf = twins[find_entry(entries, 'vit-l-p14_k400-pre_8xb32-16x1x1-20e_ucf101').id]
    assert ucf.parent.id == 'smoke_general_kinetics400_16f_4x3'
    zeroshot = twins[find_entry(entries, 'zeroshot-8x1x1_hmdb51').id]
    assert zeroshot.parent.id == 'smoke_general_kinetics400_8f_4x3'
    va = twins[find_entry(entries, 'bike-va_').id]
    assert va.id.endswith('VideoAttribute')


def test_beyond_paper_entries_stay_out_of_the_paper_registry():
    import open_clip
    from mmengine.config import Config
    from bike_bench.metafile import DATA_ROOT
    from bike_bench.reproduction.registry import build_beyond_registry
    beyond = build_beyond_registry()
    paper_ids = {e.id for e in build_registry()}
    backbones = set()
    for entry in beyond:
        assert entry.id not in paper_ids and not entry.paper_rows and not entry.paper_metrics
        assert (entry.dataset, entry.protocol, entry.frames, entry.views) == (
            'kinetics400', 'general', 8, '4x3')
        backbone = Config.fromfile(str(DATA_ROOT / entry.config)).model.backbone
        assert open_clip.get_pretrained_cfg(backbone.arch, backbone.pretrained), entry.id
        size = open_clip.get_model_config(backbone.arch)['vision_cfg']['image_size']
        assert entry.input_size == size, entry.id  # the model's own image size
        backbones.add((backbone.arch, backbone.pretrained))
    assert {('ViT-B-16-SigLIP2', 'webli'), ('EVA02-B-16', 'merged2b_s8b_b131k'),
            ('EVA02-L-14', 'merged2b_s4b_b131k'), ('ViT-L-14', 'metaclip_fullcc'),
            ('ViT-L-14', 'dfn2b')} <= backbones
    assert any('SigLIP2' in arch and arch != 'ViT-B-16-SigLIP2' for arch, _ in backbones)


def test_beyond_paper_twins_use_a_tiny_model_of_their_family(tmp_path):
    from bike_bench.reproduction.registry import build_beyond_registry
    from bike_bench.reproduction.smoke_twins import twin_config
    beyond = {e.id: e for e in build_beyond_registry()}
    twins = {key: SmokeTwin.of(entry, beyond) for key, entry in beyond.items()}
    families = {twins[key].family for key in beyond}
    assert families == {'siglip', 'eva02', 'openai-clip'}
    siglip = find_entry(list(beyond.values()), 'vit-b-p16-siglip2')
    twin = twins[siglip.id]
    assert twin.id == 'smoke_general_kinetics400_8f_4x3_siglip'
    cfg = twin_config(siglip, twin, str(tmp_path), str(tmp_path / 'work'))
    arch = cfg.model.backbone.arch
    assert arch['text_cfg']['pool_type'] == 'last' and 'siglip' in \
        arch['vision_cfg']['timm_model_name']
    # MetaCLIP and DFN are OpenAI-style towers: they share the paper's twin.
    metaclip = find_entry(list(beyond.values()), 'metaclip')
    assert twins[metaclip.id].id == 'smoke_general_kinetics400_8f_4x3'
