"""Rows that wrap: on a narrow page (a laptop with the sidebar open) controls and plots move onto a new line
instead of being cut at the page's right edge."""

from __future__ import annotations

import panel as pn


def wrapping_row(*objects, **params) -> pn.FlexBox:
    """A row of ``objects`` that wraps onto new lines where the page is too narrow for them."""
    return pn.FlexBox(*objects, flex_wrap="wrap", sizing_mode="stretch_width", **params)


def shared_width(min_width: int) -> dict[str, str]:
    """``styles`` of a stretching item of a :func:`wrapping_row`: it shares the row's width with the
    others down to ``min_width`` pixels, then wraps."""
    return {"flex": f"1 1 {min_width}px"}


#: narrowest sample plot beside its legend; below it the legend moves under the plot.
PLOT_BESIDE_LEGEND_MIN = 420


def plot_with_legend(plot: pn.viewable.Viewable, legend: pn.pane.HTML) -> pn.FlexBox:
    """``plot`` with its HTML ``legend`` at its right, or under it on a narrow page; the legend takes
    no room while it is empty (an uncolored plot)."""
    plot.styles = {**plot.styles, **shared_width(PLOT_BESIDE_LEGEND_MIN)}
    legend.visible = bool(legend.object)
    legend.param.watch(lambda event: setattr(legend, "visible", bool(event.new)), "object")
    return wrapping_row(plot, legend)
