"""Speed and memory of the coexpression engine (subagging of PCs).

    python benchmarks/coexpression.py [--quick]
    python benchmarks/coexpression.py --full [--pcs 20]   # one real 20,000-gene x 1000-bag build
    python benchmarks/coexpression.py --per-bag [--pcs 20] [--repeats 3]   # CPU-s per bag at 20,000 genes

--full builds 20,000 genes x 1000 bags end to end once (``--pcs`` PCs, 20 by
default) and prints its wall time, CPU time (also per bag), the load average
before and after (the machine may be shared) and peak RSS; nothing is
extrapolated. Progress lines every 50 bags; stopped early (SIGTERM, Ctrl-C) it
prints the figures of the bags done, marked ``partial=1``.

--per-bag measures the CPU seconds of each step of one bag at 20,000 genes on
one thread (steady state: the second bag of a call), for today's rank rule
(exact top 100 + crowded bins, :data:`~atted_explore.compute.ranking.RANK_TOLERANCE`)
and the former one (exact to rank 2000, no crowded bins), alternating the two
``--repeats`` times in one process and keeping the minimum of each step.

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
    (threads_per_worker=1, BLAS at 1 thread inside the tasks; the same bags
    and result): both clusters started and every worker warmed before timing,
    the two builds alternated and the fastest of each kept, with the CPU
    seconds of the workers and of the client process (scheduler, nannies);
  * exactness of the top lists: 3,000 genes in modules of 200 around random
    centres in 3 PC dimensions (noise 0.3), one bag over all PCs, top-10
    partner sets vs exact ranks (``scipy.stats.rankdata``), MR, logit, z.
CPU seconds (``time.thread_time``) keep the per-bag figures meaningful when
other jobs share the machine; the cluster ratio is wall time.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sys
import time
from pathlib import Path

import numpy as np
import xarray as xr
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import matmul_gflops, parser, peak_rss_gb, result_line  # noqa: E402

from atted_explore.compute import coexpression, indices, ranking  # noqa: E402

N_PCS = 200
FULL_GENES, FULL_BAGS = 20_000, 1000
#: alternations of the 1- and 2-worker cluster builds (fastest kept)
CLUSTER_REPEATS = 3


def gene_vectors(n_genes: int, seed: int = 0, n_pcs: int = N_PCS) -> np.ndarray:
    """Standardised PC scores with some shared structure (modules of genes)."""
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((n_genes, 20)) @ rng.standard_normal((20, n_pcs))
    vectors = latent + 2 * rng.standard_normal((n_genes, n_pcs))
    return ((vectors - vectors.mean(0)) / vectors.std(0)).astype(np.float32)


def pc_node(vectors: np.ndarray) -> xr.Dataset:
    """A node carrying ``vectors`` as its ``gene_score`` (what the engine starts from)."""
    n_genes, n_pcs = vectors.shape
    return xr.Dataset(
        {"gene_score": (("gene", "pc"), vectors)},
        coords={"gene": [f"g{i}" for i in range(n_genes)], "pc": np.arange(1, n_pcs + 1)},
    )


def cpu_seconds() -> float:
    """User + system CPU seconds of this process and its finished children."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def load_average() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def exact_top10_overlap() -> float:
    """Top-10 lists of one bag on crowded modules (3 PCs) vs exact ranks: mean fraction of shared partners."""
    rng = np.random.default_rng(0)
    centres = np.repeat(rng.standard_normal((15, 3)), 200, axis=0)
    node = pc_node(centres + 0.3 * rng.standard_normal((3000, 3)))
    engine = coexpression(node, n_bags=1, fraction=1.0, top_k=10, progress=False)["coex_partner"].values
    exact = indices.reference_mean_logit(indices._gene_vectors(node), [np.arange(3)])
    exact_top, _ = indices.top_k_table(ranking.zscore_rows(exact, exclude_diagonal_from=0), 10)
    return float(np.mean([np.intersect1d(a, b).size / 10 for a, b in zip(engine, exact_top)]))


