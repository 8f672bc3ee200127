"""CoexViewer: a gene pair over samples and over PCs, to see which axes of condition make it."""

from __future__ import annotations

import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
import param
import xarray as xr

from ..compute.pairs import pair_stats, pc_contributions
from . import _style
from ._data import expression_row, resident

SMALL_PLOT = {"width": 380, "height": 380}


def gene_picker(parameter: param.Parameter, node: xr.Dataset, name: str) -> pn.widgets.AutocompleteInput:
    """A gene search box matching IDs and symbols anywhere in the label, bound to ``parameter``."""
    return pn.widgets.AutocompleteInput.from_param(
        parameter, label=name, options=_style.gene_options(node), search_strategy="includes",
        case_sensitive=False, min_characters=2, restrict=True, placeholder="gene ID or symbol", width=260,
    )


class CoexViewer(pn.viewable.Viewer):
    """Gene A vs gene B over samples, and per-PC contributions to their coexpression.

    Clicking a PC's bar (or its point in PC space) sets ``selected_pc``; the
    Explorer turns that into the PCView axes.
    """

    node = param.ClassSelector(class_=xr.Dataset, doc="species node (PCA computed)")
    gene_a = param.String(default="", doc="first gene ID")
    gene_b = param.String(default="", doc="second gene ID")
    color_by = param.Selector(default=None, objects=[], check_on_set=False, doc="sample field colouring the scatter")
    top_categories = param.Integer(default=12, bounds=(1, 40))
    selected_pc = param.Integer(default=None, allow_None=True, doc="PC last clicked in the bars or PC space")

    def __init__(self, node: xr.Dataset | xr.DataTree, **params):
        super().__init__(node=resident(node), **params)
        self._stats = pn.pane.HTML("", sizing_mode="stretch_width")
        self._scatter = pn.pane.HoloViews(linked_axes=False)
        self._pc_space = pn.pane.HoloViews(linked_axes=False)
        self._bars = pn.pane.HoloViews(linked_axes=False)
        self._pickers = pn.Row()
        self._configure()
        self._render()

    @param.depends("node", watch=True)
    def _configure(self) -> None:
        fields = _style.sample_fields(self.node)
        self.param.color_by.objects = fields
        genes = self.node.indexes["gene"]
        self.param.update(
            color_by=self.color_by if self.color_by in fields else (fields[0] if fields else None),
            gene_a=self.gene_a if self.gene_a in genes else "",
            gene_b=self.gene_b if self.gene_b in genes else "",
            selected_pc=None,
        )
        self._pickers[:] = [
            gene_picker(self.param.gene_a, self.node, "gene A"),
            gene_picker(self.param.gene_b, self.node, "gene B"),
            pn.widgets.Select.from_param(self.param.color_by, label="colour by", width=150),
        ]

    def contributions(self) -> xr.Dataset | None:
        """Per-PC contributions of the current pair (None until both genes are chosen)."""
        if not (self.gene_a and self.gene_b):
            return None
        return pc_contributions(self.node, self.gene_a, self.gene_b)

    @param.depends("node", "gene_a", "gene_b", "color_by", "top_categories", watch=True)
    def _render(self) -> None:
        contributions = self.contributions()
        if contributions is None:
            self._stats.object = "Choose two genes (type an ID or a symbol)."
            for pane in (self._scatter, self._pc_space, self._bars):
                pane.object = None
            return
        stats = pair_stats(self.node, self.gene_a, self.gene_b)
        self._stats.object = self._describe(stats)
        self._scatter.object = self._sample_scatter(stats)
        self._pc_space.object, self._bars.object = self._pc_plots(contributions)

    def _describe(self, stats: pd.Series) -> str:
        a, b = _style.escape(self.gene_a), _style.escape(self.gene_b)
        text = (
            f"<b>{a}</b> ({_style.gene_links(self.node, self.gene_a)}) and "
            f"<b>{b}</b> ({_style.gene_links(self.node, self.gene_b)}): "
            f"r over samples = {stats['expression_correlation']:.3f}, "
            f"r over PCs = {stats['pc_correlation']:.3f}"
        )
        if np.isfinite(stats["rank"]):
            text += f"; {b} is partner #{int(stats['rank'])} of {a} (score {stats['score']:.2f}"
            text += f", MR {stats['mr']:.1f})" if np.isfinite(stats["mr"]) else ")"
        return f'<span class="pair-stats">{text}</span>'

    def _sample_scatter(self, stats: pd.Series) -> hv.core.Overlay:
        columns = {"gene_a": expression_row(self.node, self.gene_a), "gene_b": expression_row(self.node, self.gene_b)}
        hover = self.node.sizes["sample"] <= _style.HOVER_SAMPLE_LIMIT
        if hover:
            columns |= _style.sample_annotations(self.node)
        colour, key = None, None
        if self.color_by:
            colour = "category"
            columns[colour], key = _style.top_categories(self.node[self.color_by].values, self.top_categories)
        plot = _style.shaded_points(
            pd.DataFrame(columns), "gene_a", "gene_b", colour, continuous=False, colour_key=key, hover=hover
        )
        return plot.opts(
            title=f"over samples: r = {stats['expression_correlation']:.3f}",
            xlabel=f"{self.gene_a} expression", ylabel=f"{self.gene_b} expression", **SMALL_PLOT,
        )

    def _pc_plots(self, contributions: xr.Dataset) -> tuple[hv.Points, hv.Bars]:
        table = contributions.to_dataframe().reset_index()
        table["PC"] = [_style.pc_axis_label(self.node, int(pc)) for pc in table["pc"]]
        limit = float(table["contribution"].abs().max()) or 1.0
        table["size"] = 6 + 30 * np.sqrt(table["contribution"].abs() / limit)
        colour = {"cmap": "RdBu_r", "clim": (-limit, limit)}
        axes = [
            hv.Dimension("score_a", label=f"{self.gene_a} score"), hv.Dimension("score_b", label=f"{self.gene_b} score")
        ]
        points = hv.Points(
            table, axes,
            ["contribution", "PC", "size", "pc"],
        ).opts(
            color="contribution", size="size", colorbar=True, tools=["hover", "tap"], line_color="black",
            title=f"over PCs: r = {contributions.attrs['correlation']:.3f}", **colour, **SMALL_PLOT,
        )
        ordered = table.sort_values("contribution", ascending=False).reset_index(drop=True)
        ordered["name"] = [f"PC{pc}" for pc in ordered["pc"]]
        bars = hv.Bars(ordered, "name", ["contribution", "PC", "pc"]).opts(
            color="contribution", tools=["hover", "tap"], xrotation=90, xlabel="PC (click to show it in the PC view)",
            title="contribution of each PC", **colour, width=520, height=380,
        )
        for element, order in ((points, table["pc"]), (bars, ordered["pc"])):
            stream = hv.streams.Selection1D(source=element)
            stream.add_subscriber(lambda index, order=order.to_numpy(): self._pick_pc(order, index))
        return points, bars

    def _pick_pc(self, order: np.ndarray, index: list[int]) -> None:
        if index:
            self.selected_pc = int(order[index[0]])

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(
            self._pickers, self._stats, pn.Row(self._scatter, self._pc_space, self._bars), sizing_mode="stretch_width"
        )
