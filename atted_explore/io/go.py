"""GO annotations -> subcellular compartments through cellular-component ancestors.

Annotations come as a ``locus``/``go_id`` table (``ath_go.tsv.gz``: locus,
go_id, term, ontology) or a GAF 2.2 file. A gene is in a compartment when one
of its GO terms is the compartment's term or a descendant of it through
``is_a``/``part_of`` links (``go_parents.tsv.gz``: go_id, parent_id,
relationship), so ``chloroplast thylakoid membrane`` counts as chloroplast.
"""

from __future__ import annotations

import os
from collections import defaultdict

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import FormatError
from .ids import IdRule, JoinReport, map_ids
from .tables import read_table
from .text import read_text

#: compartment -> GO cellular-component term.
COMPARTMENT_TERMS: dict[str, str] = {
    "chloroplast": "GO:0009507",
    "nucleus": "GO:0005634",
    "mitochondrion": "GO:0005739",
    "plasma membrane": "GO:0005886",
    "extracellular": "GO:0005576",
    "cytosol": "GO:0005829",
    "Golgi": "GO:0005794",
    "vacuole": "GO:0005773",
    "ER": "GO:0005783",
    "peroxisome": "GO:0005777",
    "cell wall": "GO:0005618",
}
#: relationships along which a term inherits its parent's location.
LOCATION_RELATIONS = {"isa", "is_a", "is a", "part of", "part_of", "partof"}
#: GAF 2.2 columns (1-based 2: DB Object ID, 3: symbol, 4: qualifier, 5: GO ID, 9: aspect, 11: synonyms).
GAF_COLUMNS = 17
GAF_MIN_COLUMNS = 15  # columns 16-17 (annotation extension, gene product form) are optional in practice


def read_go_parents(path: str | os.PathLike) -> pd.DataFrame:
    """Parent links (``go_id``, ``parent_id``, ``relationship``) of the GO graph."""
    table = read_table(path, sep="\t")
    missing = [c for c in ("go_id", "parent_id") if c not in table.columns]
    if missing:
        raise FormatError(f"{path}: missing column(s) {missing}; expected go_id, parent_id, relationship")
    if "relationship" not in table:
        table["relationship"] = "is_a"
    return table[["go_id", "parent_id", "relationship"]]


def _read_gaf(path) -> pd.DataFrame:
    rows = []
    for number, line in enumerate(read_text(path).split("\n"), start=1):
        if not line.strip() or line.startswith("!"):
            continue
        fields = line.split("\t")
        if len(fields) < GAF_MIN_COLUMNS:
            raise FormatError(
                f"{path}, line {number}: {len(fields)} tab-separated fields; expected at least {GAF_MIN_COLUMNS} "
                f"(GAF 2.2 has {GAF_COLUMNS})"
            )
        if "NOT" in fields[3].split("|"):
            continue
        if not fields[4].startswith("GO:"):
            raise FormatError(f"{path}, line {number}, column 5: {fields[4]!r} is not a GO ID (GO:nnnnnnn)")
        rows.append((fields[1].strip(), fields[4].strip(), fields[8].strip()))
    if not rows:
        raise FormatError(f"{path}: no annotation lines; expected GAF 2.2 lines after the '!' header")
    aspect = {"C": "CC", "P": "BP", "F": "MF"}
    table = pd.DataFrame(rows, columns=["locus", "go_id", "ontology"])
    table["ontology"] = table["ontology"].map(aspect).fillna("")
    table["term"] = ""
    return table


def read_go_annotations(path: str | os.PathLike) -> pd.DataFrame:
    """GO annotations as columns ``locus``, ``go_id``, ``ontology`` (``CC``/``BP``/``MF`` or empty), ``term`` (name or empty)."""
    head = read_text(path).lstrip()[:40]
    if head.startswith("!gaf-version"):
        return _read_gaf(path)
    table = read_table(path, sep="\t", min_columns=2)
    locus_column = next((c for c in table.columns if c.lower() in {"locus", "gene", "gene_id", "locus_id"}), None)
    if locus_column is None or "go_id" not in table.columns:
        raise FormatError(
            f"{path}: header {list(table.columns)[:6]} lacks a locus column and a go_id column; "
            "expected a table like 'locus<TAB>go_id[<TAB>term<TAB>ontology]' or a GAF 2.2 file"
        )
    bad = ~table["go_id"].str.startswith("GO:")
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise FormatError(f"{path}, data row {row + 1}, column 'go_id': {table['go_id'].iat[row]!r} is not a GO ID")
    ontology = table["ontology"] if "ontology" in table else ""
    term = table["term"] if "term" in table else ""
    return pd.DataFrame(
        {"locus": table[locus_column].str.strip(), "go_id": table["go_id"], "ontology": ontology, "term": term}
    )