def full_build(n_pcs: int) -> None:
    """One real 20,000-gene x 1000-bag build, end to end, with its wall and CPU time and the machine's load.

    Every 50 bags a line gives the bags done, wall and CPU time so far and the load. Stopped early
    (SIGTERM or Ctrl-C: on a shared machine it may not finish in time), it prints the same figures
    for the bags done, labelled partial, and exits 1: a partial run is not a build time.
    """
    node = pc_node(gene_vectors(FULL_GENES, n_pcs=n_pcs))
    print(f"full build: {FULL_GENES} genes x {n_pcs} PCs x {FULL_BAGS} bags, load average before {load_average()}", flush=True)
    start, cpu = time.perf_counter(), cpu_seconds()
    done = [0]

    def figures() -> dict:
        wall, used = time.perf_counter() - start, cpu_seconds() - cpu
        return dict(
            genes=FULL_GENES, pcs=n_pcs, bags=FULL_BAGS, bags_done=done[0], wall_minutes=wall / 60,
            cpu_minutes=used / 60, cpu_s_per_bag=used / max(done[0], 1), load_1min=os.getloadavg()[0],
            peak_rss_gb=peak_rss_gb(),
        )

    def on_bag(bags_done: int, total: int) -> None:
        done[0] = bags_done
        if bags_done % 50 == 0:
            now = figures()
            print(
                f"{bags_done}/{total} bags: wall {now['wall_minutes']:.1f} min, {now['cpu_s_per_bag']:.2f} CPU-s/bag, "
                f"load average {load_average()}, peak RSS {now['peak_rss_gb']:.2f} GB", flush=True,
            )

    def stop(signum, frame) -> None:
        # worker threads cannot be interrupted: report what is done and leave at once
        print(f"STOPPED after {done[0]} of {FULL_BAGS} bags (partial: not a build time)", flush=True)
        print(result_line(**figures(), partial=1), flush=True)
        os._exit(1)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    out = coexpression(node, n_bags=FULL_BAGS, top_k=2000, progress=on_bag)
    result = figures()  # includes the z-scores and top-K tables, paid once after the bags
    params = json.loads(out.attrs["coex_params"])
    print(
        f"wall {result['wall_minutes']:.1f} min, CPU {result['cpu_minutes']:.1f} min on {indices.available_cores()} cores "
        f"({result['cpu_s_per_bag']:.2f} CPU-s per bag, tables included), "
        f"load average after {load_average()} (1/5/15 min; the machine may be shared), "
        f"peak RSS {result['peak_rss_gb']:.2f} GB, {params['pcs_per_bag']} PCs per bag, exact depth {params['exact_depth']}"
    )
    print(result_line(**result, partial=0))


def engine_per_bag(vectors: np.ndarray, n_bags: int) -> tuple[dict[str, float], float]:
    """CPU seconds per bag of each step of the engine on one thread over bags 2..n_bags, and of the first bag."""
    bags = indices.bag_columns(N_PCS, 0.5, n_bags, seed=0)
    scale = indices.logit_scale(vectors.shape[0], FULL_BAGS)
    indices.bag_logit_sum(vectors[:300], bags[:1], scale, 4096, 100)  # compile / load the kernels
    timings: dict[str, float] = {}
    after_bag: list[dict[str, float]] = []
    indices.bag_logit_sum(
        vectors, bags, scale, 4096, ranking.REFINE_DEPTH, on_bag=lambda: after_bag.append(dict(timings)), timings=timings
    )
    first = after_bag[0]
    return {step: (timings[step] - first[step]) / (n_bags - 1) for step in timings}, sum(first.values())


#: rank rules compared by --per-bag: (exact depth, tolerance); the former rule sorted no crowded bins
RANK_RULES = {"today": (ranking.REFINE_DEPTH, ranking.RANK_TOLERANCE), "exact_to_2000": (2000, np.inf)}


def per_bag_steps(n_pcs: int, repeats: int) -> None:
    """Min-of-``repeats`` CPU seconds per step of one steady-state bag, 20,000 genes, each rank rule."""
    vectors = gene_vectors(FULL_GENES, n_pcs=n_pcs)
    bags = indices.bag_columns(n_pcs, 0.5, 2 * repeats, seed=0)
    scale = indices.logit_scale(FULL_GENES, FULL_BAGS)
    indices.bag_logit_sum(vectors[:300], bags[:1], scale, 4096, 100)  # compile / load the kernels
    best: dict[str, dict[str, float]] = {rule: {} for rule in RANK_RULES}
    print(f"{FULL_GENES} genes x {n_pcs} PCs ({len(bags[0])} per bag), 1 thread, load average before {load_average()}")
    for repeat in range(repeats):
        for rule, (depth, tolerance) in RANK_RULES.items():
            timings: dict[str, float] = {}
            after_bag: list[dict[str, float]] = []
            # two bags per call: the first also first-touches the call's N x N arrays
            indices.bag_logit_sum(
                vectors, bags[2 * repeat : 2 * repeat + 2], scale, 4096, depth,
                on_bag=lambda: after_bag.append(dict(timings)), timings=timings, tolerance=tolerance,
            )
            for step in timings:
                second = timings[step] - after_bag[0][step]
                best[rule][step] = min(best[rule].get(step, np.inf), second)
    for rule, steps in best.items():
        print(f"{rule}: " + ", ".join(f"{step} {value:.3f}" for step, value in steps.items()) + f", total {sum(steps.values()):.3f} CPU-s/bag")
    today, former = (sum(best[rule].values()) for rule in RANK_RULES)
    print(result_line(
        genes=FULL_GENES, pcs=n_pcs, cpu_s_per_bag=today, ranks_s=best["today"]["ranks"], logit_s=best["today"]["logit"],
        correlation_s=best["today"]["correlation"], former_cpu_s_per_bag=former, speedup_vs_former=former / today,
        load_1min=os.getloadavg()[0],
    ))


