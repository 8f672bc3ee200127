"""NetworkDrawer: the coexpression network of a gene list, and of its orthologs in a second species."""

from __future__ import annotations

import io
import json
from urllib.parse import quote

import holoviews as hv
import networkx as nx
import numpy as np
import pandas as pd
import panel as pn
import param
import xarray as xr

from ..atlas import gene_sets, species_nodes
from ..compute.gene_network import DEFAULT_MAX_GENES, DEFAULT_MAX_RANK, network, parse_gene_list
from ..compute.network_export import edge_list, graphml_bytes, to_cytoscape
from ..compute.network_projection import mark_conserved, project_network
from ..errors import InputError
from . import _style
from ._data import shared_resident
from ._layout import shared_width, wrapping_row

LOCALIZATION, MODULE, GENE_SET, LISTED = "localization", "CoexMap module", "gene set", "listed or added"
NO_SPECIES = "none"
#: characters the gene text area takes (Panel's default, 5,000, holds only ~450 gene IDs).
MAX_TEXT = 1_000_000
#: nodes are labelled with their symbol up to this many nodes (beyond, labels hide the network).
LABEL_LIMIT = 40
#: layout units kept free around the nodes (room for labels).
LABEL_MARGIN = 2.5
TOP_CATEGORIES = 10
FRAME = {"frame_width": 500, "frame_height": 440}
#: the plots (a 500 px frame with its axes and tools) go below the controls on a narrower page
PLOTS_MIN_WIDTH = 560
CONSERVED_COLOR = "#e8590c"
NONE_COLOR = "#d9d9d9"
NO_MODULES = "no CoexMap modules computed"
#: categories that mean "nothing known / not in it": drawn light grey so the others stand out.
NONE_CATEGORIES = ("unknown", "no module", NO_MODULES, "not in the set")
EDGE_CMAP = ["#d3d7dd", "#2f3b4c"]  # weak to strong; unsaturated, so coloured nodes stand out
NODE_FIELDS = ["gene", "symbol", "description", "localization", "module", "degree", "orthologs"]


def node_frame(graph: nx.Graph | None) -> pd.DataFrame:
    """One row per node: ID, annotation and position (empty frame without a graph)."""
    rows = [{"gene": gene, **data} for gene, data in graph.nodes(data=True)] if graph is not None else []
    frame = pd.DataFrame(rows, columns=[*NODE_FIELDS, "query", "x", "y"])
    return frame.fillna({"orthologs": ""})


