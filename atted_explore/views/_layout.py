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
