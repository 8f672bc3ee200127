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

Ranks in the engine (:func:`partner_ranks`)
    A counting pass per gene replaces a sort: the gene's float32 correlations
    are counted into ``n_bins`` equal bins over ``[-1, 1]`` (bin 0 holds the
    strongest). A value's rank is its bin's mid-rank ``start + (count + 1) / 2``
    (``start`` values above the bin), off from the exact mid-rank by at most
    ``(count - 1) / 2``, unless its bin is sorted, which gives exact ranks.
    A bin is sorted where the bin mid-rank could matter:

    - the top region: every bin up to the one holding rank ``depth``
      (default :data:`REFINE_DEPTH`; ``coexpression(exact_depth=...)``);
      there, runs of values that float32 cannot order for certain within the
      first :data:`REFINE_DEPTH` ranks are re-ordered by their float64
      correlation, so they are the mid-ranks of the float64 correlations;
    - every bin crowded for its rank: ``(count - 1) / 2 > tolerance (start + 1)``
      (``tolerance`` = :data:`RANK_TOLERANCE` = 0.003 by default).

    So every rank is exact or within a relative error ``tolerance``:
    ``|rank - exact| <= (count - 1) / 2 <= tolerance (start + 1) <= tolerance exact``
    (exact: the float32 mid-rank). In a bag's logit score,
    ``d LS = -N / (N - MR) d ln MR`` and ``|d ln MR| <= tolerance`` (half the
    sum of two relative rank errors), so
    ``|LS error| <= tolerance N / (N - MR)``: at most ``2 tolerance`` (0.006)
    for every pair with ``MR <= N / 2`` (``LS >= 0``), which holds every pair
    that can enter a top-K list. At 20,000 genes and 4096 bins a bin holds
    about 3-12 values, so only the first few hundred ranks and the truly
    crowded bins (tight modules) are sorted. Ranks are stored doubled
    (``2 rank``) so that mid-ranks of ties stay integers.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic
from scipy.stats import rankdata

#: default number of correlation bins for ranks (resolution 2 / 4096 ~ 0.0005).
RANK_BINS = 4096
#: relative rank error allowed below the exact top: a bin is sorted when ``(count - 1) / 2 > RANK_TOLERANCE (start + 1)``.
RANK_TOLERANCE = 0.003
#: ranks re-ordered by float64 correlations where float32 cannot order them, and exact by default.
REFINE_DEPTH = 100
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
    """Row-wise z-score; with ``exclude_diagonal_from=r0`` row ``i`` ignores column ``r0 + i`` (self, z = 0)."""
    scores = np.array(scores, dtype=np.float64)
    count = scores.shape[1]
    if exclude_diagonal_from is None:
        mean = scores.mean(axis=1, keepdims=True)
    else:
        rows = np.arange(scores.shape[0])
        self_at = (rows, exclude_diagonal_from + rows)
        count -= 1
        scores[self_at] = 0.0
        mean = scores.sum(axis=1, keepdims=True) / count
        scores[self_at] = mean[:, 0]  # adds nothing to the deviations
    scores -= mean
    sd = np.sqrt(np.einsum("ij,ij->i", scores, scores)[:, None] / count)
    return np.divide(scores, sd, out=np.zeros_like(scores), where=sd > 0)


# ----------------------------------------------------------------- numba kernels


#: segments up to this length are sorted by insertion (no allocation); longer ones by mergesort.
_INSERTION_MAX = 32


@numba.njit(nogil=True, cache=True)
def _sort_descending(values, order, start, stop, nearly_sorted=False):
    """Sort ``values[start:stop]`` descending, permuting ``order`` alongside (insertion when short or nearly sorted)."""
    if nearly_sorted or stop - start <= _INSERTION_MAX:
        for i in range(start + 1, stop):
            value, item = values[i], order[i]
            j = i - 1
            while j >= start and values[j] < value:
                values[j + 1], order[j + 1] = values[j], order[j]
                j -= 1
            values[j + 1], order[j + 1] = value, item
    else:
        permutation = np.argsort(-values[start:stop], kind="mergesort")
        values[start:stop] = values[start:stop][permutation]
        order[start:stop] = order[start:stop][permutation]


