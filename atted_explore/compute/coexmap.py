"""CoexMaps: UMAP layouts of genes by coexpression, per species and per subset, aligned across species.

Input: the top-K coexpression table as a precomputed kNN graph
    Each gene's neighbours are its strongest partners in ``coex_partner`` /
    ``coex_score`` (the subagged, sample-balanced index the lists and networks
    show), not a second similarity recomputed from PC vectors: a map then
    places a gene next to the partners its CoexList names, and no neighbour
    search is needed (reading the table costs O(N K)). ``n_neighbors = 10``
    counts the gene itself, as in UMAP and ATTED-II. Distance = ``(s_max - s) /
    (s_max - s_min) + 0.01`` for score ``s`` (UMAP's per-gene bandwidth makes
    only the order and relative gaps within a gene's list matter).

Per subset, recomputed on the subset alone (the *mesoscale* maps)
    The table restricted to partners inside the subset, in the same order. A
    gene with fewer in-subset partners than ``n_neighbors - 1`` within the top
    K keeps those it has (the missing entries are -1, which UMAP skips), so a
    small ``top_k`` thins subset maps: keep ``top_k`` >= 10 N / subset size.

Subsets (:func:`subset_members`)
    ``"all"``; a compartment of ``localization``; a gene-set ID of the node;
    ``"annotated"`` (genes in any gene set); ``"single_copy"`` (genes of
    ortholog groups with exactly one gene in every species holding the group).
    A name a node cannot resolve itself (no localization, no such gene set) is
    carried over from the nodes that can, through orthologs. A subset needs
    ``MIN_SUBSET_GENES`` genes on a node.

UMAP: umap-learn, ``min_dist = 0``, its default epochs, ``random_state = seed`` (single-threaded,
deterministic), spectral initialisation on the standardised PC scores when the
node has them. Layouts imported with an atlas (ATTED-II's published
``*.umap.txt``: a node whose ``coexmap`` has no ``coexmap_params`` attr) are kept
unless ``recompute=True``.

Alignment: per subset, every node's map is mapped onto the reference node's by
orthogonal Procrustes with scale (rotation, reflection, isotropic scale and
shift; ``scipy.linalg.orthogonal_procrustes``) on ortholog anchors (centroids of
ortholog groups, see :mod:`.map_modules`). The scale matches the anchors' RMS
spread around their centroid rather than the least-squares scale, which tends
to 0 when anchors disagree (maize-rice: 0.02) and would shrink a map to a dot.
A similarity transform keeps every distance ratio, so modules and conservation
scores do not change.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import xarray as xr
from scipy.linalg import orthogonal_procrustes
from tqdm.auto import tqdm

from ..atlas import check_partner_order, gene_sets, orthologs, species_nodes
from ..errors import InputError
from .map_modules import conservation_table, map_modules, ortholog_anchors
from .pairs import standardized_gene_scores

DEFAULT_SUBSETS = ("all", "chloroplast", "nucleus", "mitochondrion")
ANNOTATED, SINGLE_COPY = "annotated", "single_copy"
N_NEIGHBORS = 10
MIN_DIST = 0.0  # packed islands: map modules (HDBSCAN) separate cleanly, as UMAP's docs advise for clustering
MIN_SUBSET_GENES = 30
MIN_ALIGNMENT_ANCHORS = 3
PAD_DISTANCE = 10.0  # for missing neighbours: adds nothing to UMAP's bandwidth sums


# --------------------------------------------------------------------------- subsets


def _own_members(node: xr.Dataset, subset: str) -> np.ndarray | None:
    """Mask of ``subset`` from the node's own data, or None when the node cannot name it."""
    genes = node.indexes["gene"]
    if subset == "all":
        return np.ones(genes.size, dtype=bool)
    if "localization" in node and subset in node["compartment"].values:
        return np.asarray(node["localization"].sel(compartment=subset).values, dtype=bool)
    sets = gene_sets(node)
    if subset in sets:
        return np.isin(np.arange(genes.size), genes.get_indexer(sets[subset]))
    if subset == ANNOTATED and sets:
        return np.isin(genes, node["member_gene"].values)
    return None


