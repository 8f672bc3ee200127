"""Server-side cost of the views: PC View frames, gene recolouring and coexpression-list queries.

* PC View frame (aggregate + shade + spread, as the view computes it) at 10k / 100k / 1M samples,
  and the whole figure (frame + Bokeh model + JSON) against a plain Bokeh scatter of the same
  points (the Bokeh document with its ColumnDataSource, serialised) in the same run;
* recolouring by a new gene at 100k samples: read the gene's row from a lazy Zarr atlas + frame;
* a coexpression-list query on a 20,000-gene atlas against reading an ATTED-II-style per-gene file
  (``partner<TAB>value`` for every other gene) with pandas, sorting it and joining the annotation.

Usage: ``python benchmarks/views.py [--quick]``; the last line holds the key=value figures.
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import parser, report_machine_and_results, wall_and_cpu_ms  # noqa: E402

import holoviews as hv  # noqa: E402
import panel as pn  # noqa: E402
from bokeh.embed import json_item  # noqa: E402
from bokeh.models import ColumnDataSource  # noqa: E402
from bokeh.plotting import figure  # noqa: E402

from atted_explore import open_atlas, save_atlas  # noqa: E402
from atted_explore.atlas import localization_labels  # noqa: E402
from atted_explore.views.coexlist import partner_table  # noqa: E402
from atted_explore.views import CoexList, PCView  # noqa: E402
from atted_explore.views import _style  # noqa: E402
from atted_explore.views._points import HOVER_LIMIT, PointsPlot  # noqa: E402
from atted_explore.views.pcview import GENE_EXPRESSION  # noqa: E402

hv.extension("bokeh")
# rendering figures whose hover runs in Python outside a server logs a warning per figure
logging.getLogger("bokeh").setLevel(logging.ERROR)


CPU_MS: dict[str, float] = {}


def timed(fn, repeats: int, name: str | None = None) -> float:
    """Median wall time of ``fn()`` in ms, after one warm-up call.

    With ``name``, the median process CPU time is kept in ``CPU_MS[name]``: on a loaded
    machine it is the better estimate of the wall time the same work takes on an idle one.
    """
    fn()
    wall, cpu = wall_and_cpu_ms(fn, repeats)
    if name:
        CPU_MS[name] = cpu
    return wall


def samples_node(n_samples: int, n_genes: int, seed: int = 0) -> xr.Dataset:
    """Samples in clusters on 10 PCs, studies of very unequal size, ``n_genes`` expression rows."""
    rng = np.random.default_rng(seed)
    n_studies = max(20, n_samples // 300)
    sizes = rng.zipf(1.6, n_studies).astype(float)
    study = rng.choice(n_studies, n_samples, p=sizes / sizes.sum())
    centres = rng.normal(scale=8, size=(n_studies, 10))
    scores = (centres[study] + rng.normal(size=(n_samples, 10))).astype(np.float32)
    samples = np.array([f"SRR{i:08d}" for i in range(n_samples)], dtype=object)
    tissues = np.array(["leaf", "root", "seed", "flower", "shoot apex"], dtype=object)
    return xr.Dataset(
        {
            "sample_score": (("sample", "pc"), scores),
            "pc_variance": ("pc", np.linspace(0.2, 0.01, 10).astype(np.float32)),
            "expression": (("gene", "sample"), rng.gamma(2, 2, (n_genes, n_samples)).astype(np.float32)),
        },
        coords={
            "sample": samples,
            "gene": np.array([f"G{i:05d}" for i in range(n_genes)], dtype=object),
            "pc": np.arange(1, 11),
            "study": ("sample", np.array([f"SRP{s:06d}" for s in study], dtype=object)),
            "tissue": ("sample", tissues[rng.integers(0, tissues.size, n_samples)]),
            "treatment": ("sample", np.where(rng.random(n_samples) < 0.7, "control", "heat").astype(object)),
            "title": ("sample", np.array([f"RNA-seq run {i % 977}" for i in range(n_samples)], dtype=object)),
        },
        attrs={"species": "Synthetic", "species_code": "Syn"},
    )


def frame_ms(view: PCView, repeats: int, name: str) -> float:
    """A redraw in place, as on screen: the view's frame through its plot (aggregate + shade + spread or
    glyphs) into the rendered Bokeh models, alternating the colour field."""
    pn.panel(view).get_root()
    fields = iter(["tissue", "study"] * (repeats + 1))
    return timed(lambda: setattr(view, "color_by", next(fields)), repeats, name)


def datashaded_figure_ms(view: PCView, repeats: int) -> tuple[float, int]:
    """Frame + Bokeh model + JSON: what the server builds and sends for one whole figure (ms, bytes)."""
    def one():
        plot = PointsPlot()
        plot.show(view.frame())
        return json.dumps(json_item(hv.render(plot.pane.object)))
    return timed(one, repeats), len(one())


def bokeh_figure_ms(node: xr.Dataset, repeats: int) -> tuple[float, int]:
    """A plain Bokeh scatter of the same points coloured by study: document + ColumnDataSource, serialised."""
    labels, key = _style.top_categories(node["study"].values, 12)
    colours = np.array([key[c] for c in labels.astype(str)], dtype=object)
    data = {
        "x": node["sample_score"].sel(pc=1).values, "y": node["sample_score"].sel(pc=2).values,
        "colour": colours, "sample": node["sample"].values, "title": node["title"].values,
    }

    def one():
        plot = figure(width=800, height=440,
                      tools="pan,wheel_zoom,box_select,lasso_select,hover",
                      tooltips=[("sample", "@sample"), ("title", "@title")])
        plot.scatter("x", "y", color="colour", size=2, source=ColumnDataSource(data))
        return json.dumps(json_item(plot))
    return timed(one, repeats), len(one())


def coex_node(n_genes: int, top_k: int, seed: int = 0) -> xr.Dataset:
    rng = np.random.default_rng(seed)
    partners = np.stack([rng.choice(n_genes, top_k, replace=False) for _ in range(n_genes)]).astype(np.int32)
    scores = np.sort(rng.normal(2, 1, (n_genes, top_k)).astype(np.float32), axis=1)[:, ::-1]
    genes = np.array([f"AT{i:07d}" for i in range(n_genes)], dtype=object)
    return xr.Dataset(
        {
            "coex_partner": (("gene", "rank"), partners),
            "coex_score": (("gene", "rank"), np.ascontiguousarray(scores)),
            "localization": (("gene", "compartment"), rng.random((n_genes, 4)) < [0.2, 0.4, 0.1, 0.3]),
        },
        coords={
            "gene": genes, "rank": np.arange(1, top_k + 1),
            "compartment": np.array(["chloroplast", "nucleus", "mitochondrion", "other"], dtype=object),
            "symbol": ("gene", np.array([f"SYM{i}" for i in range(n_genes)], dtype=object)),
            "description": ("gene", np.array([f"protein of family {i % 311}" for i in range(n_genes)], dtype=object)),
        },
        attrs={"species": "Arabidopsis thaliana", "species_code": "Ath"},
    )


def per_gene_files(node: xr.Dataset, folder: Path, genes: list[str], seed: int = 0) -> None:
    """ATTED-II-style coexpression files: one per query gene, ``partner<TAB>z`` for all other genes."""
    rng = np.random.default_rng(seed)
    all_genes = node["gene"].values
    for gene in genes:
        others = all_genes[all_genes != gene]
        pd.DataFrame({"partner": rng.permutation(others), "z": rng.normal(size=others.size).round(3)}).to_csv(
            folder / gene, sep="\t", header=False, index=False
        )


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    sizes = [10_000, 100_000, 1_000_000]
    repeats = 3 if args.quick else 7
    figures: dict[str, float] = {}

    print("PC View redraw in place (colour field study <-> tissue; glyphs to 20k, datashaded above)")
    views = {}
    for n in sizes:
        node = samples_node(n, n_genes=4)
        views[n] = view = PCView(node)
        label = "1m" if n == 1_000_000 else f"{n // 1000}k"
        figures[f"frame_ms_{label}"] = frame_ms(view, repeats, f"frame_cpu_ms_{label}")
        hover = "hover glyphs kept in the browser" if n <= HOVER_LIMIT else "no hover above the limit"
        print(f"  {n:>9,} samples: frame {figures[f'frame_ms_{label}']:8.1f} ms wall, "
              f"{CPU_MS[f'frame_cpu_ms_{label}']:8.1f} ms CPU ({hover})")

    print("Whole figure (frame + Bokeh model + JSON) vs plain Bokeh scatter of the same points")
    bokeh_sizes = sizes[:2] if args.quick else sizes
    for n in bokeh_sizes:
        shaded, shaded_bytes = datashaded_figure_ms(views[n], repeats)
        plain, plain_bytes = bokeh_figure_ms(views[n].node, max(1, repeats // 2) if n >= 1_000_000 else repeats)
        label = "1m" if n == 1_000_000 else f"{n // 1000}k"
        figures[f"figure_ms_{label}"], figures[f"bokeh_ms_{label}"] = shaded, plain
        figures[f"bokeh_vs_datashader_{label}"] = plain / shaded
        figures[f"figure_mb_{label}"], figures[f"bokeh_mb_{label}"] = shaded_bytes / 1e6, plain_bytes / 1e6
        print(f"  {n:>9,} samples: datashaded {shaded:8.1f} ms, {shaded_bytes / 1e6:6.2f} MB; "
              f"Bokeh scatter {plain:8.1f} ms, {plain_bytes / 1e6:6.2f} MB (time ratio {plain / shaded:.2f})")

    print("Recolour by a new gene at 100k samples (row read from a lazy Zarr atlas + frame)")
    with tempfile.TemporaryDirectory() as tmp:
        n_genes = 64 if args.quick else 256
        node = samples_node(100_000, n_genes).chunk({"gene": 1, "sample": -1})
        save_atlas(xr.DataTree.from_dict({"Syn-r": node}), Path(tmp) / "atlas.zarr")
        lazy = open_atlas(Path(tmp) / "atlas.zarr")["Syn-r"].to_dataset()
        view = PCView(lazy, color_by=GENE_EXPRESSION)
        genes = iter(lazy["gene"].values.tolist() * 2)
        view.gene = next(genes)
        pn.panel(view).get_root()  # updates below patch the rendered models, as in a served page
        figures["recolour_ms_100k"] = timed(lambda: setattr(view, "gene", next(genes)), repeats * 3,
                                            "recolour_cpu_ms_100k")
    print(f"  recolour: {figures['recolour_ms_100k']:.1f} ms wall, {CPU_MS['recolour_cpu_ms_100k']:.1f} ms CPU")

    print("Coexpression list on a 20,000-gene atlas vs ATTED-II-style per-gene files read with pandas")
    top_k = 500 if args.quick else 2000
    node = coex_node(20_000, top_k)
    labels = localization_labels(node)
    queries = [str(g) for g in np.random.default_rng(1).choice(node["gene"].values, 20, replace=False)]
    query = iter(queries * (repeats * 10))
    figures["coexlist_ms"] = timed(lambda: partner_table(node, next(query), localization=labels), repeats * 10,
                                   "coexlist_cpu_ms")
    view = CoexList(node)
    figures["coexlist_view_ms"] = timed(lambda: setattr(view, "gene", next(query)), repeats * 3)
    annotation = pd.DataFrame(
        {"symbol": node["symbol"].values, "description": node["description"].values, "localization": labels},
        index=node["gene"].values,
    )
    with tempfile.TemporaryDirectory() as tmp:
        per_gene_files(node, Path(tmp), queries)

        def read_file():
            table = pd.read_csv(Path(tmp) / next(query), sep="\t", header=None, names=["partner", "z"])
            table = table.sort_values("z", ascending=False).head(top_k)
            return table.join(annotation, on="partner")
        figures["coexfile_ms"] = timed(read_file, repeats * 3)
    figures["files_vs_atlas"] = figures["coexfile_ms"] / figures["coexlist_ms"]
    print(f"  atlas query {figures['coexlist_ms']:.2f} ms "
          f"(CoexList view update {figures['coexlist_view_ms']:.1f} ms); "
          f"per-gene file {figures['coexfile_ms']:.1f} ms ({figures['files_vs_atlas']:.0f}x slower)")

    figures |= CPU_MS
    report_machine_and_results(
        figures, ["frame_ms_1m", "recolour_ms_100k", "coexlist_ms", "bokeh_vs_datashader_100k"],
        note="targets: 1M frame <= 150 ms, recolour at 100k <= 150 ms, list <= 20 ms; ",
    )


if __name__ == "__main__":
    main()
