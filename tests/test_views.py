"""View logic without a browser, and the computations the views call (selection terms, pair contributions)."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import panel as pn
import pytest
from scipy import stats

from atted_explore import InputError
from atted_explore.compute.pairs import (
    expression_correlation,
    pair_stats,
    pc_contributions,
    standardized_gene_scores,
)
from atted_explore.compute.selection import region_mask, term_enrichment
from atted_explore.views import AtlasOverview, CoexList, CoexViewer, Explorer, PCView
from atted_explore.views.coexlist import partner_table
from atted_explore.views._style import escape, gene_options, pc_axis_label, top_categories
from atted_explore.views.explorer import TABS
from atted_explore.views.pcview import GENE_EXPRESSION


@pytest.fixture(scope="module")
def atlas(analysed_atlas):
    return analysed_atlas


@pytest.fixture(scope="module")
def node(atlas):
    return atlas["Ath-r"].to_dataset().load()


def first_partner(node, gene: str) -> str:
    return str(node["gene"].values[int(node["coex_partner"].sel(gene=gene).values[0])])


# ------------------------------------------------------------------ selection


def test_region_mask_box_and_polygon_agree_with_coordinates(node):
    x, y = node["sample_score"].sel(pc=1).values, node["sample_score"].sel(pc=2).values
    x0, x1, y0, y1 = np.quantile(x, 0.2), np.quantile(x, 0.7), np.quantile(y, 0.1), np.quantile(y, 0.8)
    box = region_mask(node, 1, 2, bounds=(x1, y1, x0, y0)).values
    assert np.array_equal(box, (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1))
    square = region_mask(node, 1, 2, polygon=([x0, x1, x1, x0], [y0, y0, y1, y1])).values
    on_edge = np.isclose(x, x0) | np.isclose(x, x1) | np.isclose(y, y0) | np.isclose(y, y1)
    assert np.array_equal(square[~on_edge], box[~on_edge])
    triangle = region_mask(node, 1, 2, polygon=([x0, x1, x0], [y0, y0, y1])).values
    assert triangle.sum() < box.sum()
    assert not (triangle & ~box).any()
    with pytest.raises(InputError, match="exactly one"):
        region_mask(node, 1, 2)
    with pytest.raises(InputError, match="no PC 999"):
        region_mask(node, 1, 999, bounds=(0, 0, 1, 1))


def test_term_enrichment_ranks_the_selected_tissue_first_with_hypergeometric_p(node):
    tissue = pd.Series(node["tissue"].values)
    term = tissue.value_counts().index[1]
    selected = (tissue == term).to_numpy()
    table = term_enrichment(node, selected)
    top = table.iloc[0]
    assert (top["field"], top["term"]) == ("tissue", term)
    n, k = node.sizes["sample"], int(selected.sum())
    assert top["fold"] == pytest.approx(n / k)
    assert top["p_value"] == pytest.approx(stats.hypergeom.sf(k - 1, n, k, k))
    assert (table["q_value"] >= table["p_value"] - 1e-15).all()
    by_ids = term_enrichment(node, node["sample"].values[selected].tolist())
    pd.testing.assert_frame_equal(by_ids, table)
    assert term_enrichment(node, np.zeros(n, dtype=bool)).empty
    with pytest.raises(InputError, match="unknown sample IDs"):
        term_enrichment(node, ["no-such-sample"])


# ---------------------------------------------------------------------- pairs


def test_pc_contributions_sum_to_the_correlation_over_standardized_pcs(node):
    gene_a = str(node["gene"].values[3])
    gene_b = first_partner(node, gene_a)
    result = pc_contributions(node, gene_a, gene_b)
    z = standardized_gene_scores(node)
    expected = np.corrcoef(z.sel(gene=gene_a).values, z.sel(gene=gene_b).values)[0, 1]
    assert result.attrs["correlation"] == pytest.approx(expected, abs=1e-6)
    assert float(result["contribution"].sum()) == pytest.approx(expected, abs=1e-6)
    assert np.allclose(z.std("gene").values, 1, atol=1e-3)
    assert float(pc_contributions(node, gene_a, gene_a)["contribution"].sum()) == pytest.approx(1.0)


def test_pair_stats_and_partner_table_follow_the_coexpression_lists(node):
    gene = str(node["gene"].values[10])
    partner = first_partner(node, gene)
    table = partner_table(node, gene)
    assert table["rank"].tolist() == sorted(table["rank"])
    assert table["partner"].iloc[0] == partner
    assert table["symbol"].iloc[0] == node["symbol"].sel(gene=partner).item()
    assert np.allclose(table["score"], node["coex_score"].sel(gene=gene).values[: len(table)])
    pair = pair_stats(node, gene, partner)
    assert pair["rank"] == 1
    assert pair["score"] == pytest.approx(table["score"].iloc[0])
    rows = node["expression"].sel(gene=[gene, partner]).values
    assert pair["expression_correlation"] == pytest.approx(np.corrcoef(rows)[0, 1], abs=1e-6)
    assert expression_correlation(node, gene, partner) == pair["expression_correlation"]
    chloroplast = partner_table(node, gene, compartment="chloroplast")
    flags = node["localization"].sel(compartment="chloroplast", gene=chloroplast["partner"].tolist()).values
    assert flags.all() and len(chloroplast) < len(table)
    assert all("chloroplast" in text for text in chloroplast["localization"])
    with pytest.raises(InputError, match="unknown compartment"):
        partner_table(node, gene, compartment="golgi")
    with pytest.raises(InputError, match="not on dim 'gene'"):
        partner_table(node, "NOT-A-GENE")


# ---------------------------------------------------------------------- views


def test_style_escapes_and_labels(node):
    assert escape('<img src=x onerror="window.__xss=1">') == "&lt;img src=x onerror=&quot;window.__xss=1&quot;&gt;"
    assert escape("heat &amp; drought") == "heat &amp;amp; drought"
    variance = 100 * float(node["pc_variance"].sel(pc=2))
    assert pc_axis_label(node, 2).startswith(f"PC2 ({variance:.1f}%)")
    options = gene_options(node)
    with_symbol = next(g for g, s in zip(node["gene"].values, node["symbol"].values) if s)
    label = next(k for k, v in options.items() if v == with_symbol)
    assert node["symbol"].sel(gene=with_symbol).item() in label
    labels, key = top_categories(node["study"].values, 5)
    assert len(labels.categories) == 6 and "other" in key
    biggest = pd.Series(node["study"].values).value_counts().index[0]
    assert (labels == biggest).sum() == (node["study"].values == biggest).sum()


def figures(viewable) -> list:
    """The Bokeh figures a view renders (through its Panel model)."""
    from bokeh.models import Plot

    return list(pn.panel(viewable).get_root().select({"type": Plot}))


def scatter_sources(viewable) -> list[dict]:
    """Data of the glyph renderers (Scatter) of every figure a view renders."""
    from bokeh.models import GlyphRenderer, Scatter

    return [
        renderer.data_source.data
        for figure in figures(viewable)
        for renderer in figure.select({"type": GlyphRenderer})
        if isinstance(renderer.glyph, Scatter)
    ]


def test_pcview_colors_selects_and_ranks_terms(node):
    view = PCView(node)
    assert (view.x_pc, view.y_pc, view.color_by) == (1, 2, "study")
    (data,) = scatter_sources(view)  # 1,200 samples: real glyphs, one per sample
    assert len(data["x"]) == node.sizes["sample"]
    plot = figures(view)[0]
    assert plot.xaxis[0].axis_label.startswith("PC1 (") and plot.yaxis[0].axis_label.startswith("PC2 (")
    assert "study" in view._legend.object and "&lt;" not in view._legend.object.replace("&lt;script", "")
    gene = str(node["gene"].values[0])
    view.param.update(gene=gene, color_by=GENE_EXPRESSION, x_pc=3)
    frame = view.frame()
    assert frame.color == "value" and np.allclose(frame.data["value"], node["expression"].sel(gene=gene).values)
    assert np.allclose(frame.data["x"], node["sample_score"].sel(pc=3).values) and frame.x_label.startswith("PC3")
    assert view._legend.object == ""  # a colorbar instead of a legend
    x = node["sample_score"].sel(pc=3).values
    view._select(bounds=(np.median(x), -1e9, 1e9, 1e9))
    assert len(view.selection) == int((x >= np.median(x)).sum())
    assert len(view._samples.value) == len(view.selection)
    assert view._terms.value["selected"].gt(0).all()
    y = node["sample_score"].sel(pc=2).values
    lasso = np.array([[x.min() - 1, y.min() - 1], [x.max() + 1, y.min() - 1], [x.min() - 1, y.max() + 1]])
    view._select(polygon=lasso)
    inside = region_mask(node, 3, 2, polygon=(lasso[:, 0], lasso[:, 1])).values
    assert view.selection == node["sample"].values[inside].tolist() and 0 < inside.sum() < inside.size
    pd.testing.assert_frame_equal(view.selected_terms(), term_enrichment(node, inside))
    view.y_pc = 3
    assert view._problem.visible and "two different PCs" in view._problem.object
    view.y_pc = 2
    assert not view._problem.visible


def test_pcview_recolors_in_place_keeping_plot_and_streams(node):
    view = PCView(node)
    figures(view)
    plot, streams = view._plot.pane.object, list(view._plot.pane.object.streams)
    for field in ("tissue", "treatment", "study"):
        view.color_by = field
    view.top_categories = 3
    assert view._plot.pane.object is plot and list(plot.streams) == streams
    assert len(view._legend_html(view.frame()).split('class="legend-item"')) == 1 + 4  # 3 + other
    watchers = sum(len(w) for w in view.param.watchers.values())
    view.node = node.isel(sample=slice(0, 300))
    view.node = node
    assert sum(len(w) for w in view.param.watchers.values()) == watchers


def test_points_are_datashaded_above_the_glyph_limit(node, monkeypatch):
    from bokeh.models import GlyphRenderer, ImageRGBA, Plot

    from atted_explore.views import _points

    monkeypatch.setattr(_points, "GLYPH_LIMIT", 100)
    view = PCView(node)
    (figure,) = pn.panel(view).get_root().select({"type": Plot})  # one root: the updates below patch it
    (image,) = [r for r in figure.select({"type": GlyphRenderer}) if isinstance(r.glyph, ImageRGBA)]
    (hover,) = [r.data_source for r in figure.select({"type": GlyphRenderer}) if r.glyph is not image.glyph]
    # the hover glyphs: one per sample, invisible, carrying the (script-safe) annotations
    assert len(hover.data["x"]) == node.sizes["sample"] and hover.data["study"][0] == node["study"].values[0]
    assert all(r.glyph.fill_alpha == 0 for r in figure.select({"type": GlyphRenderer}) if r.data_source is hover)
    assert f"samples ({node.sizes['sample']:,}) colored by study" in figure.title.text  # as on the glyph plot
    assert figure.output_backend == "canvas"  # WebGL layers are copied back at each redraw: slow without a GPU
    shown, x_column = image.data_source.data["image"][0].copy(), hover.data["x"]
    view.color_by = "tissue"  # a recolor sends a new image, not the hover glyphs again
    assert not np.array_equal(image.data_source.data["image"][0], shown)
    assert hover.data["x"] is x_column and figure.title.text.endswith("colored by tissue")
    view.x_pc = 3  # other positions: new hover glyphs
    assert np.allclose(hover.data["x"], node["sample_score"].sel(pc=3).values)
    monkeypatch.setattr(_points, "GLYPH_LIMIT", 20_000)
    view.color_by = "study"  # the next frame takes the glyph pipeline
    assert view._plot.glyphs and len(scatter_sources(view)[0]["x"]) == node.sizes["sample"]
    assert figures(view)[0].output_backend == "canvas"


def test_category_image_mixes_the_colors_of_each_pixel_and_keeps_points_in_place():
    import holoviews as hv

    from atted_explore.views._points import CATEGORY, CATEGORY_KEY, category_image, mix_colors

    red, blue = "#ff0000", "#0000ff"
    counts = np.zeros((2, 3, 2), dtype=np.uint32)
    counts[0, 0] = [1, 0]  # one red point
    counts[0, 1] = [3, 1]  # three red, one blue
    counts[1, 2] = [0, 9]  # the densest pixel
    rgba = mix_colors(counts, [red, blue])
    assert tuple(rgba[0, 0, :3]) == (255, 0, 0) and tuple(rgba[0, 1, :3]) == (191, 0, 64)
    assert tuple(rgba[1, 2]) == (0, 0, 255, 255) and rgba[1, 0, 3] == 0  # no point: transparent
    assert 0 < rgba[0, 0, 3] < rgba[0, 1, 3] < 255  # opacity grows with the count
    # a lone point of category 0 at the top left, category 1 elsewhere: the image's top-left pixel is category 0's
    frame = pd.DataFrame({"x": [0.0, 5, 10, 10], "y": [10.0, 0, 0, 5],
                          CATEGORY: pd.Categorical(["0", "1", "1", "1"], categories=["0", "1"])})
    image = category_image(hv.Points(frame, ["x", "y"], [CATEGORY]), width=20, height=10)
    pixels = np.dstack([image.dimension_values(c, flat=False) for c in "RGBA"])
    xs, ys = (image.dimension_values(d, flat=False) for d in (0, 1))
    top_left = np.unravel_index(np.argmin(xs - ys), xs.shape)  # the pixel centre nearest (0, 10)
    expected = tuple(int(CATEGORY_KEY["0"][i:i + 2], 16) for i in (1, 3, 5))
    assert tuple(pixels[top_left][:3]) == expected and pixels[top_left][3] > 0
    empty = np.unravel_index(np.argmin(np.hypot(xs - 2.5, ys - 5)), xs.shape)  # far from every point
    assert image.bounds.lbrt() == (0.0, 0.0, 10.0, 10.0) and pixels[empty][3] == 0


def test_coexlist_lists_filters_downloads_and_selects(node):
    gene = str(node["gene"].values[10])
    view = CoexList(node, gene=gene)
    shown = view._table.value
    assert shown["partner"].tolist() == partner_table(node, gene)["partner"].tolist()
    assert shown["ATTED-II"].str.startswith("https://atted.jp/").all()
    assert shown["TAIR"].iloc[0].endswith(shown["partner"].iloc[0])
    assert all(spec["type"] == "link" for name, spec in view._table.formatters.items() if name != "score")
    downloaded = pd.read_csv(io.StringIO(view._tsv().getvalue()), sep="\t")
    assert downloaded["partner"].tolist() == shown["partner"].tolist()
    view.compartment = "chloroplast"
    assert len(view._table.value) == len(partner_table(node, gene, compartment="chloroplast"))
    view._table.selection = [1]
    assert view.partner == view._table.value["partner"].iloc[1]


def test_coexviewer_pair_and_pc_click(node):
    gene_a = str(node["gene"].values[3])
    gene_b = first_partner(node, gene_a)
    view = CoexViewer(node, gene_a=gene_a, gene_b=gene_b)
    assert gene_a in view._stats.object and "partner #1" in view._stats.object
    sources = scatter_sources(view)
    samples = next(s for s in sources if "x" in s)
    pcs = next(s for s in sources if "contribution" in s)  # one point per PC
    assert len(sources) == 2 and len(samples["x"]) == node.sizes["sample"] and len(pcs["contribution"]) == node.sizes["pc"]
    contributions = view.contributions()
    assert np.allclose(sorted(pcs["contribution"]), sorted(contributions["contribution"].values))
    view._pick_pc("bars", [0])
    assert view.selected_pc == int(contributions["contribution"].idxmax())
    watchers = sum(len(w) for w in view.param.watchers.values())
    for _ in range(5):
        view.node = node.isel(gene=slice(0, 400))
        view.node = node
    assert sum(len(w) for w in view.param.watchers.values()) == watchers
    empty = CoexViewer(node)
    assert empty.contributions() is None and "Choose two genes" in empty._stats.object


def test_explorer_links_the_views_and_keeps_state(atlas):
    node = atlas["Ath-r"]
    gene = str(node["gene"].values[10])
    explorer = Explorer(atlas)
    featured = atlas.attrs["truth_conserved_module"]
    assert str(node["truth_module"].sel(gene=explorer.gene).values) == featured and explorer.coex_list.gene == explorer.gene
    assert explorer.pair.split(",")[1] == first_partner(node, explorer.gene) and "gene search" in explorer._hint.object
    assert explorer.pc_view.color_by == "study"  # a featured gene does not recolor the PC view
    explorer.gene = gene
    assert (explorer.pc_view.gene, explorer.pc_view.color_by) == (gene, GENE_EXPRESSION)
    assert explorer.coex_list.gene == gene and explorer.coex_viewer.gene_a == gene
    explorer.coex_list._table.selection = [0]
    assert explorer.pair == f"{gene},{first_partner(node, gene)}" and explorer.tabs.active == TABS.index("Gene pair")
    other = str(node["gene"].values[11])
    explorer.coex_viewer.gene_b, explorer.tabs.active = other, 0
    explorer.coex_list._table.selection = []
    explorer.coex_list._table.selection = [0]  # the same partner again reopens the pair
    assert explorer.pair == f"{gene},{first_partner(node, gene)}" and explorer.tabs.active == TABS.index("Gene pair")
    explorer.pc_summary.choose(3)  # a PC card puts its PC on the PC view
    assert explorer.pc_view.x_pc == 3 and explorer.pc_view.y_pc != 3 and explorer.tabs.active == TABS.index("PC view")
    explorer.coex_viewer.selected_pc = 4
    contributions = explorer.coex_viewer.contributions()["contribution"].drop_sel(pc=4)
    assert (explorer.pc_view.x_pc, explorer.pc_view.y_pc) == (4, int(contributions.idxmax()))
    explorer.species = "Osa-r"  # no such gene in rice: the rice featured gene is shown instead
    rice = atlas["Osa-r"]
    assert explorer.gene in rice["gene"].values and explorer.pc_view.node.attrs["species_code"] == "Osa"
    assert explorer.pair.split(",")[0] == explorer.gene
    rice_gene = str(atlas["Osa-r"]["gene"].values[5])
    shared = Explorer(atlas, species="Osa-r", gene=rice_gene)
    assert shared.coex_list.gene == rice_gene and shared.pc_view.node.sizes["sample"] == atlas["Osa-r"].sizes["sample"]


def test_overview_escapes_atlas_text(atlas):
    hostile = atlas.copy()
    hostile.attrs = {**atlas.attrs, "name": "<script>window.__xss=1</script>", "provenance": {"note": "a & <b>"}}
    html = AtlasOverview(atlas=hostile).__panel__()[0].object
    assert "<script>" not in html and "&lt;script&gt;window.__xss=1&lt;/script&gt;" in html
    assert "a &amp; &lt;b&gt;" in html


def test_strongest_other_pc_and_unknown_pcs_are_reported(node):
    from atted_explore.compute.pairs import strongest_other_pc

    a, b = (str(g) for g in node["gene"].values[:2])
    contributions = pc_contributions(node, a, b)
    first = int(contributions["pc"].values[0])
    best_other = strongest_other_pc(contributions, first)
    others = contributions["contribution"].drop_sel(pc=first)
    assert best_other != first and contributions["contribution"].sel(pc=best_other) == others.max()
    assert strongest_other_pc(pc_contributions(node, a, b, pcs=[first]), first) == first
    with pytest.raises(InputError, match="no PC"):
        pc_contributions(node, a, b, pcs=[999])


def test_explorer_sends_a_gene_and_its_partners_to_the_network(atlas):
    explorer = Explorer(atlas)
    gene = explorer.gene
    explorer.send_to_network()
    partners = explorer.coex_list.partners()["partner"].head(30).tolist()
    assert explorer.network.genes == [gene, *partners] and explorer.tabs.active == TABS.index("Network")
    assert explorer.network.main.graph is not None and gene in explorer.network.main.graph
    other = partners[3]
    explorer.network.gene = other  # a node clicked in the network opens its list
    assert explorer.gene == other and explorer.coex_list.gene == other
    assert explorer.tabs.active == TABS.index("Coexpression list")


def test_explorer_links_the_coexmap(atlas):
    explorer = Explorer(atlas)
    assert explorer.coex_map is not None and explorer.coex_map.genes == [explorer.gene]
    rice_gene = str(atlas["Osa-r"]["gene"].values[4])
    explorer.coex_map.gene = rice_gene  # a gene of another species clicked on its map
    assert explorer.species == "Osa-r" and explorer.gene == rice_gene
    assert explorer.tabs.active == TABS.index("Coexpression list")
    explorer.coex_map.selection = [f"Osa-r:{g}" for g in atlas["Osa-r"]["gene"].values[:5]] + ["Ath-r:AT1G01010"]
    explorer.send_selection_to_network()
    assert explorer.network.genes == [str(g) for g in atlas["Osa-r"]["gene"].values[:5]]
    assert explorer.tabs.active == TABS.index("Network")


def test_selection_genes_match_the_expression_difference_of_the_selection(node):
    from atted_explore.compute.selection import selection_genes

    mask = node["sample_score"].sel(pc=1).values > np.quantile(node["sample_score"].sel(pc=1).values, 0.8)
    top = selection_genes(node, mask, n=20)
    expression = node["expression"].values
    observed = expression[:, mask].mean(axis=1) - expression.mean(axis=1)
    best = set(node["gene"].values[np.argsort(-observed)[:20]])
    assert len(set(top["gene"]) & best) >= 14  # the PCA reconstruction finds the genes raised in the selection
    assert top["difference"].is_monotonic_decreasing
    with pytest.raises(InputError, match="no sample"):
        selection_genes(node, np.zeros_like(mask))


def test_explorer_sends_the_genes_raised_in_a_pc_selection_to_the_network(atlas):
    explorer = Explorer(atlas)
    scores = explorer.node["sample_score"].sel(pc=1).values
    explorer.pc_view.selection = explorer.node["sample"].values[scores > np.median(scores)].tolist()
    explorer.send_pc_selection_to_network()
    assert len(explorer.network.genes) == 50 and explorer.tabs.active == TABS.index("Network")
