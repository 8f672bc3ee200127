"""Comparing CoexMaps across species: ortholog anchors, a conservation score, and gene modules.

Ortholog anchors
    Two genes are orthologs when they share a group of the root ortholog table
    (:func:`atted_explore.atlas.orthologs`). For a subset ``S`` and nodes A, B,
    an *anchor* is an ortholog group with at least one member in ``S`` on both
    sides and at most ``MAX_ANCHOR_COPIES`` members on each side (large gene
    families say nothing about where one gene sits). Its position on a map is
    the centroid of its members there: a 1:1 group is the gene itself; for
    1:many the centroid of the copies, so diverged paralogs honestly pull the
    anchor between their places (we did not pick the "best" copy, which would
    need a coexpression criterion chosen after seeing both maps).

Conservation score (:func:`map_conservation`)
    On each map, every anchor's ``k`` nearest other anchors (Euclidean, on the
    anchor positions). ``overlap(i) = |N_A(i) ∩ N_B(i)| / k``: the share of an
    anchor's neighbours in A whose orthologs are also its neighbours in B.
    ``score`` = mean overlap over anchors. ``baseline`` = the same score with
    the orthology shuffled (a random permutation maps A's anchors onto B's),
    averaged over ``n_permutations``; ``p_value = (1 + #{shuffled >= score}) /
    (1 + n_permutations)``. ``excess = (score - baseline) / (1 - baseline)``
    puts subsets with different numbers of anchors (and so different chance
    levels, about ``k / (n_anchors - 1)``) on one scale: 0 = chance, 1 = every
    neighbourhood kept.

Modules on a map (:func:`map_modules`)
    HDBSCAN (scikit-learn) on the 2-D layout of a subset, ``min_cluster_size =
    MODULE_MIN_SIZE`` genes and ``min_samples = MODULE_MIN_SAMPLES`` (a module
    is a dense island of at least 20 genes: with 10 a 40-gene module splits
    into fragments on the demo's maps); label -1 = in no module. HDBSCAN's
    default never returns the root of its cluster tree, so a map whose only
    dense group is one island among scattered genes (a small compartment map
    holding one pathway) comes out all noise; only then is it rerun with
    ``allow_single_cluster=True``, which keeps that island as the one module.
    The islands are then checked against coexpression (split, merged, joined by
    scattered genes; :mod:`~atted_explore.compute.module_cohesion`, which
    gives its rules and how they do on the demo's draws and on real maps).
    :func:`module_enrichment`: per module and gene set, the hypergeometric
    upper tail of the overlap within the subset's genes, BH over every (module,
    set) pair tested. :func:`module_matches`: modules of two species compared
    through ortholog groups: of the ``G`` groups with members in the subset on
    both sides, ``n`` touch module a, ``K`` touch module b, ``k`` touch both;
    ``p = P(X >= k)``, ``X ~ Hypergeom(G, K, n)``, BH over every pair.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr
from scipy import sparse
from sklearn.cluster import HDBSCAN
from sklearn.neighbors import NearestNeighbors

from ..atlas import gene_sets, node_dataset, orthologs, species_nodes
from ..errors import InputError
from .module_cohesion import cohesive_modules
from .selection import over_representation

MAX_ANCHOR_COPIES = 3
NEIGHBOURS = 10
MODULE_MIN_SIZE = 20
MODULE_MIN_SAMPLES = 5
LAYOUTS = ("subset", "global")


# --------------------------------------------------------------------------- anchors


@dataclass(frozen=True)
class Anchors:
    """Ortholog groups shared by two gene selections, with centroid weights on each side."""

    groups: np.ndarray  # (n,) group IDs
    weights_a: sparse.csr_matrix  # (n, genes of A): 1 / copies on the group's members
    weights_b: sparse.csr_matrix

    def positions(self, layout_a: np.ndarray, layout_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Anchor centroids on two (gene, xy) layouts."""
        return self.weights_a @ np.nan_to_num(layout_a), self.weights_b @ np.nan_to_num(layout_b)


