"""The Explorer: atlas overview, PC view, coexpression list and gene pair in one layout."""

from __future__ import annotations

import panel as pn
import param
import xarray as xr

from ..atlas import has_coexmaps, species_nodes
from ..compute.pairs import featured_pair, strongest_other_pc, strongest_partner
from ..compute.selection import selection_genes
from ..summary import overview_table, provenance_items
from . import _style
from ._data import shared_resident
from .coexlist import CoexList
from .coexviewer import CoexViewer, gene_picker
from .coexmap import CoexMap
from .network import NetworkDrawer
from .pcsummary import PCSummary
from .pcview import GENE_EXPRESSION, PCView

#: the tab headers wrap onto a second line on a narrow page instead of being cut at its edge
TAB_HEADERS_WRAP = ".bk-headers-wrapper { flex-wrap: wrap; }"
TABS = ("PC view", "PC meaning", "Coexpression list", "Gene pair", "CoexMap", "Network")
#: partners sent to the network with a gene (the gene and its strongest partners make a readable neighbourhood).
NETWORK_PARTNERS = 30
#: genes sent to the network from a selection of samples.
NETWORK_SELECTION_GENES = 50


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
        table = overview_table(self.atlas)
        species = pn.Card(
            pn.pane.DataFrame(table, index=False, escape=True, sizing_mode="stretch_width"),
            title=f"{len(table)} species: genes, samples, studies, PCs and what is computed",
            collapsed=True, sizing_mode="stretch_width",
        )
        return pn.Column(pn.pane.HTML(text, sizing_mode="stretch_width"), species, sizing_mode="stretch_width")