def location_children(parents: pd.DataFrame) -> dict[str, list[str]]:
    """parent term -> child terms, through the links that carry location (is_a, part_of)."""
    links = parents[parents["relationship"].str.lower().isin(LOCATION_RELATIONS)]
    children = defaultdict(list)
    for child, parent in zip(links["go_id"], links["parent_id"], strict=True):
        children[parent].append(child)
    return children


def descendants(children: dict[str, list[str]], term: str) -> set[str]:
    """``term`` and every term below it (``children`` from :func:`location_children`)."""
    found, frontier = {term}, [term]
    while frontier:
        for child in children.get(frontier.pop(), ()):
            if child not in found:
                found.add(child)
                frontier.append(child)
    return found


def localization(
    annotations: pd.DataFrame,
    parents: pd.DataFrame,
    genes,
    rule: IdRule,
    *,
    source: str = "GO annotations",
    onto: str = "genes",
    warn: bool = True,
) -> tuple[xr.DataArray, JoinReport]:
    """A ``gene x compartment`` bool array from GO annotations, and the join report of their loci."""
    genes = np.asarray(genes, dtype=object)
    if "ontology" in annotations and (annotations["ontology"] != "").any():
        annotations = annotations[annotations["ontology"].isin(["CC", ""])]
    report = map_ids(annotations["locus"], genes, rule, what=source, onto=onto, warn=warn)
    gene_of = annotations["locus"].map(report.mapping)
    position = pd.Series(np.arange(len(genes)), index=pd.Index(genes, dtype=object))
    values = np.zeros((len(genes), len(COMPARTMENT_TERMS)), dtype=bool)
    known = gene_of.notna()
    rows = position.loc[gene_of[known]].to_numpy()
    terms = annotations["go_id"][known].to_numpy()
    children = location_children(parents)
    for column, term in enumerate(COMPARTMENT_TERMS.values()):
        hit = np.isin(terms, list(descendants(children, term)))
        values[rows[hit], column] = True
    array = xr.DataArray(
        values,
        dims=("gene", "compartment"),
        coords={"gene": genes, "compartment": np.array(list(COMPARTMENT_TERMS), dtype=object)},
        name="localization",
    )
    return array, report


def biological_process_sets(
    annotations: pd.DataFrame, genes, rule: IdRule, *, min_size: int = 3, max_size: int = 500
) -> xr.Dataset:
    """GO biological-process sets on ``genes`` as the node variables ``go_term_name`` (dim ``go_term``),
    ``go_member_term`` and ``go_member_gene`` (dim ``go_member``).

    Only annotations marked ``BP`` count (none when the table has no ontology
    column); a set is kept when ``min_size`` to ``max_size`` of its genes are on
    the node (the range PC enrichment tests). Annotations are used as given: a
    file that already lists parent terms (as TAIR's GO slim with parents does)
    yields the propagated sets.
    """
    process = annotations[annotations["ontology"] == "BP"]
    report = map_ids(process["locus"], genes, rule, what="GO BP annotations", onto="genes", warn=False)
    members = pd.DataFrame({"term": process["go_id"].to_numpy(), "gene": process["locus"].map(report.mapping).to_numpy()})
    members = members.dropna().drop_duplicates()
    sizes = members.groupby("term")["gene"].transform("size")
    members = members[(sizes >= min_size) & (sizes <= max_size)].sort_values(["term", "gene"], kind="stable")
    terms = members["term"].unique()
    names = process.drop_duplicates("go_id").set_index("go_id")["term"].reindex(terms).fillna("").astype(str)
    names = names.where(names != "", names.index.to_series())
    return xr.Dataset(
        {
            "go_term_name": ("go_term", names.to_numpy(dtype=object)),
            "go_member_term": ("go_member", members["term"].to_numpy(dtype=object)),
            "go_member_gene": ("go_member", members["gene"].to_numpy(dtype=object)),
        },
        coords={"go_term": np.asarray(terms, dtype=object)},
    )
