"""Which gene sets the genes at each end of a PC belong to (per-PC, per-sign enrichment).

Top genes of a PC side
    Gene scores of the PC are standardized over genes, ``z = (s - mean) / sd``.
    The positive side's top genes are the ``max(min_genes, ceil(fraction · N))``
    genes with the largest scores (default: the top 2%, at least 10), keeping
    only those with ``z >= z_min`` (default 2), so a side with nothing extreme
    selects few or no genes; the negative side likewise with the smallest
    scores and ``z <= -z_min``.

Enrichment
    Against every gene set of the node (``member_set``/``member_gene``) and every
    GO biological-process set (``go_member_term``/``go_member_gene``) with
    ``min_set_size`` to ``max_set_size`` genes on the node: the hypergeometric
    upper tail ``P(X >= k)`` with ``N`` = genes of the node, ``K`` = set size,
    ``n`` = top genes, ``k`` = top genes in the set; ``fold = (k / n) / (K / N)``.
    P-values are BH-adjusted over all PCs, sides and sets together (every test,
    including those with no overlap, counts); rows with ``k >= 1`` are returned.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import xarray as xr
from scipy import sparse, stats

from ..atlas import INTERPRETATION_TABLES, gene_sets, go_sets
from ..errors import InputError

SIDES = ("positive", "negative")


def bh_adjust(p_values: np.ndarray) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (FDR); an empty array stays empty."""
    p_values = np.asarray(p_values, dtype=float)
    return stats.false_discovery_control(p_values) if p_values.size else p_values


def check_pcs(node: xr.Dataset, pcs) -> list[int]:
    """The PCs to describe: all of the node's (``None``) or the given ones, each checked."""
    if "pc" not in node.dims:
        raise InputError("node has no 'pc' dim: run atted_explore.pca(node) first")
    known = [int(pc) for pc in node["pc"].values]
    if pcs is None:
        return known
    chosen = [int(pc) for pc in np.atleast_1d(pcs)]
    unknown = [pc for pc in chosen if pc not in known]
    if unknown:
        raise InputError(f"pcs={unknown}: not PCs of this node; it has PCs {known[0]}-{known[-1]}")
    return list(dict.fromkeys(chosen))


def top_genes(
    node: xr.Dataset, pc: int, side: str, *, fraction: float = 0.02, min_genes: int = 10, z_min: float = 2.0
) -> np.ndarray:
    """Positions (on ``gene``) of the top genes of one PC side, most extreme first (rule in the module docstring)."""
    if side not in SIDES:
        raise InputError(f"side={side!r}: expected one of {SIDES}")
    scores = node["gene_score"].sel(pc=pc).values.astype(float)
    sd = scores.std()
    z = (scores - scores.mean()) / sd if sd > 0 else np.zeros_like(scores)
    if side == "negative":
        z = -z
    n_top = max(min_genes, math.ceil(fraction * scores.size))
    order = np.argsort(-z, kind="stable")[:n_top]
    return order[z[order] >= z_min]


def _all_sets(node: xr.Dataset) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Every set to test: a table (set, source, name) and the members of each."""
    members, rows = {}, []
    names = dict(zip(node["gene_set"].values.astype(str), node["gene_set_name"].values.astype(str))) \
        if "gene_set_name" in node else {}
    for set_id, genes in gene_sets(node).items():
        members[set_id] = genes
        rows.append((set_id, "gene set", names.get(set_id, set_id)))
    go_names = dict(zip(node["go_term"].values.astype(str), node["go_term_name"].values.astype(str))) \
        if "go_term_name" in node else {}
    for term, genes in go_sets(node).items():
        if term not in members:
            members[term] = genes
            rows.append((term, "GO BP", go_names.get(term, term)))
    return pd.DataFrame(rows, columns=["set", "source", "name"]), members


def pc_enrichment(
    node: xr.Dataset,
    pcs=None,
    *,
    fraction: float = 0.02,
    min_genes: int = 10,
    z_min: float = 2.0,
    min_set_size: int = 3,
    max_set_size: int = 500,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Gene-set enrichment of the top genes of every PC side (method in the module docstring).

    Returns ``(enrichment, selected)``: ``enrichment`` has one row per (pc, side,
    set) with overlap >= 1: ``rank`` (1 = smallest p), ``set``, ``source``
    (``"gene set"`` or ``"GO BP"``), ``name``, ``overlap`` (k), ``set_size`` (K),
    ``n_top`` (n), ``fold``, ``p``, ``fdr``; ``selected`` has one row per
    (pc, side) with ``n_top`` and the top ``genes`` (IDs, most extreme first).
    """
    if "gene_score" not in node:
        raise InputError("node has no 'gene_score': run atted_explore.pca(node) first")
    pcs = check_pcs(node, pcs)
    genes = node["gene"].values.astype(str)
    position = pd.Series(np.arange(genes.size), index=genes)
    table, members = _all_sets(node)
    sizes = np.array([len(members[s]) for s in table["set"]], dtype=int)
    table = table[(sizes >= min_set_size) & (sizes <= max_set_size)].reset_index(drop=True)
    rows, cols = [], []
    for k, set_id in enumerate(table["set"]):
        where = position.reindex(members[set_id]).dropna().to_numpy(dtype=int)
        rows.extend([k] * where.size)
        cols.extend(where)
    membership = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(table), genes.size))
    set_size = np.asarray(membership.sum(axis=1)).ravel()

    selected_rows, results = [], []
    for pc in pcs:
        for side in SIDES:
            top = top_genes(node, pc, side, fraction=fraction, min_genes=min_genes, z_min=z_min)
            selected_rows.append({"pc": pc, "side": side, "n_top": top.size, "genes": list(genes[top])})
            indicator = np.zeros(genes.size)
            indicator[top] = 1
            overlap = membership @ indicator
            p = stats.hypergeom.sf(overlap - 1, genes.size, set_size, top.size) if top.size else np.ones(len(table))
            fold = (overlap / max(top.size, 1)) / np.maximum(set_size / genes.size, 1e-12)
            results.append(table.assign(pc=pc, side=side, overlap=overlap.astype(int), set_size=set_size.astype(int),
                                        n_top=top.size, fold=fold, p=np.minimum(p, 1.0)))
    columns = list(INTERPRETATION_TABLES["enrichment"][2])
    selected = pd.DataFrame(selected_rows, columns=["pc", "side", "n_top", "genes"])
    if not results or table.empty:
        return pd.DataFrame(columns=columns), selected
    everything = pd.concat(results, ignore_index=True)
    everything["fdr"] = bh_adjust(everything["p"].to_numpy())
    hits = everything[everything["overlap"] >= 1]
    hits = hits.sort_values(["pc", "side", "p", "fold"], ascending=[True, False, True, False], kind="stable")
    hits["rank"] = hits.groupby(["pc", "side"]).cumcount() + 1
    return hits.reset_index(drop=True)[columns], selected
