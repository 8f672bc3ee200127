"""CoexList: the ranked coexpression partners of a gene, with annotation and link-outs."""

from __future__ import annotations

import io
from urllib.parse import quote

import numpy as np
import pandas as pd
import panel as pn
import param
import xarray as xr

from ..atlas import check_partner_order, gene_field, gene_position, localization_labels, require_variable
from ..errors import InputError
from . import _style
from ._data import resident
from ._guard import contained, problem_pane

ALL_COMPARTMENTS = "all"
PARTNER_COLUMNS = ["rank", "partner", "symbol", "description", "localization", "score", "mr"]


def partner_table(
    node: xr.Dataset,
    gene: str,
    compartment: str | None = None,
    localization: np.ndarray | None = None,
) -> pd.DataFrame:
    """The ranked coexpression partners of ``gene`` with their annotation.

    Columns ``rank, partner, symbol, description, localization, score, mr``
    (``mr`` NaN when the method has none). ``compartment`` keeps partners
    localised there. ``localization`` is :func:`localization_labels` of the node,
    passed by callers that query many genes so it is built once.
    """
    require_variable(node, "coex_partner", "atted_explore.compute.coexpression")
    check_partner_order(node)
    lists = node[[v for v in ("coex_partner", "coex_score", "coex_mr") if v in node]]
    lists = lists.isel(gene=gene_position(node, gene)).load()
    partners = lists["coex_partner"].values
    present = partners >= 0
    positions = partners[present]
    if localization is None:
        localization = localization_labels(node)
    table = pd.DataFrame(
        {
            "rank": lists["rank"].values[present],
            "partner": np.asarray(node["gene"].values)[positions],
            "symbol": gene_field(node, "symbol")[positions],
            "description": gene_field(node, "description")[positions],
            "localization": localization[positions],
            "score": lists["coex_score"].values[present].astype(float),
            "mr": lists["coex_mr"].values[present].astype(float) if "coex_mr" in lists else np.nan,
        },
        columns=PARTNER_COLUMNS,
    )
    if compartment is not None:
        if "localization" not in node:
            raise InputError("node has no variable 'localization'; cannot filter partners by compartment")
        compartments = [str(c) for c in node["compartment"].values]
        if compartment not in compartments:
            raise InputError(f"unknown compartment {compartment!r}; the node has {compartments}")
        in_compartment = np.asarray(node["localization"].sel(compartment=compartment).values, dtype=bool)
        table = table[in_compartment[positions]].reset_index(drop=True)
    return table


class CoexList(pn.viewable.Viewer):
    """A gene's partners (rank, ID, symbol, description, localization, score, MR).

    Selecting a row sets ``partner``; the Explorer opens that pair in the CoexViewer.
    """

    node = param.ClassSelector(class_=xr.Dataset, doc="species node (coexpression computed)")
    gene = param.String(default="", doc="query gene ID")
    compartment = param.Selector(
        default=ALL_COMPARTMENTS, objects=[ALL_COMPARTMENTS], check_on_set=False, doc="keep partners localised here")
    partner = param.String(default="", doc="partner gene of the selected row")

    def __init__(self, node: xr.Dataset | xr.DataTree, **params):
        super().__init__(node=resident(node), **params)
        self._problem = problem_pane()
        self._header = pn.pane.HTML("", sizing_mode="stretch_width")
        self._table = pn.widgets.Tabulator(
            pagination="remote", page_size=20, show_index=False, disabled=True, selectable=1,
            sizing_mode="stretch_width", header_filters={"symbol": "input", "description": "input"},
            css_classes=["coex-list"],
        )
        self._table.param.watch(self._on_select, "selection")
        self._download = pn.widgets.FileDownload(
            callback=self._tsv, filename="partners.tsv", label="Download TSV", color="primary", width=160,
        )
        self._configure()
        self._render()
        self._layout = pn.Column(
            pn.Row(
                pn.widgets.Select.from_param(self.param.compartment, label="compartment", width=160), self._download
            ),
            self._problem,
            self._header,
            self._table,
            sizing_mode="stretch_width",
        )

    @param.depends("node", watch=True)
    @contained
    def _configure(self) -> None:
        compartments = [str(c) for c in self.node["compartment"].values] if "localization" in self.node else []
        self.param.compartment.objects = [ALL_COMPARTMENTS, *compartments]
        self._localization = localization_labels(self.node)
        self.param.update(
            compartment=self.compartment if self.compartment in compartments else ALL_COMPARTMENTS,
            gene=self.gene if self.gene in self.node.indexes["gene"] else "",
        )

    def partners(self) -> pd.DataFrame:
        """The current list (empty until a gene is chosen)."""
        if not self.gene:
            return pd.DataFrame(columns=["rank", "partner", "symbol", "description", "localization", "score", "mr"])
        compartment = None if self.compartment == ALL_COMPARTMENTS else self.compartment
        table = partner_table(self.node, self.gene, compartment=compartment, localization=self._localization)
        return table.drop(columns="mr") if table["mr"].isna().all() else table

    @param.depends("node", "gene", "compartment", watch=True)
    @contained
    def _render(self) -> None:
        table = self.partners()
        self._download.filename = f"{quote(self.gene or 'gene', safe='')}_partners.tsv"
        if not self.gene:
            self._header.object = "Choose a gene to list its coexpression partners."
        else:
            self._header.object = (
                f"<b>{len(table):,} partners of {_style.escape(self.gene)}</b> "
                f"({_style.gene_links(self.node, self.gene)})"
            )
        links = _style.link_templates(self.node)
        shown = table.assign(
            **{name: [url.format(gene=quote(str(g), safe="")) for g in table["partner"]] for name, url in links.items()}
        )
        self._table.formatters = {
            name: {"type": "link", "label": name, "target": "_blank"} for name in links
        } | {"score": {"type": "money", "precision": 3}}
        self._table.value = shown.round({"score": 3, "mr": 1}) if "mr" in shown else shown
        self._table.selection = []

    def _on_select(self, event: param.parameterized.Event) -> None:
        if event.new:
            partner = str(self._table.value["partner"].iloc[event.new[0]])
            if partner == self.partner:  # param does not notify an unchanged value; the pair must reopen
                self.param.trigger("partner")
            else:
                self.partner = partner

    def _tsv(self) -> io.StringIO:
        return io.StringIO(self.partners().to_csv(sep="\t", index=False))

    def __panel__(self) -> pn.viewable.Viewable:
        return self._layout
