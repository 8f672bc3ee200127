"""PCView: the samples of one species on two PCs, to see which conditions an axis separates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import panel as pn
import param
import xarray as xr

from ..compute.selection import region_mask, term_enrichment
from ..errors import InputError
from . import _style
from ._data import annotation_table, expression_row, resident
from ._guard import contained, problem_pane
from ._layout import plot_with_legend, wrapping_row
from ._points import CATEGORY, HOVER_LIMIT, VALUE, PointsFrame, PointsPlot, category_frame_columns, value_limits

GENE_EXPRESSION = "gene expression"
NO_COLOR = "none"


class PCView(pn.viewable.Viewer):
    """Samples on any two PCs; color by a sample field or a gene; select to rank terms.

    ``PCView(atlas["Ath-r"])`` in a notebook cell shows it; ``selection`` holds
    the sample IDs picked with the box or lasso tool. Up to 20,000 samples are
    drawn as glyphs with hover, more are datashaded.
    """

    node = param.ClassSelector(class_=xr.Dataset, doc="species node (PCA computed)")
    x_pc = param.Selector(default=1, objects=[1], check_on_set=False, doc="PC on the horizontal axis")
    y_pc = param.Selector(default=2, objects=[2], check_on_set=False, doc="PC on the vertical axis")
    color_by = param.Selector(
        default="study", objects=["study"], check_on_set=False, doc="sample field or gene expression"
    )
    gene = param.String(default="", doc="gene whose expression colors the samples")
    top_categories = param.Integer(default=12, bounds=(1, 40), doc="categories colored; the rest are 'other'")
    selection = param.List(default=[], doc="IDs of the samples selected with box or lasso")

    def __init__(self, node: xr.Dataset | xr.DataTree, **params):
        super().__init__(node=resident(node), **params)
        self._problem = problem_pane()
        self._plot = PointsPlot(on_select=self._select)
        self._legend = pn.pane.HTML("", width=210, margin=(40, 5, 5, 10))
        self._note = pn.pane.HTML("", sizing_mode="stretch_width", css_classes=["pc-note"])
        self._samples_title = pn.pane.HTML("")
        self._samples = pn.widgets.Tabulator(
            pagination="remote", page_size=10, show_index=False, disabled=True,
            header_filters=True, sizing_mode="stretch_width",
        )
        self._terms = pn.widgets.Tabulator(
            pagination="remote", page_size=10, show_index=False, disabled=True, sizing_mode="stretch_width",
        )
        self._drawn: tuple | None = None
        self._configuring = False
        self._configure()
        self._layout = self._build_layout()

    # ---------------------------------------------------------------- state

    @param.depends("node", watch=True)
    @contained
    def _configure(self) -> None:
        pcs = [int(p) for p in self.node["pc"].values] if "sample_score" in self.node else []
        self._fields, self._table = annotation_table(self.node)  # shared by the sessions showing this node
        fields = self._fields
        colors = [NO_COLOR, *fields, GENE_EXPRESSION]
        self._categories: dict[tuple[str, int], tuple] = {}
        values = {
            "x_pc": self.x_pc if self.x_pc in pcs else (pcs[0] if pcs else None),
            "y_pc": self.y_pc if self.y_pc in pcs else (pcs[min(1, len(pcs) - 1)] if pcs else None),
            "color_by": self.color_by if self.color_by in colors else default_color(self.node, fields),
            "gene": self.gene if self.gene in self.node.indexes["gene"] else "",
            "selection": [],
        }
        self._configuring = True  # one redraw for the whole change, not one per parameter
        try:
            self.param.x_pc.objects, self.param.y_pc.objects = pcs, pcs
            self.param.color_by.objects = colors
            self.param.update(values)
        finally:
            self._configuring = False
        self._render()
        self._show_selection()

    def frame(self) -> PointsFrame:
        """The points drawn: ``x``, ``y``, the color column and hover fields."""
        scores = self.node["sample_score"]
        columns = {"x": scores.sel(pc=self.x_pc).values, "y": scores.sel(pc=self.y_pc).values}
        hover = tuple(self._table.columns) if self.node.sizes["sample"] <= HOVER_LIMIT else ()
        columns |= {c: self._table[c].values for c in hover}
        color, clim = None, None
        if self.color_by == GENE_EXPRESSION and self.gene:
            color = VALUE
            columns[VALUE] = expression_row(self.node, self.gene)
            clim = value_limits(columns[VALUE])
        elif self.color_by in self._table.columns:
            color = CATEGORY
            columns[CATEGORY] = self._category_columns(self.color_by)[0]
        drawn = (id(self.node), self.x_pc, self.y_pc)
        return PointsFrame(
            pd.DataFrame(columns), _style.pc_axis_label(self.node, self.x_pc),
            _style.pc_axis_label(self.node, self.y_pc), self._title(), color, hover, clim,
            reset_view=drawn != self._drawn, place=drawn,
        )

    def _category_columns(self, field: str) -> tuple:
        """Codes, labels and colors of a field's top categories, computed once per node, field and count."""
        cache_key = (field, self.top_categories)
        if cache_key not in self._categories:
            self._categories[cache_key] = category_frame_columns(self._table[field].values, self.top_categories)
        return self._categories[cache_key]

    @param.depends("x_pc", "y_pc", "color_by", "gene", "top_categories", watch=True)
    @contained
    def _render(self) -> None:
        if self._configuring:
            return
        if "sample_score" not in self.node:
            raise InputError("this node has no sample scores on PCs; run atted_explore.pca on it first")
        if self.x_pc == self.y_pc:
            raise InputError(f"x and y both show PC{self.x_pc}: choose two different PCs.")
        frame = self.frame()
        self._plot.show(frame)
        self._drawn = (id(self.node), self.x_pc, self.y_pc)
        self._legend.object = self._legend_html(frame)
        self._note.object = missing_fields_note(self.node, self._fields, self.color_by)

    def _legend_html(self, frame: PointsFrame) -> str:
        if frame.color != CATEGORY:
            return ""
        _, labels, key = self._category_columns(self.color_by)
        return _style.legend_html(labels, key, self.color_by)

    def _title(self) -> str:
        species = self.node.attrs.get("species", "")
        what = f"{self.gene} expression" if self.color_by == GENE_EXPRESSION and self.gene else self.color_by
        return f"{species} samples ({self.node.sizes['sample']:,}) colored by {what}".strip()

    @contained
    def _select(self, bounds=None, polygon=None) -> None:
        region = {"bounds": bounds} if bounds is not None else {"polygon": (polygon[:, 0], polygon[:, 1])}
        mask = region_mask(self.node, self.x_pc, self.y_pc, **region)
        self.selection = self.node["sample"].values[mask.values].tolist()

    @param.depends("selection", watch=True)
    @contained
    def _show_selection(self) -> None:
        if self.selection:
            mask = np.isin(self.node["sample"].values, self.selection)  # the table's IDs are made script-safe
            self._samples.value = self._table[mask].reset_index(drop=True)
            self._samples_title.object = f"<b>{int(mask.sum()):,} selected samples</b>"
            terms = term_enrichment(self.node, mask)
            terms = terms[terms["selected"] > 0].head(50)
            self._terms.value = terms.round({"expected": 1, "fold": 2}).assign(
                p_value=terms["p_value"].map("{:.2e}".format), q_value=terms["q_value"].map("{:.2e}".format)
            )
        else:
            self._samples.value = self._table
            self._samples_title.object = (
                f"<b>All {len(self._table):,} samples</b> (select with the box or lasso tool to rank their terms)"
            )
            self._terms.value = pd.DataFrame(columns=["field", "term", "selected", "total", "fold", "q_value"])

    def selected_terms(self) -> pd.DataFrame:
        """Metadata terms over-represented in the current selection (hypergeometric + BH)."""
        return term_enrichment(self.node, self.selection)

    # --------------------------------------------------------------- layout

    def _build_layout(self) -> pn.Column:
        controls = wrapping_row(
            pn.widgets.Select.from_param(self.param.x_pc, label="x axis", width=90),
            pn.widgets.Select.from_param(self.param.y_pc, label="y axis", width=90),
            pn.widgets.Select.from_param(self.param.color_by, label="color by", width=160),
            pn.widgets.IntSlider.from_param(self.param.top_categories, label="categories", width=150),
        )
        return pn.Column(
            controls,
            self._note,
            self._problem,
            plot_with_legend(self._plot.pane, self._legend),
            self._samples_title,
            self._samples,
            pn.pane.HTML("<b>Terms over-represented in the selection</b> (hypergeometric test, BH q-value)"),
            self._terms,
            sizing_mode="stretch_width",
        )

    def __panel__(self) -> pn.viewable.Viewable:
        return self._layout


def default_color(node: xr.Dataset, fields: list[str]) -> str:
    """The first field that tells samples apart (two or more values), else the first field, else none."""
    for name in fields:
        if _style.category_text(node[name].values).nunique() > 1:
            return name
    return fields[0] if fields else NO_COLOR


def missing_fields_note(node: xr.Dataset, fields: tuple[str, ...], color_by: str) -> str:
    """One line saying which usual annotation is absent and what the samples are colored by instead."""
    absent = [name for name in ("study", "tissue", "treatment") if name not in fields]
    if not absent:
        return ""
    if not fields:
        return ("<i>This atlas has no sample annotation (no study, tissue or treatment): "
                "samples are uncolored; color them by a gene's expression.</i>")
    shown = "a gene's expression" if color_by == GENE_EXPRESSION else _style.escape(color_by)
    return f"<i>No {' or '.join(absent)} annotation in this atlas: colored by {shown}.</i>"

