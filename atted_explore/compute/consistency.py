"""Functional consistency of a coexpression index (ATTED-II "KEGG score", after function_score.pl).

Gene sets
    A set is used when its annotation lists ``min_size``-``max_size`` IDs
    (default 2-50), counted as listed, whether or not those genes are on the
    node (``gene_set_size``, kept by the gene-set readers), as function_score.pl
    counts the IDs on the annotation line. Annotated genes are the node's genes
    in at least one used set.
Pairs
    Every unordered pair of distinct annotated genes is scored; a pair is
    positive when both genes share a used set, negative otherwise. Paralog
    pairs are dropped from both classes.
Pair score
    From a full matrix ``S`` (an ``xr.DataArray`` on dims ``(gene, gene2)``,
    both labelled with gene IDs): ``max(S[A, B], S[B, A])`` (the value itself
    for a symmetric index such as the bag-mean logit score). From the top-K
    tables of :func:`~atted_explore.compute.coexpression`: the larger
    ``coex_score`` of the two directions in which the pair is listed; pairs
    listed in neither direction tie below all listed pairs.
Score
    Pairs are ranked by descending score (ties as one ROC step: the mean over
    their orders). With the ROC curve ``TPR(FPR)``,
    ``pAUC = integral_0^FPR_max TPR dFPR`` and the score is
    ``pAUC / FPR_max^2``, as function_score.pl prints it: a random ranking
    gives 0.5 at any ``FPR_max``, a perfect one ``1 / FPR_max`` (100 at the
    default 1%).

The ATTED-II-comparable score is that of the symmetric bag-mean logit index
before z-scoring; :func:`~atted_explore.compute.coexpression` computes it on the
full index while building (node attr ``function_score``), where every pair is
available. On the z-score top-K tables (this function on a node) the score
differs: z-scoring is per gene, so the pair score is not symmetric.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import xarray as xr

from .. import atlas
from ..errors import InputError

#: node attrs holding function scores: of the full index before z-scoring (ATTED-II's), of the z top-K tables.
FUNCTION_SCORE_ATTRS = ("function_score", "function_score_z")


def _pair_keys(i: np.ndarray, j: np.ndarray, n: int) -> np.ndarray:
    low, high = np.minimum(i, j).astype(np.int64), np.maximum(i, j).astype(np.int64)
    return low * n + high


def _within_set_keys(positions: np.ndarray, n: int) -> np.ndarray:
    i, j = np.triu_indices(positions.size, k=1)
    return _pair_keys(positions[i], positions[j], n)


def _set_positions(
    sets: dict[str, list[str]], sizes: dict[str, int], genes: pd.Index, min_size: int, max_size: int
) -> list[np.ndarray]:
    """Node positions of the members of each set whose annotation lists ``min_size``-``max_size`` IDs."""
    used = [set_id for set_id, members in sets.items() if min_size <= sizes.get(set_id, len(members)) <= max_size]
    members = [[str(g) for g in sets[set_id]] for set_id in used]
    positions = genes.get_indexer([g for m in members for g in m])  # one lookup for all sets
    bounds = np.cumsum([0] + [len(m) for m in members])
    kept = []
    for start, stop in zip(bounds[:-1], bounds[1:]):
        found = np.unique(positions[start:stop])
        kept.append(found[found >= 0])
    return kept


def _sets_and_sizes(node, gene_sets, set_sizes) -> tuple[dict[str, list[str]], dict[str, int]]:
    """The gene sets to score with and their listed sizes (the node's own by default)."""
    if gene_sets is None:
        if not isinstance(node, xr.Dataset):
            raise InputError("function_score: pass gene_sets with a full matrix (it carries no gene sets)")
        return atlas.gene_sets(node), atlas.gene_set_sizes(node) if set_sizes is None else set_sizes
    gene_sets = {str(k): list(v) for k, v in gene_sets.items()}
    return gene_sets, {k: len(v) for k, v in gene_sets.items()} if set_sizes is None else set_sizes


def annotated_genes(node: xr.Dataset, *, min_size: int = 2, max_size: int = 50) -> np.ndarray:
    """Positions on ``gene`` of the genes the score uses (in a set of ``min_size``-``max_size`` listed IDs)."""
    sets, sizes = _sets_and_sizes(node, None, None)
    genes = pd.Index(np.asarray(node["gene"].values).astype(str))
    positions = _set_positions(sets, sizes, genes, min_size, max_size)
    return np.unique(np.concatenate(positions)) if positions else np.empty(0, dtype=np.int64)


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
    atlas.check_partner_order(index, "function_score")
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
    set_sizes: dict[str, int] | None = None,
) -> float:
    """Functional consistency score of a coexpression index (definition in the module doc).

    ``node``: a node with top-K tables, or a full score matrix
    ``xr.DataArray`` on ``(gene, gene2)``. ``gene_sets``: ``{set_id: [gene IDs]}``
    as listed in the annotation (IDs absent from the node count towards a set's
    size), by default the node's own (:func:`atted_explore.atlas.gene_sets`).
    ``set_sizes``: the number of IDs each set's annotation lists, when
    ``gene_sets`` holds only the matched ones (default: the node's
    ``gene_set_size`` with its own sets, else the length of each list).
    ``paralogs``: pairs of gene IDs (a list of 2-tuples or a two-column
    DataFrame) to exclude. Returns ``pAUC / fpr_max^2`` (random 0.5; perfect
    ``1 / fpr_max``, 100 at the default ``fpr_max=0.01``).
    """
    if not 0 < fpr_max <= 1:
        raise InputError(f"function_score: fpr_max={fpr_max}, expected 0 < fpr_max <= 1")
    gene_ids = pd.Index(np.asarray(node["gene"].values).astype(str))
    gene_sets, sizes = _sets_and_sizes(node, gene_sets, set_sizes)
    sets = [positions for positions in _set_positions(gene_sets, sizes, gene_ids, min_size, max_size) if positions.size]
    if not sets:
        raise InputError(f"function_score: no gene set lists {min_size}-{max_size} IDs with a gene on this node")
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
    return partial_auc(scores, np.isin(keys, positives), n_pos, n_neg, fpr_max) / fpr_max**2


def full_index_score(node: xr.Dataset, annotated: np.ndarray, values: np.ndarray) -> float | None:
    """:func:`function_score` of a symmetric index given on the pairs of ``annotated`` genes (positions).

    ``values[i, j]``: the index of genes ``annotated[i]`` and ``annotated[j]``.
    None when the node's sets give no positive or no negative pair to rank.
    """
    if annotated.size < 2:
        return None
    names = np.asarray(node["gene"].values).astype(str)[annotated]
    matrix = xr.DataArray(values, dims=("gene", "gene2"), coords={"gene": names, "gene2": names})
    try:
        return function_score(matrix, atlas.gene_sets(node), set_sizes=atlas.gene_set_sizes(node))
    except InputError:
        return None