def node_orthologs(atlas: xr.DataTree, name: str) -> pd.DataFrame:
    """Ortholog memberships (group, gene, position on ``gene``) of one node; InputError when it has none."""
    table = orthologs(atlas)
    if table.empty:
        raise InputError(
            "the atlas has no ortholog table (root variables ortholog_group/ortholog_node/ortholog_gene); "
            "build it with --orthologs or --rbh to compare species"
        )
    rows = table[table["node"] == name]
    if rows.empty:
        raise InputError(
            f"species node {name!r} has no orthologs in the atlas's ortholog table "
            f"(nodes with orthologs: {sorted(table['node'].unique())})"
        )
    genes = node_dataset(atlas, name).indexes["gene"]
    return rows.assign(position=genes.get_indexer(rows["gene"]))[["group", "gene", "position"]]


def _weights(rows: pd.DataFrame, groups: pd.Index, n_genes: int) -> sparse.csr_matrix:
    row = groups.get_indexer(rows["group"])
    copies = rows.groupby("group")["position"].transform("size").to_numpy()
    return sparse.csr_matrix((1.0 / copies, (row, rows["position"].to_numpy())), shape=(groups.size, n_genes))


def ortholog_anchors(
    atlas: xr.DataTree, node_a: str, node_b: str, members_a: np.ndarray, members_b: np.ndarray,
    max_copies: int | None = MAX_ANCHOR_COPIES,
) -> Anchors:
    """Anchors between gene masks ``members_a`` (over node A's genes) and ``members_b`` (module doc)."""
    rows_a = node_orthologs(atlas, node_a)
    rows_b = node_orthologs(atlas, node_b)
    rows_a = rows_a[members_a[rows_a["position"].to_numpy()]]
    rows_b = rows_b[members_b[rows_b["position"].to_numpy()]]
    shared = np.intersect1d(rows_a["group"].unique(), rows_b["group"].unique())
    if max_copies is not None:
        small_a = rows_a.groupby("group").size().reindex(shared) <= max_copies
        small_b = rows_b.groupby("group").size().reindex(shared) <= max_copies
        shared = shared[(small_a & small_b).to_numpy()]
    groups = pd.Index(np.sort(shared))
    rows_a, rows_b = rows_a[rows_a["group"].isin(groups)], rows_b[rows_b["group"].isin(groups)]
    return Anchors(groups.to_numpy(), _weights(rows_a, groups, members_a.size), _weights(rows_b, groups, members_b.size))


# --------------------------------------------------------------------------- conservation


def layout(node: xr.Dataset, subset: str, which: str = "subset") -> np.ndarray:
    """A (gene, xy) layout: the subset's own map, or (``which="global"``) the all-gene map restricted to it."""
    if "coexmap" not in node:
        raise InputError("node has no variable 'coexmap' (run atted_explore.coexmap first)")
    subsets = [str(s) for s in node["subset"].values]
    if subset not in subsets:
        raise InputError(f"subset {subset!r} has no CoexMap on this node; it has {subsets}")
    if which not in LAYOUTS:
        raise InputError(f"layout {which!r}: expected one of {LAYOUTS}")
    own = np.asarray(node["coexmap"].sel(subset=subset).values, dtype=float)
    if which == "subset":
        return own
    if "all" not in subsets:
        raise InputError(f"no all-gene CoexMap on this node to restrict to {subset!r}; it has {subsets}")
    restricted = np.asarray(node["coexmap"].sel(subset="all").values, dtype=float)
    restricted[np.isnan(own[:, 0])] = np.nan
    return restricted


def _neighbours(points: np.ndarray, k: int) -> np.ndarray:
    """Indices of every point's k nearest other points (ties broken by index: deterministic)."""
    found = NearestNeighbors(n_neighbors=k + 1).fit(points).kneighbors(points, return_distance=False)
    own = found == np.arange(len(points))[:, None]
    # drop the point itself (or, with duplicates, the last column) so k neighbours remain
    keep = ~own
    keep[own.sum(axis=1) == 0, -1] = False
    return found[keep].reshape(len(points), k)


def _mean_overlap(left: np.ndarray, right: np.ndarray) -> float:
    return float((left[:, :, None] == right[:, None, :]).sum() / left.size)