class Explorer(pn.viewable.Viewer):
    """All views on one atlas, sharing the species and the query gene.

    ``species``, ``gene`` and ``pair`` ("A,B") are the state a shared link
    carries as URL query parameters. On first open each view shows a featured
    gene (the planted conserved module in the demo, else the gene that varies
    most over the PCs) and its strongest partner.
    """

    atlas = param.ClassSelector(class_=xr.DataTree, doc="the atlas (PCA and coexpression computed)")
    species = param.Selector(default=None, objects=[], doc="species node shown")
    gene = param.String(default="", doc="query gene shared by all views")
    pair = param.String(default="", doc="gene pair in the CoexViewer, 'A,B'")
    node = param.ClassSelector(class_=xr.Dataset, doc="the species node the views show (in memory but expression)")

    def __init__(self, atlas: xr.DataTree, **params):
        names = species_nodes(atlas)
        super().__init__(atlas=atlas, species=params.pop("species", None) or names[0], **params)
        self.param.species.objects = names
        self._setting = False
        self.node = shared_resident(atlas[self.species])
        self.overview = AtlasOverview(atlas=atlas)
        self.pc_view = PCView(self.node)
        self.coex_list = CoexList(self.node)
        self.coex_viewer = CoexViewer(self.node)
        self.pc_summary = PCSummary(self.node)
        self.network = NetworkDrawer(atlas, species=self.species)
        self.coex_map = CoexMap(atlas) if has_coexmaps(atlas) else None
        self._selection_to_network = pn.widgets.Button(
            label="Network of the selected genes of this species", color="light", width=340
        )
        self._selection_to_network.on_click(lambda _: self.send_selection_to_network())
        self._pc_selection_to_network = pn.widgets.Button(
            label="Network of the genes raised in the selected samples", color="light", width=380
        )
        self._pc_selection_to_network.on_click(lambda _: self.send_pc_selection_to_network())
        self._to_network = pn.widgets.Button(
            label="Network of this gene and its partners", color="light", css_classes=["to-network"], width=300
        )
        self._to_network.on_click(lambda _: self.send_to_network())
        self._hint = pn.pane.HTML("", sizing_mode="stretch_width", css_classes=["featured-hint"])
        self.tabs = pn.Tabs(
            *zip(
                TABS,
                (pn.Column(self._pc_selection_to_network, self.pc_view, sizing_mode="stretch_width"), self.pc_summary, pn.Column(self._to_network, self.coex_list), self.coex_viewer,
                 self._coex_map_tab(), self.network),
                strict=True,
            ),
            dynamic=True, sizing_mode="stretch_width",
            stylesheets=[TAB_HEADERS_WRAP],
        )
        self._search = gene_picker(self.param.gene, self.node, "gene search")
        self.coex_list.param.watch(self._open_partner, "partner")
        self.coex_viewer.param.watch(self._show_pc, "selected_pc")
        self.pc_summary.param.watch(self._show_summary_pc, "selected_pc")
        self.network.param.watch(self._open_gene, ["gene"])
        if self.coex_map is not None:
            self.coex_map.param.watch(self._open_gene, ["gene"])
        self.coex_viewer.param.watch(self._pair_from_viewer, ["gene_a", "gene_b"])
        self._show_species(initial=True)

    @param.depends("species", watch=True)
    def _species_changed(self) -> None:
        self._show_species(initial=False)

    def _show_species(self, initial: bool) -> None:
        """Point every view at the species' node, keeping the gene and pair where the node has them."""
        self.node = shared_resident(self.atlas[self.species])
        for view in (self.pc_view, self.pc_summary, self.coex_list, self.coex_viewer):
            view.node = self.node
        self._search.options = _style.gene_options(self.node)
        self.network.species = self.species
        genes = self.node.indexes["gene"]
        gene = self.gene if self.gene in genes else ""
        pair = self.pair if self.pair and all(g in genes for g in self.pair.split(",")) else ""
        featured = not gene and not pair
        if featured:
            gene, pair = self._featured()
        else:
            self._hint.object = ""
        self._setting = True  # the views are updated below, once
        try:
            self.param.update(gene=gene, pair=pair)
        finally:
            self._setting = False
        self._show_gene(recolor=not (featured or initial))
        self._show_pair()

    def _featured(self) -> tuple[str, str]:
        """A featured gene and pair, with a line saying how to choose another."""
        featured = featured_pair(self.node, self.atlas.attrs.get("truth_conserved_module"))
        if featured is None:
            self._hint.object = ""
            return "", ""
        gene, partner = featured
        self._hint.object = (
            f"<i>Showing {_style.escape(gene)}"
            + (f" and its strongest partner {_style.escape(partner)}" if partner else "")
            + ": type a gene ID or symbol in <b>gene search</b> to choose another.</i>"
        )
        return gene, f"{gene},{partner}" if partner else ""

    @param.depends("gene", watch=True)
    def _gene_changed(self) -> None:
        """A gene the user chose: every view shows it, the pair view with its strongest partner."""
        if self._setting or self.gene not in self.node.indexes["gene"]:
            return
        partner = strongest_partner(self.node, self.gene)
        self._hint.object = ""
        self._show_gene(recolor=True)
        self.pair = f"{self.gene},{partner}" if partner else ""

    def _show_gene(self, recolor: bool) -> None:
        if not self.gene or self.gene not in self.node.indexes["gene"]:
            return
        if self.coex_map is not None:
            self.coex_map.genes = [self.gene]
        self.pc_view.param.update(gene=self.gene, **({"color_by": GENE_EXPRESSION} if recolor else {}))
        self.coex_list.gene = self.gene
        self.coex_viewer.gene_a = self.gene

    @param.depends("pair", watch=True)
    def _pair_changed(self) -> None:
        if not self._setting:
            self._show_pair()

    def _show_pair(self) -> None:
        genes = self.pair.split(",") if self.pair else []
        if len(genes) == 2 and all(g in self.node.indexes["gene"] for g in genes):
            self.coex_viewer.param.update(gene_a=genes[0], gene_b=genes[1])

    def _pair_from_viewer(self, *_events) -> None:
        if self.coex_viewer.gene_a and self.coex_viewer.gene_b:
            self.pair = f"{self.coex_viewer.gene_a},{self.coex_viewer.gene_b}"

    def show_pair(self) -> None:
        """Bring the gene pair (CoexViewer) tab to the front."""
        self.tabs.active = TABS.index("Gene pair")

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
        self.tabs.active = TABS.index("PC view")

    def send_to_network(self) -> None:
        """Draw the current gene and its strongest partners in the Network tab."""
        if not self.gene:
            return
        partners = self.coex_list.partners()["partner"].head(NETWORK_PARTNERS).tolist()
        self.network.param.update(species=self.species, genes=[self.gene, *partners])
        self.tabs.active = TABS.index("Network")

    def send_pc_selection_to_network(self) -> None:
        """Draw the genes most raised in the PC view's selected samples in the Network tab."""
        if self.pc_view.selection:
            genes = selection_genes(self.node, self.pc_view.selection, n=NETWORK_SELECTION_GENES)["gene"].tolist()
            self.network.param.update(species=self.species, genes=genes)
            self.tabs.active = TABS.index("Network")

    def send_selection_to_network(self) -> None:
        """Draw the genes selected on the CoexMap panel of the current species in the Network tab."""
        prefix = f"{self.species}:"
        genes = [entry[len(prefix):] for entry in self.coex_map.selection if entry.startswith(prefix)]
        if genes:
            self.network.param.update(species=self.species, genes=genes)
            self.tabs.active = TABS.index("Network")

    def _coex_map_tab(self) -> pn.viewable.Viewable:
        if self.coex_map is None:
            quick_demo = self.atlas.attrs.get("demo_recipe", {}).get("coexmaps") is False
            return pn.pane.Alert(
                "This quick demo atlas has no CoexMaps so that the page could open at once: the full demo atlas has "
                "them (reload the page when the line at the top says it is ready)." if quick_demo else
                "This atlas has no CoexMaps: build it with `atted-explore build` (without --no-coexmaps) or run "
                "`atted_explore.coexmap(atlas)` in a notebook.", alert_type="info", sizing_mode="stretch_width",
            )
        return pn.Column(self._selection_to_network, self.coex_map, sizing_mode="stretch_width")

    def _open_gene(self, event) -> None:
        """A gene clicked in another view opens its coexpression list (switching species if it is another's)."""
        if not event.new:
            return
        if event.new not in self.node.indexes["gene"]:
            owner = next((s for s in self.param.species.objects if event.new in self.atlas[s].indexes["gene"]), None)
            if owner is None:
                return
            self.species = owner
        self.gene = event.new
        self.tabs.active = TABS.index("Coexpression list")

    def _show_summary_pc(self, event) -> None:
        """A PC chosen on its card goes on the PC view's x axis (y keeps its PC unless it is the same)."""
        if event.new is None:
            return
        pcs = [int(pc) for pc in self.node["pc"].values]
        y_pc = self.pc_view.y_pc if self.pc_view.y_pc != event.new else next(pc for pc in pcs if pc != event.new)
        self.pc_view.param.update(x_pc=event.new, y_pc=y_pc)
        self.tabs.active = TABS.index("PC view")

    @property
    def sidebar(self) -> list:
        """Controls for a template's sidebar: species picker, gene search and the featured-gene hint."""
        return [pn.widgets.Select.from_param(self.param.species, label="species"), self._search, self._hint]

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(self.overview, pn.Row(*self.sidebar), self.tabs, sizing_mode="stretch_width")
