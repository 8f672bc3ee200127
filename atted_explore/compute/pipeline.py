"""The analysis pipeline: one function that the build, the demo and the notebooks all call.

Per species node: PCA -> coexpression (subagging of PCs) -> function score
(when the node has gene sets) -> PC interpretation (statistics and offline
labels). Steps that need the whole atlas (several
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
from .interpretation import interpret_pcs
from .sample_pca import pca


def analyze_node(
    node: xr.Dataset, *, n_bags: int = 1000, top_k: int = 2000, seed: int = 0, client=None, progress: bool = True,
    interpret: bool = True,
) -> xr.Dataset:
    """PCA, coexpression by subagging of PCs, the function scores (attrs) when gene sets exist, then
    (unless ``interpret=False``) the PC interpretation with the offline summarizer.

    ``function_score``: of the bag-mean logit index, comparable with ATTED-II's
    (set by :func:`coexpression`); ``function_score_z``: of the z-score top-K tables.
    """
    node = pca(node, seed=seed)
    node = coexpression(node, n_bags=n_bags, top_k=top_k, seed=seed, client=client, progress=progress)
    if "function_score" in node.attrs:
        node.attrs["function_score_z"] = float(function_score(node))
    if interpret:
        node = interpret_pcs(node, progress=progress)
    return node


def analyze_atlas(
    atlas: xr.DataTree, *, n_bags: int = 1000, top_k: int = 2000, seed: int = 0, client=None, progress: bool = True,
    interpret: bool = True, coexmaps: bool = True,
) -> xr.DataTree:
    """Every species node analysed (:func:`analyze_node`), then the atlas-level steps; returns a new tree.

    ``coexmaps=False`` skips the CoexMaps (subsets: :func:`~atted_explore.compute.coexmap.default_subsets`;
    a subset too small or unknown on a node is skipped there and noted in ``coexmap_skipped``).
    """
    atlas = atlas.copy()
    for name in tqdm(species_nodes(atlas), desc="species", unit="node", disable=not progress):
        atlas[name] = analyze_node(
            atlas[name].to_dataset(), n_bags=n_bags, top_k=top_k, seed=seed, client=client, progress=progress,
            interpret=interpret,
        )
    if coexmaps:
        atlas = coexmap(atlas, default_subsets(atlas), seed=seed, strict=False, progress=progress)
    return atlas
