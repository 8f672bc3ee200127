"""Shared pieces of the views: escaping, labels, colours, link-outs, gene search and datashaded points."""

from __future__ import annotations

import html
from urllib.parse import quote

import colorcet
import datashader as ds
import holoviews as hv
import numpy as np
import pandas as pd
import xarray as xr
from holoviews.operation.datashader import datashade, dynspread, rasterize

from ..atlas import SAMPLE_FIELDS

#: sample fields a view can colour by or show on hover, in display order.
OTHER = "other"
#: above this many samples, per-pixel hover (one sample per pixel) is off: it costs ~8x the frame time.
HOVER_SAMPLE_LIMIT = 200_000
PLOT_SIZE = {"width": 520, "height": 440}

#: gene pages outside this package; ``{gene}`` is replaced by the URL-quoted gene ID.
ATTED_URL = "https://atted.jp/top_search/?gene={gene}"
SPECIES_URLS = {
    "Ath": ("TAIR", "https://www.arabidopsis.org/locus?name={gene}"),
    "Osa": ("RAP-DB", "https://rapdb.dna.affrc.go.jp/locus/?name={gene}"),
    "Zma": ("MaizeGDB", "https://www.maizegdb.org/gene_center/gene/{gene}"),
}


def escape(value) -> str:
    """HTML-escape any value for display (annotations are free text)."""
    return html.escape(str(value), quote=True)


def link(url_template: str, gene: str, label: str) -> str:
    """An escaped ``<a>`` opening a gene page in a new tab."""
    url = url_template.format(gene=quote(str(gene), safe=""))
    return f'<a href="{escape(url)}" target="_blank" rel="noopener noreferrer">{escape(label)}</a>'


def link_templates(node: xr.Dataset) -> dict[str, str]:
    """Gene-page URL templates by label: ATTED-II and, when known, the species' own database."""
    templates = {"ATTED-II": ATTED_URL}
    species_page = SPECIES_URLS.get(node.attrs.get("species_code", ""))
    if species_page:
        templates[species_page[0]] = species_page[1]
    return templates


def gene_links(node: xr.Dataset, gene: str) -> str:
    """Escaped HTML links to ATTED-II and, when known, the species' own gene page."""
    return " · ".join(link(url, gene, label) for label, url in link_templates(node).items())


def sample_annotations(node: xr.Dataset) -> dict[str, np.ndarray]:
    """Sample IDs and their annotation fields as object columns (for tables and hover)."""
    return {"sample": node["sample"].values.astype(object)} | {
        field: node[field].values.astype(object) for field in sample_fields(node)
    }


def pc_axis_label(node: xr.Dataset, pc: int) -> str:
    """``PC3 (12.4%): label`` — number, explained variance and, when present, the PC's label."""
    text = f"PC{pc}"
    if "pc_variance" in node:
        text += f" ({100 * float(node['pc_variance'].sel(pc=pc)):.1f}%)"
    if "label" in node.coords:
        label = str(node["label"].sel(pc=pc).values)
        if label and label != "nan":
            text += f": {label}"
    return text


def gene_options(node: xr.Dataset) -> dict[str, str]:
    """Search labels (``ID · symbol``) mapped to gene IDs, for an ``AutocompleteInput``."""
    genes = node["gene"].values.astype(str)
    if "symbol" not in node.coords:
        return dict(zip(genes, genes, strict=True))
    symbols = node["symbol"].values.astype(str)
    return {
        (f"{g} · {s}" if s and s != g and s != "nan" else g): g for g, s in zip(genes, symbols, strict=True)
    }


def sample_fields(node: xr.Dataset) -> list[str]:
    """Sample annotation fields present on a node."""
    return [f for f in SAMPLE_FIELDS if f in node.coords]


def top_categories(values: np.ndarray, top: int) -> tuple[pd.Categorical, dict[str, str]]:
    """Keep the ``top`` most frequent categories, fold the rest into "other"; return codes and colours."""
    counts = pd.Series(values).astype(str).value_counts()
    kept = [c for c in counts.index[:top] if c != OTHER]
    labels = pd.Categorical(pd.Series(values).astype(str), categories=kept)
    if len(counts) > len(kept):
        labels = labels.add_categories(OTHER).fillna(OTHER)
    palette = colorcet.palette["glasbey_category10"]
    key = {c: palette[i % len(palette)] for i, c in enumerate(kept)}
    if OTHER in labels.categories:
        key[OTHER] = "#bbbbbb"
    return labels, key


def shaded_points(
    frame: pd.DataFrame,
    x: str,
    y: str,
    colour: str | None,
    *,
    continuous: bool,
    colour_key: dict[str, str] | None = None,
    colour_label: str | None = None,
    hover: bool = True,
    cmap: str = "viridis",
    dynamic: bool = True,
) -> hv.DynamicMap | hv.Element:
    """Datashade ``frame``'s points: mean of ``colour`` (continuous) or counts per category.

    Column names are part of datashader's compiled-kernel cache key: callers use
    fixed names (e.g. ``"expression"``) and pass what it shows as ``colour_label``,
    so recolouring by another gene reuses the kernel instead of recompiling it.
    With ``hover`` each pixel keeps one of its samples (``selector``), so the
    hover tooltip shows that sample's ID and annotation; Bokeh renders the
    values as text, never as HTML.
    """
    vdims = [c for c in frame.columns if c not in (x, y)]
    points = hv.Points(frame, [x, y], vdims)
    selector = {"selector": ds.first()} if hover else {}
    size = {"width": PLOT_SIZE["width"], "height": PLOT_SIZE["height"], "dynamic": dynamic}
    tools = ["hover", "box_select", "lasso_select"] if hover else ["box_select", "lasso_select"]
    tooltips = [c for c in frame.columns if c not in (x, y, colour)]
    if colour is None:
        image = rasterize(points, aggregator=ds.count(), **selector, **size)
        shaded = dynspread(image, threshold=0.5, max_px=3).opts(cmap=colorcet.fire[64:], cnorm="eq_hist")
    elif continuous:
        image = rasterize(points, aggregator=ds.mean(colour), **selector, **size)
        shaded = dynspread(image, threshold=0.5, max_px=3).opts(cmap=cmap, colorbar=True, clabel=colour_label or colour)
    else:
        image = datashade(points, aggregator=ds.count_cat(colour), color_key=colour_key, **selector, **size)
        shaded = dynspread(image, threshold=0.5, max_px=3)
    shaded = shaded.opts(tools=tools, hover_tooltips=tooltips if hover else None, **PLOT_SIZE)
    if colour is not None and not continuous:
        # HoloViews draws the legend of a categorical datashade from its colour key
        shaded = shaded.opts(legend_position="right", width=PLOT_SIZE["width"] + 160)
    return shaded
