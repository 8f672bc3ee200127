"""Coexpression indices: subagging of principal components (ATTED-II v11) and two baselines.

Subagging of PCs (``method="subagging"``)
    1. Gene vectors: ``gene_score`` (run :func:`~atted_explore.compute.pca`
       first, or it is run with its defaults) with every PC standardized over
       genes to mean 0 and unit variance, so an axis of condition counts once
       however many samples share it (``P`` PCs).
    2. Bag ``b = 0 .. n_bags - 1`` draws ``m = min(P, max(3, floor(fraction * P + 0.5)))``
       PCs (halves round up, so ``m`` never decreases as ``P`` grows) without
       replacement with ``numpy.random.default_rng([seed, b])``: each bag
       depends only on ``(seed, b)``, so bags are independent tasks. When fewer
       than 20 distinct bags exist (``comb(P, m) < 20``) and several bags are
       asked for, a warning says so: such bags barely differ.
    3. Per bag: Pearson correlation ``r_b(A, B)`` of every gene pair over the
       ``m`` drawn PCs; ranks ``rank_A(B)`` of each gene's partners, exact
       mid-ranks down to ``exact_depth`` and in every bin crowded for its
       rank, bin mid-ranks within a relative error ``rank_tolerance`` elsewhere
       (see :mod:`~atted_explore.compute.ranking`);
       ``MR_b = sqrt(rank_A(B) * rank_B(A))``;
       logit score ``LS_b = ln((N - MR_b) / MR_b)`` (``N`` genes; float32,
       :func:`~atted_explore.compute.ranking.accumulate_logit`).
    4. ``LS(A, B) = mean_b LS_b(A, B)``; ``coex_score(A, B) = z-score of
       LS(A, .) over the N - 1 partners of A``; the top ``top_k`` partners by
       ``coex_score`` are kept. ``coex_mr = N / (1 + exp(LS))`` is the mutual
       rank whose logit score equals the bag average.

    Each bag's logit scores are added as integers ``floor(LS_b * 2^q + 0.5)``
    with the largest ``q`` that cannot overflow int32 over all bags
    (resolution ``2^-q``, e.g. 2^-17 ~ 8e-6 for 1000 bags of 20,000 genes):
    integer sums do not depend on the order of addition, so a run on a Dask
    cluster is bit-identical to an in-process run with the same seed on
    workers of the same CPU type and BLAS build (the kernels use no fast-math;
    the BLAS product's rounding may differ between CPUs or BLAS builds).

    Memory: bags run one after another within a task (one task per core
    in-process, one per worker thread on a cluster; each takes the next bag
    when it is done with one, so the tasks finish together).
    Correlations are computed 32 or 256 rows at a time into one reused
    buffer and turned into ranks at once; a task holds the bag's rank matrix
    (N x N uint16, 0.8 GB for 20,000 genes). The sums (the strict upper
    triangle, ``N (N - 1) / 2`` int32, 0.8 GB) are one per process
    in-process, shared by its threads (:class:`LogitSums`), and one per task
    on a cluster.

Pearson over samples (``method="pearson"``)
    ``coex_score = r(A, B)`` over the gene-centred log2 expression.

Mutual rank over samples (``method="mr"``)
    The same kernel as one bag that uses all samples as dimensions:
    ``coex_mr = MR(A, B)`` of the sample-space Pearson correlation and
    ``coex_score = LS(A, B) = ln((N - MR) / MR)``.

All methods add ``coex_partner`` (gene, rank: int32 positions on ``gene``;
``K = min(top_k, N - 1)`` so every entry is a real partner, never -1),
``coex_score`` (float32, sorted descending; ties by partner position),
``coex_mr`` where the method has one, the ``rank`` coordinate 1..K, and
node attrs ``coex_method`` and ``coex_params`` (JSON of the exact parameters).
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
import uuid
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import xarray as xr
from threadpoolctl import threadpool_limits

from ..atlas import with_partner_order
from ..errors import InputError
from . import ranking
from .consistency import FUNCTION_SCORE_ATTRS, annotated_genes, full_index_score
from .logit_sums import LogitSums
from .pairs import standardized_gene_scores
from .sample_pca import pca
from .progress import Progress, ProgressReporter

METHODS = ("subagging", "pearson", "mr")
#: fewer distinct bags than this draws a warning.
MIN_DISTINCT_BAGS = 20
#: rows of the gene-pair matrix computed at once (memory: BLOCK_ROWS x N float32).
BLOCK_ROWS = 256
#: rows of a bag's correlations computed and ranked at once when the product is cheap (at most
#: SMALL_BAG_PCS PCs per bag): 32 x 20,000 float32 (2.5 MB) is still in the core's cache when the
#: rank kernel reads it back (0.37 -> 0.22 CPU-s per bag for the product at 10 PCs). Larger bags use
#: BLOCK_ROWS: BLAS repacks the right-hand side for every block, which at 100 PCs per bag costs more
#: than the cache saves (1.06 -> 1.82 CPU-s per bag with 32 rows).
BAG_BLOCK_ROWS = 32
SMALL_BAG_PCS = 32
_COEX_VARIABLES = ("coex_partner", "coex_score", "coex_mr", "rank")


# ----------------------------------------------------------------- bag kernels


def bag_size(n_dims: int, fraction: float) -> int:
    """PCs per bag: ``min(P, max(3, floor(fraction * P + 0.5)))`` (monotone in ``P``; halves round up)."""
    return min(n_dims, max(3, math.floor(fraction * n_dims + 0.5)))


def bag_columns(n_dims: int, fraction: float, n_bags: int, seed: int) -> list[np.ndarray]:
    """The sorted dimensions (PC positions) drawn by each bag; bag ``b`` uses ``default_rng([seed, b])``."""
    if n_dims < 3:
        raise InputError(f"subagging needs at least 3 PCs to correlate genes over; the node has {n_dims}")
    n_draw = bag_size(n_dims, fraction)
    distinct = math.comb(n_dims, n_draw)
    if n_bags > 1 and distinct < MIN_DISTINCT_BAGS:
        warnings.warn(
            f"subagging: {n_draw} of {n_dims} PCs per bag allows only {distinct} distinct bag(s) "
            f"(fewer than {MIN_DISTINCT_BAGS}); the {n_bags} bags barely differ (select more PCs or change fraction)",
            stacklevel=3,
        )
    return [np.sort(np.random.default_rng([seed, b]).choice(n_dims, n_draw, replace=False)) for b in range(n_bags)]


def unit_rows(vectors: np.ndarray, dtype=np.float32) -> np.ndarray:
    """Rows centred and scaled to unit norm, so ``Z @ Z.T`` is the Pearson correlation; constant rows are 0."""
    centred = vectors - vectors.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(centred, axis=1, keepdims=True)
    return np.divide(centred, norms, out=np.zeros_like(centred), where=norms > 0).astype(dtype)


def logit_scale(n_genes: int, n_bags: int) -> float:
    """``2^q``: the largest power of two with ``n_bags * (ln(N - 1) * 2^q + 1) < 2^31``."""
    bound = max(math.log(max(n_genes - 1, 2)), 1.0)
    return float(2 ** math.floor(math.log2((2**31 - 1 - n_bags) / (n_bags * bound))))


def bag_logit_sum(
    vectors: np.ndarray,
    bags: list[np.ndarray],
    scale: float,
    n_bins: int,
    depth: int,
    on_bag=None,
    timings: dict | None = None,
    tolerance: float = ranking.RANK_TOLERANCE,
    sums: LogitSums | None = None,
    thread: int = 0,
    n_threads: int = 1,
) -> np.ndarray:
    """Sum over ``bags`` (any iterable of column arrays) of ``round(scale * LS_b)`` for all pairs ``A < B`` (packed strict upper triangle, int32).

    One bag at a time: correlations in blocks of ``BAG_BLOCK_ROWS`` rows (``BLOCK_ROWS``
    above ``SMALL_BAG_PCS`` PCs per bag), each turned
    into ranks at once (one N x N uint16 rank matrix per call). BLAS is limited
    to one thread so results do not depend on the thread count. ``timings``, if
    given, accumulates CPU seconds of the ``correlation``, ``ranks`` and
    ``logit`` steps, updated after every bag (before ``on_bag``). ``depth`` and
    ``tolerance``: which ranks are exact (:func:`~atted_explore.compute.ranking.partner_ranks`).
    ``sums``: the :class:`LogitSums` that this call (thread ``thread`` of
    ``n_threads``) adds to and whose triangle it returns; a new one by default.
    """
    n_genes = vectors.shape[0]
    sums = LogitSums(n_genes) if sums is None else sums
    ranks = np.empty((n_genes, n_genes), dtype=np.uint16 if 2 * n_genes < 2**16 else np.uint32)  # doubled ranks
    # one correlation buffer for all blocks: a fresh block per product costs page faults,
    # which threads of one process take in turn
    correlations = np.empty((min(BLOCK_ROWS, n_genes), n_genes), dtype=np.float32)
    clock = {} if timings is None else timings
    for step in ("correlation", "ranks", "logit"):
        clock.setdefault(step, 0.0)
    with threadpool_limits(1, user_api="blas"):
        for columns in bags:
            exact_unit = unit_rows(vectors[:, columns], np.float64)  # orders what float32 cannot
            unit = exact_unit.astype(np.float32)
            block_rows = BAG_BLOCK_ROWS if len(columns) <= SMALL_BAG_PCS else BLOCK_ROWS
            for row0 in range(0, n_genes, block_rows):
                start = time.thread_time()
                rows = unit[row0 : row0 + block_rows]
                block = np.matmul(rows, unit.T, out=correlations[: len(rows)])
                middle = time.thread_time()
                ranking.partner_ranks(block, exact_unit, row0, n_bins, depth, ranks, ranking.REFINE_DEPTH, tolerance)
                clock["correlation"] += middle - start
                clock["ranks"] += time.thread_time() - middle
            start = time.thread_time()
            sums.add(ranks, scale, thread, n_threads)
            clock["logit"] += time.thread_time() - start
            if on_bag is not None:
                on_bag()
    return sums.packed


class _BagDispenser:
    """The bags, handed out one at a time to whichever thread asks first: threads finish together
    however much each bag costs (crowded rank bins make some bags slower)."""

    def __init__(self, bags: list[np.ndarray]):
        self._bags = iter(bags)
        self._lock = threading.Lock()

    def __iter__(self):
        return self

    def __next__(self) -> np.ndarray:
        with self._lock:
            return next(self._bags)


def _queued_bag_logit_sum(vectors, bags, queue_name, scale, n_bins, depth, tolerance) -> tuple[np.ndarray, int]:
    """A cluster task: :func:`bag_logit_sum` over the bags whose positions it takes from the Dask
    queue ``queue_name`` until it takes ``None``; returns the sums and how many bags they hold."""
    from distributed import Queue

    queue, taken = Queue(queue_name), 0

    def pulled():
        nonlocal taken
        while (position := queue.get()) is not None:
            taken += 1
            yield bags[position]

    return bag_logit_sum(vectors, pulled(), scale, n_bins, depth, tolerance=tolerance), taken


def available_cores() -> int:
    """CPU cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _run_bags(vectors, bags, scale, n_bins, depth, tolerance, client, progress: Progress, threads: int | None) -> np.ndarray:
    """Total of :func:`bag_logit_sum` over all bags: in-process threads, or tasks on a Dask client."""
    with ProgressReporter(progress, len(bags), "coexpression bags") as reporter:
        if client is None:
            n_threads = max(1, min(threads or available_cores(), len(bags)))
            dispenser, sums = _BagDispenser(bags), LogitSums(vectors.shape[0])
            # BLAS at one thread for the whole pool: the limit is process-wide, and BLAS threads
            # competing with the pool's threads slow every bag down
            with threadpool_limits(1, user_api="blas"), ThreadPoolExecutor(n_threads) as pool:
                futures = [
                    pool.submit(bag_logit_sum, vectors, dispenser, scale, n_bins, depth, reporter.update, None, tolerance, sums, thread, n_threads)
                    for thread in range(n_threads)
                ]
                for future in futures:
                    future.result()
            return sums.packed
        return _cluster_bags(vectors, bags, scale, n_bins, depth, tolerance, client, reporter)


