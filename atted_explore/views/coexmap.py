"""CoexMap: CoexMaps of 1-4 species side by side, one subset at a time, linked through orthologs.

Public params (the Explorer wires these): ``species`` (node names shown),
``subset``, ``layout`` (``"mesoscale"``: the subset's own map; ``"global"``:
the all-gene map restricted to the subset), ``color_by`` (compartment, module
or a gene set), ``genes`` (query genes, any species: they and their orthologs
are highlighted in every panel), ``selection`` (``"node:gene"`` strings picked
with box/lasso), ``gene`` (the gene last clicked: open its CoexList from it).

Each panel (``_map_panel.MapPanel``) is built once and fed by Pipes: a subset or
layout switch sends the panel's cached frame and refits the view (a new map); a
recolor sends new color codes and keeps zoom and pan; a selection sends only the
ringed genes. Frames, colors, hover text and table rows are cached per map.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import panel as pn
import param
import xarray as xr

from ..atlas import orthologs, species_nodes
from ..compute.map_modules import (
    layout as map_layout, map_conservation, module_enrichment, stored_conservation,
)
from ..compute.selection import inside_polygon
from ..errors import InputError
from ._data import shared_resident
from ._layout import wrapping_row
from ._map_panel import CATEGORIES, MAP_COLUMNS, NEUTRAL_CODE, MapFrame, MapPanel, legend_html
from ._style import escape, top_categories

LAYOUTS = {"mesoscale": "subset", "global": "global"}
COLOR_FIELDS = ("compartment", "module", "gene set")
NEUTRAL = ("no module", "other", "unknown")


class CoexMap(pn.viewable.Viewer):
    """Side-by-side CoexMaps of several species; select in one panel to see the orthologs in the others."""

    species = param.ListSelector(default=[], objects=[], doc="species nodes shown side by side (1 to 4)")
    subset = param.Selector(default="all", objects=["all"], check_on_set=False, doc="gene subset mapped")
    layout = param.Selector(default="mesoscale", objects=list(LAYOUTS), doc="the subset's own map or the all-gene map")
    color_by = param.Selector(default="module", objects=list(COLOR_FIELDS), doc="what colors the genes")
    gene_set = param.String(default="", doc="gene set colored when color_by is 'gene set'")
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
        self._cache: dict[tuple, object] = {}
        self._highlights: tuple = (None, {})
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
        self._panels = {
            n: MapPanel(lambda n=n, **region: self._select(n, **region), lambda x, y, n=n: self._click(n, x, y))
            for n in names
        }
        self._row = wrapping_row()
        self._score = pn.pane.HTML("", sizing_mode="stretch_width")
        self._table = pn.widgets.Tabulator(
            pd.DataFrame(), pagination="remote", page_size=10, show_index=False, disabled=True,
            sizing_mode="stretch_width",
        )
        self._controls = wrapping_row(
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
        return self._cached(("frame", name, self.subset, self.layout), lambda: self._placed(name))

    def _placed(self, name: str) -> pd.DataFrame:
        node = self._nodes[name]
        if self.subset not in node["subset"].values:
            return pd.DataFrame(columns=["x", "y", "gene", "symbol", "compartment", "module"])
        xy = map_layout(node, self.subset, LAYOUTS[self.layout])
        placed = ~np.isnan(xy[:, 0])
        genes = node["gene"].values
        modules = node["coexmap_module"].sel(subset=self.subset).values
        return pd.DataFrame({
            "x": xy[placed, 0], "y": xy[placed, 1], "gene": genes[placed].astype(str),
            "symbol": (node["symbol"].values[placed] if "symbol" in node.coords else genes[placed]).astype(str),
            "compartment": _compartments(node)[placed],
            "module": np.where(modules[placed] >= 0, modules[placed].astype(str), "none"),
        })

    def highlighted(self, name: str) -> list[str]:
        """Genes of ``name`` to highlight: query genes and their orthologs, and orthologs of the selection."""
        state = (tuple(self.genes), tuple(self.selection))
        if self._highlights[0] != state:  # kept for the current query and selection only
            self._highlights = (state, {})
        if name not in self._highlights[1]:
            self._highlights[1][name] = self._orthologs_of_picked(name)
        return self._highlights[1][name]

    def _orthologs_of_picked(self, name: str) -> list[str]:
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
            if other != name and other in self._nodes:
                source, target = self._ortholog_rows(other), self._ortholog_rows(name)
                groups = source.loc[source["gene"].isin(genes), "group"]
                out |= set(target.loc[target["group"].isin(groups), "gene"])
        return sorted(out)

    def _ortholog_rows(self, name: str) -> pd.DataFrame:
        """The ortholog table's rows of node ``name`` (kept: a selection then scans one node's rows)."""
        return self._cached(("orthologs", name), lambda: self._orthologs[self._orthologs["node"] == name])

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

    def _labels(self, name: str) -> tuple[np.ndarray, dict[str, int]]:
        """Color codes of the genes of the current map and the code of each label."""
        frame = self.frame(name)
        if self.color_by == "gene set":
            node = self._nodes[name]
            members = node["member_gene"].values[node["member_set"].values == self.gene_set] if (
                self.gene_set and "member_set" in node) else []
            values = np.where(frame["gene"].isin(members), self.gene_set or "in set", "other")
        else:
            values = frame[self.color_by].to_numpy()
            if self.color_by == "module":
                values = np.where(values == "none", "no module", "module " + values.astype(object))
        labels, _ = top_categories(values, CATEGORIES)
        named = sorted(c for c in labels.categories if c not in NEUTRAL)
        code_of = {c: named.index(c) if c in named else NEUTRAL_CODE for c in labels.categories}
        codes = np.array([code_of[c] for c in labels.categories], dtype=float)[labels.codes]
        return codes, dict(sorted(code_of.items(), key=lambda item: item[1]))

    def _map_frame(self, name: str, refit: bool) -> tuple[MapFrame, str]:
        frame = self.frame(name)
        if frame.empty:
            return MapFrame(pd.DataFrame(columns=MAP_COLUMNS), f"{name}: no {self.subset} map", refit), ""
        codes, labels = self._cached(("colors", name, self.subset, self.layout, self.color_by, self.gene_set),
                                     lambda: self._labels(name))
        hover = self._cached(("hover", name, self.subset, self.layout), lambda: (
            frame["gene"] + " · " + frame["symbol"] + " · " + frame["compartment"] + " · module " + frame["module"]))
        data = pd.DataFrame({"x": frame["x"], "y": frame["y"], "color": codes, "gene": hover})
        return MapFrame(data, f"{name} · {self.subset} · {len(frame):,} genes", refit), legend_html(labels)

    def _draw(self, name: str, refit: bool) -> None:
        """Send the current map of ``name`` (refit: a new map, fit the view to it) and its rings."""
        panel = self._panels[name]
        shown = (self.subset, self.layout, self.color_by, self.gene_set)
        if panel.shown == shown:
            panel.ring(self._ringed(name))
            return
        frame, legend = self._map_frame(name, refit or panel.shown is None or panel.shown[:2] != shown[:2])
        panel.show(frame, legend, self._ringed(name))
        panel.shown = shown

    def _ringed(self, name: str) -> pd.DataFrame:
        frame = self.frame(name)
        if frame.empty:
            return pd.DataFrame(columns=["x", "y", "gene"])
        return frame.loc[frame["gene"].isin(self.highlighted(name)), ["x", "y", "gene"]]

    @param.depends("subset", "layout", watch=True)
    def _show_map(self) -> None:
        for name in self.species:
            self._draw(name, refit=True)

    @param.depends("color_by", "gene_set", watch=True)
    def _show_colors(self) -> None:
        for name in self.species:
            self._draw(name, refit=False)

    @param.depends("genes", "selection", watch=True)
    def _show_rings(self) -> None:
        for name in self.species:
            self._panels[name].ring(self._ringed(name))

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
        for name in self.species:
            self._draw(name, refit=False)
        self._row[:] = [self._panels[n].view for n in self.species]
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

    def _table_rows(self, name: str) -> pd.DataFrame:
        """Every gene of the current map of ``name`` as a table row (ortholog group, module's top gene set)."""
        frame = self.frame(name).drop(columns=["x", "y"])
        members = self._ortholog_rows(name).drop_duplicates("gene").set_index("gene")["group"]
        enrichment = self._cached(("enrichment", name, self.subset), lambda: _top_sets(self._nodes[name], self.subset))
        return frame.assign(**{"ortholog group": frame["gene"].map(members).fillna(""),
                               "module enrichment": frame["module"].map(enrichment).fillna("")})

    def selection_table(self) -> pd.DataFrame:
        """Selected genes and their orthologs in the other panels: annotation, module and its top gene set."""
        columns = ["ortholog group", "species", "role", "gene", "symbol", "compartment", "module", "module enrichment"]
        chosen = {}
        for entry in self.selection:
            name, _, gene_id = entry.partition(":")
            chosen.setdefault(name, []).append(gene_id)
        parts = []
        for name in self.species if chosen else []:
            rows = self._cached(("table", name, self.subset, self.layout), lambda: self._table_rows(name))
            part = rows[rows["gene"].isin(chosen.get(name) or self.highlighted(name))]
            parts.append(part.assign(species=name, role="selected" if name in chosen else "ortholog"))
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
