"""Samples picked on PC axes and the metadata terms that characterise them.

Selection
    :func:`region_mask` turns a box or a lasso polygon drawn on two PC axes into
    a boolean mask over samples (polygon test: even-odd ray casting).

Term over-representation
    For every sample field (study, tissue, treatment ...) and every term ``t``
    of that field: of ``N`` samples, ``K`` carry ``t``; the selection holds
    ``n`` samples, ``k`` of them with ``t``. The p-value is the hypergeometric
    upper tail ``P(X >= k)`` with ``X ~ Hypergeom(N, K, n)``; q-values are
    Benjamini-Hochberg adjusted over every (field, term) tested.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats

from ..atlas import sample_fields
from ..errors import InputError

ENRICHMENT_COLUMNS = ["field", "term", "selected", "total", "expected", "fold", "p_value", "q_value"]


def _pc_coordinates(node: xr.Dataset, pc: int) -> np.ndarray:
    if "sample_score" not in node:
        raise InputError("node has no 'sample_score' (run atted_explore.compute.pca first)")
    pcs = node["pc"].values.tolist()
    if pc not in pcs:
        raise InputError(f"variable 'sample_score': no PC {pc}; the node has PCs {pcs[0]}..{pcs[-1]}")
    return np.asarray(node["sample_score"].sel(pc=pc).values, dtype=float)


def inside_polygon(x: np.ndarray, y: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Even-odd rule: a point is inside when a ray to +x crosses the boundary an odd number of times."""
    inside = np.zeros(x.shape, dtype=bool)
    x_prev, y_prev = xs[-1], ys[-1]
    for x_next, y_next in zip(xs, ys, strict=True):
        spans = (y_next > y) != (y_prev > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_cross = x_next + (y - y_next) * (x_prev - x_next) / (y_prev - y_next)
        inside ^= spans & (x < x_cross)
        x_prev, y_prev = x_next, y_next
    return inside


def region_mask(
    node: xr.Dataset,
    x_pc: int,
    y_pc: int,
    *,
    bounds: tuple[float, float, float, float] | None = None,
    polygon: tuple[Sequence[float], Sequence[float]] | None = None,
) -> xr.DataArray:
    """Samples inside a box ``(x0, y0, x1, y1)`` or a polygon ``(xs, ys)`` on PCs ``x_pc``/``y_pc``.

    Returns a boolean DataArray over ``sample``.
    """
    if (bounds is None) == (polygon is None):
        raise InputError("region_mask: give exactly one of bounds=(x0, y0, x1, y1) or polygon=(xs, ys)")
    x, y = _pc_coordinates(node, x_pc), _pc_coordinates(node, y_pc)
    if bounds is not None:
        x0, y0, x1, y1 = bounds
        inside = (x >= min(x0, x1)) & (x <= max(x0, x1)) & (y >= min(y0, y1)) & (y <= max(y0, y1))
    else:
        xs, ys = (np.asarray(v, dtype=float) for v in polygon)
        if xs.shape != ys.shape or xs.size < 3:
            raise InputError(
                f"region_mask: a polygon needs >= 3 vertices with as many xs as ys, got {xs.size} and {ys.size}"
            )
        inside = inside_polygon(x, y, xs, ys)
    return xr.DataArray(inside, dims="sample", coords={"sample": node["sample"].values}, name="selected")


def term_enrichment(
    node: xr.Dataset,
    selected: xr.DataArray | np.ndarray | Sequence[str],
    fields: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Rank the metadata terms over-represented in a selection of samples.

    ``selected`` is a boolean mask over ``sample`` or a list of sample IDs.
    ``fields`` defaults to every annotation field of the node but free-text titles.
    Returns one row per (field, term) with columns
    ``field, term, selected, total, expected, fold, p_value, q_value``,
    most significant first (empty selection: empty table).
    """
    mask = _as_mask(node, selected)
    present = sample_fields(node)
    fields = [f for f in present if f != "title"] if fields is None else [f for f in fields if f in present]
    n_samples, n_selected = mask.size, int(mask.sum())
    if n_selected == 0 or not fields:
        return pd.DataFrame(columns=ENRICHMENT_COLUMNS)
    tables = []
    for field in fields:
        codes, terms = pd.factorize(pd.Series(node[field].values).astype(str))
        total = np.bincount(codes, minlength=terms.size)
        hits = np.bincount(codes[mask], minlength=terms.size)
        tables.append(pd.DataFrame({"field": field, "term": terms, "selected": hits, "total": total}))
    table = pd.concat(tables, ignore_index=True)
    table["expected"] = table["total"] * n_selected / n_samples
    table["fold"] = table["selected"] / table["expected"]
    table["p_value"], table["q_value"] = over_representation(table["selected"], table["total"], n_selected, n_samples)
    return table.sort_values(["p_value", "fold"], ascending=[True, False], ignore_index=True)


def over_representation(hits, totals, n_drawn: int, n_population: int) -> tuple[np.ndarray, np.ndarray]:
    """Hypergeometric upper-tail p-values ``P(X >= hits)``, ``X ~ Hypergeom(n_population, totals, n_drawn)``,
    and their Benjamini-Hochberg q-values (one family: every row)."""
    hits, totals = np.asarray(hits), np.asarray(totals)
    if hits.size == 0:
        return np.array([], dtype=float), np.array([], dtype=float)
    p_values = stats.hypergeom.sf(hits - 1, n_population, totals, n_drawn)
    return p_values, stats.false_discovery_control(p_values, method="bh")


def _as_mask(node: xr.Dataset, selected) -> np.ndarray:
    samples = pd.Index(node["sample"].values)
    values = np.asarray(selected.values if isinstance(selected, xr.DataArray) else selected)
    if values.dtype == bool:
        if values.shape != (samples.size,):
            raise InputError(f"selection mask has shape {values.shape}, expected ({samples.size},) over 'sample'")
        return values
    positions = samples.get_indexer(values.astype(object))
    if (positions < 0).any():
        unknown = values[positions < 0][:5].tolist()
        raise InputError(f"selection names unknown sample IDs: {unknown}")
    mask = np.zeros(samples.size, dtype=bool)
    mask[positions] = True
    return mask


def selection_genes(node: xr.Dataset, selected, n: int = 50) -> pd.DataFrame:
    """Genes most raised in a selection of samples, from the PCA reconstruction (no expression read).

    With ``X = U S Vᵀ`` (genes x samples, gene-centred), ``gene_score = U S`` and
    ``sample_score = V S``, so ``X[g, j] = Σ_k gene_score[g, k] · sample_score[j, k] / S_k²`` with
    ``S_k² = Σ_j sample_score[j, k]²``. Averaged over the selected samples this is each gene's
    expression in the selection minus its mean over all samples, on the kept PCs. Returns the
    ``n`` genes with the largest difference (columns ``gene``, ``difference``), largest first.
    """
    mask = _as_mask(node, selected)
    if not mask.any():
        raise InputError("selection_genes: the selection holds no sample")
    for variable in ("gene_score", "sample_score"):
        if variable not in node:
            raise InputError(f"node has no variable {variable!r} (run atted_explore.compute.pca first)")
    samples = np.asarray(node["sample_score"].values, dtype=float)
    weights = samples[mask].mean(axis=0) / (samples**2).sum(axis=0)
    difference = np.asarray(node["gene_score"].values, dtype=float) @ weights
    order = np.argsort(-difference)[:n]
    return pd.DataFrame({"gene": node["gene"].values[order].astype(str), "difference": difference[order]})
