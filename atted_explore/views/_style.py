"""Text of the views: escaping, link-outs, labels, gene search options and category colors.

Plotting lives in :mod:`._points`.
"""

from __future__ import annotations

import html
from urllib.parse import quote

import colorcet
import numpy as np
import pandas as pd
import xarray as xr

from ..atlas import sample_fields

#: the category that collects everything beyond the most frequent ones.
OTHER = "other"
#: how an empty annotation is shown (an empty string cannot name a category).
EMPTY = "(empty)"
OTHER_COLOR = "#bbbbbb"
PALETTE = colorcet.palette["glasbey_category10"]

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


def script_safe(values: np.ndarray) -> np.ndarray:
    """Text sent to the browser as data, with a word joiner (U+2060, invisible) inside every ``</``.

    A notebook embeds a view's data in a ``<script>`` element; an annotation holding
    ``</script>`` would end it early, blanking the output and letting the rest run as HTML.
    """
    return pd.Series(values, dtype=object).astype(str).str.replace("</", "<\u2060/", regex=False).to_numpy(object)


def sample_annotations(node: xr.Dataset) -> dict[str, np.ndarray]:
    """Sample IDs and their annotation fields as object columns (for tables and hover), script-safe."""
    return {"sample": script_safe(node["sample"].values)} | {
        field: script_safe(node[field].values) for field in sample_fields(node)
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


def category_text(values: np.ndarray) -> pd.Series:
    """Annotation values as display text; missing and empty values become ``(empty)``."""
    text = pd.Series(values, dtype=object).astype(str).str.strip()
    return text.mask(text.isin(["", "nan", "None"]), EMPTY)


def top_categories(values: np.ndarray, top: int) -> tuple[pd.Categorical, dict[str, str]]:
    """Keep the ``top`` most frequent categories, fold the rest into "other"; return labels and colors."""
    text = category_text(values)
    counts = text.value_counts()
    kept = [c for c in counts.index[:top] if c != OTHER]
    labels = pd.Categorical(text, categories=kept)
    if len(counts) > len(kept):
        labels = labels.add_categories(OTHER).fillna(OTHER)
    key = {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(kept)}
    if OTHER in labels.categories:
        key[OTHER] = OTHER_COLOR
    return labels, key


def legend_html(labels: pd.Categorical, key: dict[str, str], title: str) -> str:
    """A legend beside the plot: a swatch, the escaped category and its count, most frequent first."""
    counts = pd.Series(labels).value_counts()
    rows = "".join(
        f'<div class="legend-item"><span style="display:inline-block;width:11px;height:11px;'
        f'background:{key[c]};margin-right:6px;border-radius:2px"></span>{escape(c)} '
        f'<span style="color:#777">({int(counts.get(c, 0)):,})</span></div>'
        for c in labels.categories
    )
    return f'<div class="plot-legend" style="font-size:12px;line-height:1.5"><b>{escape(title)}</b>{rows}</div>'
