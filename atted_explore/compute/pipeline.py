"""The analysis pipeline: one function that the build, the demo and the notebooks all call.

Per species node: PCA -> coexpression (subagging of PCs) -> function score
(when the node has gene sets). Steps that need the whole atlas (several
species at once) run after every node is analysed: the CoexMaps (layouts per
subset, map modules, alignment across species and the conservation table at
the root; :func:`~atted_explore.compute.coexmap.coexmap`).
"""

from __future__ import annotations

import xarray as xr
from tqdm.auto import tqdm

from ..atlas import species_nodes
from .coexmap import coexmap, default_subsets
from .consistency import function_score
from .indices import coexpression
from .sample_pca import pca


def analyze_node(
    node: xr.Dataset, *, n_bags: int = 1000, top_k: int = 2000, seed: int = 0, client=None, progress: bool = True
) -> xr.Dataset:
    """PCA, then coexpression by subagging of PCs, then the function score (attr) when gene sets exist."""
    node = pca(node, seed=seed)
    node = coexpression(node, n_bags=n_bags, top_k=top_k, seed=seed, client=client, progress=progress)
    if "member_set" in node:
        node.attrs["function_score"] = float(function_score(node))
    return node


def analyze_atlas(
    atlas: xr.DataTree, *, n_bags: int = 1000, top_k: int = 2000, seed: int = 0, client=None, progress: bool = True,
    coexmaps: bool = True,
) -> xr.DataTree:
    """Every species node analysed (:func:`analyze_node`), then the atlas-level steps; returns a new tree.

    ``coexmaps=False`` skips the CoexMaps (subsets: :func:`~atted_explore.compute.coexmap.default_subsets`;
    a subset too small or unknown on a node is skipped there and noted in ``coexmap_skipped``).
    """
    atlas = atlas.copy()
    for name in tqdm(species_nodes(atlas), desc="species", unit="node", disable=not progress):
        atlas[name] = analyze_node(
            atlas[name].to_dataset(), n_bags=n_bags, top_k=top_k, seed=seed, client=client, progress=progress
        )
    if coexmaps:
        atlas = coexmap(atlas, default_subsets(atlas), seed=seed, strict=False, progress=progress)
    return atlas