def _cluster_bags(vectors, bags, scale, n_bins, depth, tolerance, client, reporter) -> np.ndarray:
    """:func:`_run_bags` on a Dask client: one task per worker thread, each taking bags from a queue
    (so a worker slowed by its neighbours takes fewer), its sums added here as tasks finish."""
    import dask
    from distributed import Queue, as_completed

    n_tasks = max(1, min(sum(client.nthreads().values()), len(bags)))
    queue = Queue(f"atted-explore-bags-{uuid.uuid4().hex}", client=client)
    try:
        for position in range(len(bags)):
            queue.put(position)
        # a stop for every task, and for every rerun of a task after its worker is lost
        for _ in range(n_tasks * (1 + dask.config.get("distributed.scheduler.allowed-failures"))):
            queue.put(None)
        shared = client.scatter([vectors, bags], broadcast=True)
        futures = [
            client.submit(_queued_bag_logit_sum, *shared, queue.name, scale, n_bins, depth, tolerance, pure=False) for _ in range(n_tasks)
        ]
        total, summed = None, 0
        for future in as_completed(futures):
            part, taken = future.result()
            total = part if total is None else np.add(total, part, out=total)
            summed += taken
            reporter.update(taken)
            future.release()
    finally:
        queue.close()
    if summed != len(bags):  # the bags a lost worker had taken are not in any task's sums
        raise RuntimeError(f"coexpression on the Dask cluster summed {summed} of {len(bags)} bags (a worker was lost); run it again")
    return total


