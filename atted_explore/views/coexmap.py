"""CoexMap: CoexMaps of 1-4 species side by side, one subset at a time, linked through orthologs.

Public params (the Explorer wires these): ``species`` (node names shown),
``subset``, ``layout`` (``"mesoscale"``: the subset's own map; ``"global"``:
the all-gene map restricted to the subset), ``color_by`` (compartment, module
or a gene set), ``genes`` (query genes, any species: they and their orthologs
are highlighted in every panel), ``selection`` (``"node:gene"`` strings picked
with box/lasso), ``gene`` (the gene last clicked: open its CoexList from it).

Each panel is built once: a ``hv.DynamicMap`` of the genes fed by a ``Pipe`` (with
its box, lasso and tap streams) under a light overlay of rings fed by its own
``Pipe``. A subset or layout switch sends the panel's cached frame and refits the
view (a new map); a recolor sends new color codes and keeps zoom and pan; a
selection sends only the ringed genes. Colors travel as numeric codes into a fixed
palette: HoloViews then skips the per-update scan of categorical values that made
a 20,000-gene redraw slow, and the legend is HTML under each panel.
"""

from __future__ import annotations

from dataclasses import dataclass

import datashader as ds
import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
import param
import xarray as xr
from holoviews.operation.datashader import datashade, dynspread

from ..atlas import orthologs, species_nodes
from ..compute.map_modules import (
    layout as map_layout, map_conservation, module_enrichment, stored_conservation,
)
from ..compute.selection import inside_polygon
from ..errors import InputError
from ._data import shared_resident
from ._style import OTHER_COLOR, PALETTE, escape, top_categories

LAYOUTS = {"mesoscale": "subset", "global": "global"}
COLOR_FIELDS = ("compartment", "module", "gene set")
GLYPH_LIMIT = 20_000  # up to this: real glyphs with hover; above: datashaded
PANEL_SIZE = {"height": 380, "min_width": 260, "responsive": True}  # panels share the page width
HIGHLIGHT = "#111111"  # rings: no category color is this dark
NEUTRAL = ("no module", "other", "unknown")
CATEGORIES = 9  # colored categories per panel; the rest are "other" (the legend stays readable)
#: color codes: 0..CATEGORIES-1 name the panel's labels in sorted order (one color per label in
#: every panel); NEUTRAL_CODE is the grey of "no module", "other", "unknown"
COLORS = [PALETTE[i % len(PALETTE)] for i in range(CATEGORIES)] + [OTHER_COLOR]
NEUTRAL_CODE = CATEGORIES
CODE_KEY = {str(code): color for code, color in enumerate(COLORS)}
MAP_COLUMNS = ["x", "y", "color", "gene"]
TOOLS = ["box_select", "lasso_select", "tap"]


@dataclass(frozen=True)
class MapFrame:
    """What one panel shows: columns x, y, color (a code of COLORS), gene (hover text); whether it refits."""

    data: pd.DataFrame
    title: str
    refit: bool = False


@dataclass(frozen=True)
class Rings:
    """The ringed genes (columns x, y, gene) and the x and y ranges the panel shows."""

    data: pd.DataFrame
    view: tuple


