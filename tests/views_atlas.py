"""A small demo atlas with PCA and coexpression, for the view, notebook and browser tests."""

from __future__ import annotations

import xarray as xr

from atted_explore import compute, datasets
from atted_explore.atlas import species_nodes


def analysed_demo(n_bags: int = 20, top_k: int = 50) -> xr.DataTree:
    """``datasets.demo(preset="small")`` with every species node analysed (few bags: quick, still ranked)."""
    atlas = datasets.demo(preset="small", seed=0)
    for name in species_nodes(atlas):
        node = compute.pca(atlas[name].to_dataset())
        atlas[name] = compute.coexpression(node, method="subagging", n_bags=n_bags, top_k=top_k, seed=0, progress=False)
    return atlas
