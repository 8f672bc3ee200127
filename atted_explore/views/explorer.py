"""The Explorer: atlas overview, PC view, coexpression list and gene pair in one layout."""

from __future__ import annotations

import panel as pn
import param
import xarray as xr

from ..atlas import species_nodes
from ..compute.pairs import strongest_other_pc
from ..summary import overview_table, provenance_items
from . import _style
from .coexlist import CoexList
from .coexviewer import CoexViewer, gene_picker
from .pcview import GENE_EXPRESSION, PCView
from ._data import resident


class AtlasOverview(pn.viewable.Viewer):
    """The atlas's name, description, provenance and per-species counts."""

    atlas = param.ClassSelector(class_=xr.DataTree)

    def __panel__(self) -> pn.viewable.Viewable:
        attrs = self.atlas.attrs
        items = "".join(
            f"<li><b>{_style.escape(k)}</b>: {_style.escape(v)}</li>" for k, v in provenance_items(self.atlas)
        )
        text = (
            f'<h2 class="atlas-name">{_style.escape(attrs.get("name", "atlas"))}</h2>'
            f"<p>{_style.escape(attrs.get('description', ''))}</p>"
            + (f"<details><summary>Provenance</summary><ul>{items}</ul></details>" if items else "")
        )
        return pn.Column(
            pn.pane.HTML(text, sizing_mode="stretch_width"),
            pn.pane.DataFrame(overview_table(self.atlas), index=False, escape=True, sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )


class Explorer(pn.viewable.Viewer):
    """All views on one atlas, sharing the species and the query gene.

    ``species``, ``gene`` and ``pair`` ("A,B") are the state a shared link
    carries as URL query parameters.
    """

    atlas = param.ClassSelector(class_=xr.DataTree, doc="the atlas (PCA and coexpression computed)")
    species = param.Selector(default=None, objects=[], doc="species node shown")
    gene = param.String(default="", doc="query gene shared by all views")
    pair = param.String(default="", doc="gene pair in the CoexViewer, 'A,B'")

    def __init__(self, atlas: xr.DataTree, **params):
        names = species_nodes(atlas)
        super().__init__(atlas=atlas, species=params.pop("species", None) or names[0], **params)
        self.param.species.objects = names
        node = self.node()
        self.overview = AtlasOverview(atlas=atlas)
        self.pc_view = PCView(node)
        self.coex_list = CoexList(node)
        self.coex_viewer = CoexViewer(node)
        self.tabs = pn.Tabs(
            ("PC view", self.pc_view), ("Coexpression list", self.coex_list), ("Gene pair", self.coex_viewer),
            dynamic=False, sizing_mode="stretch_width",
        )
        self._search = pn.Column()
        self.coex_list.param.watch(self._open_partner, "partner")
        self.coex_viewer.param.watch(self._show_pc, "selected_pc")
        self.coex_viewer.param.watch(self._pair_from_viewer, ["gene_a", "gene_b"])
        self._species_changed()

    def node(self) -> xr.Dataset:
        """The current species node, in memory but for its expression matrix.

        Cached per server process, so every browser session of an app shares one copy.
        """
        key = f"atted_explore-node-{id(self.atlas)}-{self.atlas.attrs.get('name', '')}-{self.species}"
        return pn.state.as_cached(key, lambda: resident(self.atlas[self.species]))

    @param.depends("species", watch=True)
    def _species_changed(self) -> None:
        node = self.node()
        for view in (self.pc_view, self.coex_list, self.coex_viewer):
            view.node = node
        self._search[:] = [gene_picker(self.param.gene, node, "gene search")]
        genes = node.indexes["gene"]
        pair = [g for g in self.pair.split(",") if g in genes] if self.pair else []
        self.param.update(gene=self.gene if self.gene in genes else "", pair=",".join(pair) if len(pair) == 2 else "")
        self._gene_changed()
        self._pair_changed()

    @param.depends("gene", watch=True)
    def _gene_changed(self) -> None:
        if not self.gene or self.gene not in self.node().indexes["gene"]:
            return
        self.pc_view.param.update(gene=self.gene, color_by=GENE_EXPRESSION)
        self.coex_list.gene = self.gene
        if not self.pair:
            self.coex_viewer.gene_a = self.gene

    @param.depends("pair", watch=True)
    def _pair_changed(self) -> None:
        genes = self.pair.split(",") if self.pair else []
        if len(genes) == 2 and all(g in self.node().indexes["gene"] for g in genes):
            self.coex_viewer.param.update(gene_a=genes[0], gene_b=genes[1])

    def _pair_from_viewer(self, *_events) -> None:
        if self.coex_viewer.gene_a and self.coex_viewer.gene_b:
            self.pair = f"{self.coex_viewer.gene_a},{self.coex_viewer.gene_b}"

    def show_pair(self) -> None:
        """Bring the gene pair (CoexViewer) tab to the front."""
        self.tabs.active = 2

    def _open_partner(self, event) -> None:
        if event.new:
            self.pair = f"{self.coex_list.gene},{event.new}"
            self.show_pair()

    def _show_pc(self, event) -> None:
        """Put the clicked PC on x, and the pair's strongest other contributor on y."""
        if event.new is None:
            return
        y_pc = strongest_other_pc(self.coex_viewer.contributions(), event.new)
        self.pc_view.param.update(x_pc=event.new, y_pc=y_pc)
        self.tabs.active = 0

    @property
    def sidebar(self) -> list:
        """Controls for a template's sidebar: species picker and gene search."""
        return [pn.widgets.Select.from_param(self.param.species, label="species"), self._search]

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(
            self.overview, pn.Row(*self.sidebar), self.tabs, sizing_mode="stretch_width"
        )
