"""Gene sets: KEGG-style ``PathwayID<TAB>genes...``, PMN ``*cyc_pathways`` tables, GMT.

All three become a :class:`GeneSets` (set ID -> member IDs, set ID -> display
name); :func:`attach_gene_sets` maps the members onto a species node's genes,
reports the join and stores the sets on the node.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import xarray as xr

from ..atlas import gene_set_sizes
from ..atlas import gene_sets as gene_sets_of
from ..atlas import with_gene_sets
from ..errors import FormatError, InputError
from .ids import IdRule, JoinReport, map_ids
from .tables import read_table
from .text import read_text

#: PMN placeholders for a missing gene.
MISSING_GENE = {"", "-", "unknown", "na", "nil"}
PMN_COLUMNS = ("Pathway-id", "Pathway-name", "Gene-id")
FORMATS = ("auto", "kegg", "gmt", "pmn")


@dataclass
class GeneSets:
    """Gene sets read from ``source``: ``sets`` maps set ID -> member IDs, ``names`` set ID -> display name.

    ``sizes`` maps set ID -> the number of IDs listed for it in the file (duplicates
    and IDs of genes absent from any node included: the size ATTED-II's
    function score filters on); a set missing there has ``len(sets[id])``.
    """

    sets: dict[str, list[str]]
    names: dict[str, str]
    source: str
    sizes: dict[str, int] = field(default_factory=dict)

    def size(self, set_id: str) -> int:
        """Number of IDs the file lists for ``set_id``."""
        return self.sizes.get(set_id, len(self.sets[set_id]))

    def __len__(self) -> int:
        return len(self.sets)

    def member_ids(self) -> list[str]:
        return list(dict.fromkeys(gene for members in self.sets.values() for gene in members))


def _split_members(fields: list[str]) -> list[str]:
    """Members may be tab-separated fields or whitespace/comma lists inside a field."""
    return [gene for field in fields for gene in re.split(r"[\s,]+", field) if gene]


def _read_lines_format(path, with_description: bool) -> GeneSets:
    sets: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    sizes: dict[str, int] = {}
    lines = read_text(path).split("\n")
    minimum = 3 if with_description else 2
    expected = "name<TAB>description<TAB>genes..." if with_description else "PathwayID<TAB>genes..."
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = [f.strip() for f in line.split("\t")]
        if len(fields) < minimum or not fields[0]:
            raise FormatError(f"{path}, line {number}: {len(fields)} tab-separated field(s); expected {expected}")
        set_id = fields[0]
        members = _split_members(fields[2:] if with_description else fields[1:])
        sets.setdefault(set_id, []).extend(members)
        sizes[set_id] = sizes.get(set_id, 0) + len(members)
        if with_description and fields[1]:
            names.setdefault(set_id, fields[1])
    if not sets:
        raise FormatError(f"{path}: file is empty; expected lines {expected}")
    return GeneSets({k: list(dict.fromkeys(v)) for k, v in sets.items()}, names, str(path), sizes)


def _read_pmn(path) -> GeneSets:
    table = read_table(path, sep="\t")
    missing = [c for c in PMN_COLUMNS if c not in table.columns]
    if missing:
        raise FormatError(f"{path}: missing column(s) {missing}; expected a PMN pathway table with {PMN_COLUMNS}")
    table = table[~table["Gene-id"].str.strip().str.lower().isin(MISSING_GENE)]
    sets = {pid: list(dict.fromkeys(rows["Gene-id"].str.strip())) for pid, rows in table.groupby("Pathway-id", sort=False)}
    names = dict(zip(table["Pathway-id"], table["Pathway-name"], strict=True))
    if not sets:
        raise FormatError(f"{path}: no pathway lists a gene (every Gene-id is empty or 'unknown')")
    return GeneSets(sets, names, str(path))


def detect_format(path: str | os.PathLike) -> str:
    """``pmn`` when the header starts with ``Pathway-id``, ``gmt`` for ``.gmt`` files, else ``kegg``."""
    if ".gmt" in [s.lower() for s in Path(path).suffixes]:
        return "gmt"
    head = read_text(path).lstrip("\n").split("\n", 1)[0]
    return "pmn" if head.startswith("Pathway-id\t") else "kegg"


def read_gene_sets(path: str | os.PathLike, format: str = "auto") -> GeneSets:
    """Gene sets from a KEGG-style, GMT or PMN pathway file (``format="auto"`` detects it)."""
    if format not in FORMATS:
        raise InputError(f"gene set format {format!r}: expected one of {FORMATS}")
    format = detect_format(path) if format == "auto" else format
    if format == "pmn":
        return _read_pmn(path)
    return _read_lines_format(path, with_description=format == "gmt")


def attach_gene_sets(
    node: xr.Dataset,
    gene_sets: GeneSets,
    rule: IdRule,
    *,
    onto: str = "the node's genes",
    warn: bool = True,
) -> tuple[xr.Dataset, JoinReport]:
    """Store ``gene_sets`` on ``node`` with members mapped to its genes.

    A file none of whose IDs match is refused (InputError): its IDs are of
    another species or genome version.
    """
    report = map_ids(
        gene_sets.member_ids(), node["gene"].values, rule, what=f"gene sets {gene_sets.source}", onto=onto, warn=warn
    )
    if report.n_matched == 0:
        raise InputError(
            f"{gene_sets.source}: none of its {report.n_total:,} gene IDs match {onto} "
            f"(e.g. {report.unmatched[:3]} vs {list(node['gene'].values[:3])}); expected IDs of the same "
            "species and genome version"
        )
    mapped = {
        set_id: [report.mapping[g] for g in members if report.mapping[g] is not None]
        for set_id, members in gene_sets.sets.items()
    }
    mapped = {set_id: members for set_id, members in mapped.items() if members}
    sizes = {set_id: gene_sets.size(set_id) for set_id in mapped}
    if "member_set" in node:  # a second gene-set file adds its sets; a set ID in both gets the union of members
        earlier = gene_sets_of(node)
        earlier_sizes = gene_set_sizes(node)
        mapped = {**earlier, **{s: list(dict.fromkeys(earlier.get(s, []) + m)) for s, m in mapped.items()}}
        sizes = {**earlier_sizes, **{s: earlier_sizes.get(s, 0) + n for s, n in sizes.items()}}
        names = {**dict(zip(node["gene_set"].values, node["gene_set_name"].values, strict=True)), **gene_sets.names}
    else:
        names = gene_sets.names
    return with_gene_sets(node, mapped, names, sizes), report
