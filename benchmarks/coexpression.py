"""Speed and memory of the coexpression engine (subagging of PCs).

    python benchmarks/coexpression.py [--quick]

Prints, for inputs generated in the same run:
  * the machine's float32 matmul rate (numpy BLAS, 1 thread and all threads);
  * the engine's CPU seconds per bag on N genes x 200 PCs (100 PCs per bag),
    split into the correlation part (BLAS; achieved GFLOP/s, counted as
    2 N^2 m per bag) and the rank / mutual-rank / logit part, in steady state:
    the first bag of a task also first-touches its N x N arrays (page faults)
    and is reported apart;
  * the ratio against the naive reference (per bag ``np.corrcoef`` +
    ``scipy.stats.rankdata``, :func:`~atted_explore.compute.indices.reference_mean_logit`)
    on the same inputs, both on one thread;
  * wall time of an in-process build with one thread per core, extrapolated
    to 20,000 genes x 1000 bags as first round (every thread's first bag) +
    steady wall time per bag x the other bags + the once-only top-K tables
    (from the measured size by N^2 when that is smaller), and peak RSS;
  * a dask.distributed LocalCluster build with 2 workers vs 1 worker
    (threads_per_worker=1, BLAS at 1 thread inside the tasks).
CPU seconds (``time.thread_time``) keep the per-bag figures meaningful when
other jobs share the machine; the cluster ratio is wall time.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import xarray as xr
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import matmul_gflops, parser, peak_rss_gb, result_line  # noqa: E402

from atted_explore.compute import coexpression, indices  # noqa: E402

N_PCS = 200
FULL_GENES, FULL_BAGS = 20_000, 1000


def gene_vectors(n_genes: int, seed: int = 0) -> np.ndarray:
    """Standardised PC scores with some shared structure (modules of genes)."""
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((n_genes, 20)) @ rng.standard_normal((20, N_PCS))
    vectors = latent + 2 * rng.standard_normal((n_genes, N_PCS))
    return ((vectors - vectors.mean(0)) / vectors.std(0)).astype(np.float32)


def pc_node(vectors: np.ndarray) -> xr.Dataset:
    """A node carrying ``vectors`` as its ``gene_score`` (what the engine starts from)."""
    n_genes = vectors.shape[0]
    return xr.Dataset(
        {"gene_score": (("gene", "pc"), vectors)},
        coords={"gene": [f"g{i}" for i in range(n_genes)], "pc": np.arange(1, N_PCS + 1)},
    )


def engine_per_bag(vectors: np.ndarray, n_bags: int) -> tuple[dict[str, float], float]:
    """CPU seconds per bag of each step of the engine on one thread over bags 2..n_bags, and of the first bag."""
    bags = indices.bag_columns(N_PCS, 0.5, n_bags, seed=0)
    scale = indices.logit_scale(vectors.shape[0], FULL_BAGS)
    indices.bag_logit_sum(vectors[:300], bags[:1], scale, 4096)  # compile / load the kernels
    timings: dict[str, float] = {}
    after_bag: list[dict[str, float]] = []
    indices.bag_logit_sum(vectors, bags, scale, 4096, on_bag=lambda: after_bag.append(dict(timings)), timings=timings)
    first = after_bag[0]
    return {step: (timings[step] - first[step]) / (n_bags - 1) for step in timings}, sum(first.values())


def naive_per_bag(vectors: np.ndarray, n_bags: int) -> float:
    bags = indices.bag_columns(N_PCS, 0.5, n_bags, seed=0)
    with threadpool_limits(1, user_api="blas"):
        start = time.thread_time()
        indices.reference_mean_logit(vectors.astype(np.float64), bags)
        return (time.thread_time() - start) / n_bags


def cluster_seconds(node: xr.Dataset, n_workers: int, n_bags: int) -> float:
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            coexpression(node, n_bags=2, top_k=10, client=client, progress=False)  # warm-up: kernels, imports
            start = time.perf_counter()
            coexpression(node, n_bags=n_bags, top_k=100, client=client, progress=False)
            return time.perf_counter() - start


def main() -> None:
    args = parser(__doc__.split("\n")[0]).parse_args()
    quick = args.quick
    n_genes = 3000 if quick else FULL_GENES
    n_naive = 1500 if quick else 3000
    n_cluster, cluster_bags = (3000, 48) if quick else (6000, 80)
    cores = indices.available_cores()

    rate_1 = matmul_gflops(threads=1, clock=time.thread_time)
    rate_all = matmul_gflops()
    print(f"float32 matmul (numpy BLAS, 2048^3): {rate_1:.1f} GFLOP/s on 1 thread (CPU time), {rate_all:.1f} on {cores} (wall)")

    # same inputs for engine and naive reference
    small = gene_vectors(n_naive)
    engine_small, _ = engine_per_bag(small, 3)
    naive = naive_per_bag(small, 2)
    engine_small_total = sum(engine_small.values())
    speedup = naive / engine_small_total
    print(
        f"{n_naive} genes x {N_PCS} PCs, 1 thread: naive {naive:.3f} s/bag, engine {engine_small_total:.4f} s/bag "
        f"-> {speedup:.1f}x"
    )

    vectors = gene_vectors(n_genes)
    steps, first_bag = engine_per_bag(vectors, 3)
    per_bag = sum(steps.values())
    flops = 2 * n_genes**2 * (N_PCS // 2)
    gflops = flops / steps["correlation"] / 1e9
    print(
        f"{n_genes} genes x {N_PCS} PCs, 1 thread, CPU s/bag: correlation {steps['correlation']:.3f} "
        f"({gflops:.1f} GFLOP/s = {gflops / rate_1:.0%} of 1-thread matmul), ranks {steps['ranks']:.3f}, "
        f"MR+logit {steps['logit']:.3f}, total {per_bag:.3f} (first bag of the task: {first_bag:.3f})"
    )

    build_bags = (8 if quick else 4) * cores
    node = pc_node(vectors)
    bags_done_at = []
    start = time.perf_counter()
    out = coexpression(
        node, n_bags=build_bags, top_k=2000, progress=lambda done, total: bags_done_at.append(time.perf_counter())
    )
    build = time.perf_counter() - start
    params = json.loads(out.attrs["coex_params"])
    del out
    # bags run in parallel, one per thread; a thread's first bag also first-touches its N x N arrays
    first_round = bags_done_at[cores - 1] - start
    wall_per_bag = (bags_done_at[-1] - bags_done_at[cores - 1]) / (build_bags - cores)
    once = build - (bags_done_at[-1] - start)  # z-scores and top-K tables, paid once
    size_factor = (FULL_GENES / n_genes) ** 2
    minutes = (first_round + wall_per_bag * (FULL_BAGS - cores) + once) * size_factor / 60
    cpu_minutes = per_bag * FULL_BAGS / cores * size_factor / 60
    print(
        f"in-process build, {n_genes} genes x {build_bags} bags, {cores} threads: first round {first_round:.1f} s, "
        f"then {wall_per_bag:.2f} s/bag wall (all bags: {(bags_done_at[-1] - start) / build_bags:.2f}) + {once:.1f} s once; "
        f"extrapolated {FULL_GENES} genes x {FULL_BAGS} bags: {minutes:.1f} min "
        f"({'measured size' if size_factor == 1 else f'x{size_factor:.0f} for N^2'}; "
        f"from CPU s/bag on {cores} cores: {cpu_minutes:.1f} min); rank bins {params['rank_bins']}"
    )
    rss = peak_rss_gb()
    print(f"peak RSS of this process: {rss:.2f} GB")

    cluster_node = pc_node(gene_vectors(n_cluster, seed=1))
    one = cluster_seconds(cluster_node, 1, cluster_bags)
    two = cluster_seconds(cluster_node, 2, cluster_bags)
    print(f"LocalCluster, {n_cluster} genes x {cluster_bags} bags: 1 worker {one:.1f} s, 2 workers {two:.1f} s")

    print(
        result_line(
            genes=n_genes,
            matmul_gflops_1thread=rate_1,
            engine_s_per_bag=per_bag,
            correlation_gflops=gflops,
            rank_mr_s_per_bag=steps["ranks"] + steps["logit"],
            speedup_vs_naive=speedup,
            matmul_fraction=gflops / rate_1,
            dask_2v1=one / two,
            minutes_20k_1000bags=minutes,
            minutes_20k_1000bags_cpu=cpu_minutes,
            peak_rss_gb=rss,
        )
    )


if __name__ == "__main__":
    main()
