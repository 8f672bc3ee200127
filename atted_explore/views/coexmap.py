"""CoexMap: CoexMaps of 1-4 species side by side, one subset at a time, linked through orthologs.

Public params (the Explorer wires these): ``species`` (node names shown),
``subset``, ``layout`` (``"mesoscale"``: the subset's own map; ``"global"``:
the all-gene map restricted to the subset), ``color_by`` (compartment, module
or a gene set), ``genes`` (query genes, any species: they and their orthologs
are highlighted in every panel), ``selection`` (``"node:gene"`` strings picked
with box/lasso), ``gene`` (the gene last clicked: open its CoexList from it).
"""

from __future__ import annotations

import colorcet
import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
import param
import xarray as xr
from holoviews.operation.datashader import dynspread, rasterize

from ..atlas import orthologs, species_nodes
from ..compute.map_modules import (
    layout as map_layout, map_conservation, module_enrichment, ortholog_genes, stored_conservation,
)
from ..compute.selection import inside_polygon
from ..errors import InputError
from ._data import shared_resident
from ._style import escape, top_categories

LAYOUTS = {"mesoscale": "subset", "global": "global"}
COLOR_FIELDS = ("compartment", "module", "gene set")
GLYPH_LIMIT = 20_000  # below: real glyphs with hover; above: datashaded
PANEL_SIZE = {"height": 380, "min_width": 260, "responsive": True}  # panels share the page width
HIGHLIGHT = "#111111"  # rings: no category colour is this dark
PALETTE = colorcet.palette["glasbey_category10"]
NEUTRAL = ("no module", "other", "unknown")
CATEGORIES = 9  # coloured categories per panel; the rest are "other" (the legend stays readable)


