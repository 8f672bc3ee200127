"""Functional consistency of a coexpression index (ATTED-II "KEGG score", after function_score.pl).

Pairs
    Annotated genes are the node's genes in at least one gene set of
    ``min_size``-``max_size`` genes (sizes counted on the node). Every
    unordered pair of distinct annotated genes is scored; a pair is positive
    when both genes share such a set, negative otherwise. Paralog pairs are
    dropped from both classes.
Pair score
    From a full matrix ``S`` (an ``xr.DataArray`` on dims ``(gene, gene2)``,
    both labelled with gene IDs): ``max(S[A, B], S[B, A])``. From the top-K
    tables of :func:`~atted_explore.compute.coexpression`: the larger
    ``coex_score`` of the two directions in which the pair is listed; pairs
    listed in neither direction tie below all listed pairs.
Score
    Pairs are ranked by descending score (ties as one ROC step). With the ROC
    curve ``TPR(FPR)``, ``pAUC = integral_0^FPR_max TPR dFPR`` and the reported
    score is ``100 * pAUC / FPR_max``: the mean true-positive rate (in %) over
    the false-positive range. A random ranking gives ``100 * FPR_max / 2``
    (0.5 at the default 1%), a perfect one 100. (``pAUC / FPR_max^2`` would
    give 50 and 10,000 at 1%; this normalisation gives the random ~0.5 and
    perfect 100 that ATTED-II's scale uses.)
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import xarray as xr

from .. import atlas
from ..errors import InputError


def _pair_keys(i: np.ndarray, j: np.ndarray, n: int) -> np.ndarray:
    low, high = np.minimum(i, j).astype(np.int64), np.maximum(i, j).astype(np.int64)
    return low * n + high


def _within_set_keys(positions: np.ndarray, n: int) -> np.ndarray:
    i, j = np.triu_indices(positions.size, k=1)
    return _pair_keys(positions[i], positions[j], n)


def _set_positions(sets: dict[str, list[str]], genes: pd.Index, min_size: int, max_size: int) -> list[np.ndarray]:
    members = [[str(g) for g in m] for m in sets.values()]
    positions = genes.get_indexer([g for m in members for g in m])  # one lookup for all sets
    bounds = np.cumsum([0] + [len(m) for m in members])
    kept = []
    for start, stop in zip(bounds[:-1], bounds[1:]):
        found = np.unique(positions[start:stop])
        found = found[found >= 0]
        if min_size <= found.size <= max_size:
            kept.append(found)
    return kept


def _paralog_keys(paralogs, genes: pd.Index) -> np.ndarray:
    if paralogs is None:
        return np.empty(0, dtype=np.int64)
    table = paralogs if isinstance(paralogs, pd.DataFrame) else pd.DataFrame(list(paralogs))
    if table.shape[1] < 2:
        raise InputError("paralogs: expected (gene, gene) pairs or a DataFrame with two gene columns")
    i = genes.get_indexer(table.iloc[:, 0].astype(str))
    j = genes.get_indexer(table.iloc[:, 1].astype(str))
    ok = (i >= 0) & (j >= 0) & (i != j)
    return np.unique(_pair_keys(i[ok], j[ok], genes.size))


def _scored_pairs(index, genes: pd.Index, annotated: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keys and scores of the scored pairs among annotated genes (one entry per pair)."""
    n = genes.size
    if isinstance(index, xr.DataArray):
        if set(index.dims) != {"gene", "gene2"}:
            raise InputError(f"function_score: a full matrix needs dims ('gene', 'gene2'), got {index.dims}")
        names = [str(genes[p]) for p in annotated]
        sub = np.asarray(index.sel(gene=names, gene2=names).transpose("gene", "gene2").values, dtype=float)
        sub = np.maximum(sub, sub.T)
        i, j = np.triu_indices(annotated.size, k=1)
        return _pair_keys(annotated[i], annotated[j], n), sub[i, j]
    if "coex_partner" not in index:
        raise InputError("function_score: node has no 'coex_partner' (run atted_explore.coexpression first)")
    partner = np.asarray(index["coex_partner"].values)
    score = np.asarray(index["coex_score"].values, dtype=float)
    is_annotated = np.zeros(n, dtype=bool)
    is_annotated[annotated] = True
    rows = np.broadcast_to(np.arange(n)[:, None], partner.shape)
    keep = (partner >= 0) & is_annotated[rows] & is_annotated[np.maximum(partner, 0)]
    keys = _pair_keys(rows[keep], partner[keep], n)
    values = score[keep]
    order = np.lexsort((-values, keys))  # per key, the larger direction first
    keys, values = keys[order], values[order]
    first = np.r_[True, keys[1:] != keys[:-1]]
    return keys[first], values[first]


