"""A gene list's network in a second species, through orthologs, and how many edges it keeps.

Projection
    The orthologs of every gene of a network (genes sharing a group of the
    atlas' ortholog table, :func:`atted_explore.atlas.orthologs`) are looked up
    in the other species and their network is drawn there by the same edge rule
    (``max_rank``, ``min_score``). Each projected node carries ``orthologs``: the
    source genes it is an ortholog of, joined by ", ".
Conservation
    A source edge A-B is *testable* when both genes have orthologs in the target
    and *conserved* when some ortholog pair (A', B') (A' != B') is an edge in the
    target; testable edges that are not conserved are *lost*. A projected edge
    A'-B' is conserved when some source edge joins genes it is an ortholog of.
Null model and test
    The candidate pairs are the distinct target gene pairs (A', B') of the
    testable source edges (``ortholog_pairs_tested``, q); ``ortholog_pairs_linked``
    (l) of them are edges of the target. Under the null the candidate pairs are
    as likely to be linked as any pair of the target species' genes: the
    target's whole graph under the same rule has E edges among N = G (G - 1) / 2
    pairs, so l ~ Hypergeometric(N, E, q), ``expected_linked = q E / N`` and
    ``p_value = P(X >= l)`` (``scipy.stats.hypergeom``). At the level of source
    edges, an edge with k candidate pairs is conserved by chance with
    probability 1 - (1 - E / N)^k; their sum is ``expected_conserved``. With
    one-to-one orthologs both levels agree.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import xarray as xr
from scipy.stats import hypergeom

from ..atlas import node_dataset, orthologs
from ..errors import InputError
from .gene_network import DEFAULT_MAX_GENES, edge_table, network

NULL_MODEL = "hypergeometric: candidate ortholog pairs drawn from all gene pairs of the target species' graph"


def whole_graph_edges(node: xr.Dataset, max_rank: int, min_score: float | None) -> int:
    """Edges of a species' whole coexpression graph under the rule (every gene pair the rule links)."""
    return len(edge_table(node, np.arange(node.sizes["gene"]), max_rank, min_score))


def _ortholog_map(atlas: xr.DataTree, genes: list[str], node_from: str, node_to: str) -> dict[str, list[str]]:
    """Each gene of ``genes`` (node_from) with its orthologs in node_to (only genes that have some)."""
    table = orthologs(atlas)
    if table.empty:
        raise InputError("project_network(): the atlas has no ortholog table (root variables ortholog_group, "
                         "ortholog_node, ortholog_gene)")
    source = table[(table["node"] == node_from) & table["gene"].isin(genes)]
    target = table[table["node"] == node_to]
    pairs = source.merge(target, on="group", suffixes=("", "_to"))
    mapping = {gene: list(dict.fromkeys(rows["gene_to"])) for gene, rows in pairs.groupby("gene", sort=False)}
    return {gene: mapping[gene] for gene in genes if gene in mapping}


def _conservation(graph: nx.Graph, projected: nx.Graph) -> tuple[dict, dict, dict]:
    """Per source edge and per projected edge: conserved or not; and the pair counts of the test."""
    targets_of: dict[str, list[str]] = {}
    for target, data in projected.nodes(data=True):
        for source in filter(None, data.get("orthologs", "").split(", ")):
            targets_of.setdefault(source, []).append(target)
    source_flags, target_flags = {}, dict.fromkeys(projected.edges(), False)
    candidates, untested, chance_weights = set(), 0, []
    for a, b in graph.edges():
        pairs = {
            tuple(sorted((ta, tb))) for ta in targets_of.get(a, []) for tb in targets_of.get(b, []) if ta != tb
        }
        if not (targets_of.get(a) and targets_of.get(b)):
            untested += 1
        linked = [pair for pair in pairs if projected.has_edge(*pair)]
        source_flags[(a, b)] = bool(linked)
        for ta, tb in linked:
            target_flags[(ta, tb) if (ta, tb) in target_flags else (tb, ta)] = True
        if targets_of.get(a) and targets_of.get(b):
            candidates |= pairs
            chance_weights.append(len(pairs))
    counts = {
        "untested": untested,
        "tested_pairs": len(candidates),
        "linked_pairs": sum(projected.has_edge(*pair) for pair in candidates),
        "pairs_per_edge": chance_weights,
    }
    return source_flags, target_flags, counts


