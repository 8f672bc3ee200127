"""NetworkDrawer speed: from a gene list to the rendered Bokeh model, on a 20,000-gene species node.

A synthetic node with top-K coexpression tables is built directly: 200 planted modules of 50
genes (each gene's first partners are its module mates) and random partners for the rest.
Lists of 500 and 2,000 genes are half module genes (5 and 20 modules), half random genes.

* ``network_ms_N``: ``NetworkDrawer.genes = list`` with the view attached to a Bokeh document:
  network from the top-K tables, layout, HoloViews elements and the updated Bokeh models
  (server side; sending the patch to the browser is not included);
* ``layout_ms_N``: this package's layout alone (:mod:`atted_explore.compute.graph_layout`);
* baseline: networkx's plain ``spring_layout(graph, seed=0)`` on the same graph, in the same run
  (``spring_ms_N``), and ``baseline_ms_N`` = the same pipeline with that layout instead. With
  ``--quick`` the 2,000-gene spring layout runs 10 of its 50 iterations and is scaled by 5
  (``spring_ms_2000`` is then an estimate; it is linear in the iterations).

CPU times (``*_cpu_ms``) estimate the wall time on an idle machine when others share the cores.
Usage: ``python benchmarks/network.py [--quick]``; the last line holds the key=value figures.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import networkx as nx
import numpy as np
import xarray as xr

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import parser, report_machine_and_results, wall_and_cpu_ms  # noqa: E402

from bokeh.document import Document  # noqa: E402

from atted_explore.compute.graph_layout import layout  # noqa: E402
from atted_explore.views import NetworkDrawer  # noqa: E402

logging.getLogger("bokeh").setLevel(logging.ERROR)
TARGETS_MS = {500: 1000, 2000: 5000}
MODULE_SIZE = 50


def synthetic_node(n_genes: int = 20_000, top_k: int = 2000, n_modules: int = 200, seed: int = 0):
    """A species node with top-K tables of planted modules; returns it and the modules' gene positions."""
    rng = np.random.default_rng(seed)
    # random partners: each gene gets one of 64 random offset patterns (distinct partners, never itself)
    offsets = np.stack([rng.choice(n_genes - 1, top_k, replace=False) + 1 for _ in range(64)])
    genes = np.arange(n_genes)
    partner = ((genes[:, None] + offsets[genes % 64]) % n_genes).astype(np.int32)
    modules = rng.permutation(n_genes)[: MODULE_SIZE * n_modules].reshape(n_modules, MODULE_SIZE)
    in_module = np.zeros(n_genes, dtype=bool)
    for members in modules:
        in_module[members] = True
        for k, gene in enumerate(members):
            partner[gene, : MODULE_SIZE - 1] = np.delete(members, k)
    noise = np.sort(rng.normal(2, 1, (n_genes, top_k)).astype(np.float32), axis=1)[:, ::-1]
    boost = 3 * (np.arange(top_k) < MODULE_SIZE - 1)[None, :] * in_module[:, None]
    score = np.ascontiguousarray(np.sort(noise + boost, axis=1)[:, ::-1], dtype=np.float32)
    ids = np.array([f"AT{1 + g % 5}G{g:05d}" for g in genes], dtype=object)
    node = xr.Dataset(
        {
            "coex_partner": (("gene", "rank"), partner),
            "coex_score": (("gene", "rank"), score),
            "coex_mr": (("gene", "rank"), np.broadcast_to(np.arange(1, top_k + 1, dtype=np.float32), partner.shape)),
            "localization": (("gene", "compartment"), rng.random((n_genes, 4)) < [0.2, 0.4, 0.1, 0.3]),
        },
        coords={
            "gene": ids, "rank": np.arange(1, top_k + 1),
            "compartment": np.array(["chloroplast", "nucleus", "mitochondrion", "other"], dtype=object),
            "symbol": ("gene", np.array([f"SYM{g}" for g in genes], dtype=object)),
            "description": ("gene", np.array([f"protein of family {g % 311}" for g in genes], dtype=object)),
        },
        attrs={"species": "Synthetic", "species_code": "Syn"},
    )
    return node, modules


def gene_list(node: xr.Dataset, modules: np.ndarray, n: int, seed: int) -> list[str]:
    """``n`` genes: ``n / 2 / 50`` whole modules plus random genes outside them."""
    rng = np.random.default_rng(seed)
    picked = modules[rng.choice(len(modules), n // 2 // MODULE_SIZE, replace=False)].ravel()
    others = rng.choice(np.setdiff1d(np.arange(node.sizes["gene"]), modules.ravel()), n - picked.size, replace=False)
    return node["gene"].values[np.concatenate([picked, others])].astype(str).tolist()


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    repeats = 1 if args.quick else 3
    start = time.perf_counter()
    node, modules = synthetic_node(top_k=200 if args.quick else 2000)
    print(f"synthetic node: {node.sizes['gene']:,} genes, top {node.sizes['rank']:,} partners "
          f"({time.perf_counter() - start:.1f} s to build)")
    drawer = NetworkDrawer(xr.DataTree.from_dict({"Syn-r": node}))
    drawer.__panel__().get_root(Document())  # the view renders into a Bokeh document, as when served
    drawer.genes = gene_list(node, modules, 100, seed=99)  # warm-up (imports, compiled kernels)
    figures: dict[str, float] = {}
    for n in (500, 2000):
        lists = [gene_list(node, modules, n, seed=s) for s in range(repeats)]
        lists_iter = iter(lists)
        wall, cpu = wall_and_cpu_ms(lambda: setattr(drawer, "genes", next(lists_iter)), repeats)
        graph = drawer.main.graph
        figures[f"network_ms_{n}"], figures[f"network_cpu_ms_{n}"] = wall, cpu
        figures[f"layout_ms_{n}"], figures[f"layout_cpu_ms_{n}"] = wall_and_cpu_ms(
            lambda: layout(graph.copy()), repeats)
        iterations, scale = (10, 5) if args.quick and n == 2000 else (50, 1)
        spring_wall, spring_cpu = wall_and_cpu_ms(lambda: nx.spring_layout(graph, seed=0, iterations=iterations), 1)
        figures[f"spring_ms_{n}"], figures[f"spring_cpu_ms_{n}"] = spring_wall * scale, spring_cpu * scale
        figures[f"baseline_ms_{n}"] = wall - figures[f"layout_ms_{n}"] + figures[f"spring_ms_{n}"]
        figures[f"baseline_vs_ours_{n}"] = figures[f"baseline_ms_{n}"] / wall
        estimate = " (10 iterations x 5)" if scale > 1 else ""
        print(f"  {n:>5,} genes -> {graph.number_of_nodes():,} nodes, {graph.number_of_edges():,} edges: "
              f"view {wall:7.0f} ms wall / {cpu:6.0f} ms CPU (target <= {TARGETS_MS[n]:,}); layout "
              f"{figures[f'layout_ms_{n}']:6.0f} ms; networkx spring_layout {figures[f'spring_ms_{n}']:7.0f} ms"
              f"{estimate}; baseline pipeline {figures[f'baseline_ms_{n}']:7.0f} ms "
              f"({figures[f'baseline_vs_ours_{n}']:.1f}x ours)")
    report_machine_and_results(
        figures, ["network_ms_500", "network_ms_2000", "spring_ms_2000", "baseline_vs_ours_2000"],
        note=f"total {time.perf_counter() - start:.0f} s; ",
    )


if __name__ == "__main__":
    main()