class CoexMap(pn.viewable.Viewer):
    """Side-by-side CoexMaps of several species; select in one panel to see the orthologs in the others."""

    species = param.ListSelector(default=[], objects=[], doc="species nodes shown side by side (1 to 4)")
    subset = param.Selector(default="all", objects=["all"], check_on_set=False, doc="gene subset mapped")
    layout = param.Selector(default="mesoscale", objects=list(LAYOUTS), doc="the subset's own map or the all-gene map")
    color_by = param.Selector(default="module", objects=list(COLOR_FIELDS), doc="what colours the genes")
    gene_set = param.String(default="", doc="gene set coloured when color_by is 'gene set'")
    genes = param.List(default=[], doc="query genes: highlighted with their orthologs in every panel")
    selection = param.List(default=[], doc="'node:gene' of the genes selected with box or lasso")
    gene = param.String(default="", doc="the gene last clicked (the Explorer opens its CoexList)")

    def __init__(self, atlas: xr.DataTree, species: list[str] | None = None, **params):
        names = [n for n in species_nodes(atlas) if "coexmap" in atlas[n].dataset]
        if not names:
            raise InputError("the atlas has no CoexMaps (run atted_explore.coexmap or analyze_atlas first)")
        self._atlas = atlas
        self._nodes = {n: shared_resident(atlas[n].dataset) for n in names}
        self._conservation = stored_conservation(atlas)
        self._orthologs = orthologs(atlas)
        self._group_of = dict(zip(zip(self._orthologs["node"], self._orthologs["gene"]), self._orthologs["group"]))
        self._frames: dict[tuple, pd.DataFrame] = {}
        self._cache: dict[tuple, object] = {}
        self.param.species.objects = names
        species = list(species or names[:3])
        unknown = [s for s in species if s not in names]
        if unknown or not 1 <= len(species) <= 4:
            raise InputError(f"CoexMap: species {species!r}; choose 1 to 4 of the nodes with CoexMaps {names}")
        subsets = list(dict.fromkeys(str(s) for n in names for s in self._nodes[n]["subset"].values))
        self.param.subset.objects = subsets
        super().__init__(species=species, **params)
        if self.subset not in subsets:
            raise InputError(f"CoexMap: subset {self.subset!r} has no map; the atlas has {subsets}")
        # the map stream redraws the points (and rings); the pick stream only the rings: the points'
        # callback is memoized, so their unchanged data is not sent again
        self._map_stream = hv.streams.Params(self, ["subset", "layout", "color_by", "gene_set"])
        self._pick_stream = hv.streams.Params(self, ["genes", "selection"])
        self._panels = {n: self._panel(n) for n in names}
        self._row = pn.Row(*[self._panels[n] for n in self.species], sizing_mode="stretch_width")
        self._score = pn.pane.HTML("", sizing_mode="stretch_width")
        self._table = pn.widgets.Tabulator(
            pd.DataFrame(), pagination="remote", page_size=10, show_index=False, disabled=True,
            sizing_mode="stretch_width",
        )
        self._controls = pn.Row(
            pn.widgets.MultiChoice.from_param(self.param.species, max_items=4, width=260),
            pn.widgets.Select.from_param(self.param.subset, width=160),
            pn.widgets.RadioButtonGroup.from_param(self.param.layout, width=200),
            pn.widgets.Select.from_param(self.param.color_by, width=130),
            pn.widgets.TextInput.from_param(self.param.gene_set, placeholder="gene-set ID", width=150),
        )
        self._show_species()
        self._show_scores()
        self._show_selection()

    # ---------------------------------------------------------------- data

    def frame(self, name: str) -> pd.DataFrame:
        """Genes placed on node ``name``'s current map: x, y, gene, symbol, compartment, module."""
        key = (name, self.subset, self.layout)
        if key not in self._frames:
            node = self._nodes[name]
            if self.subset not in node["subset"].values:
                self._frames[key] = pd.DataFrame(columns=["x", "y", "gene", "symbol", "compartment", "module"])
                return self._frames[key]
            xy = map_layout(node, self.subset, LAYOUTS[self.layout])
            placed = ~np.isnan(xy[:, 0])
            genes = node["gene"].values
            modules = node["coexmap_module"].sel(subset=self.subset).values
            self._frames[key] = pd.DataFrame({
                "x": xy[placed, 0], "y": xy[placed, 1], "gene": genes[placed].astype(str),
                "symbol": (node["symbol"].values[placed] if "symbol" in node.coords else genes[placed]).astype(str),
                "compartment": _compartments(node)[placed],
                "module": np.where(modules[placed] >= 0, modules[placed].astype(str), "none"),
            })
        return self._frames[key]

    def highlighted(self, name: str) -> list[str]:
        """Genes of ``name`` to highlight: query genes and their orthologs, and orthologs of the selection."""
        picked = {}
        for entry in self.genes:
            for other, node in self._nodes.items():
                if entry in node.indexes["gene"]:
                    picked.setdefault(other, set()).add(entry)
        for entry in self.selection:
            other, _, gene_id = entry.partition(":")
            picked.setdefault(other, set()).add(gene_id)
        out = set(picked.get(name, ()))
        for other, genes in picked.items():
            if other != name:
                out |= set(self._cached(("orthologs", other, name, frozenset(genes)),
                                        lambda: ortholog_genes(self._atlas, other, genes, name, self._orthologs)))
        return sorted(out)

    def _cached(self, key, compute):
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def conservation(self) -> pd.DataFrame:
        """Conservation of every pair of shown panels for the current subset and layout (stored or computed)."""
        rows = []
        for i, a in enumerate(self.species):
            for b in self.species[i + 1:]:
                stored = self._conservation[
                    (self._conservation["subset"] == self.subset)
                    & self._conservation["node_a"].isin([a, b]) & self._conservation["node_b"].isin([a, b])
                ]
                if self.layout == "mesoscale" and len(stored):
                    rows.append(stored.iloc[0].to_dict())
                    continue
                try:
                    result = self._cached(("conservation", a, b, self.subset, self.layout), lambda: map_conservation(
                        self._atlas, a, b, self.subset, n_permutations=200, which=LAYOUTS[self.layout]))
                except InputError as error:
                    rows.append({"node_a": a, "node_b": b, "subset": self.subset, "note": str(error)})
                    continue
                rows.append({"node_a": a, "node_b": b, "subset": self.subset,
                             **{v: float(result[v]) for v in ("score", "baseline", "p_value", "n_anchors")}})
        return pd.DataFrame(rows)

    # ---------------------------------------------------------------- plots

    def _panel(self, name: str) -> pn.pane.HoloViews:
        dmap = hv.DynamicMap(lambda **kw: self._points(name), streams=[self._map_stream])
        box, lasso = hv.streams.BoundsXY(source=dmap), hv.streams.Lasso(source=dmap)
        tap = hv.streams.Tap(source=dmap)
        box.add_subscriber(lambda bounds: self._select(name, bounds=bounds))
        lasso.add_subscriber(lambda geometry: self._select(name, polygon=geometry))
        tap.add_subscriber(lambda x, y: self._click(name, x, y))
        # not memoized: a new map also moves the rings
        rings = hv.Callable(lambda **kw: self._highlights(name), memoize=False)
        highlights = hv.DynamicMap(rings, streams=[self._pick_stream])
        return pn.pane.HoloViews(dmap * highlights, sizing_mode="stretch_width", linked_axes=False)

    def _colour(self, frame: pd.DataFrame, name: str) -> tuple[np.ndarray, dict]:
        if self.color_by == "gene set":
            members = set(self._atlas[name].dataset["member_gene"].values[
                self._atlas[name].dataset["member_set"].values == self.gene_set]) if self.gene_set else set()
            values = np.where(frame["gene"].isin(members), self.gene_set or "in set", "other")
        else:
            values = frame[self.color_by].to_numpy()
            if self.color_by == "module":
                values = np.where(values == "none", "no module", "module " + values.astype(object))
        labels, key = top_categories(values, CATEGORIES)
        # colours by sorted label, so a compartment has one colour in every panel; "none"-like labels grey
        named = sorted(c for c in key if c not in NEUTRAL)
        key = {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(named)} | {c: "#bbbbbb" for c in key if c in NEUTRAL}
        return np.asarray(labels.astype(str)), key

    def _points(self, name: str) -> hv.Element:
        frame = self.frame(name)
        title = f"{name} · {self.subset} · {len(frame):,} genes"
        if frame.empty:
            return hv.Points([], ["x", "y"]).opts(title=f"{name}: no {self.subset} map", **PANEL_SIZE)
        labels, key = self._colour(frame, name)
        # hover shows one label column: HoloViews computes ranges of every value column on each redraw
        data = pd.DataFrame({"x": frame["x"], "y": frame["y"], "colour": labels, "gene": self._labels(name, frame)})
        tools = ["box_select", "lasso_select", "tap"]
        # declared values: HoloViews takes a dimension's factors from them instead of scanning the column
        # on every redraw (the hover label is never an axis or a colour, its factors are unused)
        colour_dim = hv.Dimension("colour", values=list(key))
        label_dim = hv.Dimension("gene", values=["gene"])
        points = hv.Points(data, ["x", "y"], [colour_dim, label_dim])
        if len(frame) > GLYPH_LIMIT:
            shaded = dynspread(rasterize(points, aggregator="count", **PANEL_SIZE), threshold=0.5, max_px=3)
            return shaded.opts(cmap="Greys", cnorm="eq_hist", tools=tools, active_tools=["box_select"], title=title,
                               framewise=True, **PANEL_SIZE)
        return points.opts(
            color="colour", cmap=key, size=4, alpha=0.8, tools=["hover", *tools], active_tools=["box_select"], title=title,
            legend_position="bottom", legend_cols=3, nonselection_alpha=0.8, selection_alpha=0.8, xaxis=None,
            yaxis=None, padding=0.08, framewise=True, **PANEL_SIZE,
        )

    def _highlights(self, name: str) -> hv.Points:
        frame = self.frame(name)
        chosen = frame[frame["gene"].isin(self.highlighted(name))] if not frame.empty else frame
        return hv.Points(chosen[["x", "y", "gene"]], ["x", "y"], [hv.Dimension("gene", values=["gene"])]).opts(
            color=None, line_color=HIGHLIGHT, line_width=2.5, size=10, tools=["hover"]
        )

    def _labels(self, name: str, frame: pd.DataFrame) -> pd.Series:
        """Hover text per gene: ID, symbol, compartment, module (built once per map)."""
        return self._cached(("labels", name, self.subset, self.layout), lambda: (
            frame["gene"] + " · " + frame["symbol"] + " · " + frame["compartment"] + " · module " + frame["module"]))

    # ---------------------------------------------------------------- events

    def _select(self, name: str, bounds=None, polygon=None) -> None:
        frame = self.frame(name)
        if frame.empty or (bounds is None and (polygon is None or len(polygon) < 3)):
            return
        x, y = frame["x"].to_numpy(), frame["y"].to_numpy()
        if bounds is not None:
            x0, y0, x1, y1 = bounds
            inside = (x >= min(x0, x1)) & (x <= max(x0, x1)) & (y >= min(y0, y1)) & (y <= max(y0, y1))
        else:
            inside = inside_polygon(x, y, np.asarray(polygon)[:, 0], np.asarray(polygon)[:, 1])
        self.selection = [f"{name}:{g}" for g in frame["gene"].to_numpy()[inside]]

    def _click(self, name: str, x, y) -> None:
        frame = self.frame(name)
        if frame.empty or x is None:
            return
        nearest = int(np.argmin((frame["x"] - x) ** 2 + (frame["y"] - y) ** 2))
        self.gene = str(frame["gene"].iloc[nearest])

    @param.depends("species", watch=True)
    def _show_species(self) -> None:
        if not 1 <= len(self.species) <= 4:
            return
        self._row[:] = [self._panels[n] for n in self.species]
        self._show_scores()

    @param.depends("subset", "layout", watch=True)
    def _show_scores(self) -> None:
        table = self.conservation()
        if table.empty:
            self._score.object = "<i>Show two species to compare their maps.</i>"
            return
        items = []
        for row in table.to_dict("records"):
            pair = f"{escape(row['node_a'])} – {escape(row['node_b'])}"
            if "score" in row and pd.notna(row.get("score")):
                items.append(f"<li><b>{pair}</b>: conservation {row['score']:.3f} vs shuffled {row['baseline']:.3f} "
                             f"(p = {row['p_value']:.3g}, {int(row['n_anchors'])} ortholog anchors)</li>")
            else:
                items.append(f"<li><b>{pair}</b>: {escape(row.get('note', 'not computed'))}</li>")
        self._score.object = (f"<b>{escape(self.subset)} map ({escape(self.layout)}), kept ortholog neighbourhoods</b>"
                              f"<ul>{''.join(items)}</ul>")

    def selection_table(self) -> pd.DataFrame:
        """Selected genes and their orthologs in the other panels: annotation, module and its top gene set."""
        columns = ["ortholog group", "species", "role", "gene", "symbol", "compartment", "module", "module enrichment"]
        chosen = {}
        for entry in self.selection:
            name, _, gene_id = entry.partition(":")
            chosen.setdefault(name, []).append(gene_id)
        parts = []
        for name in self.species if chosen else []:
            genes = chosen.get(name) or self.highlighted(name)
            frame = self.frame(name)
            part = frame[frame["gene"].isin(genes)].drop(columns=["x", "y"])
            enrichment = self._cached(("enrichment", name, self.subset), lambda: _top_sets(self._nodes[name], self.subset))
            parts.append(part.assign(
                species=name, role="selected" if name in chosen else "ortholog",
                **{"ortholog group": [self._group_of.get((name, g), "") for g in part["gene"]],
                   "module enrichment": part["module"].map(enrichment).fillna("")},
            ))
        table = pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)
        # each selected gene next to its orthologs; genes without orthologs last
        return table.assign(_last=table["ortholog group"] == "").sort_values(
            ["_last", "ortholog group", "species"], kind="stable", ignore_index=True).drop(columns="_last")

    @param.depends("selection", "subset", "layout", watch=True)
    def _show_selection(self) -> None:
        self._table.value = self.selection_table()

    # --------------------------------------------------------------- layout

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(
            self._controls, self._row, self._score,
            pn.pane.HTML("<b>Selected genes and their orthologs</b> (box or lasso in one panel)"),
            self._table, sizing_mode="stretch_width",
        )


def _compartments(node: xr.Dataset) -> np.ndarray:
    """The first compartment of every gene ("unknown" without localization)."""
    if "localization" not in node:
        return np.full(node.sizes["gene"], "unknown", dtype=object)
    values = node["localization"].values
    names = node["compartment"].values.astype(str)
    return np.where(values.any(axis=1), names[values.argmax(axis=1)], "unknown").astype(object)


def _top_sets(node: xr.Dataset, subset: str) -> dict[str, str]:
    """Module label -> its most enriched gene set (name and q-value)."""
    table = module_enrichment(node, subset).to_dataframe()
    table = table[table["q_value"] < 0.05].drop_duplicates("module")
    return {str(m): f"{n} (q={q:.2g})" for m, n, q in zip(table["module"], table["name"], table["q_value"])}