def limits(frame: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """Axis ranges holding every node with one scale on both axes (the layout's distances are meaningful)."""
    if frame.empty:
        return {"xlim": (-1.0, 1.0), "ylim": (-1.0, 1.0)}
    x, y = frame["x"].astype(float), frame["y"].astype(float)
    width, height = FRAME["frame_width"], FRAME["frame_height"]
    margin = max(LABEL_MARGIN, 0.03 * max(x.max() - x.min(), y.max() - y.min()))
    scale = max((x.max() - x.min() + 2 * margin) / width, (y.max() - y.min() + 2 * margin) / height)
    centre_x, centre_y = (x.max() + x.min()) / 2, (y.max() + y.min()) / 2
    return {
        "xlim": (centre_x - scale * width / 2, centre_x + scale * width / 2),
        "ylim": (centre_y - scale * height / 2, centre_y + scale * height / 2),
    }


def node_size(n_nodes: int) -> int:
    """Marker size in pixels: smaller as the network grows, so large networks stay legible."""
    return 9 if n_nodes <= 200 else 6 if n_nodes <= 1000 else 4


def edge_frame(graph: nx.Graph | None) -> pd.DataFrame:
    """One row per edge: end coordinates, score and whether it is conserved."""
    columns = ["x0", "y0", "x1", "y1", "score", "conserved"]
    if graph is None or graph.number_of_edges() == 0:
        return pd.DataFrame(columns=columns, dtype=float)
    x, y = nx.get_node_attributes(graph, "x"), nx.get_node_attributes(graph, "y")
    return pd.DataFrame(
        [(x[a], y[a], x[b], y[b], d["score"], bool(d.get("conserved", False))) for a, b, d in graph.edges(data=True)],
        columns=columns,
    )


class _NetworkPanel(param.Parameterized):
    """One drawn network: its plot (DynamicMaps and tap stream created once) and download buttons."""

    graph = param.ClassSelector(class_=nx.Graph, default=None, doc="the network drawn (None: nothing yet)")
    tapped = param.String(default="", doc="gene of the node last clicked")

    def __init__(self, drawer: NetworkDrawer, name: str):
        super().__init__(name=name)
        self._drawer = drawer
        graph = hv.streams.Params(self, ["graph"])
        edges = hv.DynamicMap(self._edges, streams=[graph])  # recolouring nodes leaves the edges alone
        nodes = hv.DynamicMap(self._nodes, streams=[hv.streams.Params(drawer, ["color_by", "gene_set"]), graph])
        hv.streams.Selection1D(source=nodes).add_subscriber(self._tap)
        self.plot = pn.pane.HoloViews(edges * nodes, linked_axes=False)
        downloads = [
            ("GraphML", "graphml", lambda g: io.BytesIO(graphml_bytes(g))),
            ("Cytoscape JSON", "cyjs", lambda g: io.StringIO(json.dumps(to_cytoscape(g), indent=1))),
            ("TSV edges", "tsv", lambda g: io.StringIO(edge_list(g).to_csv(sep="\t", index=False))),
        ]
        self.downloads = [
            pn.widgets.FileDownload(
                callback=lambda make=make: make(self.graph), filename=f"network.{suffix}", label=label,
                color="primary", width=140, disabled=True,
                css_classes=[f"download-{suffix}"],
            )
            for label, suffix, make in downloads
        ]
        self.layout = pn.Column(self.plot, pn.Row(*self.downloads), visible=name == "main")
        self._frame = node_frame(None)
        self.param.watch(self._graph_changed, "graph")

    def _graph_changed(self, event: param.parameterized.Event) -> None:
        species = quote(str(event.new.graph.get("species") or "network"), safe="") if event.new is not None else ""
        for button in self.downloads:
            button.disabled = event.new is None
            button.filename = f"{species}_network.{button.filename.rsplit('.', 1)[-1]}"
        self._frame = node_frame(event.new)

    def _edges(self, graph) -> hv.Overlay:
        edges, frame = edge_frame(graph), node_frame(graph)
        segments = hv.Segments(edges, ["x0", "y0", "x1", "y1"], ["score", "conserved"]).opts(
            color="score", cmap=EDGE_CMAP, line_width=1.2, alpha=0.7, tools=[], framewise=True, **limits(frame),
        )
        conserved = hv.Segments(edges[edges["conserved"].astype(bool)], ["x0", "y0", "x1", "y1"], ["score"]).opts(
            color=CONSERVED_COLOR, line_width=3, alpha=0.9,
        )
        shown = frame if len(frame) <= LABEL_LIMIT else frame.iloc[:0]
        labels = hv.Labels(
            shown.assign(label=[s or g for s, g in zip(shown["symbol"], shown["gene"], strict=True)]),
            ["x", "y"], "label",
        ).opts(text_font_size="8pt", yoffset=0.55, text_color="#333333")
        return segments * conserved * labels

    def _nodes(self, color_by, gene_set, graph) -> hv.Points:
        frame = node_frame(graph)
        frame["category"], key = self._drawer.categories(frame, self.name)
        title = self._title(graph)
        points = hv.Points(frame, ["x", "y"], [*NODE_FIELDS, "category"])
        tooltips = [("gene", "@gene"), ("symbol", "@symbol"), ("description", "@description"),
                    ("localization", "@localization"), ("module", "@module"), ("degree", "@degree")]
        if self.name == "compared":
            tooltips.append(("orthologs of", "@orthologs"))
        return points.opts(
            color="category", cmap=key, size=node_size(len(frame)), line_color="white", line_width=0.5,
            tools=["hover", "tap"], hover_tooltips=tooltips, legend_position="bottom", legend_cols=3, title=title,
            xaxis=None, yaxis=None, nonselection_alpha=0.6, show_grid=False, framewise=True, **limits(frame), **FRAME,
        )

    def _title(self, graph: nx.Graph | None) -> str:
        if graph is None:
            return "no network yet"
        return f"{graph.graph.get('species', '')}: {graph.number_of_nodes():,} genes, {graph.number_of_edges():,} edges"

    def _tap(self, index: list[int]) -> None:
        if index and self.graph is not None and index[0] < len(self._frame):
            self.tapped = str(self._frame["gene"].iloc[index[0]])


class NetworkDrawer(pn.viewable.Viewer):
    """The coexpression network of a gene list (ATTED-II's NetworkDrawer), beside its orthologs' network.

    ``NetworkDrawer(atlas, species="Ath-r", genes=[...])`` in a notebook cell shows it.
    Public parameters (the Explorer sets and watches them):

    * ``species``: the species node of the list;
    * ``genes``: gene IDs or symbols drawn (set it to send genes from the CoexList, a
      PC View selection or a CoexMap module; the text area shows and edits it);
    * ``compare_with``: a second species ("none" to hide): the orthologs' network, conserved
      edges in orange in both plots, with the count against chance;
    * ``gene``: set when a node of the first plot is clicked (open its coexpression list);
      ``compared_gene`` likewise for the second plot;
    * ``max_rank``, ``min_score``, ``add_partners``, ``max_genes``: the network's thresholds
      (:func:`atted_explore.network`); ``color_by``, ``gene_set``: node colours.

    Networks, layouts and statistics are computed by :mod:`atted_explore.compute` only.
    """

    atlas = param.ClassSelector(class_=xr.DataTree, doc="the atlas (coexpression computed)")
    species = param.Selector(default=None, objects=[], check_on_set=False, doc="species node of the gene list")
    genes = param.List(default=[], item_type=str, doc="gene IDs or symbols drawn")
    max_rank = param.Integer(default=DEFAULT_MAX_RANK, bounds=(0, None), doc="edge when within a gene's top max_rank")
    min_score = param.Number(default=None, allow_None=True, doc="edge when the score passes this (None: off)")
    add_partners = param.Integer(default=0, bounds=(0, None), doc="strongest partners added per listed gene")
    max_genes = param.Integer(default=DEFAULT_MAX_GENES, bounds=(1, None), doc="largest network drawn")
    color_by = param.Selector(default=LOCALIZATION, objects=[LOCALIZATION, MODULE, GENE_SET, LISTED])
    gene_set = param.Selector(
        default=None, objects=[], allow_None=True, check_on_set=False, doc="gene set coloured (color_by 'gene set')")
    compare_with = param.Selector(
        default=NO_SPECIES, objects=[NO_SPECIES], check_on_set=False, doc="second species shown ('none': hidden)")
    gene = param.String(default="", doc="gene of the node last clicked in the first plot")
    compared_gene = param.String(default="", doc="gene of the node last clicked in the second plot")

    def __init__(self, atlas: xr.DataTree, **params):
        names = species_nodes(atlas)
        if not names:
            raise InputError("NetworkDrawer: the atlas has no species node")
        if params.get("species") not in (None, *names):
            raise InputError(f"NetworkDrawer: species={params['species']!r}; the atlas has {names}")
        super().__init__(atlas=atlas, species=params.pop("species", None) or names[0], **params)
        self.param.species.objects = names
        self._nodes: dict[str, xr.Dataset] = {}
        self._text = pn.widgets.TextAreaInput(
            label="genes (IDs or symbols; newline, comma or space separated)", height=180, sizing_mode="stretch_width",
            placeholder="AT1G01070\nPSAD1\n...", css_classes=["gene-list"], max_length=MAX_TEXT,
        )
        self._draw = pn.widgets.Button(label="Draw network", color="primary", css_classes=["draw-network"])
        self._draw.on_click(lambda _: setattr(self, "genes", parse_gene_list(self._text.value)))
        self._summary = pn.pane.HTML("", sizing_mode="stretch_width", css_classes=["network-summary"])
        self._clicked = pn.pane.HTML("", sizing_mode="stretch_width", css_classes=["clicked-gene"])
        self.main, self.compared = _NetworkPanel(self, "main"), _NetworkPanel(self, "compared")
        self.main.param.watch(lambda e: setattr(self, "gene", e.new), "tapped")
        self.compared.param.watch(lambda e: setattr(self, "compared_gene", e.new), "tapped")
        self._show_genes()
        self._species_changed()

    def node(self, species: str | None = None) -> xr.Dataset:
        """A species node in memory but for its expression matrix (kept for the next redraw)."""
        species = species or self.species
        if species not in self._nodes:
            self._nodes[species] = shared_resident(self.atlas[species])
        return self._nodes[species]

    @param.depends("species", watch=True)
    def _species_changed(self) -> None:
        node = self.node()
        if "coex_partner" in node:
            self.param.max_rank.bounds = (0, node.sizes["rank"])
            self.param.add_partners.bounds = (0, node.sizes["rank"])
        self._sets = gene_sets(node)
        names = node["gene_set_name"].values.astype(str) if "gene_set_name" in node else []
        self._set_labels = dict(zip(self._sets, names, strict=False))
        self.param.gene_set.objects = list(self._sets)
        others = [n for n in species_nodes(self.atlas) if n != self.species]
        self.param.compare_with.objects = [NO_SPECIES, *others]
        self.param.update(
            gene_set=self.gene_set if self.gene_set in self._sets else next(iter(self._sets), None),
            compare_with=self.compare_with if self.compare_with in others else NO_SPECIES,
        )
        self._redraw()

    @param.depends("genes", watch=True)
    def _show_genes(self) -> None:
        """The text area shows the list drawn (only when the list changes: a threshold change keeps what is typed)."""
        self._text.value = "\n".join(self.genes)

    @param.depends("genes", "max_rank", "min_score", "add_partners", "max_genes", "compare_with", watch=True)
    def _redraw(self) -> None:
        """Recompute the network(s) and the summary; an input problem is shown in words."""
        main = compared = None
        problems, stats = [], None
        if self.genes:
            try:
                main = network(
                    self.node(), self.genes, max_rank=self.max_rank or None, min_score=self.min_score,
                    add_partners=self.add_partners, max_genes=self.max_genes, name=self.species,
                )
            except InputError as error:
                problems.append(str(error))
        if main is not None and self.compare_with != NO_SPECIES:
            try:
                compared = project_network(self.atlas, main, self.species, self.compare_with)
                main, stats = mark_conserved(main, compared), compared.graph
            except InputError as error:
                problems.append(str(error))
        self.main.graph, self.compared.graph = main, compared
        self.compared.layout.visible = self.compare_with != NO_SPECIES
        self._summary.object = self._describe(main, stats, problems)

    @param.depends("gene", "compared_gene", watch=True)
    def _show_clicked(self) -> None:
        parts = []
        for species, gene in ((self.species, self.gene), (self.compare_with, self.compared_gene)):
            node = self.node(species) if species != NO_SPECIES else None
            if gene and node is not None and gene in node.indexes["gene"]:
                symbol = str(node["symbol"].sel(gene=gene).values) if "symbol" in node.coords else ""
                description = str(node["description"].sel(gene=gene).values) if "description" in node.coords else ""
                parts.append(
                    f"<b>{_style.escape(gene)}</b> {_style.escape(symbol)} ({_style.escape(species)}): "
                    f"{_style.escape(description)} · {_style.gene_links(node, gene)}"
                )
        self._clicked.object = "<br>".join(parts)

    def _describe(self, graph: nx.Graph | None, stats: dict | None, problems: list[str]) -> str:
        parts = [f'<p class="network-problem">{_style.escape(p)}</p>' for p in problems]
        if graph is None and not problems:
            parts.append("<p>Paste gene IDs or symbols and press <b>Draw network</b>.</p>")
        if graph is not None:
            listed = sum(1 for _, q in graph.nodes(data="query") if q)
            components = nx.number_connected_components(graph)
            parts.append(
                f"<p><b>{graph.number_of_nodes():,} genes</b> ({listed:,} listed, "
                f"{graph.number_of_nodes() - listed:,} added partners), <b>{graph.number_of_edges():,} edges</b> "
                f"({_style.escape(self._rule(graph))}), {components:,} connected groups.</p>"
            )
            if graph.graph.get("n_unknown"):
                parts.append(
                    f'<p class="unknown-genes">{graph.graph["n_unknown"]:,} entries match no gene of '
                    f"{_style.escape(self.species)}: {_style.escape(graph.graph['unknown'])}</p>"
                )
        if stats is not None:
            parts.append(
                f'<p class="conservation">In {_style.escape(self.compare_with)}: <b>{stats["conserved_edges"]:,} '
                f'edges conserved</b> (orange), {stats["lost_edges"]:,} lost, {stats["untested_edges"]:,} without '
                f'orthologs; expected by chance {stats["expected_conserved"]:.1f} '
                f'(ortholog pairs linked {stats["ortholog_pairs_linked"]:,} of {stats["ortholog_pairs_tested"]:,}, '
                f'{stats["enrichment"]:.1f}x chance, hypergeometric p = {stats["p_value"]:.2g}).</p>'
            )
        return "".join(parts)

    @staticmethod
    def _rule(graph: nx.Graph) -> str:
        rules = [f"within top {graph.graph['max_rank']} partners"] if graph.graph.get("max_rank") else []
        if "min_score" in graph.graph:
            rules.append(f"score >= {graph.graph['min_score']:g}")
        return " or ".join(rules)

    def categories(self, frame: pd.DataFrame, panel: str) -> tuple[pd.Categorical, dict[str, str]]:
        """The colour category of each node of a panel and the colour of each category."""
        if self.color_by == LOCALIZATION:
            values = frame["localization"].replace("", "unknown")
        elif self.color_by == MODULE:
            none = "no module" if "coexmap_module" in self.node() else NO_MODULES
            values = [none if m < 0 else f"module {m}" for m in frame["module"].astype(int)]
        elif self.color_by == GENE_SET:
            members = set(self._sets.get(self.gene_set, []))
            if panel == "compared":  # orthologs of the set's genes
                inside = [bool(members & set(o.split(", "))) for o in frame["orthologs"]]
            else:
                inside = frame["gene"].isin(members).tolist()
            label = self._set_labels.get(self.gene_set, self.gene_set or "gene set")  # legends are text, not HTML
            values = [f"in {label}" if i else "not in the set" for i in inside]
        else:
            values = np.where(frame["query"].astype(bool), "listed", "added partner")
        labels, key = _style.top_categories(np.asarray(values, dtype=object), TOP_CATEGORIES)
        return labels, key | {c: NONE_COLOR for c in key if c in NONE_CATEGORIES}

    def __panel__(self) -> pn.viewable.Viewable:
        controls = pn.Column(
            pn.widgets.Select.from_param(self.param.species, label="species"),
            self._text,
            self._draw,
            pn.widgets.IntInput.from_param(self.param.max_rank, label="edge: within top N partners (0: off)"),
            pn.widgets.FloatInput.from_param(self.param.min_score, label="edge: or score at least (empty: off)"),
            pn.widgets.IntInput.from_param(self.param.add_partners, label="add top partners per gene"),
            pn.widgets.Select.from_param(self.param.color_by, label="color genes by"),
            pn.widgets.Select.from_param(self.param.gene_set, label="gene set"),
            pn.widgets.Select.from_param(
                self.param.compare_with, label="compare with species", css_classes=["compare-species"]),
            width=300,
        )
        plots = pn.FlexBox(self.main.layout, self.compared.layout)
        return wrapping_row(
            controls, pn.Column(self._summary, self._clicked, plots, sizing_mode="stretch_width", styles=shared_width(PLOTS_MIN_WIDTH)),
        )
