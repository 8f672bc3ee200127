"""One CoexMap panel: a species' genes on its map and the ringed genes, built once and updated by Pipes.

The genes are a ``hv.DynamicMap`` fed by a ``Pipe`` (real glyphs up to
:data:`GLYPH_LIMIT`, a datashaded image above), with its box, lasso and tap
streams; the rings are a light overlay fed by their own ``Pipe``. Colors travel
as numeric codes into the fixed palette :data:`COLORS`: HoloViews then skips the
per-update scan of categorical values that made a 20,000-gene redraw slow.
"""

from __future__ import annotations

from dataclasses import dataclass

import datashader as ds
import holoviews as hv
import pandas as pd
import panel as pn
from holoviews.operation.datashader import datashade, dynspread

from ._layout import shared_width
from ._style import OTHER_COLOR, PALETTE, escape

GLYPH_LIMIT = 20_000  # up to this: real glyphs with hover; above: datashaded
MIN_PANEL_WIDTH = 260
PANEL_SIZE = {"height": 380, "min_width": MIN_PANEL_WIDTH, "responsive": True}  # panels share the page width
HIGHLIGHT = "#111111"  # rings: no category color is this dark
CATEGORIES = 9  # colored categories per panel; the rest are "other" (the legend stays readable)
#: color codes: 0..CATEGORIES-1 name the panel's labels in sorted order (one color per label in
#: every panel); NEUTRAL_CODE is the grey of "no module", "other", "unknown"
COLORS = [PALETTE[i % len(PALETTE)] for i in range(CATEGORIES)] + [OTHER_COLOR]
NEUTRAL_CODE = CATEGORIES
CODE_KEY = {str(code): color for code, color in enumerate(COLORS)}
MAP_COLUMNS = ["x", "y", "color", "gene"]
TOOLS = ["box_select", "lasso_select", "tap"]
ACTIVE_TOOLS = ["box_select", "wheel_zoom"]  # drag selects, the wheel zooms


@dataclass(frozen=True)
class MapFrame:
    """What one panel shows: columns x, y, color (a code of COLORS), gene (hover text); whether it refits."""

    data: pd.DataFrame
    title: str
    refit: bool = False


@dataclass(frozen=True)
class Rings:
    """The ringed genes (columns x, y, gene), the map's x and y extent, and whether the view fits it now."""

    data: pd.DataFrame
    extent: tuple
    fit: bool = False


class MapPanel:
    """One species' map, built once: genes as glyphs (above GLYPH_LIMIT a datashaded image) and rings.

    Only a refit sets the ranges on screen: its ring layer, which carries the map's extent as its
    axes' ranges, is then the one framewise element (HoloViews updates the figure's ranges when an
    element on screen is framewise). Every other update (a recolor, a selection) leaves the figure's
    ranges alone, so the browser keeps the user's zoom and pan even before its RangeXY event reaches
    the server.
    """

    def __init__(self, on_select, on_click):
        self.on_select, self.on_click = on_select, on_click
        self.pane = pn.pane.HoloViews(sizing_mode="stretch_width", linked_axes=False)
        self.heading = pn.pane.HTML("", sizing_mode="stretch_width", margin=(0, 10))
        self.legend = pn.pane.HTML("", sizing_mode="stretch_width", margin=(0, 10))
        self.view = pn.Column(
            self.heading, self.pane, self.legend, sizing_mode="stretch_width", styles=shared_width(MIN_PANEL_WIDTH)
        )
        self._extent = ((0.0, 1.0), (0.0, 1.0))
        # renamed: triggered together with the genes' Pipe, whose parameter is "data"
        no_rings = Rings(pd.DataFrame(columns=["x", "y", "gene"]), self._extent)
        self._rings = hv.streams.Pipe(data=no_rings).rename(data="rings")
        self._plots: dict[bool, tuple[hv.streams.Pipe, hv.DynamicMap, hv.streams.RangeXY]] = {}
        self._glyphs: bool | None = None
        # styled once; only the fitting one is framewise
        self._ring_templates = {
            fits: hv.Points([], ["x", "y"], [hv.Dimension("gene", values=["gene"])]).opts(
                color=None, line_color=HIGHLIGHT, line_width=2.5, size=10, tools=["hover"], framewise=fits)
            for fits in (False, True)
        }
        self.shown: tuple | None = None  # what the panel draws (the view's key), None before the first frame

    def show(self, frame: MapFrame, legend: str, chosen: pd.DataFrame) -> None:
        """Draw ``frame`` with the genes ``chosen`` ringed (one redraw) in the plot of its kind (built once)."""
        glyphs = len(frame.data) <= GLYPH_LIMIT
        if glyphs not in self._plots:
            self._plots[glyphs] = self._build(glyphs, frame)
        pipe, plot, _ = self._plots[glyphs]
        fit = frame.refit or glyphs != self._glyphs
        if fit:
            self._extent = _extent(frame.data)
            for _, _, view in self._plots.values():
                view.reset()
        self._rings.update(data=Rings(chosen, self._extent, fit))
        pipe.update(data=frame)
        if glyphs == self._glyphs:
            hv.streams.Stream.trigger([pipe, self._rings])
        else:
            self.pane.object = plot * hv.DynamicMap(self._ring_points, streams=[self._rings])
            self._glyphs = glyphs
        if fit:
            # HoloViews decides on a frame's ranges before its layers replace their previous frames, so
            # the update after a refit still counts as framewise: spend it here, before the user zooms
            self.ring(chosen)
        self.heading.object = f"<b>{escape(frame.title)}</b>"
        self.legend.object = legend

    def ring(self, chosen: pd.DataFrame) -> None:
        """Ring these genes (columns x, y, gene) and nothing else."""
        self._rings.send(Rings(chosen, self._extent))

    def _ring_points(self, rings: Rings) -> hv.Points:
        (x0, x1), (y0, y1) = rings.extent
        axes = [hv.Dimension("x", range=(x0, x1)), hv.Dimension("y", range=(y0, y1))]
        return self._ring_templates[rings.fit].clone(rings.data, kdims=axes)

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
                alpha=0.8, line_alpha=0, tools=["hover", *TOOLS], active_tools=ACTIVE_TOOLS, hover_tooltips=["gene"],
                nonselection_alpha=0.8, selection_alpha=0.8, xaxis=None, yaxis=None, apply_ranges=False,
                framewise=False, **PANEL_SIZE,
            )
            plot = hv.DynamicMap(lambda data: template.clone(data.data), streams=[pipe])
            view = hv.streams.RangeXY(source=plot)
        else:
            coded = hv.DynamicMap(lambda data: _points(data.data, codes=True), streams=[pipe])
            shaded = datashade(coded, aggregator=ds.count_cat("color"), color_key=CODE_KEY)
            # the image follows the view (RangeXY), it does not set it
            plot = dynspread(shaded, threshold=0.5, max_px=3).opts(
                tools=TOOLS, active_tools=ACTIVE_TOOLS, xaxis=None, yaxis=None, framewise=False, **PANEL_SIZE,
            )
            view = next(s for s in shaded.streams if isinstance(s, hv.streams.RangeXY))
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


def legend_html(codes: dict[str, int]) -> str:
    """An HTML legend: a swatch of each label's color code, then the label (escaped)."""
    swatches = "".join(
        f'<span style="white-space:nowrap;margin-right:10px"><span style="color:{COLORS[code]}">&#9679;</span> '
        f"{escape(label)}</span> " for label, code in codes.items()
    )
    return f'<div style="font-size:12px">{swatches}</div>'
