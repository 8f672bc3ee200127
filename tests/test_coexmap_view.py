"""The CoexMap view's plots, server side: zoom kept on a recolor, refit on a subset switch, colors, rings."""

from __future__ import annotations

import holoviews as hv
import numpy as np
import pytest
from bokeh.models import LinearColorMapper

from atted_explore.compute.map_modules import ortholog_genes
from atted_explore.views import CoexMap
from atted_explore.views._map_panel import COLORS, NEUTRAL_CODE

hv.extension("bokeh")


@pytest.fixture
def view(analysed_atlas):
    return CoexMap(analysed_atlas, subset="chloroplast", color_by="compartment")


def bokeh_plot(view: CoexMap, name: str):
    """The Bokeh figure of panel ``name``, as a server would build it."""
    return hv.renderer("bokeh").get_plot(view._panels[name].pane.object)


def renderers(plot):
    """(genes, rings) glyph renderers of a panel's figure."""
    genes, rings = [r for r in plot.state.renderers if hasattr(r, "glyph")]
    return genes, rings


def zoom(view: CoexMap, plot, name: str, x_range, y_range, reported: bool = True) -> None:
    """What a wheel zoom in the browser does: the figure's ranges change and (later) the RangeXY stream reports them."""
    plot.state.x_range.start, plot.state.x_range.end = x_range
    plot.state.y_range.start, plot.state.y_range.end = y_range
    if reported:
        view._panels[name].view_range.event(x_range=x_range, y_range=y_range)


def shown_range(plot) -> list[float]:
    """x start, x end, y start, y end of the figure."""
    return [plot.state.x_range.start, plot.state.x_range.end, plot.state.y_range.start, plot.state.y_range.end]


def test_recolor_keeps_zoom_and_a_subset_switch_refits(view):
    name = view.species[0]
    plot = bokeh_plot(view, name)
    frame = view.frame(name)
    x0, x1, y0, y1 = shown_range(plot)
    assert x0 < frame["x"].min() and x1 > frame["x"].max() and y0 < frame["y"].min() and y1 > frame["y"].max()
    zoomed = ((frame["x"].min(), frame["x"].median()), (frame["y"].min(), frame["y"].median()))
    zoom(view, plot, name, *zoomed)
    genes, _ = renderers(plot)
    before = np.asarray(genes.data_source.data["color"]).copy()
    for color_by in ("module", "gene set", "compartment", "module"):
        view.color_by = color_by
        assert shown_range(plot) == pytest.approx([*zoomed[0], *zoomed[1]]), color_by
    assert not np.array_equal(np.asarray(genes.data_source.data["color"]), before)  # it was redrawn, in place

    view.selection = [f"{name}:{g}" for g in frame["gene"][:10]]  # a selection redraws only the rings
    assert shown_range(plot) == pytest.approx([*zoomed[0], *zoomed[1]])
    # the rings outlast the switch below: a refit must not leave the next update fitting to them

    view.subset = "all"  # a new map: the view fits it
    mapped = view.frame(name)
    x0, x1, y0, y1 = shown_range(plot)
    assert x0 < mapped["x"].min() and x1 > mapped["x"].max() and y0 < mapped["y"].min() and y1 > mapped["y"].max()
    assert x1 - x0 < 1.3 * (mapped["x"].max() - mapped["x"].min())  # fitted, not the old range widened
    assert view._panels[name].view_range.x_range is None  # the browser reports the new range
    # a zoom whose range event has not reached the server yet (as in a browser) is kept too
    zoom(view, plot, name, (mapped["x"].min(), mapped["x"].median()), (mapped["y"].min(), mapped["y"].median()),
         reported=False)
    for color_by in ("compartment", "module"):
        view.color_by = color_by
        assert shown_range(plot)[:2] == pytest.approx([mapped["x"].min(), mapped["x"].median()]), color_by


