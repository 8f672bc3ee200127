"""PCView: the samples of one species on two PCs, to see which conditions an axis separates."""

from __future__ import annotations

import holoviews as hv
import pandas as pd
import panel as pn
import param
import xarray as xr

from ..compute.selection import region_mask, term_enrichment
from . import _style
from ._data import expression_row, resident

GENE_EXPRESSION = "gene expression"
NO_COLOUR = "none"


class PCView(pn.viewable.Viewer):
    """Samples on any two PCs, datashaded; colour by a sample field or a gene; select to rank terms.

    ``PCView(atlas["Ath-r"])`` in a notebook cell shows it; ``selection`` holds
    the sample IDs picked with the box or lasso tool.
    """

    node = param.ClassSelector(class_=xr.Dataset, doc="species node (PCA computed)")
    x_pc = param.Selector(default=1, objects=[1], check_on_set=False, doc="PC on the horizontal axis")
    y_pc = param.Selector(default=2, objects=[2], check_on_set=False, doc="PC on the vertical axis")
    color_by = param.Selector(
        default="study", objects=["study"], check_on_set=False, doc="sample field or gene expression"
    )
    gene = param.String(default="", doc="gene whose expression colours the samples")
    top_categories = param.Integer(default=12, bounds=(1, 40), doc="categories coloured; the rest are 'other'")
    selection = param.List(default=[], doc="IDs of the samples selected with box or lasso")

    def __init__(self, node: xr.Dataset | xr.DataTree, **params):
        super().__init__(node=resident(node), **params)
        self._plot = pn.pane.HoloViews(sizing_mode="fixed", linked_axes=False)
        self._message = pn.pane.HTML("", visible=False)
        self._samples = pn.widgets.Tabulator(
            pagination="remote", page_size=10, show_index=False, disabled=True,
            header_filters=True, sizing_mode="stretch_width",
        )
        self._terms = pn.widgets.Tabulator(
            pagination="remote", page_size=10, show_index=False, disabled=True, sizing_mode="stretch_width",
        )
        self._samples_title = pn.pane.HTML("")
        self._configure()
        self._render()
        self._show_selection()

    # ---------------------------------------------------------------- state

    @param.depends("node", watch=True)
    def _configure(self) -> None:
        pcs = [int(p) for p in self.node["pc"].values]
        fields = _style.sample_fields(self.node)
        colours = [NO_COLOUR, *fields, GENE_EXPRESSION]
        self.param.x_pc.objects, self.param.y_pc.objects = pcs, pcs
        self.param.color_by.objects = colours
        self._table = pd.DataFrame(_style.sample_annotations(self.node))
        self._categories: dict[tuple[str, int], tuple] = {}
        self.param.update(
            x_pc=self.x_pc if self.x_pc in pcs else pcs[0],
            y_pc=self.y_pc if self.y_pc in pcs else pcs[min(1, len(pcs) - 1)],
            color_by=self.color_by if self.color_by in colours else (fields[0] if fields else NO_COLOUR),
            gene=self.gene if self.gene in self.node.indexes["gene"] else "",
            selection=[],
        )

    def frame(self) -> tuple[pd.DataFrame, str | None, bool, dict | None]:
        """The points drawn: PC columns, hover fields and the colour column; plus how to colour.

        The colour column is ``"expression"`` (continuous) or ``"category"`` (top categories + other).
        """
        x, y = f"PC{self.x_pc}", f"PC{self.y_pc}"
        scores = self.node["sample_score"]
        columns = {x: scores.sel(pc=self.x_pc).values, y: scores.sel(pc=self.y_pc).values}
        hover = self.node.sizes["sample"] <= _style.HOVER_SAMPLE_LIMIT
        if hover:
            columns |= {c: self._table[c].values for c in self._table.columns}
        colour, continuous, key = None, False, None
        if self.color_by == GENE_EXPRESSION and self.gene:
            colour, continuous = "expression", True
            columns[colour] = expression_row(self.node, self.gene)
        elif self.color_by in self._table.columns:
            colour = "category"
            columns[colour], key = self._category_colours(self.color_by)
        return pd.DataFrame(columns), colour, continuous, key

    def _category_colours(self, field: str) -> tuple[pd.Categorical, dict[str, str]]:
        """Top categories of a field and their colours, computed once per node, field and count."""
        cache_key = (field, self.top_categories)
        if cache_key not in self._categories:
            self._categories[cache_key] = _style.top_categories(self._table[field].values, self.top_categories)
        return self._categories[cache_key]

    @param.depends("node", "x_pc", "y_pc", "color_by", "gene", "top_categories", watch=True)
    def _render(self) -> None:
        if self.x_pc == self.y_pc:
            self._message.object = "Choose two different PCs."
            self._message.visible, self._plot.visible = True, False
            return
        frame, colour, continuous, key = self.frame()
        hover = self.node.sizes["sample"] <= _style.HOVER_SAMPLE_LIMIT
        plot = _style.shaded_points(
            frame, f"PC{self.x_pc}", f"PC{self.y_pc}", colour, continuous=continuous, colour_key=key, hover=hover,
            colour_label=f"{self.gene} expression" if continuous else self.color_by,
        ).opts(
            xlabel=_style.pc_axis_label(self.node, self.x_pc),
            ylabel=_style.pc_axis_label(self.node, self.y_pc),
            title=self._title(),
        )
        box, lasso = hv.streams.BoundsXY(source=plot), hv.streams.Lasso(source=plot)
        box.add_subscriber(lambda bounds: self._select(bounds=bounds))
        lasso.add_subscriber(lambda geometry: self._select(polygon=geometry))
        self._plot.object = plot
        self._message.visible, self._plot.visible = False, True

    def _title(self) -> str:
        species = self.node.attrs.get("species", "")
        what = f"{self.gene} expression" if self.color_by == GENE_EXPRESSION and self.gene else self.color_by
        return f"{species} samples ({self.node.sizes['sample']:,}) coloured by {what}".strip()

    def _select(self, bounds=None, polygon=None) -> None:
        if bounds is None and (polygon is None or len(polygon) < 3):
            return
        region = {"bounds": bounds} if bounds is not None else {"polygon": (polygon[:, 0], polygon[:, 1])}
        mask = region_mask(self.node, self.x_pc, self.y_pc, **region)
        self.selection = self.node["sample"].values[mask.values].tolist()

    @param.depends("selection", watch=True)
    def _show_selection(self) -> None:
        if self.selection:
            mask = self._table["sample"].isin(self.selection).to_numpy()
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

    def __panel__(self) -> pn.viewable.Viewable:
        controls = pn.Row(
            pn.widgets.Select.from_param(self.param.x_pc, label="x axis", width=90),
            pn.widgets.Select.from_param(self.param.y_pc, label="y axis", width=90),
            pn.widgets.Select.from_param(self.param.color_by, label="colour by", width=150),
            pn.widgets.IntSlider.from_param(self.param.top_categories, label="categories", width=150),
        )
        return pn.Column(
            controls,
            pn.Row(self._plot, self._message),
            self._samples_title,
            self._samples,
            pn.pane.HTML("<b>Terms over-represented in the selection</b> (hypergeometric test, BH q-value)"),
            self._terms,
            sizing_mode="stretch_width",
        )