@numba.njit(inline="always")
def _dot(unit, a, b):
    """``unit[a] . unit[b]`` in float64, summed in a fixed order (four running sums: no long dependency chain)."""
    n_dims = unit.shape[1]
    s0 = s1 = s2 = s3 = 0.0
    for d in range(0, n_dims - 3, 4):
        s0 += unit[a, d] * unit[b, d]
        s1 += unit[a, d + 1] * unit[b, d + 1]
        s2 += unit[a, d + 2] * unit[b, d + 2]
        s3 += unit[a, d + 3] * unit[b, d + 3]
    for d in range(n_dims - n_dims % 4, n_dims):
        s0 += unit[a, d] * unit[b, d]
    return (s0 + s1) + (s2 + s3)


@numba.njit(nogil=True, cache=True)
def _write_ranks(values, order, start, stop, rank_offset, ranks_row):
    """Doubled mid-ranks of the sorted ``values[start:stop]`` (ties share one) into ``ranks_row[order[...]]``.

    Place ``q`` (0-based) ranks ``rank_offset + q - start + 1``.
    """
    i = start
    while i < stop:
        j = i
        while j + 1 < stop and values[j + 1] == values[i]:
            j += 1
        doubled = 2 * (rank_offset - start) + i + j + 2  # places i..j: mid-rank (i + j + 2) / 2
        for q in range(i, j + 1):
            ranks_row[order[q]] = doubled
        i = j + 1


