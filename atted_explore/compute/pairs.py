"""A gene pair and a gene's partners: correlations and per-PC contributions.

Per-PC contribution to a pair's coexpression
    Genes are represented by their scores on the PCs, each PC standardized over
    genes to mean 0 and unit variance, so an axis of condition counts once
    however many samples share it: ``z[g, k] = (s[g, k] - mean_g s[., k]) / sd_g s[., k]``.
    Over the PC set ``P`` (all PCs unless given), centre each gene's vector,
    ``a_k = z[A, k] - mean_{k in P} z[A, k]`` (``b_k`` likewise), and the
    Pearson correlation of A and B over the PCs splits into one term per PC::

        r_AB = sum_k c_k,   c_k = a_k * b_k / (||a|| * ||b||)

    ``c_k > 0`` when both genes sit on the same side of PC ``k`` (the conditions
    that PC separates drive them together); ``c_k < 0`` works against the pair.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from ..atlas import check_partner_order, gene_position, require_variable
from ..errors import InputError

def standardized_gene_scores(node: xr.Dataset, pcs: Sequence[int] | None = None) -> xr.DataArray:
    """``gene_score`` with every PC scaled over genes to mean 0, unit variance."""
    require_variable(node, "gene_score", "atted_explore.compute.pca")
    if pcs is not None:
        missing = sorted(set(pcs) - set(node["pc"].values.tolist()))
        if missing:
            raise InputError(f"variable 'gene_score': no PC {missing}; the node has PCs {node['pc'].values.tolist()}")
    scores = node["gene_score"] if pcs is None else node["gene_score"].sel(pc=list(pcs))
    scores = scores.astype(float)
    return (scores - scores.mean("gene")) / scores.std("gene")


def pc_contributions(
    node: xr.Dataset, gene_a: str, gene_b: str, pcs: Sequence[int] | None = None
) -> xr.Dataset:
    """Each PC's contribution to the correlation of two genes over the PCs (formula in the module doc).

    Returns a Dataset on ``pc`` with ``score_a``, ``score_b`` (standardized
    scores), ``contribution`` (summing to the correlation) and attrs
    ``gene_a``, ``gene_b``, ``correlation``.
    """
    scores = standardized_gene_scores(node, pcs)
    a = scores.isel(gene=gene_position(node, gene_a)).reset_coords(drop=True)
    b = scores.isel(gene=gene_position(node, gene_b)).reset_coords(drop=True)
    a_centred, b_centred = a - a.mean("pc"), b - b.mean("pc")
    norm = float(np.sqrt((a_centred**2).sum() * (b_centred**2).sum()))
    contribution = a_centred * b_centred / norm if norm > 0 else xr.zeros_like(a_centred)
    out = xr.Dataset({"score_a": a, "score_b": b, "contribution": contribution})
    out.attrs = {"gene_a": gene_a, "gene_b": gene_b, "correlation": float(contribution.sum())}
    return out


def strongest_other_pc(contributions: xr.Dataset, pc: int) -> int:
    """The PC, other than ``pc``, contributing most to the pair's correlation (``pc`` itself if it is the only one)."""
    others = contributions["contribution"].drop_sel(pc=pc)
    if others.sizes["pc"] == 0:
        return pc
    return int(others["pc"].values[int(np.argmax(others.values))])


def featured_pair(node: xr.Dataset, module: str | None = None) -> tuple[str, str] | None:
    """A gene worth showing first and its strongest partner (None when the node has no gene scores).

    The gene is the member of planted ``module`` (``truth_module``, demo atlases)
    that varies most over the PCs, else the node's gene that varies most over
    the PCs (largest sum of squared gene scores). The partner is its first
    coexpression partner, or ``""`` when the node has no lists.
    """
    if "gene_score" not in node:
        return None
    spread = (node["gene_score"].astype(float) ** 2).sum("pc").values
    if module is not None and "truth_module" in node:
        spread = np.where(node["truth_module"].values == module, spread, -np.inf)
    gene = str(node["gene"].values[int(np.argmax(spread))])
    return gene, strongest_partner(node, gene)


def strongest_partner(node: xr.Dataset, gene: str) -> str:
    """The first coexpression partner of ``gene`` (``""`` when the node has no lists or the gene none)."""
    if "coex_partner" not in node:
        return ""
    check_partner_order(node)
    position = int(node["coex_partner"].isel(gene=gene_position(node, gene), rank=0))
    return str(node["gene"].values[position]) if position >= 0 else ""


def expression_correlation(node: xr.Dataset, gene_a: str, gene_b: str) -> float:
    """Pearson correlation of two genes' expression over all samples."""
    require_variable(node, "expression", "an expression import")
    rows = node["expression"].isel(gene=[gene_position(node, gene_a), gene_position(node, gene_b)])
    a, b = np.asarray(rows.values, dtype=float)
    if a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def pair_stats(node: xr.Dataset, gene_a: str, gene_b: str) -> pd.Series:
    """Everything known about a pair: expression and PC-space correlations, and B's place in A's list."""
    check_partner_order(node)
    stats = {
        "gene_a": gene_a,
        "gene_b": gene_b,
        "expression_correlation": expression_correlation(node, gene_a, gene_b),
        "pc_correlation": pc_contributions(node, gene_a, gene_b).attrs["correlation"],
        "rank": np.nan,
        "score": np.nan,
        "mr": np.nan,
    }
    if "coex_partner" in node:
        lists = node[[v for v in ("coex_partner", "coex_score", "coex_mr") if v in node]]
        lists = lists.isel(gene=gene_position(node, gene_a)).load()
        hit = np.flatnonzero(lists["coex_partner"].values == gene_position(node, gene_b))
        if hit.size:
            stats["rank"] = int(lists["rank"].values[hit[0]])
            stats["score"] = float(lists["coex_score"].values[hit[0]])
            if "coex_mr" in lists:
                stats["mr"] = float(lists["coex_mr"].values[hit[0]])
    return pd.Series(stats)