def partial_auc(scores: np.ndarray, positive: np.ndarray, n_pos: int, n_neg: int, fpr_max: float) -> float:
    """``integral_0^fpr_max TPR dFPR`` of pairs ranked by descending score.

    ``n_pos``/``n_neg`` count all pairs; those not in ``scores`` rank last, tied.
    """
    order = np.argsort(-scores, kind="stable")
    scores, positive = scores[order], positive[order]
    ends = np.r_[np.flatnonzero(scores[1:] != scores[:-1]), scores.size - 1] if scores.size else np.empty(0, int)
    tp = np.cumsum(positive)[ends] if scores.size else np.empty(0)
    fp = (ends + 1) - tp
    fpr = np.r_[0.0, fp / n_neg, 1.0]
    tpr = np.r_[0.0, tp / n_pos, 1.0]
    cut = np.searchsorted(fpr, fpr_max, side="right")
    x, y = fpr[:cut], tpr[:cut]
    if x[-1] < fpr_max:
        y_cut = np.interp(fpr_max, fpr[cut - 1 : cut + 1], tpr[cut - 1 : cut + 1])
        x, y = np.r_[x, fpr_max], np.r_[y, y_cut]
    return float(np.trapezoid(y, x))


def function_score(
    node: xr.Dataset | xr.DataArray,
    gene_sets: dict[str, Iterable[str]] | None = None,
    *,
    paralogs=None,
    fpr_max: float = 0.01,
    min_size: int = 2,
    max_size: int = 50,
) -> float:
    """Functional consistency score of a coexpression index (definition in the module doc).

    ``node``: a node with top-K tables, or a full score matrix
    ``xr.DataArray`` on ``(gene, gene2)``. ``gene_sets``: ``{set_id: [gene IDs]}``,
    by default the node's own (:func:`atted_explore.atlas.gene_sets`).
    ``paralogs``: pairs of gene IDs (a list of 2-tuples or a two-column
    DataFrame) to exclude. Returns ``100 * pAUC / fpr_max`` (random ~ 0.5,
    perfect 100 at ``fpr_max=0.01``).
    """
    if not 0 < fpr_max <= 1:
        raise InputError(f"function_score: fpr_max={fpr_max}, expected 0 < fpr_max <= 1")
    gene_ids = pd.Index(np.asarray(node["gene"].values).astype(str))
    if gene_sets is None:
        if not isinstance(node, xr.Dataset):
            raise InputError("function_score: pass gene_sets with a full matrix (it carries no gene sets)")
        gene_sets = atlas.gene_sets(node)
    sets = _set_positions(gene_sets, gene_ids, min_size, max_size)
    if not sets:
        raise InputError(f"function_score: no gene set has {min_size}-{max_size} genes on this node")
    n = gene_ids.size
    annotated = np.unique(np.concatenate(sets))
    positives = np.unique(np.concatenate([_within_set_keys(positions, n) for positions in sets]))
    paralog_keys = _paralog_keys(paralogs, gene_ids)
    is_annotated = np.zeros(n, dtype=bool)
    is_annotated[annotated] = True
    paralog_keys = paralog_keys[is_annotated[paralog_keys // n] & is_annotated[paralog_keys % n]]
    positives = np.setdiff1d(positives, paralog_keys, assume_unique=True)
    n_pairs = annotated.size * (annotated.size - 1) // 2
    n_pos = positives.size
    n_neg = n_pairs - n_pos - paralog_keys.size
    if n_pos == 0 or n_neg <= 0:
        raise InputError(f"function_score: {n_pos} positive and {n_neg} negative pairs; need both")
    keys, scores = _scored_pairs(node, gene_ids, annotated)
    keep = ~np.isin(keys, paralog_keys)
    keys, scores = keys[keep], scores[keep]
    return 100.0 * partial_auc(scores, np.isin(keys, positives), n_pos, n_neg, fpr_max) / fpr_max
