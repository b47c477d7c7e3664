"""FLOPs per view counted on the meta device, against the paper's figures."""
from __future__ import annotations

import pytest

from bike_bench.benchmark import flops


@pytest.mark.parametrize('name, frames, counted, paper', [
    ('vit-l-14', 16, 1297.3, 830.0),
    ('vit-l-14-336', 8, 1528.2, 932.0),
])
def test_paper_figures_are_mlp_and_patch_embedding_only(name, frames, counted, paper):
    row = flops.count_view(name, frames)
    assert row['paper_gflops_per_view'] == paper
    # The paper's figure is the image MLP + patch embedding subtotal ...
    assert row['paper_convention_gmac_per_view'] == pytest.approx(paper, abs=0.5)
    # ... while all ops, attention included, cost about 1.6x as much.
    assert row['counted_gmac_per_view'] == pytest.approx(counted, abs=0.5)
    assert row['counted_over_paper'] == pytest.approx(counted / paper, rel=1e-3)


def test_breakdown_adds_up_to_the_count():
    row = flops.count_view('vit-b-32', 8)
    parts = row['breakdown_gmac_per_view']
    assert set(parts) == set(flops.FAMILIES)
    assert sum(parts.values()) == pytest.approx(row['counted_gmac_per_view'], rel=1e-9)
    assert parts['image attention (scores, weighted sum)'] > 0
    assert parts['video head (temporal transformer + VCS)'] > 0
    assert row['paper_gflops_per_view'] is None


def test_cost_is_linear_in_frames():
    eight = flops.count_view('vit-l-14', 8)['counted_gmac_per_view']
    sixteen = flops.count_view('vit-l-14', 16)['counted_gmac_per_view']
    # Only the temporal head is not per-frame; it is tiny.
    assert sixteen == pytest.approx(2 * eight, rel=1e-3)


def test_table_is_labelled():
    table = flops.flops_table([('tiny', 8)])
    assert table['labels']['counted_gmac_per_view'] == flops.COUNTED_LABEL
    assert table['labels']['paper_gflops_per_view'] == flops.PAPER_LABEL
    assert table['rows'][0]['counted_gmac_per_view'] > 0
