"""Speed and memory of the CoexMaps: UMAP layouts, alignment + conservation, and the view's subset switch and linking.

    python benchmarks/coexmap.py [--quick]

On a synthetic atlas generated in the same run (genes in latent clusters; a top-K
table from exact nearest neighbours; a second and third species whose genes are
noisy copies, linked 1:1 by orthologs):
  * UMAP of N genes from the top-K table (``umap_layout``): wall time and peak RSS,
    against umap-learn's usual call on the same PC-space vectors (its own
    nearest-neighbour search, cosine), same seed;
  * ``coexmap`` on 3 species whose layouts are precomputed (stored like imported
    ATTED-II layouts, so they are kept): map modules, Procrustes alignment and the
    conservation table; and ``map_conservation`` with 200 permutations against a
    plain-Python reference of the same score (set intersections per anchor);
  * ``switch_ms``: the CoexMap view with 3 panels of N genes, layouts precomputed,
    switching the subset (all <-> chloroplast; median of 6, frames cached; the
    first switch, which builds them, is ``first_switch_ms``): each panel's Pipe
    sends its frame and its Bokeh model is updated, server side;
  * ``link_ms``: a box selection in one panel until the orthologs are ringed in the
    other panels and the table is filled;
  * ``recolor_ms``: coloring by module / compartment (zoom and pan kept);
  against rebuilding the three Bokeh figures from scratch (what a view without
  streams does), in the same run. Wall and process CPU time are both printed, with
  the load average: on a loaded machine the CPU time is nearer an idle wall time.
N = 20,000 (``--quick``: 1,500).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import xarray as xr

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import parser, peak_rss_gb, report_machine_and_results  # noqa: E402

import holoviews as hv  # noqa: E402

from atted_explore.compute.coexmap import coexmap, umap_layout  # noqa: E402
from atted_explore.compute.map_modules import map_conservation, ortholog_anchors, layout  # noqa: E402
from atted_explore.views import CoexMap  # noqa: E402

hv.extension("bokeh")
warnings.simplefilter("ignore")
TOP_K = 50
N_PCS = 30


def synthetic_node(vectors: np.ndarray, genes: np.ndarray, chloroplast: np.ndarray) -> xr.Dataset:
    """A node with a top-K table and, as precomputed layouts, two PC-space axes (all genes and chloroplast)."""
    from sklearn.neighbors import NearestNeighbors

    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    distance, partner = NearestNeighbors(n_neighbors=TOP_K + 1).fit(unit).kneighbors(unit)
    localization = np.stack([chloroplast, ~chloroplast], axis=1)
    plane = vectors[:, :2].astype(np.float32)
    maps = np.stack([plane, np.where(chloroplast[:, None], plane, np.nan)], axis=1)
    return xr.Dataset(
        {
            "coexmap": (("gene", "subset", "xy"), maps),
            "gene_score": (("gene", "pc"), vectors.astype(np.float32)),
            "coex_partner": (("gene", "rank"), partner[:, 1:].astype(np.int32)),
            "coex_score": (("gene", "rank"), (1 - distance[:, 1:] ** 2 / 2).astype(np.float32)),
            "localization": (("gene", "compartment"), localization),
        },
        coords={"gene": genes, "pc": np.arange(1, N_PCS + 1), "rank": np.arange(1, TOP_K + 1),
                "subset": np.array(["all", "chloroplast"], dtype=object), "xy": np.array(["x", "y"], dtype=object),
                "compartment": np.array(["chloroplast", "other"], dtype=object)},
        attrs={"species": "synthetic"},
    )


def synthetic_atlas(n_genes: int, seed: int = 0) -> xr.DataTree:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((60, N_PCS)) * 3
    cluster = rng.integers(0, 60, n_genes)
    base = centres[cluster] + rng.standard_normal((n_genes, N_PCS))
    chloroplast = cluster < 12  # ~20% of genes
    nodes, rows = {}, []
    for k, name in enumerate(("Sp1-r", "Sp2-r", "Sp3-r")):
        genes = np.array([f"{name[:3]}{i:06d}" for i in range(n_genes)], dtype=object)
        nodes[name] = synthetic_node(base + 0.5 * k * rng.standard_normal(base.shape), genes, chloroplast)
        rows.append((np.array([f"OG{i:06d}" for i in range(n_genes)], dtype=object), np.full(n_genes, name, object), genes))
    group, node, gene = (np.concatenate(parts) for parts in zip(*rows))
    root = xr.Dataset({"ortholog_group": ("ortholog", group), "ortholog_node": ("ortholog", node),
                       "ortholog_gene": ("ortholog", gene)})
    return xr.DataTree.from_dict({"/": root, **nodes})


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def naive_overlap(points_a: np.ndarray, points_b: np.ndarray, k: int, n_permutations: int, seed: int) -> float:
    """Reference conservation score: Python sets per anchor, full distance sort per anchor."""
    def neighbours(points):
        return [set(np.argsort(((points - p) ** 2).sum(axis=1))[1:k + 1].tolist()) for p in points]

    near_a, near_b = neighbours(points_a), neighbours(points_b)
    rng = np.random.default_rng(seed)
    for _ in range(n_permutations):
        perm = rng.permutation(len(points_a))
        sum(len({int(perm[j]) for j in near_a[i]} & near_b[perm[i]]) for i in range(len(points_a)))
    return sum(len(a & b) for a, b in zip(near_a, near_b)) / (k * len(points_a))


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    load_at_start = os.getloadavg()[0]
    n_genes = 1_500 if args.quick else 20_000
    atlas = synthetic_atlas(n_genes)
    node = atlas["Sp1-r"].dataset
    everything = np.ones(n_genes, dtype=bool)

    import umap

    umap.UMAP(n_neighbors=10, random_state=0, n_epochs=5).fit(np.random.default_rng(0).random((300, 5)))  # compile
    umap_s = timed(lambda: umap_layout(node, everything, seed=0))
    rss = peak_rss_gb()
    vectors = np.asarray(node["gene_score"].values)
    baseline_umap_s = timed(lambda: umap.UMAP(n_neighbors=10, min_dist=0.0, metric="cosine", random_state=0,
                                              n_jobs=1).fit_transform(vectors))
    print(f"UMAP of {n_genes:,} genes from the top-K table: {umap_s:.1f} s (peak RSS {rss:.2f} GB); "
          f"umap-learn with its own cosine kNN: {baseline_umap_s:.1f} s (x{baseline_umap_s / umap_s:.2f})")

    start = time.perf_counter()
    maps = coexmap(atlas, ["all", "chloroplast"], progress=False, n_permutations=1)
    build_s = time.perf_counter() - start
    conservation_s = timed(lambda: map_conservation(maps, "Sp1-r", "Sp2-r", "all", n_permutations=200))
    ref, other = (layout(maps[n].dataset, "all") for n in ("Sp1-r", "Sp2-r"))
    anchors = ortholog_anchors(maps, "Sp1-r", "Sp2-r", everything, everything)
    points_a, points_b = anchors.positions(ref, other)
    subset = min(len(points_a), 2_000)  # the Python reference is slow: time it on 2,000 anchors and scale
    naive_s = timed(lambda: naive_overlap(points_a[:subset], points_b[:subset], 10, 200, 0)) * len(points_a) / subset
    print(f"coexmap, 3 species x 2 precomputed layouts (modules, alignment, conservation table): {build_s:.1f} s")
    print(f"conservation, {len(points_a):,} anchors, 200 permutations: {conservation_s:.2f} s; "
          f"Python-set reference (scaled from {subset:,} anchors): {naive_s:.1f} s (x{naive_s / conservation_s:.1f})")

    view = CoexMap(maps, species=["Sp1-r", "Sp2-r", "Sp3-r"], subset="all", color_by="compartment")
    renderer = hv.renderer("bokeh")
    plots = [renderer.get_plot(view._panels[n].pane.object) for n in view.species]  # the server-side Bokeh models
    first_switch_ms = wall_cpu(lambda: setattr(view, "subset", "chloroplast"))[0]  # frames built, not cached yet
    switch_ms, switch_cpu_ms = medians(wall_cpu(lambda s=s: setattr(view, "subset", s)) for s in ("all", "chloroplast") * 3)
    recolor_ms, recolor_cpu_ms = medians(wall_cpu(lambda c=c: setattr(view, "color_by", c)) for c in ("module", "compartment") * 2)
    view.subset = "all"
    frame = view.frame("Sp1-r")
    bounds = (frame["x"].min(), frame["y"].min(), frame["x"].median(), frame["y"].median())
    links = []
    for _ in range(3):
        view.selection = []
        links.append(wall_cpu(lambda: view._select("Sp1-r", bounds=bounds)))
    link_ms, link_cpu_ms = medians(links)
    highlighted = [len(view.highlighted(n)) for n in view.species]
    rows = len(view.selection_table())
    view.selection = []

    def rebuild():  # what a view without streams does: new Bokeh figures for the three panels
        for name in view.species:
            renderer.get_plot(view._panels[name].pane.object)

    rebuild_ms = statistics.median(timed(rebuild) * 1000 for _ in range(3))
    del plots
    print(f"subset switch, 3 panels x {n_genes:,} genes: {switch_ms:.0f} ms (CPU {switch_cpu_ms:.0f} ms; target <= 300); "
          f"first switch to a subset (frames built): {first_switch_ms:.0f} ms; "
          f"rebuilding the 3 figures: {rebuild_ms:.0f} ms (x{rebuild_ms / switch_ms:.1f})")
    print(f"selection -> orthologs ringed {highlighted} + table of {rows:,} rows: {link_ms:.0f} ms "
          f"(CPU {link_cpu_ms:.0f} ms; target <= 300); rebuild: {rebuild_ms:.0f} ms (x{rebuild_ms / link_ms:.1f})")
    print(f"recolor (zoom kept), 3 panels: {recolor_ms:.0f} ms (CPU {recolor_cpu_ms:.0f} ms)")
    figures = dict(
        genes=n_genes, switch_ms=switch_ms, link_ms=link_ms, switch_cpu_ms=switch_cpu_ms, link_cpu_ms=link_cpu_ms,
        first_switch_ms=first_switch_ms, recolor_ms=recolor_ms, recolor_cpu_ms=recolor_cpu_ms, rebuild_ms=rebuild_ms,
        umap_s=umap_s, umap_baseline_s=baseline_umap_s, umap_peak_rss_gb=rss, coexmap_s=build_s,
        conservation_s=conservation_s, conservation_baseline_s=naive_s,
    )
    report_machine_and_results(figures, ["switch_ms", "link_ms"], note=f"load average at the start {load_at_start:.1f}; ")


def wall_cpu(fn) -> tuple[float, float]:
    """Wall and process CPU time of ``fn()`` in ms (on a loaded machine the CPU time is nearer an idle wall time)."""
    start, start_cpu = time.perf_counter(), time.process_time()
    fn()
    return (time.perf_counter() - start) * 1000, (time.process_time() - start_cpu) * 1000


def medians(pairs) -> tuple[float, float]:
    walls, cpus = zip(*pairs)
    return statistics.median(walls), statistics.median(cpus)


if __name__ == "__main__":
    main()
