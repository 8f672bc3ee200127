"""Shared by the browser and server benchmarks: analysed synthetic atlases (built once into ``data/``) and a
canvas probe."""

from __future__ import annotations

from pathlib import Path

from atted_explore import analyze_atlas, datasets, save_atlas
from atted_explore.io.store import is_atlas
from atted_explore.datasets.paths import data_dir


def bench_atlas(name: str, *, n_samples: int, n_genes: int, n_bags: int = 3, top_k: int = 200) -> Path:
    """An Ath-r-only demo atlas of the given size with PCA and coexpression, at ``data/bench-NAME.zarr``."""
    path = data_dir() / f"bench-{name}.zarr"
    if is_atlas(path):
        return path
    print(f"building {path} ({n_genes:,} genes x {n_samples:,} samples; once, then reused)", flush=True)
    atlas = datasets.demo(
        preset="small", seed=0, n_samples={"Ath-r": n_samples, "Osa-r": 60, "Zma-r": 60},
        n_genes={"Ath-r": n_genes}, progress=True,
    )
    atlas = analyze_atlas(atlas, n_bags=n_bags, top_k=top_k, progress=True)
    return save_atlas(atlas, path)


#: for a canvas element: a hash of its pixels, whether it carries our ``__marker``, the page clock (ms) and the
#: ms this probe itself took (so a caller can take its own polling out of the page's busy time).
CANVAS_STATE_JS = """(canvas) => {
    const start = performance.now();
    const d = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let h = 0;
    for (let i = 0; i < d.length; i += 7) h = (h * 31 + d[i]) | 0;
    const now = performance.now();
    return [h, canvas.__marker === true, now, now - start];
}"""