class MapPanel:
    """One species' map, built once: genes as glyphs (above GLYPH_LIMIT a datashaded image) and rings.

    The ranges on screen are carried by the ring layer (the genes' layer does not set them): the
    user's zoom, read from a RangeXY stream, or the map's extent after a refit. Every update then
    sets the view it means, and a selection, which redraws only the rings, keeps zoom and pan.
    """

    def __init__(self, on_select, on_click):
        self.on_select, self.on_click = on_select, on_click
        self.pane = pn.pane.HoloViews(sizing_mode="stretch_width", linked_axes=False)
        self.heading = pn.pane.HTML("", sizing_mode="stretch_width", margin=(0, 10))
        self.legend = pn.pane.HTML("", sizing_mode="stretch_width", margin=(0, 10))
        self.view = pn.Column(self.heading, self.pane, self.legend, sizing_mode="stretch_width")
        self._chosen = pd.DataFrame(columns=["x", "y", "gene"])
        self._extent = ((0.0, 1.0), (0.0, 1.0))
        # renamed: triggered together with the genes' Pipe, whose parameter is "data"
        self._rings = hv.streams.Pipe(data=Rings(self._chosen, self._extent)).rename(data="rings")
        self._plots: dict[bool, tuple[hv.streams.Pipe, hv.DynamicMap, hv.streams.RangeXY]] = {}
        self._glyphs: bool | None = None
        self._ring_template: hv.Points | None = None
        self.shown: tuple | None = None  # what the panel draws (the view's key), None before the first frame

    def show(self, frame: MapFrame, legend: str, chosen: pd.DataFrame) -> None:
        """Draw ``frame`` with the genes ``chosen`` ringed (one redraw), in the plot of its kind (built on first use)."""
        glyphs = len(frame.data) <= GLYPH_LIMIT
        if glyphs not in self._plots:
            self._plots[glyphs] = self._build(glyphs, frame)
        pipe, plot, _ = self._plots[glyphs]
        if frame.refit or glyphs != self._glyphs:
            self._extent = _extent(frame.data)
            for _, _, view in self._plots.values():
                view.reset()
        self._chosen = chosen
        self._rings.update(data=self._ring_frame())
        pipe.update(data=frame)
        if glyphs == self._glyphs:
            hv.streams.Stream.trigger([pipe, self._rings])
        else:
            self.pane.object = plot * hv.DynamicMap(self._ring_points, streams=[self._rings])
            self._glyphs = glyphs
        self.heading.object = f"<b>{escape(frame.title)}</b>"
        self.legend.object = legend

    def ring(self, chosen: pd.DataFrame) -> None:
        """Ring these genes (columns x, y, gene) and nothing else."""
        self._chosen = chosen
        self._rings.send(self._ring_frame())

    def _ring_points(self, rings: Rings) -> hv.Points:
        if self._ring_template is None:
            self._ring_template = hv.Points([], ["x", "y"], [hv.Dimension("gene", values=["gene"])]).opts(
                color=None, line_color=HIGHLIGHT, line_width=2.5, size=10, tools=["hover"], framewise=True)
        (x0, x1), (y0, y1) = rings.view
        axes = [hv.Dimension("x", range=(x0, x1)), hv.Dimension("y", range=(y0, y1))]
        return self._ring_template.clone(rings.data, kdims=axes)

    def _ring_frame(self) -> Rings:
        view = self.view_range
        shown = (view.x_range, view.y_range) if view is not None and view.x_range is not None else self._extent
        return Rings(self._chosen, shown)

    @property
    def plot(self) -> hv.DynamicMap | None:
        """The genes' DynamicMap on screen (None before the first frame)."""
        return None if self._glyphs is None else self._plots[self._glyphs][1]

    @property
    def view_range(self) -> hv.streams.RangeXY | None:
        """The x and y ranges on screen (from the browser; None before the first frame)."""
        return None if self._glyphs is None else self._plots[self._glyphs][2]

    def _build(self, glyphs: bool, frame: MapFrame) -> tuple[hv.streams.Pipe, hv.DynamicMap, hv.streams.RangeXY]:
        pipe = hv.streams.Pipe(data=frame)
        if glyphs:
            # every frame is a clone of this styled template: it keeps the template's options, where
            # styling each frame anew (.opts) would cost more than drawing it
            template = _points(frame.data.iloc[:0]).opts(
                color="color", cmap=COLORS, clim=(-0.5, NEUTRAL_CODE + 0.5), color_levels=len(COLORS), size=4,
                alpha=0.8, line_alpha=0, tools=["hover", *TOOLS], active_tools=["box_select"], hover_tooltips=["gene"],
                nonselection_alpha=0.8, selection_alpha=0.8, xaxis=None, yaxis=None, apply_ranges=False,
                framewise=True, **PANEL_SIZE,
            )
            plot = hv.DynamicMap(lambda data: template.clone(data.data), streams=[pipe])
            view = hv.streams.RangeXY(source=plot)
        else:
            coded = hv.DynamicMap(lambda data: _points(data.data, codes=True), streams=[pipe])
            shaded = datashade(coded, aggregator=ds.count_cat("color"), color_key=CODE_KEY)
            # framewise: the image spans the current view (the RangeXY datashade follows)
            plot = dynspread(shaded, threshold=0.5, max_px=3).opts(
                tools=TOOLS, active_tools=["box_select"], xaxis=None, yaxis=None, framewise=True, **PANEL_SIZE,
            )
            view = next(s for s in plot.streams if isinstance(s, hv.streams.RangeXY))
        box, lasso, tap = hv.streams.BoundsXY(source=plot), hv.streams.Lasso(source=plot), hv.streams.Tap(source=plot)
        box.add_subscriber(lambda bounds, kind=glyphs: self._forward(kind, self.on_select, bounds=bounds))
        lasso.add_subscriber(lambda geometry, kind=glyphs: self._forward(kind, self.on_select, polygon=geometry))
        tap.add_subscriber(lambda x, y, kind=glyphs: self._forward(kind, self.on_click, x=x, y=y))
        return pipe, plot, view

    def _forward(self, glyphs: bool, handler, **event) -> None:
        if glyphs == self._glyphs:  # events of the plot kind not on screen are stale
            handler(**event)


