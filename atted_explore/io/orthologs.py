"""Ortholog sources: orthogroup long tables and pairwise reciprocal-best-hit tables.

Both become the atlas' ortholog membership table (``group``, ``node``,
``gene``): an orthogroup is a group; a reciprocal-best-hit pair is a group of
two. IDs are mapped onto each species node's genes (transcript IDs such as
``AT1G01060.1`` map to their gene) and every node's join is reported.
"""

from __future__ import annotations

import os
import warnings

import pandas as pd

from ..errors import FormatError, InputError
from .ids import JoinReport, JoinWarning, id_rule, map_ids
from .tables import read_table

GROUP_COLUMNS = ("family", "orthogroup", "group", "og", "ortholog_group", "gene_family")
SPECIES_COLUMNS = ("species", "organism", "taxon")
GENE_COLUMNS = ("gene", "gene_id", "locus")


def _column(table: pd.DataFrame, names: tuple[str, ...], path, what: str) -> str:
    for column in table.columns:
        if column.strip().lower() in names:
            return column
    raise FormatError(f"{path}: no {what} column (one of {names}); the header has {list(table.columns)}")


def read_orthogroups(path: str | os.PathLike, sep: str | None = None) -> pd.DataFrame:
    """An orthogroup long table (e.g. PLAZA: Family, Species, Gene) as columns ``group``, ``species``, ``gene``."""
    table = read_table(path, sep=sep)
    columns = [
        _column(table, GROUP_COLUMNS, path, "orthogroup"),
        _column(table, SPECIES_COLUMNS, path, "species"),
        _column(table, GENE_COLUMNS, path, "gene"),
    ]
    out = table[columns].set_axis(["group", "species", "gene"], axis=1)
    out.attrs["source"] = str(path)
    return out


def read_rbh(path: str | os.PathLike, sep: str = ";") -> pd.DataFrame:
    """A reciprocal-best-hit table (``query_id``, ``subject_id``, ...; default ``;``-separated) as ``query``, ``subject``."""
    table = read_table(path, sep=sep, min_columns=2)
    lower = {c.lower(): c for c in table.columns}
    query, subject = lower.get("query_id", table.columns[0]), lower.get("subject_id", table.columns[1])
    out = table[[query, subject]].set_axis(["query", "subject"], axis=1)
    out.attrs["source"] = str(path)
    return out


def node_for_species(species: str, nodes: list[str]) -> str | None:
    """The node of a species code (``zma`` -> ``Zma-r``; matched on the first three letters)."""
    matches = [n for n in nodes if n[:3].lower() == species.strip()[:3].lower()]
    return matches[0] if matches else None


def _map_members(members: pd.DataFrame, genes_by_node: dict[str, list[str]], source: str, warn: bool):
    """Map rows (group, node, gene) onto node genes; returns the mapped table and one report per node."""
    reports, parts = {}, []
    for node, rows in members.groupby("node", sort=False):
        report = map_ids(
            rows["gene"], genes_by_node[node], id_rule(node), what=f"orthologs {source}", onto=node, warn=warn
        )
        reports[node] = report
        mapped = rows.assign(gene=rows["gene"].map(report.mapping)).dropna(subset=["gene"])
        parts.append(mapped)
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["group", "node", "gene"])
    table = table.drop_duplicates()
    # a group is useful only when it links genes of two or more nodes or two genes
    sizes = table.groupby("group")["gene"].transform("size")
    return table[sizes >= 2].reset_index(drop=True), reports


def orthogroup_members(
    groups: pd.DataFrame, genes_by_node: dict[str, list[str]], *, warn: bool = True
) -> tuple[pd.DataFrame, dict[str, JoinReport]]:
    """The (group, node, gene) table of orthogroups restricted to the atlas' nodes and genes."""
    source = groups.attrs.get("source", "orthogroups")
    nodes = list(genes_by_node)
    species = pd.Series(groups["species"].unique())
    node_of = {s: node_for_species(s, nodes) for s in species}
    unused = [s for s, n in node_of.items() if n is None]
    if unused and warn:
        warnings.warn(f"orthologs {source}: species {unused} match no species node of {nodes}; rows ignored", JoinWarning, stacklevel=2)
    members = groups.assign(node=groups["species"].map(node_of)).dropna(subset=["node"])
    if members.empty:
        raise InputError(f"{source}: no species of {list(species)} matches a species node of the atlas {nodes}")
    return _map_members(members[["group", "node", "gene"]], genes_by_node, source, warn)


def rbh_members(
    pairs: pd.DataFrame, query_node: str, subject_node: str, genes_by_node: dict[str, list[str]], *, warn: bool = True
) -> tuple[pd.DataFrame, dict[str, JoinReport]]:
    """The (group, node, gene) table of reciprocal-best-hit pairs between two nodes (one group per pair)."""
    source = pairs.attrs.get("source", "reciprocal best hits")
    for node in (query_node, subject_node):
        if node not in genes_by_node:
            raise InputError(f"{source}: species node {node!r} is not in the atlas {list(genes_by_node)}")
    group = "rbh:" + pairs["query"] + "|" + pairs["subject"]
    members = pd.concat(
        [
            pd.DataFrame({"group": group, "node": query_node, "gene": pairs["query"]}),
            pd.DataFrame({"group": group, "node": subject_node, "gene": pairs["subject"]}),
        ],
        ignore_index=True,
    )
    return _map_members(members, genes_by_node, source, warn)
