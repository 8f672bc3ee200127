"""Layout of coexpression networks that stays fast at thousands of nodes.

networkx's force-directed layouts cost O(n^2) per iteration: at 2,000 nodes
``spring_layout``, ``forceatlas2_layout`` and ``kamada_kawai_layout`` take
seconds to minutes (``benchmarks/network.py`` measures ``spring_layout``).
Coexpression networks of a gene list are modular, so the layout is divided
where the graph divides:

1. connected components are laid out separately and packed in rows, largest
   first (unconnected genes form a grid below the connected ones);
2. a component of up to ``DIRECT_LIMIT`` nodes gets networkx's
   Fruchterman-Reingold ``spring_layout`` (dense, fast at that size);
3. a larger one is split into communities by fast label propagation
   (networkx, seeded; 25x faster than Louvain at 1,500 nodes), communities of
   fewer than ``MIN_COMMUNITY`` genes joining their best-connected neighbour; each
   community is laid out by the same rules, and the communities are placed by
   ``spring_layout`` on the community graph (edge weight = edges between
   them), packed tighter than their discs allow and pushed apart until no two
   discs overlap.

Spring layouts are scaled to fill a disc of ``AREA_PER_NODE`` per node and
nodes closer than ``2 * NODE_RADIUS`` are pushed apart (a dense module stays
legible instead of collapsing to a dot), so the density looks the same at any
size. Deterministic for a given ``seed``.
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
from scipy.spatial import cKDTree
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

#: components (and communities) up to this many nodes are laid out directly by spring_layout.
DIRECT_LIMIT = 100
SPRING_ITERATIONS = 60
#: area a node gets in a spring layout (unit: the typical distance between neighbouring nodes, squared).
AREA_PER_NODE = 3.0
#: nodes closer than twice this are pushed apart.
NODE_RADIUS = 0.35
GAP = 1.0
#: communities smaller than this join a neighbouring one.
MIN_COMMUNITY = 4


def _extent(xy: np.ndarray) -> float:
    """Radius of the disc around 0 that holds every node (with half a unit of margin)."""
    return float(np.sqrt((xy**2).sum(axis=1)).max(initial=0)) + 0.5


def _scaled(xy: np.ndarray, rms_radius: float) -> np.ndarray:
    """``xy`` centred and scaled to the given root-mean-square distance from the centre."""
    xy = xy - xy.mean(axis=0)
    rms = math.sqrt(float((xy**2).sum(axis=1).mean()))
    return xy * (rms_radius / rms) if rms > 0 else xy


def _separate(centres: np.ndarray, radii: np.ndarray, gap: float, rounds: int = 200) -> np.ndarray:
    """Push overlapping discs apart (each pair by half its overlap per round) until none overlap.

    Only pairs closer than the largest possible overlap distance are looked at (a k-d tree per round).
    """
    if len(radii) < 2:
        return centres
    reach = 2 * float(radii.max()) + gap
    for round_ in range(rounds):
        pairs = cKDTree(centres).query_pairs(reach, output_type="ndarray")
        if not len(pairs):
            break
        i, j = pairs[:, 0], pairs[:, 1]
        delta = centres[i] - centres[j]
        distance = np.sqrt((delta**2).sum(axis=1))
        overlap = radii[i] + radii[j] + gap - distance
        if overlap.max() <= 1e-3:
            break
        # coincident centres: a fixed, seeded direction per pair
        direction = np.random.default_rng(round_).normal(size=delta.shape)
        push = np.where(distance[:, None] > 1e-9, delta / np.maximum(distance, 1e-9)[:, None], direction)
        push *= (np.maximum(overlap, 0) / 2)[:, None]
        moved = np.stack([np.bincount(i, push[:, k], len(radii)) - np.bincount(j, push[:, k], len(radii))
                          for k in range(2)], axis=1)
        centres = centres + moved
    return centres


def _graph(n: int, edges: np.ndarray) -> nx.Graph:
    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(map(tuple, edges.tolist()))
    return graph


def _induced(nodes: np.ndarray, edges: np.ndarray, n_total: int) -> np.ndarray:
    """The edges among ``nodes``, renumbered 0 .. len(nodes) - 1."""
    local = np.full(n_total, -1)
    local[nodes] = np.arange(nodes.size)
    inside = edges[(local[edges[:, 0]] >= 0) & (local[edges[:, 1]] >= 0)]
    return local[inside]


def _spring(n: int, edges: np.ndarray, seed: int) -> np.ndarray:
    """networkx spring layout filling a disc of ``AREA_PER_NODE`` per node, then de-overlapped."""
    positions = nx.spring_layout(_graph(n, edges), seed=seed, iterations=SPRING_ITERATIONS, method="force", weight=None)
    disc_radius = math.sqrt(AREA_PER_NODE * n / math.pi)
    xy = _scaled(np.array([positions[k] for k in range(n)], dtype=float), disc_radius / math.sqrt(2))  # uniform disc
    xy = _separate(xy, np.full(n, NODE_RADIUS), gap=0.0, rounds=30)
    return xy - xy.mean(axis=0)


def _communities(n: int, edges: np.ndarray, seed: int) -> np.ndarray:
    """Community of each node (0 .. C - 1): label propagation, then every community smaller than
    ``MIN_COMMUNITY`` joins the neighbouring community it shares most edges with (a gene hanging on a
    module is drawn beside it, and the community graph stays small)."""
    community = np.empty(n, dtype=np.int64)
    for c, members in enumerate(nx.community.fast_label_propagation_communities(_graph(n, edges), seed=seed)):
        community[list(members)] = c
    sizes = np.bincount(community)
    for small in np.flatnonzero(sizes < MIN_COMMUNITY):
        ends = community[edges]
        touching = ends[(ends == small).any(axis=1)]
        others = touching[touching != small]
        if others.size:
            target = int(np.bincount(others, minlength=sizes.size).argmax())
            community[community == small] = target
            sizes[target] += sizes[small]
            sizes[small] = 0
    return np.unique(community, return_inverse=True)[1]


def _connected(n: int, edges: np.ndarray, seed: int) -> np.ndarray:
    """Positions (n x 2, centred on 0) of a connected graph on nodes 0 .. n - 1."""
    if n <= 2:
        return np.array([[k - (n - 1) / 2, 0.0] for k in range(n)])
    if n <= DIRECT_LIMIT:
        return _spring(n, edges, seed)
    community = _communities(n, edges, seed)
    communities = [np.flatnonzero(community == c) for c in range(community.max() + 1)]
    if len(communities) == 1:  # cannot split: a dense block drawn as one
        return _spring(n, edges, seed)
    a, b = community[edges[:, 0]], community[edges[:, 1]]
    across = a != b
    pairs, counts = np.unique(np.sort(np.stack([a[across], b[across]], axis=1), axis=1), axis=0, return_counts=True)
    between = _graph(len(communities), np.empty((0, 2), dtype=np.int64))
    between.add_weighted_edges_from(zip(pairs[:, 0].tolist(), pairs[:, 1].tolist(), counts.tolist(), strict=True))
    local = [_connected(members.size, _induced(members, edges, n), seed) for members in communities]
    radii = np.array([_extent(xy) for xy in local])
    placed = nx.spring_layout(between, seed=seed, iterations=SPRING_ITERATIONS, method="force", weight="weight")
    centres = np.array([placed[c] for c in range(len(communities))], dtype=float)
    # start packed tighter than the discs allow, so pushing them apart leaves them touching
    centres = _separate(_scaled(centres, 0.5 * math.sqrt(float((radii**2).sum()))), radii, gap=GAP)
    xy = np.empty((n, 2))
    for centre, members, group in zip(centres, communities, local, strict=True):
        xy[members] = centre + group
    return xy - xy.mean(axis=0)


def _pack(groups: list[np.ndarray]) -> list[np.ndarray]:
    """Groups (each centred on 0) moved into rows left to right, rows going down, in the given order."""
    sizes = [2 * _extent(xy) for xy in groups]
    width = max(max(sizes), 1.2 * math.sqrt(sum(s * s for s in sizes)))
    placed, x, y, row_height = [], 0.0, 0.0, 0.0
    for xy, size in zip(groups, sizes, strict=True):
        if x > 0 and x + size > width:
            x, y, row_height = 0.0, y - row_height - GAP, 0.0
        placed.append(xy + [x + size / 2, y - size / 2])
        x, row_height = x + size + GAP, max(row_height, size)
    return placed


def layout(graph: nx.Graph, seed: int = 0) -> nx.Graph:
    """Store node positions ``x``, ``y`` (floats) on ``graph`` and return it (rules in the module doc)."""
    nodes = list(graph)
    n = len(nodes)
    if n == 0:
        return graph
    index = {node: k for k, node in enumerate(nodes)}
    edges = np.array([(index[a], index[b]) for a, b in graph.edges()], dtype=np.int64).reshape(-1, 2)
    adjacency = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n))
    _, label = connected_components(adjacency, directed=False)
    components = sorted((np.flatnonzero(label == c) for c in np.unique(label)), key=lambda c: (-c.size, c[0]))
    groups = [_connected(members.size, _induced(members, edges, n), seed) for members in components]
    xy = np.empty((n, 2))
    for members, placed in zip(components, _pack(groups), strict=True):
        xy[members] = placed
    for node, (x, y) in zip(nodes, xy.tolist(), strict=True):
        graph.nodes[node]["x"], graph.nodes[node]["y"] = x, y
    return graph