def naive_per_bag(vectors: np.ndarray, n_bags: int) -> float:
    bags = indices.bag_columns(N_PCS, 0.5, n_bags, seed=0)
    with threadpool_limits(1, user_api="blas"):
        start = time.thread_time()
        indices.reference_mean_logit(vectors.astype(np.float64), bags)
        return (time.thread_time() - start) / n_bags


def _load_engine() -> None:
    """Import the engine and load its compiled kernels (run on every worker before timing)."""
    vectors = np.random.default_rng(0).standard_normal((300, 10))
    indices.bag_logit_sum(vectors, indices.bag_columns(10, 0.5, 1, seed=0), 1.0, 1200, 100)


def _process_cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


def cluster_scaling(node: xr.Dataset, n_bags: int, repeats: int) -> dict[int, dict[str, float]]:
    """Wall and CPU seconds of one build on a 1-worker and on a 2-worker LocalCluster, best of ``repeats``.

    Both clusters are started, and every worker has loaded the engine, before anything is timed;
    the two builds then alternate, so a change of load on a shared machine hits both alike, and
    the fastest run of each is kept. CPU seconds: the workers' processes and this one (client,
    scheduler and nannies), over the kept run.
    """
    from distributed import Client, LocalCluster

    clusters = {n: LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None) for n in (1, 2)}
    try:
        clients = {n: Client(cluster) for n, cluster in clusters.items()}
        best: dict[int, dict[str, float]] = {}
        for client in clients.values():
            client.run(_load_engine)
        for _ in range(repeats):
            for n, client in clients.items():
                workers, own = client.run(_process_cpu_seconds), _process_cpu_seconds()
                start = time.perf_counter()
                coexpression(node, n_bags=n_bags, top_k=100, client=client, progress=False)
                wall = time.perf_counter() - start
                after = client.run(_process_cpu_seconds)
                run = dict(
                    wall=wall, worker_cpu=sum(after[w] - workers[w] for w in workers), client_cpu=_process_cpu_seconds() - own,
                    load=os.getloadavg()[0],
                )
                if wall < best.get(n, {"wall": np.inf})["wall"]:
                    best[n] = run
                print(
                    f"  {n} worker(s): {wall:.2f} s wall, workers {run['worker_cpu']:.2f} CPU-s, "
                    f"client + scheduler {run['client_cpu']:.2f} CPU-s, load {load_average()}", flush=True,
                )
        for client in clients.values():
            client.close()
    finally:
        for cluster in clusters.values():
            cluster.close()
    return best


def main() -> None:
    arguments = parser(__doc__.split("\n")[0])
    arguments.add_argument("--full", action="store_true", help="one real 20,000-gene x 1000-bag build (no extrapolation)")
    arguments.add_argument("--per-bag", action="store_true", help="CPU-s per step of one bag at 20,000 genes, rank rules compared")
    arguments.add_argument("--pcs", type=int, default=20, help="PCs of --full and --per-bag (default 20)")
    arguments.add_argument("--repeats", type=int, default=3, help="--per-bag: alternations of the rank rules (minimum kept)")
    args = arguments.parse_args()
    if args.full:
        full_build(args.pcs)
        return
    if args.per_bag:
        per_bag_steps(args.pcs, args.repeats)
        return
    quick = args.quick
    n_genes = 3000 if quick else FULL_GENES
    n_naive = 1500 if quick else 3000
    n_cluster, cluster_bags = (3000, 48) if quick else (6000, 80)
    cores = indices.available_cores()

    rate_1 = matmul_gflops(threads=1, clock=time.thread_time)
    rate_all = matmul_gflops()
    print(f"load average (1/5/15 min) {load_average()}: the machine may be shared, so wall times are noisy")
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
    print(f"LocalCluster, {n_cluster} genes x {cluster_bags} bags, 1 and 2 workers alternating:")
    scaling = cluster_scaling(cluster_node, cluster_bags, CLUSTER_REPEATS)
    one, two = scaling[1]["wall"], scaling[2]["wall"]
    print(
        f"  best: 1 worker {one:.2f} s, 2 workers {two:.2f} s -> {one / two:.2f}x; worker CPU-s "
        f"{scaling[1]['worker_cpu']:.2f} vs {scaling[2]['worker_cpu']:.2f} (the same bags: equal work)"
    )
    overlap = exact_top10_overlap()
    print(f"crowded modules (3,000 genes, 3 PCs, 1 bag): top-10 overlap with exact ranks {overlap:.4f}")
    print(f"load average (1/5/15 min) at the end {load_average()}")

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
            dask_1worker_s=one,
            dask_2workers_s=two,
            dask_worker_cpu_1v2=scaling[1]["worker_cpu"] / scaling[2]["worker_cpu"],
            minutes_20k_1000bags=minutes,
            minutes_20k_1000bags_cpu=cpu_minutes,
            peak_rss_gb=rss,
            exact_top10_overlap=overlap,
            load_1min=os.getloadavg()[0],
        )
    )


if __name__ == "__main__":
    main()
