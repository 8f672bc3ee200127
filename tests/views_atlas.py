"""A small demo atlas run through the analysis pipeline, for the view, notebook and browser tests."""

from __future__ import annotations

import xarray as xr

from atted_explore import analyze_atlas, datasets


def analysed_demo(n_bags: int = 20, top_k: int = 50) -> xr.DataTree:
    """``datasets.demo(preset="small")`` through :func:`analyze_atlas` (few bags: quick, still ranked)."""
    return analyze_atlas(datasets.demo(preset="small", seed=0), n_bags=n_bags, top_k=top_k, seed=0, progress=False)