def map_conservation(
    atlas: xr.DataTree, node_a: str, node_b: str, subset: str = "all", *, k: int = NEIGHBOURS,
    n_permutations: int = 1000, seed: int = 0, which: str = "subset",
) -> xr.Dataset:
    """How well two species' CoexMaps of ``subset`` keep ortholog neighbourhoods (formulas in the module doc).

    Returns a Dataset of scalars ``score``, ``baseline``, ``p_value``,
    ``n_anchors``, ``excess`` (attrs: nodes, subset, k, permutations, layout).
    ``which="global"`` scores the all-gene maps restricted to the subset.
    """
    if node_a == node_b:
        raise InputError(f"map_conservation: node_a and node_b are both {node_a!r}; compare two species")
    if k < 1 or n_permutations < 1:
        raise InputError(f"map_conservation: k={k}, n_permutations={n_permutations}; expected both >= 1")
    layout_a = layout(node_dataset(atlas, node_a), subset, which)
    layout_b = layout(node_dataset(atlas, node_b), subset, which)
    anchors = ortholog_anchors(atlas, node_a, node_b, ~np.isnan(layout_a[:, 0]), ~np.isnan(layout_b[:, 0]))
    n = anchors.groups.size
    if n < k + 2:
        raise InputError(
            f"map_conservation({node_a!r}, {node_b!r}, subset={subset!r}): {n} ortholog anchors; "
            f"at least {k + 2} are needed for k={k} neighbours"
        )
    points_a, points_b = anchors.positions(layout_a, layout_b)
    near_a, near_b = _neighbours(points_a, k), _neighbours(points_b, k)
    score = _mean_overlap(near_a, near_b)
    rng = np.random.default_rng(seed)
    shuffled = np.empty(n_permutations)
    for i in range(n_permutations):
        permutation = rng.permutation(n)  # A's anchor i plays B's anchor permutation[i]
        shuffled[i] = _mean_overlap(permutation[near_a], near_b[permutation])
    baseline = float(shuffled.mean())
    out = xr.Dataset({
        "score": score,
        "baseline": baseline,
        "p_value": (1 + int((shuffled >= score).sum())) / (1 + n_permutations),
        "n_anchors": n,
        "excess": (score - baseline) / (1 - baseline) if baseline < 1 else 0.0,
    })
    out.attrs = {"node_a": node_a, "node_b": node_b, "subset": subset, "k": k,
                 "n_permutations": n_permutations, "seed": seed, "layout": which}
    return out


CONSERVATION_VARIABLES = ("score", "baseline", "p_value", "n_anchors", "excess")


def conservation_table(
    atlas: xr.DataTree, *, k: int = NEIGHBOURS, n_permutations: int = 200, seed: int = 0, progress: bool = False,
) -> xr.Dataset:
    """:func:`map_conservation` for every pair of species nodes with orthologs and every subset both have.

    Returns the root variables of the data model: ``map_conservation_{score, baseline,
    p_value, n_anchors, excess}`` on (``map_pair``, ``map_subset``) (NaN / -1 where a
    pair has no map or too few anchors), ``map_node_a``/``map_node_b`` on
    ``map_pair`` and ``map_subset_name`` on ``map_subset``. No coordinates, so
    species nodes do not inherit them. Empty when fewer than two nodes qualify.
    """
    from tqdm.auto import tqdm

    with_orthologs = set(orthologs(atlas)["node"])
    names = [n for n in species_nodes(atlas) if n in with_orthologs and "coexmap" in atlas[n].dataset]
    pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1:]]
    subsets = list(dict.fromkeys(str(s) for n in names for s in atlas[n].dataset["subset"].values))
    values = {v: np.full((len(pairs), len(subsets)), np.nan) for v in CONSERVATION_VARIABLES}
    tasks = [(p, s) for p in range(len(pairs)) for s in range(len(subsets))]
    for p, s in tqdm(tasks, desc="map conservation", unit="map", disable=not progress):
        (a, b), subset = pairs[p], subsets[s]
        if not all(subset in atlas[n].dataset["subset"].values for n in (a, b)):
            continue
        try:
            result = map_conservation(atlas, a, b, subset, k=k, n_permutations=n_permutations, seed=seed)
        except InputError:  # too few anchors for this pair and subset: left NaN
            continue
        for v in CONSERVATION_VARIABLES:
            values[v][p, s] = float(result[v])
    out = xr.Dataset(
        {f"map_conservation_{v}": (("map_pair", "map_subset"), values[v]) for v in CONSERVATION_VARIABLES}
        | {
            "map_node_a": ("map_pair", np.array([a for a, _ in pairs], dtype=object)),
            "map_node_b": ("map_pair", np.array([b for _, b in pairs], dtype=object)),
            "map_subset_name": ("map_subset", np.array(subsets, dtype=object)),
        }
    )
    out["map_conservation_n_anchors"] = out["map_conservation_n_anchors"].fillna(-1).astype(np.int64)
    out.attrs = {"map_conservation_params": {"k": k, "n_permutations": n_permutations, "seed": seed}}
    return out