# no fastmath: the bin of a value must be the same IEEE float32 expression in vector and scalar code
@numba.njit(nogil=True, cache=True)
def partner_ranks(corr, unit, row0, n_bins, depth, ranks, refine_depth=REFINE_DEPTH, tolerance=RANK_TOLERANCE):
    """Doubled ranks ``2 rank_A(B)`` of full rows ``row0..`` of the correlation matrix into ``ranks`` (self 0).

    ``corr`` is the float32 product of the float32 rows of ``unit`` (float64
    unit rows, one per gene). Each value goes to bin
    ``k = floor((1 - r) * n_bins / 2)`` (clipped; bin 0 holds the strongest
    correlations; a lower bin always means a larger float32 value). A bin is
    sorted, so its values get their exact float32 mid-ranks, when it lies in
    the top region (every bin up to the one holding rank ``depth``) or when it
    is crowded for its rank: ``count - 1 > 2 tolerance (start + 1)``, with
    ``start`` values above it. Any other value gets its bin's mid-rank
    ``start + (count + 1) / 2``, off by at most
    ``(count - 1) / 2 <= tolerance (start + 1) <= tolerance * rank``.
    In the top region, runs of values closer than the float32 error bound of
    a correlation over ``m`` dimensions, ``(m + 4) 2^-23``, that start within
    the first ``refine_depth`` ranks are re-ordered by their float64
    correlation (exact mid-ranks of the float64 correlations there; deeper, a
    swap of two such values moves a logit score by less than
    ``1 / (2 refine_depth)``, and the gathers of float64 rows cost more than
    the rest of the ranking). Ranks are stored doubled so mid-ranks of ties
    stay integers.
    """
    n_rows, n_cols = corr.shape
    half_bins = np.float32(n_bins / 2.0)
    near = (unit.shape[1] + 4) * 2.0**-23
    crowding = 2.0 * tolerance
    counts = np.empty(n_bins, dtype=np.int64)
    starts = np.empty(n_bins, dtype=np.int64)
    # int32 tables with one extra entry for the gene itself (rank 0, never sorted): the loops are plain gathers
    mid_ranks = np.zeros(n_bins + 1, dtype=np.int32)
    sorted_bin = np.zeros(n_bins + 1, dtype=np.int32)
    place = np.empty(n_bins, dtype=np.int64)  # start of a sorted bin among the sorted values
    fill = np.empty(n_bins, dtype=np.int64)
    bins = np.empty(n_cols, dtype=np.int32)
    order = np.empty(n_cols, dtype=np.int64)
    found = np.empty(n_cols + 1, dtype=np.int32)
    values = np.empty(n_cols, dtype=np.float64)
    for t in range(n_rows):
        gene = row0 + t
        row = corr[t]
        out = ranks[gene]
        for b in range(n_cols):  # a loop of its own so it vectorises
            bins[b] = min(max(np.int32((np.float32(1.0) - row[b]) * half_bins), 0), n_bins - 1)
        counts[:] = 0
        for b in range(n_cols):
            counts[bins[b]] += 1
        counts[bins[gene]] -= 1  # not its own partner
        above = 0
        n_sorted = 0
        cut = n_bins - 1
        for k in range(n_bins):
            count = counts[k]
            starts[k] = above
            mid_ranks[k] = 2 * above + count + 1
            above += count
            if above >= depth and cut == n_bins - 1:
                cut = k
            crowded = k <= cut or count - 1 > crowding * (starts[k] + 1)
            sorted_bin[k] = crowded
            place[k] = n_sorted
            if crowded:
                n_sorted += count
        bins[gene] = n_bins  # not its own partner: rank 0, never sorted
        for b in range(n_cols):
            out[b] = mid_ranks[bins[b]]
        n_found = 0
        for b in range(n_cols):
            found[n_found] = b  # branch-free: the values of sorted bins are few and scattered
            n_found += sorted_bin[bins[b]]
        # the top region is places 0..n_top (the same as its ranks), the other sorted bins follow
        n_top = starts[cut] + counts[cut]
        fill[:] = place
        for i in range(n_found):  # values are read here in column order, not gathered afterwards
            b = found[i]
            spot = fill[bins[b]]
            order[spot] = b
            values[spot] = row[b]
            fill[bins[b]] = spot + 1
        for k in range(n_bins):
            if sorted_bin[k] and (k > cut or counts[k] > _INSERTION_MAX):
                _sort_descending(values, order, place[k], place[k] + counts[k])
        # bins are in order, so one insertion pass sorts the top region in O(n_top + moves within bins)
        _sort_descending(values, order, 0, n_top, True)
        # runs that float32 cannot order for certain (in the first refine_depth): float64 correlations decide
        n_refine = min(n_top, refine_depth)
        i = 0
        while i < n_refine:
            j = i
            while j + 1 < n_top and values[j] - values[j + 1] < near:
                j += 1
            if j > i:
                for q in range(i, j + 1):
                    values[q] = _dot(unit, gene, order[q])
                _sort_descending(values, order, i, j + 1)
            i = j + 1
        _write_ranks(values, order, 0, n_top, 0, out)
        for k in range(cut + 1, n_bins):
            if sorted_bin[k]:
                _write_ranks(values, order, place[k], place[k] + counts[k], starts[k], out)


@numba.njit(inline="always")
def packed_offset(a, n):
    """Start of row ``a`` of the strict upper triangle stored row by row (pairs ``a < b``)."""
    return a * n - a * (a + 1) // 2 - a - 1


@intrinsic
def _float32_bits(typingctx, value):
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(32))

    return types.int32(types.float32), codegen


@intrinsic
def _bits_float32(typingctx, bits):
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())

    return types.float32(types.int32), codegen


@numba.njit(inline="always")
def log32(x):
    """Natural log of a positive, normal float32 in plain float32 arithmetic (Cephes ``logf``).

    ``x = 2^e * m`` with ``m`` in ``[sqrt(1/2), sqrt(2))`` read from the bits,
    ``ln x = e ln 2 + ln m`` with a degree-9 polynomial in ``m - 1``; within
    1 float32 ulp of ``ln x`` (checked on ``[1e-5, 7e4]``). Unlike a libm call
    it vectorises, and without fastmath it gives the same bits in vector and
    scalar code on every IEEE machine.
    """
    bits = _float32_bits(x)
    exponent = (bits >> 23) - 126
    mantissa = _bits_float32((bits & 0x007FFFFF) | 0x3F000000)  # in [0.5, 1)
    low = mantissa < np.float32(0.70710678)
    exponent -= np.int32(low)
    m = (mantissa + mantissa if low else mantissa) - np.float32(1.0)
    e = np.float32(exponent)
    m2 = m * m
    p = np.float32(7.0376836292e-2)
    p = p * m - np.float32(1.1514610310e-1)
    p = p * m + np.float32(1.1676998740e-1)
    p = p * m - np.float32(1.2420140846e-1)
    p = p * m + np.float32(1.4249322787e-1)
    p = p * m - np.float32(1.6668057665e-1)
    p = p * m + np.float32(2.0000714765e-1)
    p = p * m - np.float32(2.4999993993e-1)
    p = p * m + np.float32(3.3333331174e-1)
    p = p * m * m2 + np.float32(-2.12194440e-4) * e - np.float32(0.5) * m2
    return (m + p) + np.float32(0.693359375) * e  # ln 2 split in two parts for accuracy