def mark_conserved(graph: nx.Graph, projected: nx.Graph) -> nx.Graph:
    """A copy of ``graph`` whose edges carry ``conserved`` (bool) and nodes ``orthologs`` (target genes, ", ")."""
    marked = graph.copy()
    source_flags, _, _ = _conservation(graph, projected)
    nx.set_edge_attributes(marked, source_flags, "conserved")
    targets: dict[str, list[str]] = {gene: [] for gene in marked}
    for target, data in projected.nodes(data=True):
        for source in filter(None, data.get("orthologs", "").split(", ")):
            if source in targets:
                targets[source].append(target)
    nx.set_node_attributes(marked, {gene: ", ".join(t) for gene, t in targets.items()}, "orthologs")
    return marked


def project_network(
    atlas: xr.DataTree, graph: nx.Graph, node_from: str, node_to: str, *, seed: int = 0
) -> nx.Graph:
    """The network of ``graph``'s orthologs in ``node_to``, conserved edges marked (rules in the module doc).

    Edges of the result carry ``conserved`` (bool); nodes carry ``orthologs``.
    Graph attributes add ``source_species``, ``source_edges``, ``conserved_edges``,
    ``lost_edges``, ``untested_edges`` (a gene without orthologs), ``expected_conserved``,
    ``ortholog_pairs_tested``, ``ortholog_pairs_linked``, ``expected_linked``,
    ``enrichment`` (linked / expected), ``p_value``, ``edge_density`` (E / N) and
    ``null_model``. :func:`mark_conserved` marks the source graph's edges.
    """
    if node_from == node_to:
        raise InputError(f"project_network(): node_from and node_to are both {node_from!r}; choose another species")
    target_node = node_dataset(atlas, node_to)
    node_dataset(atlas, node_from)  # a clear error for an unknown source node
    mapping = _ortholog_map(atlas, [str(g) for g in graph], node_from, node_to)
    if not mapping:
        raise InputError(f"project_network(): none of the {graph.number_of_nodes():,} genes of the network has an "
                         f"ortholog in {node_to} (ortholog table of the atlas)")
    target_genes = list(dict.fromkeys(t for targets in mapping.values() for t in targets))
    max_rank, min_score = int(graph.graph.get("max_rank", 0)), graph.graph.get("min_score")
    projected = network(
        target_node, target_genes, max_rank=max_rank if max_rank or min_score is None else 0, min_score=min_score,
        max_genes=max(DEFAULT_MAX_GENES, len(target_genes)), name=node_to, seed=seed,
    )
    sources_of: dict[str, list[str]] = {}
    for source, targets in mapping.items():
        for target in targets:
            sources_of.setdefault(target, []).append(source)
    nx.set_node_attributes(projected, {t: ", ".join(sources_of.get(t, [])) for t in projected}, "orthologs")

    source_flags, target_flags, counts = _conservation(graph, projected)
    nx.set_edge_attributes(projected, target_flags, "conserved")
    n_genes = target_node.sizes["gene"]
    pairs_total = n_genes * (n_genes - 1) // 2
    whole = whole_graph_edges(target_node, projected.graph["max_rank"], min_score)
    density = whole / pairs_total
    tested, linked = counts["tested_pairs"], counts["linked_pairs"]
    conserved = sum(source_flags.values())
    expected = tested * density
    projected.graph.update(
        source_species=node_from,
        source_edges=graph.number_of_edges(),
        conserved_edges=conserved,
        lost_edges=graph.number_of_edges() - counts["untested"] - conserved,
        untested_edges=counts["untested"],
        expected_conserved=float(sum(1 - (1 - density) ** k for k in counts["pairs_per_edge"])),
        ortholog_pairs_tested=tested,
        ortholog_pairs_linked=linked,
        expected_linked=float(expected),
        enrichment=float(linked / expected) if expected > 0 else 0.0,
        p_value=float(hypergeom.sf(linked - 1, pairs_total, whole, tested)) if tested else 1.0,
        edge_density=float(density),
        null_model=NULL_MODEL,
    )
    return projected