def stored_conservation(atlas: xr.DataTree) -> pd.DataFrame:
    """The conservation table stored at the atlas root, one row per (pair, subset); empty if absent."""
    root = atlas.dataset
    if "map_conservation_score" not in root:
        return pd.DataFrame(columns=["node_a", "node_b", "subset", *CONSERVATION_VARIABLES])
    rows = []
    for p in range(root.sizes["map_pair"]):
        for s in range(root.sizes["map_subset"]):
            row = {v: root[f"map_conservation_{v}"].values[p, s] for v in CONSERVATION_VARIABLES}
            if np.isfinite(row["score"]):
                rows.append({"node_a": str(root["map_node_a"].values[p]), "node_b": str(root["map_node_b"].values[p]),
                             "subset": str(root["map_subset_name"].values[s]), **row})
    return pd.DataFrame(rows, columns=["node_a", "node_b", "subset", *CONSERVATION_VARIABLES])


# --------------------------------------------------------------------------- modules


def map_modules(points: np.ndarray, vectors: np.ndarray | None = None) -> np.ndarray:
    """HDBSCAN labels (int32, -1 = no module) of 2-D points; NaN rows get -1. With the genes'
    ``vectors`` (rows as ``points``), the islands are then checked against coexpression
    (:func:`~atted_explore.compute.module_cohesion.cohesive_modules`)."""
    labels = np.full(len(points), -1, dtype=np.int32)
    placed = ~np.isnan(points[:, 0])
    if placed.sum() > MODULE_MIN_SIZE:
        for single in (False, True):  # one island among scattered genes: allowed only when nothing else is found
            found = HDBSCAN(min_cluster_size=MODULE_MIN_SIZE, min_samples=MODULE_MIN_SAMPLES,
                            allow_single_cluster=single, copy=True).fit_predict(points[placed])
            if found.max() >= 0:
                break
        if vectors is not None:
            found = cohesive_modules(found, vectors[placed], MODULE_MIN_SIZE)
        labels[placed] = found
    return labels


def _modules(node: xr.Dataset, subset: str) -> np.ndarray:
    if "coexmap_module" not in node:
        raise InputError("node has no variable 'coexmap_module' (run atted_explore.coexmap first)")
    layout(node, subset)  # a clear error for an unknown subset
    return np.asarray(node["coexmap_module"].sel(subset=subset).values)


def gene_set_module(node: xr.Dataset, subset: str, genes: np.ndarray) -> tuple[int, float, float]:
    """Where a gene set (a mask over the node's genes) lands among the map modules of ``subset``.

    Returns ``(module, recall, purity)``: the label holding most of the set's
    genes (-1 when most are in no module), the share of the set in it, and the
    share of that module's genes that belong to the set (a planted module
    recovered as one map module has both near 1).
    """
    modules = _modules(node, subset)
    genes = np.asarray(genes, dtype=bool)
    if genes.shape != modules.shape or not genes.any():
        raise InputError(f"gene_set_module: expected a non-empty mask of {modules.size} genes, got {genes.shape}")
    labels, counts = np.unique(modules[genes], return_counts=True)
    best = int(labels[np.argmax(counts)])
    return best, float(counts.max() / genes.sum()), float((genes & (modules == best)).sum() / (modules == best).sum())


