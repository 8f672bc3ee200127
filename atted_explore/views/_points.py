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
import datashader.transfer_functions as tf
import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
from holoviews.operation.datashader import dynspread, rasterize

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
#: sparse points of a datashaded image are spread up to this many pixels, while under this share of pixels touch.
SPREAD_PX, SPREAD_THRESHOLD = 3, 0.5
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


def category_image(
    points: hv.Points, x_range: tuple | None = None, y_range: tuple | None = None,
    width: int | None = None, height: int | None = None, scale: float = 1.0,
) -> hv.RGB:
    """Points colored by their :data:`CATEGORY` code as an image of the view (ranges, size in pixels, scale).

    Datashader counts the points per pixel and category; each pixel takes the mean color of
    its points, more opaque where there are more (log scale), and sparse points are spread.
    The color mixing is done here on the counts at once: datashader's own categorical
    shading (through HoloViews) takes about 0.5 s at 1,000 x 400 pixels, at every recolor.
    """
    data = points.data
    x_range = _padded(x_range or _extent(data["x"].to_numpy()))
    y_range = _padded(y_range or _extent(data["y"].to_numpy()))
    canvas = ds.Canvas(plot_width=max(int((width or 800) * scale), 1), plot_height=max(int((height or 400) * scale), 1),
                       x_range=x_range, y_range=y_range)
    counts = canvas.points(data, "x", "y", ds.count_cat(CATEGORY))
    colors = [CATEGORY_KEY[str(code)] for code in counts.coords[CATEGORY].values]
    pixels = tf.Image(mix_colors(counts.values, colors).view(np.uint32)[..., 0],
                      coords={"y": counts.coords["y"], "x": counts.coords["x"]}, dims=["y", "x"])
    pixels = tf.dynspread(pixels, threshold=SPREAD_THRESHOLD, max_px=SPREAD_PX)
    rgba = pixels.values.view(np.uint8).reshape(*pixels.shape, 4)[::-1]  # image rows run top to bottom
    return hv.RGB(rgba, bounds=(x_range[0], y_range[0], x_range[1], y_range[1]), kdims=points.kdims,
                  vdims=list("RGBA"))


def mix_colors(counts: np.ndarray, colors: list[str], min_alpha: int = 40) -> np.ndarray:
    """RGBA bytes (``y, x, 4``) of per-pixel category ``counts`` (``y, x, category``) in ``colors``."""
    palette = np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in colors], dtype=np.float32)
    flat = counts.reshape(-1, len(colors))
    total = flat.sum(axis=1)
    filled = np.flatnonzero(total)  # few pixels hold points: mix only those
    rgba = np.zeros((len(total), 4), dtype=np.uint8)
    if filled.size:
        weights = total[filled].astype(np.float32)
        rgba[filled, :3] = ((flat[filled].astype(np.float32) @ palette) / weights[:, None]).round()
        rgba[filled, 3] = (min_alpha + (255 - min_alpha) * np.log1p(weights) / np.log1p(weights.max())).round()
    return rgba.reshape(*counts.shape[:2], 4)


def _extent(values: np.ndarray) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    return (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)


def _padded(limits: tuple[float, float]) -> tuple[float, float]:
    """Limits a canvas accepts: ordered and of non-zero width."""
    low, high = sorted(float(v) for v in limits)
    return (low - 0.5, high + 0.5) if high == low else (low, high)


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
        # framewise: the image spans the current view, so a redraw keeps it and a reset refits it
        common = {**common, "framewise": True, "tools": TOOLS}
        if color == CATEGORY:
            # the view's own legend names the categories the codes stand for
            return points.apply(category_image, streams=[hv.streams.RangeXY(), hv.streams.PlotSize()]).opts(**common)
        if color == VALUE:
            shaded = rasterize(points, aggregator=ds.mean(VALUE))
            style = {"cmap": "viridis", "colorbar": True}
        else:
            shaded = rasterize(points, aggregator=ds.count())
            style = {"cmap": colorcet.fire[64:], "cnorm": "eq_hist"}
        return dynspread(shaded, threshold=SPREAD_THRESHOLD, max_px=SPREAD_PX).opts(**style, **common)

    def _hover_glyphs(self, data: PointsFrame) -> hv.Points:
        """Invisible glyphs carrying the hover columns, the same object while ``data.place`` is unchanged.

        The same object tells HoloViews the glyphs' data is already in the browser. The
        hover columns are pandas strings and the glyphs take no part in the plot's ranges:
        HoloViews would otherwise scan every annotation for its distinct values at each redraw.
        Their angle is NaN: Bokeh's markers skip drawing a marker whose angle is not finite
        but hit-test it by position and size alone, so hover finds them while a redraw does
        not paint 100,000 transparent markers (half a second per redraw in a browser).
        """
        cached = self._hover.get(data.hover)
        if cached is not None and data.place is not None and cached[0] == data.place:
            return cached[1]
        columns = data.data[["x", "y"]].assign(**{c: data.data[c].astype("string") for c in data.hover})
        glyphs = hv.Points(columns, ["x", "y"], list(data.hover)).opts(
            size=6, angle=float("nan"), alpha=0, hover_alpha=0, selection_alpha=0, nonselection_alpha=0,
            apply_ranges=False, tools=["hover"], hover_tooltips=list(data.hover),
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
