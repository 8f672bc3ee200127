"""Ranks, mutual rank, logit score and z-score: the formulas and their fast kernels.

For a gene ``A`` and the correlations ``r(A, .)`` to its ``N - 1`` partners
(``N`` genes in all):

rank
    ``rank_A(B) = 1 + #{C != A : r(A, C) > r(A, B)}`` (1 = strongest partner);
    ties share their mid-rank.
mutual rank
    ``MR(A, B) = sqrt(rank_A(B) * rank_B(A))``, in ``[1, N - 1]``.
logit score
    ``LS(A, B) = ln((N - MR) / MR)``: the logit of ``1 - MR / N``, so the
    strongest pair of ``N`` genes scores ``ln(N - 1)``, a pair at the median
    rank ``N / 2`` scores 0 and the weakest ``-ln(N - 1)``. Its inverse is
    ``MR = N / (1 + exp(LS))``.
z-score
    per gene, over its ``N - 1`` partners: ``z(A, B) = (s(A, B) - mean_A) / sd_A``
    with the population standard deviation; ``z`` is 0 for a gene whose scores
    are all equal.

Binned ranks (the fast path)
    The engine ranks a gene's correlations through a histogram of ``n_bins``
    equal bins over ``[-1, 1]`` (bin 0 holds the strongest correlations): a
    value in bin ``k`` gets the mid-rank of its bin rounded down,
    ``(#partners in bins < k) + (count in bin k + 1) // 2``. Ranks are exact
    when every bin holds at most one value, which is the case at the top of a
    ranking where partners are sparse; elsewhere they deviate by at most half
    the bin count. A counting pass per gene replaces a sort. On 3,000 genes
    the top-100 partner lists of subagging agree 99.9% with exact ranks
    (``tests/test_coexpression.py``).
"""

from __future__ import annotations

import numba
import numpy as np
from scipy.stats import rankdata

#: default number of correlation bins for ranks (resolution 2 / 4096 ~ 0.0005).
RANK_BINS = 4096
#: tile edge (genes) in :func:`accumulate_logit`.
TILE = 256


def mutual_rank(rank_ab: np.ndarray, rank_ba: np.ndarray) -> np.ndarray:
    """``MR = sqrt(rank_A(B) * rank_B(A))``."""
    return np.sqrt(np.asarray(rank_ab, dtype=float) * np.asarray(rank_ba, dtype=float))


def logit_score(mr: np.ndarray, n_genes: int) -> np.ndarray:
    """``LS = ln((N - MR) / MR)`` with ``N = n_genes``."""
    mr = np.asarray(mr, dtype=float)
    return np.log((n_genes - mr) / mr)


def mr_from_logit(ls: np.ndarray, n_genes: int) -> np.ndarray:
    """Inverse of :func:`logit_score`: ``MR = N / (1 + exp(LS))``."""
    return n_genes / (1.0 + np.exp(np.asarray(ls, dtype=float)))


def rank_matrix(corr: np.ndarray) -> np.ndarray:
    """Exact mid-ranks of each row of a square correlation matrix, self excluded (diagonal 0)."""
    corr = np.array(corr, dtype=float)
    np.fill_diagonal(corr, np.inf)
    ranks = rankdata(-corr, axis=1) - 1.0  # self sorts first; drop its place
    np.fill_diagonal(ranks, 0.0)
    return ranks


def zscore_rows(scores: np.ndarray, exclude_diagonal_from: int | None = None) -> np.ndarray:
    """Row-wise z-score; with ``exclude_diagonal_from=r0`` row ``i`` ignores column ``r0 + i`` (self)."""
    scores = np.asarray(scores, dtype=np.float64)
    mask = np.ones(scores.shape, dtype=bool)
    if exclude_diagonal_from is not None:
        rows = np.arange(scores.shape[0])
        mask[rows, exclude_diagonal_from + rows] = False
    count = mask.sum(axis=1, keepdims=True)
    mean = np.where(mask, scores, 0.0).sum(axis=1, keepdims=True) / count
    sd = np.sqrt(np.where(mask, (scores - mean) ** 2, 0.0).sum(axis=1, keepdims=True) / count)
    return np.divide(scores - mean, sd, out=np.zeros_like(scores), where=sd > 0)