def _single_copy(atlas: xr.DataTree, name: str) -> np.ndarray | None:
    table = orthologs(atlas)
    if table.empty or name not in set(table["node"]):
        return None
    copies = table.groupby(["group", "node"]).size().unstack()
    single = copies.index[(copies.fillna(1) == 1).all(axis=1) & (copies.notna().sum(axis=1) >= 2)]
    genes = atlas[name].dataset.indexes["gene"]
    return np.isin(genes, table.loc[(table["node"] == name) & table["group"].isin(single), "gene"])


def subset_members(atlas: xr.DataTree, name: str, subset: str) -> tuple[np.ndarray | None, str]:
    """Mask over node ``name``'s genes of ``subset`` and where it comes from (module doc); None if unknown."""
    node = atlas[name].dataset
    if subset == SINGLE_COPY:
        return _single_copy(atlas, name), "ortholog groups with one gene per species"
    own = _own_members(node, subset)
    if own is not None:
        return own, "all genes" if subset == "all" else "the node's own annotation"
    donors = [n for n in species_nodes(atlas) if n != name and _own_members(atlas[n].dataset, subset) is not None]
    table = orthologs(atlas)
    if not donors or table.empty or name not in set(table["node"]):
        return None, ""
    groups = set()
    for donor in donors:
        donor_genes = atlas[donor].dataset["gene"].values[_own_members(atlas[donor].dataset, subset)]
        groups |= set(table.loc[(table["node"] == donor) & table["gene"].isin(donor_genes), "group"])
    mine = table.loc[(table["node"] == name) & table["group"].isin(groups), "gene"]
    return np.isin(node["gene"].values, mine), "orthologs of " + ", ".join(donors)


def available_subsets(atlas: xr.DataTree) -> list[str]:
    """Subset names some node of the atlas can resolve (for messages and pickers)."""
    names = ["all", ANNOTATED, SINGLE_COPY]
    for name in species_nodes(atlas):
        node = atlas[name].dataset
        if "localization" in node:
            names += [str(c) for c in node["compartment"].values]
        names += list(gene_sets(node))
    return list(dict.fromkeys(names))


def default_subsets(atlas: xr.DataTree) -> list[str]:
    """What the pipeline maps: all genes and the compartments; without localization, annotated and single-copy genes."""
    if any("localization" in atlas[n].dataset for n in species_nodes(atlas)):
        return list(DEFAULT_SUBSETS)
    return ["all", ANNOTATED, SINGLE_COPY]


# --------------------------------------------------------------------------- layouts


def knn_graph(node: xr.Dataset, members: np.ndarray, n_neighbors: int = N_NEIGHBORS) -> tuple[np.ndarray, np.ndarray]:
    """The top-K table restricted to ``members`` (a gene mask) as UMAP's precomputed kNN (indices, distances).

    Rows and indices are positions among the members; column 0 is the gene itself.
    """
    if "coex_partner" not in node:
        raise InputError("node has no variable 'coex_partner' (run atted_explore.coexpression first)")
    check_partner_order(node)
    positions = np.flatnonzero(members)
    local = np.full(members.size + 1, -1, dtype=np.int64)  # index -1 (no partner) maps to -1
    local[positions] = np.arange(positions.size)
    partners = np.asarray(node["coex_partner"].values)[positions]
    scores = np.asarray(node["coex_score"].values, dtype=float)[positions]
    inside = local[partners] >= 0
    first = np.argsort(~inside, axis=1, kind="stable")[:, : n_neighbors - 1]  # strongest in-subset partners
    found = np.take_along_axis(inside, first, axis=1)
    indices = np.where(found, local[np.take_along_axis(partners, first, axis=1)], -1)
    valid = np.asarray(node["coex_score"].values, dtype=float)
    high, low = np.nanmax(valid), np.nanmin(valid)
    distances = (high - np.take_along_axis(scores, first, axis=1)) / max(high - low, 1e-12) + 0.01
    distances = np.where(found, distances, PAD_DISTANCE)
    own = np.arange(positions.size)[:, None]
    return np.hstack([own, indices]).astype(np.int32), np.hstack([np.zeros_like(own, float), distances]).astype(np.float32)