def test_colors_follow_the_legend(view):
    name = view.species[0]
    plot = bokeh_plot(view, name)
    genes, _ = renderers(plot)
    mapper = genes.glyph.fill_color.transform
    assert isinstance(mapper, LinearColorMapper) and list(mapper.palette) == COLORS
    assert (mapper.low, mapper.high) == (-0.5, NEUTRAL_CODE + 0.5)  # code i -> COLORS[i]
    codes = np.asarray(genes.data_source.data["color"]).astype(int)
    compartments = view.frame(name)["compartment"].to_numpy()
    legend = view._panels[name].legend.object
    for compartment in set(compartments):
        code = set(codes[compartments == compartment])
        assert len(code) == 1, compartment  # one color per compartment
        color = COLORS[code.pop()]
        assert f'color:{color}">&#9679;</span> {compartment}<' in legend  # the legend names the same color
    view.color_by = "module"
    modules = view.frame(name)["module"].to_numpy()
    codes = np.asarray(genes.data_source.data["color"]).astype(int)
    assert set(codes[modules == "none"]) <= {NEUTRAL_CODE}  # "no module" is grey
    assert len(set(codes[modules != "none"])) == min(len(set(modules) - {"none"}), NEUTRAL_CODE)


def test_selection_rings_the_orthologs_in_the_other_panels_only(view, analysed_atlas):
    first, *others = view.species
    plots = {n: bokeh_plot(view, n) for n in view.species}
    sources = {n: renderers(p)[0].data_source for n, p in plots.items()}
    genes_before = {n: s.data["x"] for n, s in sources.items()}
    frame = view.frame(first)
    view._select(first, bounds=(frame["x"].min(), frame["y"].min(), frame["x"].median(), frame["y"].median()))
    selected = [entry.split(":", 1)[1] for entry in view.selection]
    assert selected and all(entry.startswith(f"{first}:") for entry in view.selection)
    for name in others:
        expected = set(ortholog_genes(analysed_atlas, first, selected, name)) & set(view.frame(name)["gene"])
        ringed = renderers(plots[name])[1].data_source.data["gene"]
        assert expected and set(ringed) == expected
        assert sources[name].data["x"] is genes_before[name]  # the genes' data was not sent again
    table = view._table.value
    assert set(table.loc[table["role"] == "selected", "gene"]) == set(selected)
    assert set(table["species"]) == set(view.species)


def test_maps_above_the_glyph_limit_are_datashaded_and_keep_the_zoom(analysed_atlas, monkeypatch):
    monkeypatch.setattr("atted_explore.views._map_panel.GLYPH_LIMIT", 10)
    view = CoexMap(analysed_atlas, subset="chloroplast", color_by="compartment")
    name = view.species[0]
    plot = bokeh_plot(view, name)
    image = next(r for r in plot.state.renderers if hasattr(r, "glyph") and type(r.glyph).__name__ == "ImageRGBA")
    frame = view.frame(name)
    x0, x1, y0, y1 = shown_range(plot)
    assert x0 < frame["x"].min() and x1 > frame["x"].max() and y0 < frame["y"].min() and y1 > frame["y"].max()
    zoomed = ((frame["x"].min(), frame["x"].median()), (frame["y"].min(), frame["y"].median()))
    zoom(view, plot, name, *zoomed, reported=False)
    before = np.array(image.data_source.data["image"][0])
    view.color_by = "module"
    assert shown_range(plot) == pytest.approx([*zoomed[0], *zoomed[1]])
    assert not np.array_equal(np.array(image.data_source.data["image"][0]), before)  # recolored
    view._select(name, bounds=(frame["x"].min(), frame["y"].min(), frame["x"].median(), frame["y"].median()))
    assert view.selection  # a box on the image selects the genes under it
    view.subset = "all"
    mapped = view.frame(name)
    x0, x1, y0, y1 = shown_range(plot)
    assert x0 < mapped["x"].min() and x1 > mapped["x"].max() and x1 - x0 < 1.3 * (mapped["x"].max() - mapped["x"].min())