# ----------------------------------------------------------------- numba kernels


@numba.njit(nogil=True, cache=True, fastmath=True)
def binned_ranks(corr, row0, n_bins, ranks):
    """Binned ranks of full rows ``row0..`` of the correlation matrix into ``ranks`` (self gets 0).

    A value in bin ``k`` gets ``(#partners in bins < k) + (count in bin k + 1) // 2``
    (the mid-rank of its bin, rounded down; exact when alone in its bin).
    """
    n_rows, n_cols = corr.shape
    half_bins = n_bins / 2.0
    counts = np.empty(n_bins, dtype=np.int64)
    bins = np.empty(n_cols, dtype=np.int32)
    for t in range(n_rows):
        gene = row0 + t
        counts[:] = 0
        for b in range(n_cols):  # a loop of its own so it vectorises
            bins[b] = min(max(np.int32((1.0 - corr[t, b]) * half_bins), 0), n_bins - 1)
        for b in range(n_cols):
            counts[bins[b]] += 1
        counts[bins[gene]] -= 1  # not its own partner
        above = 0
        for k in range(n_bins):
            count = counts[k]
            counts[k] = above + (count + 1) // 2
            above += count
        for b in range(n_cols):
            ranks[gene, b] = counts[bins[b]]
        ranks[gene, gene] = 0


@numba.njit(inline="always")
def packed_offset(a, n):
    """Start of row ``a`` of the strict upper triangle stored row by row (pairs ``a < b``)."""
    return a * n - a * (a + 1) // 2 - a - 1


@numba.njit(nogil=True, cache=True, fastmath=True)
def accumulate_logit(ranks, scale, packed):
    """Add ``floor(scale * LS(A, B) + 0.5)`` to ``packed`` for every pair ``A < B``.

    ``ranks[A, B] = rank_A(B)``; ``packed`` is the strict upper triangle
    (int32, row-major). LS is evaluated in float32. Integer sums do not depend
    on the order bags are added in, so any split of bags over workers gives
    bit-identical totals. Pairs are visited in ``TILE`` x ``TILE`` tiles and
    the ``ranks[B, A]`` of a tile row are gathered once into a buffer.
    """
    n_genes = ranks.shape[0]
    n_float = np.float32(n_genes)
    scale32 = np.float32(scale)
    column = np.empty(TILE, dtype=np.float32)
    logit = np.empty(TILE, dtype=np.float32)
    for i0 in range(0, n_genes, TILE):
        i1 = min(i0 + TILE, n_genes)
        for j0 in range(i0, n_genes, TILE):
            j1 = min(j0 + TILE, n_genes)
            for a in range(i0, i1):
                first = max(j0, a + 1)
                width = j1 - first
                for j in range(width):
                    column[j] = ranks[first + j, a]
                row = ranks[a, first:j1]
                # separate simple loops: the compiler vectorises them (about 2x faster than one loop)
                for j in range(width):
                    mr = np.sqrt(np.float32(row[j]) * column[j])
                    logit[j] = (n_float - mr) / mr
                for j in range(width):
                    logit[j] = np.log(logit[j])
                base = packed_offset(a, n_genes) + first
                for j in range(width):
                    packed[base + j] += np.int32(np.floor(scale32 * logit[j] + np.float32(0.5)))


@numba.njit(nogil=True, cache=True)
def unpack_rows(packed, row0, n_rows, n_genes, out):
    """Full rows ``row0..row0 + n_rows`` of the symmetric matrix stored as ``packed`` (diagonal 0)."""
    for t in range(n_rows):
        a = row0 + t
        for b in range(a):
            out[t, b] = packed[packed_offset(b, n_genes) + a]
        out[t, a] = 0
        base = packed_offset(a, n_genes)
        for b in range(a + 1, n_genes):
            out[t, b] = packed[base + b]