def umap_layout(node: xr.Dataset, members: np.ndarray, *, seed: int = 0, n_neighbors: int = N_NEIGHBORS) -> np.ndarray:
    """UMAP (gene, xy) layout of the member genes from the top-K table; NaN outside (module doc)."""
    import umap  # imported here: numba compiles it on first import (seconds)

    indices, distances = knn_graph(node, members, n_neighbors)
    if "gene_score" in node:
        data, init = np.asarray(standardized_gene_scores(node).values, dtype=np.float32)[members], "spectral"
    else:
        data, init = np.zeros((indices.shape[0], 1), dtype=np.float32), "random"
    reducer = umap.UMAP(
        n_neighbors=n_neighbors, min_dist=MIN_DIST, random_state=seed, init=init, n_jobs=1,
        precomputed_knn=(indices, distances), metric="euclidean",
    )
    with warnings.catch_warnings():  # "no search index" and "n_jobs overridden by random_state"
        warnings.simplefilter("ignore")
        embedded = reducer.fit_transform(np.nan_to_num(data))
    out = np.full((members.size, 2), np.nan, dtype=np.float32)
    out[members] = embedded
    return out


def _align(atlas: xr.DataTree, name: str, reference: str, subset: str, maps: dict) -> dict:
    """Move node ``name``'s map of ``subset`` onto the reference's; returns what was done."""
    own, target = maps[name][subset], maps[reference][subset]
    anchors = ortholog_anchors(atlas, reference, name, ~np.isnan(target[:, 0]), ~np.isnan(own[:, 0]))
    if anchors.groups.size < MIN_ALIGNMENT_ANCHORS:
        return {"reference": reference, "anchors": int(anchors.groups.size), "aligned": False}
    points_ref, points_own = anchors.positions(target, own)
    centre_ref, centre_own = points_ref.mean(axis=0), points_own.mean(axis=0)
    rotation, _ = orthogonal_procrustes(points_own - centre_own, points_ref - centre_ref)
    scale = np.sqrt(((points_ref - centre_ref) ** 2).sum() / max(float(((points_own - centre_own) ** 2).sum()), 1e-12))
    maps[name][subset] = ((own - centre_own) @ rotation * scale + centre_ref).astype(np.float32)
    return {"reference": reference, "anchors": int(anchors.groups.size), "aligned": True, "scale": float(scale),
            "reflected": bool(np.linalg.det(rotation) < 0)}


# --------------------------------------------------------------------------- entry point


def _imported(node: xr.Dataset) -> dict[str, np.ndarray]:
    """Layouts that came with the atlas (not made by :func:`coexmap`), by subset."""
    if "coexmap" not in node or "coexmap_params" in node.attrs:
        return {}
    return {str(s): np.asarray(node["coexmap"].sel(subset=s).values, dtype=np.float32) for s in node["subset"].values}


def _check_subsets(subsets) -> list[str]:
    if isinstance(subsets, str) or not isinstance(subsets, Sequence) or not subsets:
        raise InputError(f"coexmap: subsets must be a non-empty list of names, got {subsets!r}")
    return list(dict.fromkeys(str(s) for s in subsets))