# ----------------------------------------------------------------- top-K tables


def _top_k(scores: np.ndarray, row0: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top ``k`` columns of each row, self (column ``row0 + i``) excluded, sorted by descending score."""
    scores = np.array(scores, dtype=np.float64)
    rows = np.arange(scores.shape[0])
    scores[rows, row0 + rows] = -np.inf
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    top_scores = np.take_along_axis(scores, top, axis=1)
    order = np.lexsort((top, -top_scores), axis=1)
    return np.take_along_axis(top, order, axis=1), np.take_along_axis(top_scores, order, axis=1)


def _tables_from_packed(
    packed, n_genes, n_bags, scale, k, zscore, threads: int, annotated: np.ndarray
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The top-K tables, and the bag sums of the pairs among ``annotated`` genes (a square int32 matrix)."""
    partner = np.empty((n_genes, k), dtype=np.int32)
    score = np.empty((n_genes, k), dtype=np.float32)
    mr = np.empty((n_genes, k), dtype=np.float32)
    annotated_sums = np.zeros((annotated.size, annotated.size), dtype=np.int32)
    place = np.full(n_genes, -1)
    place[annotated] = np.arange(annotated.size)

    def fill(starts):
        block = np.empty((BLOCK_ROWS, n_genes), dtype=np.int32)
        for row0 in starts:
            rows = min(BLOCK_ROWS, n_genes - row0)
            ranking.unpack_rows(packed, row0, rows, n_genes, block)
            listed = place[row0 : row0 + rows]
            annotated_sums[listed[listed >= 0]] = block[:rows][listed >= 0][:, annotated]
            mean_logit = block[:rows] / (scale * n_bags)
            index = ranking.zscore_rows(mean_logit, exclude_diagonal_from=row0) if zscore else mean_logit
            top, top_index = _top_k(index, row0, k)
            partner[row0 : row0 + rows] = top
            score[row0 : row0 + rows] = top_index
            mr[row0 : row0 + rows] = ranking.mr_from_logit(np.take_along_axis(mean_logit, top, axis=1), n_genes)

    # row blocks are independent, and the kernels and numpy's sorts run without the GIL
    starts = range(0, n_genes, BLOCK_ROWS)
    with ThreadPoolExecutor(threads) as pool:
        for _ in pool.map(fill, [starts[t::threads] for t in range(threads)]):
            pass
    return {"coex_partner": partner, "coex_score": score, "coex_mr": mr}, annotated_sums


def _pearson_tables(unit: np.ndarray, k: int) -> dict[str, np.ndarray]:
    n_genes = unit.shape[0]
    partner = np.empty((n_genes, k), dtype=np.int32)
    score = np.empty((n_genes, k), dtype=np.float32)
    for row0 in range(0, n_genes, BLOCK_ROWS):
        top, top_scores = _top_k(unit[row0 : row0 + BLOCK_ROWS] @ unit.T, row0, k)
        partner[row0 : row0 + len(top)] = top
        score[row0 : row0 + len(top)] = top_scores
    return {"coex_partner": partner, "coex_score": score}


def reference_mean_logit(vectors: np.ndarray, bags: list[np.ndarray]) -> np.ndarray:
    """Direct, slow computation of ``mean_b LS_b`` (N x N, diagonal 0) with exact ranks.

    Per bag ``numpy.corrcoef`` and ``scipy.stats.rankdata``; the reference the
    fast path is checked and benchmarked against.
    """
    n_genes = vectors.shape[0]
    total = np.zeros((n_genes, n_genes))
    for columns in bags:
        ranks = ranking.rank_matrix(np.corrcoef(vectors[:, columns]))
        np.fill_diagonal(ranks, 1.0)
        total += ranking.logit_score(ranking.mutual_rank(ranks, ranks.T), n_genes)
    np.fill_diagonal(total, 0.0)
    return total / len(bags)


def top_k_table(index: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` partners (positions, scores) of every row of a full N x N index, self excluded."""
    return _top_k(index, 0, k)


# ----------------------------------------------------------------- public API


def _gene_vectors(node: xr.Dataset) -> np.ndarray:
    return np.asarray(standardized_gene_scores(node).transpose("gene", "pc").values, dtype=np.float64)


def _expression(node: xr.Dataset) -> np.ndarray:
    if "expression" not in node:
        raise InputError("node has no variable 'expression' (gene, sample) for a sample-space index")
    return np.asarray(node["expression"].transpose("gene", "sample").values, dtype=np.float64)


def coexpression(
    node: xr.Dataset,
    method: str = "subagging",
    *,
    n_bags: int = 1000,
    fraction: float = 0.5,
    top_k: int = 2000,
    seed: int = 0,
    client=None,
    progress: Progress = True,
    rank_bins: int = ranking.RANK_BINS,
    threads: int | None = None,
    exact_depth: int | None = None,
    rank_tolerance: float = ranking.RANK_TOLERANCE,
) -> xr.Dataset:
    """Return a copy of ``node`` with the top-``top_k`` coexpression partners of every gene.

    ``method``: ``"subagging"`` (default; runs :func:`pca` with its defaults
    first, and returns its variables too, when ``gene_score`` is missing), ``"pearson"`` or ``"mr"`` (over samples); formulas in the module
    doc. ``client``: a ``dask.distributed.Client`` to run the bags as tasks on
    its workers (bit-identical to ``client=None`` on the same CPU type and BLAS, which runs ``threads``
    threads, default one per available core; each holds a 2 N^2-byte rank
    matrix and all share the 2 N^2-byte sums, e.g. 2.4 GB for 20,000 genes on
    2 threads; a cluster task holds both, 1.6 GB; the top-K tables are built on
    as many threads in-process). ``progress``: True for a tqdm bar over bags, False for none, or a
    callable ``progress(done, total)``. ``rank_bins``: correlation bins for the
    ranks (:mod:`~atted_explore.compute.ranking`); subagging uses at most
    ``max(1024, 4 N)``. ``exact_depth``: in every bag, ranks up to this depth
    are exact (default 100, where float64 orders what float32 cannot; a
    larger depth sorts more bins, at a cost). ``rank_tolerance``: deeper, a
    bin is sorted (exact ranks) when its mid-rank could be off by more than
    ``rank_tolerance`` times the rank, so every rank is within that relative
    error and a bag's logit score of a pair with ``LS >= 0`` within
    ``2 rank_tolerance``; 0 makes every rank exact.

    When the node has gene sets, attr ``function_score`` is the ATTED-II
    function score of the full index before z-scoring (the symmetric bag-mean
    logit score for subagging), computed on every annotated pair while building
    (:mod:`~atted_explore.compute.consistency`).
    """
    if method not in METHODS:
        raise InputError(f"coexpression method {method!r}: expected one of {METHODS}")
    n_genes = node.sizes["gene"]
    if n_genes < 3:
        raise InputError(f"node has {n_genes} genes; coexpression needs at least 3")
    if n_bags < 1 or not 0 < fraction <= 1 or top_k < 1:
        raise InputError(f"coexpression: n_bags={n_bags}, fraction={fraction}, top_k={top_k}; expected n_bags >= 1, 0 < fraction <= 1, top_k >= 1")
    k = min(top_k, n_genes - 1)
    params = {"method": method, "top_k": k, "n_genes": n_genes}
    # the function score needs the full index on the annotated genes' pairs: kept while building
    annotated = annotated_genes(node) if "member_set" in node else np.empty(0, dtype=np.int64)
    if method == "pearson":
        unit = unit_rows(_expression(node))
        tables = _pearson_tables(unit, k)
        annotated_index = unit[annotated] @ unit[annotated].T
    else:
        if method == "subagging":
            if "gene_score" not in node:
                node = pca(node)  # the PCA's variables are returned too
            vectors = _gene_vectors(node)
            bags = bag_columns(vectors.shape[1], fraction, n_bags, seed)
            params.update(n_bags=n_bags, fraction=fraction, seed=seed, n_pcs=vectors.shape[1], pcs_per_bag=len(bags[0]))
        else:
            vectors = _expression(node)
            bags = [np.arange(vectors.shape[1])]
        # per bag, bins cost as much as genes: beyond max(1024, 4 N) they only cost time
        n_bins = rank_bins if method == "mr" else min(rank_bins, max(1024, 4 * n_genes))
        depth = min(n_genes - 1, ranking.REFINE_DEPTH if exact_depth is None else exact_depth)
        if depth < 1:
            raise InputError(f"coexpression: exact_depth={exact_depth}; expected an integer >= 1")
        if not 0 <= rank_tolerance < 1:
            raise InputError(f"coexpression: rank_tolerance={rank_tolerance}; expected a number in [0, 1)")
        params.update(
            rank_bins=n_bins, exact_depth=depth, rank_tolerance=rank_tolerance, logit="ln((N - MR) / MR)", zscore=method == "subagging"
        )
        scale = logit_scale(n_genes, len(bags))
        packed = _run_bags(
            vectors, bags, scale, n_bins, depth, rank_tolerance, client, progress if method == "subagging" else False, threads
        )
        # the bag sums rank pairs as the bag-mean logit scores do (a positive factor apart)
        tables, annotated_index = _tables_from_packed(
            packed, n_genes, len(bags), scale, k, method == "subagging", threads or available_cores(), annotated
        )
    out = node.drop_vars([v for v in _COEX_VARIABLES if v in node.variables])
    out = out.assign({name: (("gene", "rank"), values) for name, values in tables.items()})
    out = out.assign_coords(rank=np.arange(1, k + 1))
    attrs = {key: value for key, value in node.attrs.items() if key not in FUNCTION_SCORE_ATTRS}
    out.attrs = {**attrs, "coex_method": method, "coex_params": json.dumps(params, sort_keys=True)}
    out = with_partner_order(out)
    score = full_index_score(node, annotated, annotated_index)
    if score is not None:
        out.attrs["function_score"] = score
    return out
