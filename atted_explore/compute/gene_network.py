"""Coexpression network of a gene list, from the top-K partner tables (ATTED-II's NetworkDrawer).

Genes
    A list of gene IDs or symbols (a Python list or pasted text split on
    newlines, commas, semicolons and spaces). IDs compare by the species' ID
    rule (:func:`atted_explore.io.ids.id_rule`: case-insensitive, isoform
    suffixes such as ``.1`` removed); an entry that is no ID is looked up as a
    symbol (same case rule) and names every gene carrying it. Entries matching
    nothing are kept in ``graph.graph["unknown"]``, never dropped silently.
Edges
    Genes A and B of the network are joined when B is within A's ``max_rank``
    strongest partners or A within B's (``coex_partner``), or when
    ``coex_score`` of either direction is at least ``min_score``. With neither
    threshold given the rule is ``max_rank = DEFAULT_MAX_RANK`` (10): every
    gene draws at most its 10 strongest partners from the list, so a list of
    random genes stays sparse (two random genes of a 20,000-gene species are
    joined with probability ~ 2 * 10 / 20,000 = 0.1%) while a coexpressed
    module is drawn as a dense cluster. Edge attributes: ``score`` (the larger
    ``coex_score`` of the directions listing the pair), ``rank`` (the better
    rank) and ``mr`` (mutual rank, when the method has one).
Nodes
    ``symbol``, ``description``, ``localization`` (compartments joined by
    ", "), ``module`` (CoexMap module of ``coexmap_module`` on the chosen
    subset; -1 = none or no modules), ``degree``, ``query`` (True for listed
    genes, False for partners added by ``add_partners``) and the layout ``x``,
    ``y`` (:func:`layout`).

Every attribute is a str, int, float or bool and nothing is None, so
``networkx.write_graphml`` takes the graph as it is.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

import networkx as nx
import numpy as np
import pandas as pd
import xarray as xr

from ..atlas import check_partner_order, gene_field, localization_labels, require_variable

from ..errors import InputError
from ..io.ids import id_rule, map_ids
from .consistency import _pair_keys
from .graph_layout import layout

DEFAULT_MAX_RANK = 10
#: most genes a network holds by default (ATTED-II's NetworkDrawer stops at 500).
DEFAULT_MAX_GENES = 2000
#: rows of the top-K tables read at once (bounds memory for whole-species edge counts).
BLOCK_ROWS = 4096
_SEPARATORS = re.compile(r"[\s,;]+")


def parse_gene_list(genes: str | Iterable[str]) -> list[str]:
    """Distinct entries of a gene list, in order: text is split on whitespace, commas and semicolons."""
    text = genes if isinstance(genes, str) else "\n".join(str(g) for g in genes)
    return list(dict.fromkeys(t for t in _SEPARATORS.split(text) if t))


def resolve_genes(node: xr.Dataset, entries: list[str], name: str | None = None) -> tuple[np.ndarray, list[str]]:
    """Positions on ``gene`` of the entries (IDs, else symbols), in order, and the entries matching nothing."""
    genes = node.indexes["gene"]
    rule = id_rule(name)
    by_id = map_ids(entries, genes, rule, what="gene list", onto=name or "node", warn=False).mapping
    by_symbol: dict[str, list[int]] = {}
    if "symbol" in node.coords and any(by_id[e] is None for e in entries):
        symbols = pd.Index(node["symbol"].values.astype(str))
        keys = symbols.str.casefold() if rule.case_insensitive else symbols
        for position, key in enumerate(keys):
            by_symbol.setdefault(key, []).append(position)
    positions, unknown = [], []
    for entry in entries:
        if by_id[entry] is not None:
            positions.append(genes.get_loc(by_id[entry]))
            continue
        key = entry.casefold() if rule.case_insensitive else entry
        if key in by_symbol:
            positions.extend(by_symbol[key])
        else:
            unknown.append(entry)
    return np.array(list(dict.fromkeys(positions)), dtype=np.int64), unknown


def edge_rule(node: xr.Dataset, max_rank: int | None, min_score: float | None) -> tuple[int, float | None]:
    """The effective ``(max_rank, min_score)``: the default rank when neither is given, checked against K."""
    require_variable(node, "coex_partner", "atted_explore.compute.coexpression")
    check_partner_order(node)
    top_k = node.sizes["rank"]
    if max_rank is None:
        max_rank = 0 if min_score is not None else min(DEFAULT_MAX_RANK, top_k)
    lowest = 0 if min_score is not None else 1  # 0: edges by score alone
    if isinstance(max_rank, bool) or not isinstance(max_rank, (int, np.integer)) or not lowest <= max_rank <= top_k:
        raise InputError(f"network(): max_rank={max_rank!r}; expected an integer from {lowest} to {top_k} (the node "
                         f"keeps its top {top_k} partners per gene)")
    number = isinstance(min_score, (int, float, np.integer, np.floating)) and not isinstance(min_score, bool)
    if min_score is not None and not (number and math.isfinite(min_score)):
        raise InputError(f"network(): min_score={min_score!r}; expected a finite number or None")
    return int(max_rank), None if min_score is None else float(min_score)


def _directed_pairs(
    node: xr.Dataset, positions: np.ndarray, local: np.ndarray, max_rank: int, min_score: float | None
) -> dict[str, np.ndarray]:
    """Every (gene, partner) entry of the tables passing the rule with both genes in the network (local indices)."""
    width = node.sizes["rank"] if min_score is not None else max_rank
    variables = [v for v in ("coex_partner", "coex_score", "coex_mr") if v in node]
    columns = {key: [] for key in ("source", "target", "rank", "score", "mr")}
    order = np.sort(positions)  # sorted reads touch each stored chunk once
    for start in range(0, order.size, BLOCK_ROWS):
        rows = order[start : start + BLOCK_ROWS]
        block = node[variables].isel(gene=rows, rank=slice(0, width))
        partner = np.asarray(block["coex_partner"].values)
        score = np.asarray(block["coex_score"].values, dtype=np.float64)
        keep = partner >= 0
        target = np.where(keep, local[np.maximum(partner, 0)], -1)
        passes = np.arange(width) < max_rank
        if min_score is not None:
            passes = passes | (score >= min_score)
        keep &= (target >= 0) & passes
        row, column = np.nonzero(keep)
        columns["source"].append(local[rows[row]])
        columns["target"].append(target[row, column])
        columns["rank"].append(column + 1)
        columns["score"].append(score[row, column])
        mr = np.asarray(block["coex_mr"].values, dtype=np.float64)[row, column] if "coex_mr" in block else None
        columns["mr"].append(mr if mr is not None else np.full(row.size, np.nan))
    return {key: np.concatenate(parts) if parts else np.empty(0) for key, parts in columns.items()}


def edge_table(
    node: xr.Dataset, positions: np.ndarray, max_rank: int, min_score: float | None
) -> pd.DataFrame:
    """Undirected edges among the genes at ``positions``: columns ``a``, ``b`` (indices into ``positions``,
    ``a < b``), ``score`` (larger direction), ``rank`` (better direction), ``mr``."""
    local = np.full(node.sizes["gene"], -1, dtype=np.int64)
    local[positions] = np.arange(positions.size)
    pairs = _directed_pairs(node, positions, local, max_rank, min_score)
    different = pairs["source"] != pairs["target"]
    pairs = {key: values[different] for key, values in pairs.items()}
    keys = _pair_keys(pairs["source"], pairs["target"], positions.size)
    order = np.lexsort((-pairs["score"], keys))
    keys = keys[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if keys.size else np.empty(0, dtype=np.int64)
    return pd.DataFrame(
        {
            "a": keys[starts] // positions.size,
            "b": keys[starts] % positions.size,
            "score": pairs["score"][order][starts],
            "rank": np.minimum.reduceat(pairs["rank"][order], starts).astype(np.int64) if keys.size else [],
            "mr": pairs["mr"][order][starts],
        }
    )


def _partners(node: xr.Dataset, positions: np.ndarray, add_partners: int) -> np.ndarray:
    """The top ``add_partners`` partners of each gene at ``positions`` that are not among them, in rank order."""
    partners = np.asarray(node["coex_partner"].isel(gene=positions, rank=slice(0, add_partners)).values).ravel()
    partners = partners[(partners >= 0) & ~np.isin(partners, positions)]
    return pd.unique(partners).astype(np.int64)


def _modules(node: xr.Dataset, positions: np.ndarray, subset: str | None) -> tuple[np.ndarray, str]:
    """CoexMap module of each gene on ``subset`` ("all" if present, else the first), -1 without modules."""
    if "coexmap_module" not in node:
        if subset is not None:
            raise InputError(f"network(): module_subset={subset!r} but the node has no CoexMap modules "
                             "(variable 'coexmap_module'; run the CoexMap step first)")
        return np.full(positions.size, -1, dtype=np.int64), ""
    subsets = [str(s) for s in node["subset"].values]
    if subset is None:
        subset = "all" if "all" in subsets else subsets[0]
    if subset not in subsets:
        raise InputError(f"network(): module_subset={subset!r}; the node's CoexMap subsets are {subsets}")
    modules = node["coexmap_module"].isel(gene=positions).sel(subset=subset)
    return np.asarray(modules.values, dtype=np.int64), subset


def _check_count(count: int, max_genes: int, what: str) -> None:
    if count > max_genes:
        raise InputError(f"network(): {what} {count:,} genes, more than the limit max_genes={max_genes:,}; "
                         "shorten the list or raise max_genes (the layout slows down with size)")


def network(
    node: xr.Dataset,
    genes: str | Iterable[str],
    max_rank: int | None = None,
    min_score: float | None = None,
    add_partners: int = 0,
    max_genes: int = DEFAULT_MAX_GENES,
    *,
    name: str | None = None,
    module_subset: str | None = None,
    seed: int = 0,
) -> nx.Graph:
    """The coexpression network of a gene list (rules and attributes in the module doc).

    Parameters
    ----------
    node
        A species node with the top-K tables (:func:`~atted_explore.compute.coexpression`).
    genes
        Gene IDs or symbols: a list, or text separated by newlines, commas, semicolons or spaces.
    max_rank, min_score
        Edge thresholds; neither given means ``max_rank=DEFAULT_MAX_RANK``.
    add_partners
        Add each listed gene's ``add_partners`` strongest partners (grows one or two genes into a neighbourhood).
    max_genes
        Most genes the network may hold (listed plus added); more is an :class:`InputError` naming the limit.
    name
        The species node's name (its ID rule; shown in messages).
    module_subset
        CoexMap subset whose modules fill the ``module`` attribute (default "all", else the first subset).
    seed
        Seed of the layout.

    Graph attributes: ``species`` (``name``), ``max_rank``, ``min_score`` (only when
    given), ``unknown`` (the unmatched entries joined by ", "; "" when none),
    ``n_unknown``, ``module_subset``.
    """
    max_rank, min_score = edge_rule(node, max_rank, min_score)
    if isinstance(add_partners, bool) or not isinstance(add_partners, (int, np.integer)) or not (
        0 <= add_partners <= node.sizes["rank"]
    ):
        raise InputError(f"network(): add_partners={add_partners!r}; expected an integer from 0 to "
                         f"{node.sizes['rank']}")
    entries = parse_gene_list(genes)
    if not entries:
        raise InputError("network(): the gene list is empty; give gene IDs or symbols separated by newlines, "
                         "commas or spaces")
    _check_count(len(entries), max_genes, "the list names")
    listed, unknown = resolve_genes(node, entries, name)
    if listed.size == 0:
        raise InputError(f"network(): none of the {len(entries):,} entries is a gene ID or symbol of "
                         f"{name or 'this node'} (e.g. {', '.join(entries[:5])})")
    _check_count(listed.size, max_genes, "the list matches")
    added = _partners(node, listed, add_partners) if add_partners else np.empty(0, dtype=np.int64)
    _check_count(listed.size + added.size, max_genes, f"with add_partners={add_partners} the network has")
    positions = np.concatenate([listed, added])

    graph = nx.Graph(species=name or "", max_rank=max_rank, unknown=", ".join(unknown), n_unknown=len(unknown))
    if min_score is not None:
        graph.graph["min_score"] = min_score
    modules, graph.graph["module_subset"] = _modules(node, positions, module_subset)
    ids = np.asarray(node["gene"].values).astype(str)[positions].tolist()
    attributes = pd.DataFrame(
        {
            "symbol": gene_field(node, "symbol")[positions],
            "description": gene_field(node, "description")[positions],
            "localization": localization_labels(node, positions),
        }
    ).fillna("").astype(str)
    attributes["module"] = modules
    attributes["query"] = np.arange(positions.size) < listed.size
    graph.add_nodes_from(zip(ids, attributes.to_dict("records"), strict=True))

    edges = edge_table(node, positions, max_rank, min_score)
    has_mr = "coex_mr" in node
    graph.add_edges_from(
        (ids[a], ids[b], {"score": s, "rank": r, **({"mr": m} if has_mr else {})})
        for a, b, s, r, m in zip(
            edges["a"].tolist(), edges["b"].tolist(), edges["score"].tolist(), edges["rank"].tolist(),
            edges["mr"].tolist(), strict=True,
        )
    )
    nx.set_node_attributes(graph, dict(graph.degree()), "degree")
    return layout(graph, seed=seed)