# error_model="numpy" drops the division-by-zero branch that keeps the loop from vectorising;
# no fastmath: each pair's value is the same IEEE float32 expression in vector and scalar code
@numba.njit(nogil=True, cache=True, error_model="numpy")
def accumulate_logit(ranks, scale, packed, row_start=0, row_stop=-1):
    """Add ``floor(scale * LS(A, B) + 0.5)`` to ``packed`` for every pair ``A < B``, ``A`` in ``row_start..row_stop``.

    ``row_stop`` -1 means every row; ``row_start`` is a multiple of ``TILE`` (row blocks of
    ``TILE`` rows are what threads sharing ``packed`` lock: :class:`~atted_explore.compute.logit_sums.LogitSums`).

    ``ranks[A, B] = 2 rank_A(B)`` (:func:`partner_ranks`); ``packed`` is the strict upper triangle
    (int32, row-major). Per pair, in float32: ``MR = sqrt(ranks[A, B] * ranks[B, A]) / 2``,
    ``LS = log32((N - MR) / MR)`` (:func:`log32`), a deterministic function of
    the two ranks and ``N``. Integer sums do not depend on the order bags are
    added in, so any split of bags over workers gives bit-identical totals.
    Pairs are visited in ``TILE`` x ``TILE`` tiles and the ``ranks[B, A]`` of a
    tile row are gathered once into a buffer.
    """
    n_genes = ranks.shape[0]
    n_float = np.float32(n_genes)
    scale32 = np.float32(scale)
    column = np.empty(TILE, dtype=np.float32)
    rounded = np.empty(TILE, dtype=np.int32)
    for i0 in range(row_start, n_genes if row_stop < 0 else min(row_stop, n_genes), TILE):
        i1 = min(i0 + TILE, n_genes)
        for j0 in range(i0, n_genes, TILE):
            j1 = min(j0 + TILE, n_genes)
            for a in range(i0, i1):
                first = max(j0, a + 1)
                width = j1 - first
                for j in range(width):
                    column[j] = ranks[first + j, a]
                row = ranks[a, first:j1]
                # the sum into packed is a loop of its own: fused, the compiler cannot vectorise
                for j in range(width):
                    mr = np.float32(0.5) * np.float32(math.sqrt(np.float32(row[j]) * column[j]))
                    rounded[j] = np.int32(math.floor(scale32 * log32((n_float - mr) / mr) + np.float32(0.5)))
                base = packed_offset(a, n_genes) + first
                for j in range(width):
                    packed[base + j] += rounded[j]


@numba.njit(nogil=True, cache=True)
def unpack_rows(packed, row0, n_rows, n_genes, out):
    """Full rows ``row0..row0 + n_rows`` of the symmetric matrix stored as ``packed`` (diagonal 0)."""
    row1 = row0 + n_rows
    # left of the diagonal: row b of the triangle holds (b, a) for every a > b, so read it
    # along a (contiguous) rather than gather one value per triangle row
    for b in range(row1 - 1):
        base = packed_offset(b, n_genes)
        for a in range(max(row0, b + 1), row1):
            out[a - row0, b] = packed[base + a]
    for t in range(n_rows):
        a = row0 + t
        out[t, a] = 0
        base = packed_offset(a, n_genes)
        for b in range(a + 1, n_genes):
            out[t, b] = packed[base + b]