def coexmap(
    atlas: xr.DataTree,
    subsets: Sequence[str] = DEFAULT_SUBSETS,
    *,
    seed: int = 0,
    n_neighbors: int = N_NEIGHBORS,
    reference: str | None = None,
    recompute: bool = False,
    strict: bool = True,
    n_permutations: int = 200,
    progress: bool = True,
) -> xr.DataTree:
    """CoexMaps of every species node: layouts, map modules, alignment, conservation; returns a new tree.

    Per node: ``coexmap`` (gene, subset, xy; NaN outside a subset),
    ``coexmap_module`` (gene, subset; int32 map modules: HDBSCAN islands checked against coexpression, -1 none), attrs
    ``coexmap_params``, ``coexmap_subsets`` (where each subset comes from),
    ``coexmap_alignment`` and ``coexmap_skipped``. At the root, the
    conservation table of every species pair and subset (see
    :func:`~atted_explore.compute.map_modules.conservation_table`).
    ``reference``: node the maps are aligned to (default: the first node).
    ``strict=False`` (the pipeline) skips subsets a node cannot resolve or that
    are too small, recording why in ``coexmap_skipped``, instead of raising.
    """
    subsets = _check_subsets(subsets)
    names = species_nodes(atlas)
    if n_neighbors < 2:
        raise InputError(f"coexmap: n_neighbors={n_neighbors}; expected >= 2")
    if reference is not None and reference not in names:
        raise InputError(f"coexmap: reference {reference!r} is not a species node; nodes are {names}")
    members, sources, skipped = {}, {}, {n: {} for n in names}
    for subset in subsets:
        resolved = {n: subset_members(atlas, n, subset) for n in names}
        if all(mask is None for mask, _ in resolved.values()):
            if strict:
                raise InputError(
                    f"coexmap: unknown subset {subset!r}; known subsets include {available_subsets(atlas)[:20]}"
                )
        for n, (mask, source) in resolved.items():
            if mask is None:
                skipped[n][subset] = "not known on this node"
            elif mask.sum() < MIN_SUBSET_GENES:
                if strict:
                    raise InputError(
                        f"coexmap: subset {subset!r} has {int(mask.sum())} genes on node {n!r}; "
                        f"a CoexMap needs at least {MIN_SUBSET_GENES}"
                    )
                skipped[n][subset] = f"{int(mask.sum())} genes (< {MIN_SUBSET_GENES})"
            else:
                members[n, subset], sources[n, subset] = mask, source
    maps: dict[str, dict[str, np.ndarray]] = {n: {} for n in names}
    kept = {n: {} if recompute else _imported(atlas[n].dataset) for n in names}
    tasks = [(n, s) for n in names for s in subsets if (n, s) in members]
    for n, subset in tqdm(tasks, desc="CoexMaps", unit="map", disable=not progress):
        node = atlas[n].dataset
        maps[n][subset] = kept[n][subset] if subset in kept[n] else umap_layout(
            node, members[n, subset], seed=seed, n_neighbors=n_neighbors
        )
    alignment = {n: {} for n in names}
    if not orthologs(atlas).empty:
        with_orthologs = set(orthologs(atlas)["node"])
        for subset in subsets:
            holders = [n for n in names if subset in maps[n] and n in with_orthologs]
            ref = reference if reference in holders else (holders[0] if holders else None)
            for n in holders:
                if n != ref:
                    alignment[n][subset] = _align(atlas, n, ref, subset, maps)
    out = atlas.copy()
    params = {"input": "coex_partner/coex_score top-K table as kNN graph", "n_neighbors": n_neighbors,
              "min_dist": MIN_DIST, "seed": seed, "recompute": recompute}
    for n in names:
        node = out[n].to_dataset(inherit=False).drop_vars(["coexmap", "coexmap_module", "subset", "xy"], errors="ignore")
        done = list(maps[n])
        if done:
            stacked = np.stack([maps[n][s] for s in done], axis=1)
            vectors = standardized_gene_scores(node).values if "gene_score" in node else None
            modules = np.stack([map_modules(maps[n][s], vectors) for s in done], axis=1)
            node = node.assign(coexmap=(("gene", "subset", "xy"), stacked),
                               coexmap_module=(("gene", "subset"), modules))
            node = node.assign_coords(subset=np.array(done, dtype=object), xy=np.array(["x", "y"], dtype=object))
        node.attrs.update(
            coexmap_params={**params, "kept_imported": [s for s in done if s in kept[n]]},
            coexmap_subsets={s: sources[n, s] for s in done},
            coexmap_alignment=alignment[n],
            coexmap_skipped=skipped[n],
        )
        out[n] = node
    table = conservation_table(out, n_permutations=n_permutations, seed=seed, progress=progress)
    root = out.to_dataset(inherit=False).drop_vars([v for v in table.variables if v in out.dataset.variables])
    root = root.drop_dims([d for d in ("map_pair", "map_subset") if d in root.dims])
    if table.sizes.get("map_pair", 0):
        root = root.assign(table.variables)
        root.attrs.update(table.attrs)
    out.dataset = root
    return out
