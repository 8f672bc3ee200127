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
from ._data import annotation_table, expression_row, resident
from ._guard import contained, problem_pane
from ._layout import plot_with_legend, shared_width, wrapping_row
from ._points import CATEGORY, HOVER_LIMIT, PointsFrame, PointsPlot, category_frame_columns

#: bars drawn at most (the strongest contributions by absolute value); more would be unreadable.
MAX_BARS = 30
PC_PLOT = {"height": 380, "responsive": True, "min_width": 280}
EMPTY_PCS = pd.DataFrame(
    {"score_a": [], "score_b": [], "contribution": [], "PC": [], "size": [], "pc": [], "name": []}
)


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
    color_by = param.Selector(default=None, objects=[], check_on_set=False, doc="sample field coloring the scatter")
    top_categories = param.Integer(default=12, bounds=(1, 40))
    selected_pc = param.Integer(default=None, allow_None=True, doc="PC last clicked in the bars or PC space")

    def __init__(self, node: xr.Dataset | xr.DataTree, **params):
        super().__init__(node=resident(node), **params)
        self._problem = problem_pane()
        self._stats = pn.pane.HTML("", sizing_mode="stretch_width")
        self._scatter = PointsPlot(height=380)
        self._legend = pn.pane.HTML("", width=190, margin=(40, 5, 5, 10))
        self._pcs = hv.streams.Pipe(data=EMPTY_PCS)
        self._pc_order: dict[str, np.ndarray] = {"points": np.array([]), "bars": np.array([])}
        self._pickers = [
            gene_picker(self.param.gene_a, self.node, "gene A"),
            gene_picker(self.param.gene_b, self.node, "gene B"),
        ]
        self._configuring = False
        self._configure()
        self._layout = self._build_layout()

    @param.depends("node", watch=True)
    @contained
    def _configure(self) -> None:
        fields, _ = annotation_table(self.node)  # shared by the sessions and views showing this node
        genes = self.node.indexes["gene"]
        values = {
            "color_by": self.color_by if self.color_by in fields else (fields[0] if fields else None),
            "gene_a": self.gene_a if self.gene_a in genes else "",
            "gene_b": self.gene_b if self.gene_b in genes else "",
            "selected_pc": None,
        }
        self._configuring = True
        try:
            # a copy: param appends values set outside the options to the list it holds
            self.param.color_by.objects = list(fields)
            options = _style.gene_options(self.node)
            for picker in self._pickers:
                picker.options = options
            self.param.update(values)
        finally:
            self._configuring = False
        self._render()

    def contributions(self) -> xr.Dataset | None:
        """Per-PC contributions of the current pair (None until both genes are chosen)."""
        if not (self.gene_a and self.gene_b):
            return None
        return pc_contributions(self.node, self.gene_a, self.gene_b)

    @param.depends("gene_a", "gene_b", "color_by", "top_categories", watch=True)
    @contained
    def _render(self) -> None:
        if self._configuring:
            return
        contributions = self.contributions()
        if contributions is None:
            self._stats.object = "Choose two genes (type an ID or a symbol)."
            self._scatter.pane.visible = False
            self._legend.object = ""
            self._pcs.send(EMPTY_PCS)
            return
        stats = pair_stats(self.node, self.gene_a, self.gene_b)
        self._stats.object = self._describe(stats)
        self._scatter.show(self._sample_frame(stats))
        self._scatter.pane.visible = True
        self._pcs.send(self._pc_table(contributions))

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

    def _sample_frame(self, stats: pd.Series) -> PointsFrame:
        columns = {"x": expression_row(self.node, self.gene_a), "y": expression_row(self.node, self.gene_b)}
        hover = ()
        if self.node.sizes["sample"] <= HOVER_LIMIT:
            _, table = annotation_table(self.node)
            hover = tuple(table.columns)
            columns |= {column: table[column].to_numpy() for column in hover}
        color = None
        self._legend.object = ""
        if self.color_by:
            color = CATEGORY
            columns[CATEGORY], labels, key = category_frame_columns(self.node[self.color_by].values, self.top_categories)
            self._legend.object = _style.legend_html(labels, key, self.color_by)
        return PointsFrame(
            pd.DataFrame(columns), f"{self.gene_a} expression", f"{self.gene_b} expression",
            f"over samples: r = {stats['expression_correlation']:.3f}", color, hover, reset_view=True,
        )

    def _pc_table(self, contributions: xr.Dataset) -> pd.DataFrame:
        table = contributions.to_dataframe().reset_index()
        table["PC"] = [_style.pc_axis_label(self.node, int(pc)) for pc in table["pc"]]
        limit = float(table["contribution"].abs().max()) or 1.0
        table["size"] = 6 + 30 * np.sqrt(table["contribution"].abs() / limit)
        table["name"] = [f"PC{pc}" for pc in table["pc"]]
        table.attrs |= {"correlation": contributions.attrs["correlation"], "limit": limit}
        return table

    def _pc_points(self, data: pd.DataFrame) -> hv.Points:
        self._pc_order["points"] = data["pc"].to_numpy()
        limit = data.attrs.get("limit", 1.0)
        axes = [
            hv.Dimension("score_a", label=f"{self.gene_a or 'gene A'} score"),
            hv.Dimension("score_b", label=f"{self.gene_b or 'gene B'} score"),
        ]
        return hv.Points(data, axes, ["contribution", "PC", "size", "pc"]).opts(
            title=f"over PCs: r = {data.attrs.get('correlation', float('nan')):.3f}",
            clim=(-limit, limit), framewise=True,
        )

    def _pc_bars(self, data: pd.DataFrame) -> hv.Bars:
        strongest = data.reindex(data["contribution"].abs().sort_values(ascending=False).index).head(MAX_BARS)
        ordered = strongest.sort_values("contribution", ascending=False).reset_index(drop=True)
        self._pc_order["bars"] = ordered["pc"].to_numpy()
        limit = data.attrs.get("limit", 1.0)
        shown = f"the {MAX_BARS} strongest of {len(data)} PCs" if len(data) > MAX_BARS else "each PC"
        return hv.Bars(ordered, "name", ["contribution", "PC", "pc"]).opts(
            title=f"contribution of {shown}", clim=(-limit, limit), framewise=True,
        )

    def _pick_pc(self, which: str, index: list[int]) -> None:
        order = self._pc_order[which]
        if index and index[0] < len(order):
            self.selected_pc = int(order[index[0]])

    def _build_layout(self) -> pn.Column:
        color = {"cmap": "RdBu_r", "colorbar": True, "tools": ["hover", "tap"]}
        points = hv.DynamicMap(self._pc_points, streams=[self._pcs]).opts(
            color="contribution", size="size", line_color="black", **color, **PC_PLOT, padding=0.1,
        )
        bars = hv.DynamicMap(self._pc_bars, streams=[self._pcs]).opts(
            color="contribution", xrotation=90, xlabel="PC (click to show it in the PC view)", **color, **PC_PLOT,
        )
        for which, element in (("points", points), ("bars", bars)):
            stream = hv.streams.Selection1D(source=element)
            stream.add_subscriber(lambda index, which=which: self._pick_pc(which, index))
        controls = wrapping_row(
            *self._pickers, pn.widgets.Select.from_param(self.param.color_by, label="color by", width=150)
        )
        return pn.Column(
            controls, self._problem, self._stats,
            plot_with_legend(self._scatter.pane, self._legend),
            wrapping_row(
                *(pn.pane.HoloViews(plot, sizing_mode="stretch_width", linked_axes=False, styles=shared_width(PC_PLOT["min_width"]))
                  for plot in (points, bars))
            ),
            sizing_mode="stretch_width",
        )

    def __panel__(self) -> pn.viewable.Viewable:
        return self._layout
