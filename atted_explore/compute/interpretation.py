"""What each PC means: statistics (gene sets, annotation terms, representative samples) and written texts.

:func:`describe_pcs` computes the tables (:mod:`.pc_genes`, :mod:`.pc_samples`
document the methods), :func:`store_tables` keeps them on the node as variables
(layout in :mod:`atted_explore.atlas`), :func:`interpretation_tables` reads them
back, :func:`pc_facts` selects what a summarizer may say about one PC, and
:func:`interpret_pcs` does all of it and stores ``label``, ``summary`` and
``description`` as ``pc`` coordinates.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import xarray as xr
from tqdm.auto import tqdm

from ..atlas import INTERPRETATION_TABLES
from ..errors import InputError
from ..summarizers import FIELDS, OfflineSummarizer, Summarizer

#: ``pc`` coordinate of each written text; ``description`` is already the genes' description coordinate.
TEXT_COORDS = {"label": "label", "summary": "summary", "description": "pc_description"}
from .pc_genes import SIDES, check_pcs, pc_enrichment
from .pc_samples import (
    characteristic_terms, contrasted_terms, plain_text, representative_samples, sample_terms, study_common_annotation,
    text_fields,
)

#: list-valued columns (terms), stored space-joined (terms never contain spaces).
LIST_COLUMNS = {"terms"}
#: what a summarizer sees per side: gene sets and terms passing ``alpha``, at most this many.
FACT_SETS, FACT_TERMS, FACT_ANNOTATION_CHARS = 3, 5, 200


def describe_pcs(node: xr.Dataset, *, alpha: float = 0.05, **options) -> dict[str, pd.DataFrame]:
    """Every statistic of every PC: ``enrichment``, ``selected`` (top genes), ``terms``,
    ``representatives``, ``shared`` and ``common`` (study common annotation) as DataFrames.

    ``options`` go to :func:`pc_enrichment` (``fraction``, ``min_genes``, ``z_min``,
    ``min_set_size``, ``max_set_size``), :func:`characteristic_terms`
    (``min_samples``, ``extreme_fraction``, ``min_studies``) and
    :func:`representative_samples` (``n_representatives``).
    """
    def pick(*names):
        return {k: v for k, v in options.items() if k in names}

    unknown = set(options) - {"fraction", "min_genes", "z_min", "min_set_size", "max_set_size", "min_samples",
                              "extreme_fraction", "min_studies", "n_representatives"}
    if unknown:
        raise InputError(f"describe_pcs(): unknown option(s) {sorted(unknown)}")
    enrichment, selected = pc_enrichment(node, **pick("fraction", "min_genes", "z_min", "min_set_size", "max_set_size"))
    terms = sample_terms(node)
    characteristic = characteristic_terms(node, terms=contrasted_terms(node), alpha=alpha,
                                          **pick("min_samples", "extreme_fraction", "min_studies"))
    representatives, shared = representative_samples(node, terms=terms, **pick("n_representatives"))
    return {"enrichment": enrichment, "selected": selected, "terms": characteristic,
            "representatives": representatives, "shared": shared, "common": study_common_annotation(node, terms)}


def _pc_side_strings(node: xr.Dataset, table: pd.DataFrame, column: str, fill) -> np.ndarray:
    values = np.full((node.sizes["pc"], len(SIDES)), fill, dtype=object)
    pcs = list(node["pc"].values)
    for row in table.itertuples(index=False):
        value = getattr(row, column)
        values[pcs.index(row.pc), SIDES.index(row.side)] = " ".join(value) if isinstance(value, list) else value
    return values


def store_tables(node: xr.Dataset, tables: dict[str, pd.DataFrame]) -> xr.Dataset:
    """``node`` with the tables of :func:`describe_pcs` as variables (replacing earlier ones)."""
    old = [v for v in node.variables if v.startswith(tuple(p for p, _, _ in INTERPRETATION_TABLES.values()))]
    node = node.drop_vars(old + [v for v in ("representative_shared", "top_gene_count") if v in node.variables])
    variables = {}
    for name, (prefix, dim, columns) in INTERPRETATION_TABLES.items():
        for column in columns:
            values = tables[name][column]
            if column in LIST_COLUMNS:
                values = values.map(" ".join)
            data = values.to_numpy()
            variables[f"{prefix}{column}"] = (dim, data.astype(object) if data.dtype == object else data)
    variables["representative_shared"] = (("pc", "side"), _pc_side_strings(node, tables["shared"], "terms", ""))
    variables["top_gene_count"] = (("pc", "side"), _pc_side_strings(node, tables["selected"], "n_top", 0).astype(int))
    return node.assign(variables).assign_coords(side=np.array(SIDES, dtype=object))


def has_interpretation(node: xr.Dataset) -> bool:
    """True when the node carries stored PC statistics (:func:`store_tables`)."""
    return all(f"{prefix}{columns[0]}" in node for prefix, _, columns in INTERPRETATION_TABLES.values())


def interpretation_tables(node: xr.Dataset) -> dict[str, pd.DataFrame]:
    """The stored tables (``enrichment``, ``terms``, ``representatives``, ``common``, ``shared``) as DataFrames."""
    out = {}
    for name, (prefix, _, columns) in INTERPRETATION_TABLES.items():
        frame = pd.DataFrame({column: node[f"{prefix}{column}"].values for column in columns})
        for column in LIST_COLUMNS & set(frame.columns):
            frame[column] = frame[column].map(lambda s: str(s).split())
        out[name] = frame
    shared = node["representative_shared"].to_series().reset_index(name="terms")
    out["shared"] = shared.assign(terms=shared["terms"].map(lambda s: str(s).split()))
    return out


def _records(frame: pd.DataFrame, columns: list[str]) -> list[dict]:
    return [
        {c: (v.item() if hasattr(v, "item") else v) for c, v in row.items()} for row in frame[columns].to_dict("records")
    ]


def side_rows(table: pd.DataFrame, pc: int, side: str) -> pd.DataFrame:
    """The rows of one PC side of a table, in table order."""
    return table[(table["pc"].to_numpy() == pc) & (table["side"].to_numpy() == side)]


def pc_facts(node: xr.Dataset, tables: dict[str, pd.DataFrame], pc: int, *, alpha: float = 0.05,
             min_studies: int = 2) -> dict:
    """What a summarizer may say about one PC: per side the gene sets and terms passing ``alpha``
    (terms also at ``min_studies`` extreme studies), the terms shared by the representatives and
    their annotation as plain text (HTML removed, shortened). JSON-ready."""
    variance = float(node["pc_variance"].sel(pc=pc)) if "pc_variance" in node else None
    fields = text_fields(node)
    sample_index = node.indexes["sample"]
    sides = {}
    for side in SIDES:
        sets = side_rows(tables["enrichment"], pc, side)
        sets = sets[sets["fdr"] < alpha].head(FACT_SETS)
        terms = side_rows(tables["terms"], pc, side)
        terms = terms[(terms["fdr"] < alpha) & (terms["n_extreme_studies"] >= min_studies)].head(FACT_TERMS)
        reps = side_rows(tables["representatives"], pc, side)
        shared = side_rows(tables["shared"], pc, side)["terms"]
        annotations = []
        for row in reps.itertuples(index=False):
            position = sample_index.get_loc(row.sample)
            text = "; ".join(plain_text(node[f].values[position]) for f in fields)
            annotations.append({"sample": row.sample, "study": row.study, "annotation": text[:FACT_ANNOTATION_CHARS],
                                "own_terms": list(row.terms)})
        sides[side] = {
            "n_top_genes": int(node["top_gene_count"].sel(pc=pc, side=side)) if "top_gene_count" in node else 0,
            # pathway names carry markup (PMN: "<i>myo</i>-inositol"): summarizers get their text
            "gene_sets": _records(sets.assign(name=sets["name"].map(plain_text)),
                                  ["set", "source", "name", "overlap", "set_size", "fold", "fdr"]),
            "terms": _records(terms, ["term", "auc", "fdr", "n_samples", "n_studies", "n_extreme_studies"]),
            "shared_terms": list(shared.iat[0]) if len(shared) else [],
            "representatives": annotations,
        }
    available = int(node.sizes.get("gene_set", 0) + node.sizes.get("go_term", 0))
    return {"pc": int(pc), "variance": variance, "species": node.attrs.get("species", ""),
            "gene_sets_available": available, "sides": sides}


def interpret_pcs(node: xr.Dataset, summarizer: Summarizer | None = None, pcs=None, progress: bool = True,
                  *, alpha: float = 0.05, **options) -> xr.Dataset:
    """Describe every PC and write a ``label``, ``summary`` and description for the chosen ones.

    Statistics are computed for all PCs (so the FDR is over all of them) and
    stored as variables; the texts of ``pcs`` (default all) are written by
    ``summarizer`` (default :class:`~atted_explore.OfflineSummarizer`) and stored
    as ``pc`` coordinates ``label``, ``summary`` and ``pc_description`` (the
    genes already own ``description``); other PCs keep the texts they had. ``attrs
    ["interpretation"]`` names the summarizer, model and time. ``options``: see
    :func:`describe_pcs`.
    """
    summarizer = OfflineSummarizer() if summarizer is None else summarizer
    if not isinstance(summarizer, Summarizer):
        raise InputError(f"summarizer must have name, model and summarize(facts); got {type(summarizer).__name__}")
    chosen = check_pcs(node, pcs)
    tables = describe_pcs(node, alpha=alpha, **options)
    node = store_tables(node, tables)
    tables = interpretation_tables(node)
    texts = {field: (node[coord].values.astype(object).copy() if coord in node.coords else
                     np.full(node.sizes["pc"], "", dtype=object)) for field, coord in TEXT_COORDS.items()}
    positions = {int(pc): k for k, pc in enumerate(node["pc"].values)}
    min_studies = options.get("min_studies", 2)
    for pc in tqdm(chosen, desc=f"PC texts ({summarizer.name})", unit="PC", disable=not progress):
        written = summarizer.summarize(pc_facts(node, tables, pc, alpha=alpha, min_studies=min_studies))
        for field in FIELDS:
            texts[field][positions[pc]] = written[field]
    node = node.assign_coords({TEXT_COORDS[field]: ("pc", values) for field, values in texts.items()})
    node.attrs = {**node.attrs, "interpretation": {
        "summarizer": summarizer.name,
        "model": summarizer.model,
        "written": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "pcs": [int(pc) for pc in chosen],
        "alpha": alpha,
        "options": {k: float(v) for k, v in options.items()},
    }}
    return node