def module_enrichment(node: xr.Dataset, subset: str = "all", min_set_size: int = 2) -> xr.Dataset:
    """Gene sets over-represented in each map module of ``subset`` (hypergeometric + BH; module doc).

    Returns a Dataset on dim ``row`` (``module, gene_set, name, overlap,
    module_size, set_size, p_value, q_value``), most significant first;
    rows with overlap 0 are tested but not returned.
    """
    modules = _modules(node, subset)
    placed = ~np.isnan(layout(node, subset)[:, 0])
    genes = node.indexes["gene"]
    columns = ["module", "gene_set", "name", "overlap", "module_size", "set_size", "p_value", "q_value"]
    labels = np.unique(modules[modules >= 0])
    sets = {s: m for s, m in gene_sets(node).items()}
    member = {s: placed & np.isin(np.arange(genes.size), genes.get_indexer(m)) for s, m in sets.items()}
    member = {s: mask for s, mask in member.items() if mask.sum() >= min_set_size}
    if labels.size == 0 or not member:
        return xr.Dataset.from_dataframe(pd.DataFrame(columns=columns).rename_axis("row"))
    set_ids = list(member)
    in_set = np.stack([member[s] for s in set_ids], axis=1).astype(np.int64)  # (gene, set)
    in_module = (modules[:, None] == labels[None, :]).astype(np.int64)  # (gene, module)
    overlap = in_module.T @ in_set
    sizes_module, sizes_set = in_module.sum(axis=0), in_set.sum(axis=0)
    table = pd.DataFrame({
        "module": np.repeat(labels, len(set_ids)),
        "gene_set": np.tile(np.array(set_ids, dtype=object), labels.size),
        "overlap": overlap.ravel(),
        "module_size": np.repeat(sizes_module, len(set_ids)),
        "set_size": np.tile(sizes_set, labels.size),
    })
    table["p_value"], table["q_value"] = over_representation(
        table["overlap"], table["set_size"], table["module_size"], int(placed.sum())
    )
    names = dict(zip(node["gene_set"].values, node["gene_set_name"].values)) if "gene_set_name" in node else {}
    table["name"] = table["gene_set"].map(lambda s: names.get(s, s))
    table = table[table["overlap"] > 0].sort_values(["p_value", "module"], ignore_index=True)[columns]
    return xr.Dataset.from_dataframe(table.rename_axis("row"))


def module_matches(atlas: xr.DataTree, node_a: str, node_b: str, subset: str = "all") -> xr.Dataset:
    """Map modules of ``node_a`` against those of ``node_b`` through ortholog groups (module doc).

    Returns a Dataset on dim ``row``: ``module_a, module_b, overlap, groups_a,
    groups_b, p_value, q_value, best`` (``best``: the most significant partner of
    ``module_a``), most significant first; only pairs sharing a group.
    """
    a, b = node_dataset(atlas, node_a), node_dataset(atlas, node_b)
    modules_a, modules_b = _modules(a, subset), _modules(b, subset)
    placed_a, placed_b = (~np.isnan(layout(n, subset)[:, 0]) for n in (a, b))
    anchors = ortholog_anchors(atlas, node_a, node_b, placed_a, placed_b, max_copies=None)
    labels_a, labels_b = np.unique(modules_a[modules_a >= 0]), np.unique(modules_b[modules_b >= 0])
    columns = ["module_a", "module_b", "overlap", "groups_a", "groups_b", "p_value", "q_value", "best"]
    if anchors.groups.size == 0 or labels_a.size == 0 or labels_b.size == 0:
        return xr.Dataset.from_dataframe(pd.DataFrame(columns=columns).rename_axis("row"))
    # group x module incidence: does the group have a member in the module?
    touch_a = (anchors.weights_a @ (modules_a[:, None] == labels_a[None, :])) > 0
    touch_b = (anchors.weights_b @ (modules_b[:, None] == labels_b[None, :])) > 0
    overlap = touch_a.astype(np.int64).T @ touch_b.astype(np.int64)
    table = pd.DataFrame({
        "module_a": np.repeat(labels_a, labels_b.size),
        "module_b": np.tile(labels_b, labels_a.size),
        "overlap": overlap.ravel(),
        "groups_a": np.repeat(touch_a.sum(axis=0), labels_b.size),
        "groups_b": np.tile(touch_b.sum(axis=0), labels_a.size),
    })
    table["p_value"], table["q_value"] = over_representation(
        table["overlap"], table["groups_b"], table["groups_a"], anchors.groups.size
    )
    table = table[table["overlap"] > 0].sort_values(["p_value", "module_a", "module_b"], ignore_index=True)
    table["best"] = ~table.duplicated("module_a")
    return xr.Dataset.from_dataframe(table[columns].rename_axis("row"))


def ortholog_genes(atlas: xr.DataTree, node_from: str, genes, node_to: str, table: pd.DataFrame | None = None) -> list[str]:
    """Genes of ``node_to`` sharing an ortholog group with any of ``genes`` of ``node_from`` (empty if none).

    ``table``: the atlas's ortholog table when the caller holds it already (views call this per selection).
    """
    table = orthologs(atlas) if table is None else table
    groups = table.loc[(table["node"] == node_from) & table["gene"].isin(list(genes)), "group"]
    return sorted(table.loc[(table["node"] == node_to) & table["group"].isin(groups), "gene"].unique())
