"""Scatter plots of many points that keep the user's place.

Each kind of coloring (categories, a continuous value, none) has one ``hv.DynamicMap``
fed by a ``Pipe``, built once with its streams (zoom ranges, box and lasso selection):
recoloring, another gene or another category count sends new data into the same plot,
so zoom, pan and the selection tools stay. Below :data:`GLYPH_LIMIT` points the plot
draws real glyphs with hover; above it, datashader renders them, and the hover comes from
invisible glyphs laid over the image (up to :data:`HOVER_LIMIT` points), sent to the
browser once per set of positions: a recolor sends only the new image.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import colorcet
import datashader as ds
import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
from holoviews.operation.datashader import datashade, dynspread, rasterize

from . import _style

#: up to this many points, real glyphs with hover; above, datashaded images.
GLYPH_LIMIT = 20_000
#: above this many points the datashaded plot has no hover (its invisible glyphs would weigh too much).
HOVER_LIMIT = 200_000
CATEGORY, VALUE = "category", "value"
MAX_CATEGORIES = 40
#: categories travel as codes "0", "1", ... so one color key serves every field and count.
CATEGORY_KEY = {str(i): _style.PALETTE[i % len(_style.PALETTE)] for i in range(MAX_CATEGORIES)} | {
    _style.OTHER: _style.OTHER_COLOR
}
SINGLE_COLOR = "#30678d"
TOOLS = ["box_select", "lasso_select"]


@dataclass(frozen=True)
class PointsFrame:
    """What one scatter shows: columns ``x``, ``y``, the color column and hover columns."""

    data: pd.DataFrame
    x_label: str
    y_label: str
    title: str = ""
    color: str | None = None  # None, CATEGORY (codes of CATEGORY_KEY) or VALUE
    hover: tuple[str, ...] = ()
    clim: tuple[float, float] | None = None
    reset_view: bool = field(default=False, compare=False)
    #: what the positions and hover columns stand for (e.g. node and axes): frames with the same
    #: ``place`` reuse the hover glyphs already in the browser; None never reuses them.
    place: object = field(default=None, compare=False)


def category_frame_columns(values: np.ndarray, top: int) -> tuple[pd.Categorical, pd.Categorical, dict[str, str]]:
    """Codes for :data:`CATEGORY_KEY`, the labels they stand for and the label colors (for the legend)."""
    labels, key = _style.top_categories(values, min(top, MAX_CATEGORIES))
    codes = [_style.OTHER if c == _style.OTHER else str(i) for i, c in enumerate(labels.categories)]
    coded = pd.Categorical.from_codes(labels.codes, categories=codes)
    return coded, labels, key


def value_limits(values: np.ndarray) -> tuple[float, float]:
    """Color limits from the 1st to 99th percentile, so one outlier does not wash the map out."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0.0, 1.0
    low, high = np.percentile(finite, [1, 99])
    return (float(low), float(high)) if high > low else (float(low) - 0.5, float(high) + 0.5)