def _extent(data: pd.DataFrame, padding: float = 0.08) -> tuple:
    """x and y ranges of the points, widened by ``padding`` of their span on each side."""
    if data.empty:
        return (0.0, 1.0), (0.0, 1.0)
    ranges = []
    for axis in ("x", "y"):
        low, high = float(data[axis].min()), float(data[axis].max())
        pad = (high - low) * padding or 0.5
        ranges.append((low - pad, high + pad))
    return tuple(ranges)


def _points(table: pd.DataFrame, codes: bool = False) -> hv.Points:
    if codes:  # datashader counts categories: codes as category names of CODE_KEY
        table = table.assign(color=pd.Categorical(table["color"].astype(int).astype(str), categories=list(CODE_KEY)))
    # declared values: HoloViews takes the hover column's factors from them instead of scanning it
    return hv.Points(table, ["x", "y"], ["color", hv.Dimension("gene", values=["gene"])])


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
        self._row = pn.Row(sizing_mode="stretch_width")
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

    def _labels(self, name: str) -> tuple[np.ndarray, list[str]]:
        """Color codes of the genes of the current map and the labels the codes stand for."""
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
        return codes, [*named, *[c for c in labels.categories if c in NEUTRAL]]

    def _map_frame(self, name: str, refit: bool) -> tuple[MapFrame, str]:
        frame = self.frame(name)
        if frame.empty:
            return MapFrame(pd.DataFrame(columns=MAP_COLUMNS), f"{name}: no {self.subset} map", refit), ""
        codes, labels = self._cached(("colors", name, self.subset, self.layout, self.color_by, self.gene_set),
                                     lambda: self._labels(name))
        hover = self._cached(("hover", name, self.subset, self.layout), lambda: (
            frame["gene"] + " · " + frame["symbol"] + " · " + frame["compartment"] + " · module " + frame["module"]))
        data = pd.DataFrame({"x": frame["x"], "y": frame["y"], "color": codes, "gene": hover})
        swatches = "".join(
            f'<span style="white-space:nowrap;margin-right:10px"><span style="color:{COLORS[NEUTRAL_CODE] if c in NEUTRAL else COLORS[i]}">'
            f"&#9679;</span> {escape(c)}</span> " for i, c in enumerate(labels))
        return MapFrame(data, f"{name} · {self.subset} · {len(frame):,} genes", refit), f'<div style="font-size:12px">{swatches}</div>'

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
