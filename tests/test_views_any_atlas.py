"""Any atlas the build can make renders: missing, empty, numeric or huge annotation fields, tiny nodes,
no symbols, no gene sets or localization; a failing view keeps its failure to itself."""

from __future__ import annotations

import logging

import numpy as np
import panel as pn
import pytest

from atted_explore import analyze_atlas, datasets
from atted_explore.atlas import sample_fields
from atted_explore.views import CoexList, CoexViewer, Explorer, PCView
from atted_explore.views._data import NODE_CACHE_SIZE, node_token, shared_resident


@pytest.fixture(scope="module")
def atlas(analysed_atlas):
    return analysed_atlas


@pytest.fixture(scope="module")
def node(atlas):
    return atlas["Osa-r"].to_dataset().load()


def without_fields(node, *fields):
    return node.drop_vars([f for f in fields if f in node.coords])


def render(view) -> None:
    assert pn.panel(view).get_root() is not None


def shown_problems(*views) -> list[str]:
    return [view._problem.object for view in views if view._problem.visible]


@pytest.mark.parametrize(
    "case",
    ["tissue only", "no annotation", "empty study", "one category", "numeric field", "thousands of categories",
     "html categories"],
)
def test_pcview_renders_any_sample_annotation(node, case):
    n = node.sizes["sample"]
    variants = {
        "tissue only": lambda: without_fields(node, "study", "treatment", "title"),
        "no annotation": lambda: without_fields(node, "study", "tissue", "treatment", "title"),
        "empty study": lambda: node.assign_coords(study=("sample", np.full(n, "", dtype=object))),
        "one category": lambda: node.assign_coords(study=("sample", np.full(n, "P1", dtype=object))),
        "numeric field": lambda: node.assign_coords(age=("sample", np.arange(n, dtype=float))),
        "thousands of categories": lambda: node.assign_coords(title=("sample", np.array([f"t{i}" for i in range(n)], dtype=object))),
        "html categories": lambda: node.assign_coords(tissue=("sample", np.array(["<b>x</b>", ""] * (n // 2), dtype=object))),
    }
    variant = variants[case]()
    view = PCView(variant)
    render(view)
    assert shown_problems(view) == []
    fields = sample_fields(variant)
    if case == "no annotation":
        assert view.color_by == "none" and "no sample annotation" in view._note.object
        assert not view._legend.visible  # an empty legend takes no room from the plot
    elif case == "tissue only":
        assert view.color_by == "tissue" and "No study or treatment annotation" in view._note.object
    elif case == "empty study":
        assert "study" not in fields and view.color_by == "tissue"
    elif case == "html categories":
        view.color_by = "tissue"
        legend = view._legend.object.replace("\u2060", "")  # the invisible word joiner of script-safe text
        assert "&lt;b&gt;x&lt;/b&gt;" in legend and "(empty)" in legend
        assert "<b>x</b>" not in view._legend.object
        # data sent to the browser never holds "</": a notebook embeds it in a <script> element
        assert not view._samples.value["tissue"].str.contains("</", regex=False).any()
    elif case == "thousands of categories":
        view.color_by = "title"
        assert view._legend.object.count('class="legend-item"') == view.top_categories + 1  # + other
    for field in view.param.color_by.objects:
        view.color_by = field
        assert shown_problems(view) == [], field
        assert view._legend.visible == bool(view._legend.object), field


def test_views_sharing_a_node_without_annotation_keep_their_own_options(node):
    """The views share the node's annotation table; one view's colour options never leak into another's."""
    bare = without_fields(node, "study", "tissue", "treatment", "title")
    genes = [str(g) for g in bare["gene"].values[:2]]
    viewer = CoexViewer(bare, gene_a=genes[0], gene_b=genes[1])
    pcview = PCView(bare)
    for view in (viewer, pcview):
        render(view)
    assert viewer.color_by is None and pcview.color_by == "none"
    assert None not in pcview.param.color_by.objects
    assert shown_problems(viewer, pcview) == []
    viewer.gene_b = genes[0]
    pcview.color_by = "none"
    assert shown_problems(viewer, pcview) == []


def test_tiny_nodes_and_genes_without_symbols_render(node):
    tiny = node.isel(sample=slice(0, 3))
    bare = node.drop_vars([v for v in ("symbol", "description", "localization", "member_set", "member_gene")
                           if v in node.variables])
    for variant in (tiny, bare):
        views = [PCView(variant), CoexList(variant, gene=str(variant["gene"].values[0])), CoexViewer(variant)]
        for view in views:
            render(view)
        assert shown_problems(*views) == []


def test_an_error_in_one_view_stays_in_that_view(atlas, monkeypatch, caplog):
    explorer = Explorer(atlas)
    render(explorer)

    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(explorer.coex_viewer, "_sample_frame", broken)
    gene = str(explorer.node["gene"].values[7])
    with caplog.at_level(logging.ERROR, logger="atted_explore.views"):
        explorer.gene = gene
    assert "RuntimeError: boom" in explorer.coex_viewer._problem.object and explorer.coex_viewer._problem.visible
    assert "Traceback" in caplog.text and "boom" in caplog.text  # details in the server log
    assert shown_problems(explorer.pc_view, explorer.coex_list) == []
    assert explorer.coex_list.gene == gene and explorer.pc_view.gene == gene  # the other views kept working


def test_shared_nodes_are_keyed_by_content_and_bounded(tmp_path):
    from atted_explore import open_atlas, save_atlas

    atlas = analyze_atlas(datasets.demo(preset="small", seed=1), n_bags=2, top_k=5, progress=False)
    path = save_atlas(atlas, tmp_path / "a.zarr")
    first, second = open_atlas(path), open_atlas(path)
    assert node_token(first["Ath-r"].to_dataset()) == node_token(second["Ath-r"].to_dataset())
    assert shared_resident(first["Ath-r"]) is shared_resident(second["Ath-r"])  # sessions share one copy
    edited = first["Ath-r"].to_dataset()
    edited = edited.assign_coords(tissue=("sample", np.full(edited.sizes["sample"], "leaf", dtype=object)))
    first["Ath-r"] = edited  # a notebook replaces the node: the views see the new one
    assert set(shared_resident(first["Ath-r"])["tissue"].values) == {"leaf"}
    for seed in range(NODE_CACHE_SIZE + 2):
        shared_resident(atlas["Ath-r"].to_dataset().assign_attrs(seed=seed))
    from atted_explore.views import _data

    assert len(_data._nodes) == NODE_CACHE_SIZE