class PointsPlot:
    """A scatter that keeps zoom and selection tools across updates (:meth:`show`).

    ``on_select(bounds=...)`` or ``on_select(polygon=...)`` is called for box and
    lasso selections in data coordinates.
    """

    def __init__(self, *, height: int = 440, on_select: Callable | None = None):
        self.height = height
        self.on_select = on_select
        self.pane = pn.pane.HoloViews(sizing_mode="stretch_width", linked_axes=False, height=height)
        self._pipelines: dict[tuple, tuple[hv.streams.Pipe, hv.DynamicMap]] = {}
        self._current: tuple | None = None
        self._hover: dict[tuple, tuple[object, hv.Points]] = {}

    @property
    def glyphs(self) -> bool:
        """Whether the plot on screen draws glyphs (else a datashaded image)."""
        return bool(self._current and self._current[1])

    def show(self, frame: PointsFrame) -> None:
        """Draw ``frame``; its ``reset_view`` fits the view to the new data (e.g. other axes)."""
        key = (frame.color, len(frame.data) <= GLYPH_LIMIT, frame.hover)
        if key not in self._pipelines:
            self._pipelines[key] = self._build(key, frame)
        pipe, plot = self._pipelines[key]
        if frame.reset_view:
            for stream in plot.streams:
                if isinstance(stream, hv.streams.RangeXY):
                    stream.reset()
        if key == self._current:
            pipe.send(frame)
        else:
            pipe.update(data=frame)
            self.pane.object = plot
            self._current = key

    def _build(self, key: tuple, frame: PointsFrame) -> hv.DynamicMap:
        color, glyphs, hover = key
        pipe = hv.streams.Pipe(data=frame)
        points = hv.DynamicMap(self._element, streams=[pipe])
        # canvas, not WebGL: a WebGL layer is copied back into the canvas at each redraw, which takes seconds
        # in a browser without a GPU (remote desktops, headless); up to GLYPH_LIMIT points a canvas is quick
        common = {"responsive": True, "height": self.height, "min_width": 300, "padding": 0.05,
                  "backend_opts": {"plot.output_backend": "canvas"}}
        if glyphs:
            style = {
                CATEGORY: {"color": CATEGORY, "cmap": CATEGORY_KEY, "show_legend": False},
                VALUE: {"color": VALUE, "cmap": "viridis", "colorbar": True},
                None: {"color": SINGLE_COLOR},
            }[color]
            plot = points.opts(
                **style, **common, size=5, alpha=0.8, line_alpha=0, tools=["hover", *TOOLS],
                hover_tooltips=[*hover, *([VALUE] if color == VALUE else [])], nonselection_alpha=0.2,
            )
        else:
            plot = self._datashaded(color, points, common)
            if hover:
                plot = (plot * hv.DynamicMap(self._hover_glyphs, streams=[pipe])).opts(**common)
            # the image does not carry the points' title through datashader
            plot = plot.apply(lambda element, data: element.opts(title=data.title), streams=[pipe])
        box, lasso = hv.streams.BoundsXY(source=plot), hv.streams.Lasso(source=plot)
        box.add_subscriber(lambda bounds, key=key: self._selected(key, bounds=bounds))
        lasso.add_subscriber(lambda geometry, key=key: self._selected(key, polygon=geometry))
        return pipe, plot

    @staticmethod
    def _datashaded(color: str | None, points: hv.DynamicMap, common: dict) -> hv.DynamicMap:
        """The points as an image (no hover: an image's per-pixel hover data is resent with every recolor)."""
        if color == CATEGORY:
            shaded = datashade(points, aggregator=ds.count_cat(CATEGORY), color_key=CATEGORY_KEY)
            style = {"show_legend": False}  # the view's own legend names the categories the codes stand for
        elif color == VALUE:
            shaded = rasterize(points, aggregator=ds.mean(VALUE))
            style = {"cmap": "viridis", "colorbar": True}
        else:
            shaded = rasterize(points, aggregator=ds.count())
            style = {"cmap": colorcet.fire[64:], "cnorm": "eq_hist"}
        # framewise: the image spans the current view, so a redraw keeps it and a reset refits it
        return dynspread(shaded, threshold=0.5, max_px=3).opts(**style, **common, framewise=True, tools=TOOLS)

    def _hover_glyphs(self, data: PointsFrame) -> hv.Points:
        """Invisible glyphs carrying the hover columns, the same object while ``data.place`` is unchanged.

        The same object tells HoloViews the glyphs' data is already in the browser. The
        hover columns are pandas strings and the glyphs take no part in the plot's ranges:
        HoloViews would otherwise scan every annotation for its distinct values at each redraw.
        """
        cached = self._hover.get(data.hover)
        if cached is not None and data.place is not None and cached[0] == data.place:
            return cached[1]
        columns = data.data[["x", "y"]].assign(**{c: data.data[c].astype("string") for c in data.hover})
        glyphs = hv.Points(columns, ["x", "y"], list(data.hover)).opts(
            size=6, alpha=0, hover_alpha=0, selection_alpha=0, nonselection_alpha=0, apply_ranges=False,
            tools=["hover"], hover_tooltips=list(data.hover),
        )
        self._hover[data.hover] = (data.place, glyphs)
        return glyphs

    @staticmethod
    def _element(data: PointsFrame) -> hv.Points:
        vdims = [c for c in data.data.columns if c not in ("x", "y")]
        kdims = [hv.Dimension("x", label=data.x_label), hv.Dimension("y", label=data.y_label)]
        options = {"title": data.title, "framewise": data.reset_view}
        if data.clim is not None:
            options["clim"] = data.clim
        return hv.Points(data.data, kdims, vdims).opts(**options)

    def _selected(self, key: tuple, **region) -> None:
        if self.on_select is None or key != self._current:
            return
        if "bounds" in region and region["bounds"] is None:
            return
        if "polygon" in region and (region["polygon"] is None or len(region["polygon"]) < 3):
            return
        self.on_select(**region)
