"""Sample tables: one row per sample, the data model's fields named as the data model names them.

A sample table becomes a ``pandas.DataFrame`` indexed by sample with the
fields ``study``, ``tissue``, ``treatment``, ``title`` (columns named by an
alias are renamed) plus any other columns. Paired wide sample tables (one row
per treated/control pair, one run column per condition) are turned into one
row per run.

Every problem raises a :class:`~atted_explore.errors.FormatError` naming the
file and column and what was expected.
"""

from __future__ import annotations

import os
import re

import pandas as pd
import xarray as xr

from ..errors import FormatError, InputError
from .tables import check_unique, read_table

#: column-name aliases (case-insensitive) for the data model's sample fields.
SAMPLE_FIELD_ALIASES = {
    "study": ("study", "study_accession", "study_id", "project", "bioproject", "series", "experiment"),
    "tissue": ("tissue", "organ", "tissue_type"),
    "treatment": ("treatment", "condition", "stress"),
    "title": ("title", "sample_title", "description", "run_title"),
}
#: fields whose values are categories: spellings that differ only by case are unified.
CATEGORICAL_FIELDS = ("study", "tissue", "treatment")


def unify_case(values: pd.Series) -> pd.Series:
    """Spellings that differ only by case become the most frequent spelling (``Endosperm`` -> ``endosperm``).

    Ties go to the spelling seen first, so the result does not depend on sort internals.
    """
    stripped = values.astype(str).str.strip()
    counts = stripped.value_counts(sort=False).sort_values(ascending=False, kind="stable")
    preferred = {}
    for spelling in counts.index:  # most frequent first
        preferred.setdefault(spelling.casefold(), spelling)
    return stripped.map(lambda v: preferred[v.casefold()])


def sample_field_name(column: str) -> str | None:
    """The data model's sample field a column name stands for (``Tissue`` -> ``tissue``), or None."""
    key = re.sub(r"[^a-z0-9]+", "_", column.strip().lower()).strip("_")
    for field, aliases in SAMPLE_FIELD_ALIASES.items():
        if key in aliases:
            return field
    return None


RUN_COLUMN = re.compile(r"^run[_ .]*(accession|id)?[_ .]*(?P<condition>[A-Za-z0-9 ]+?)[_ .]*$", re.IGNORECASE)


def paired_run_columns(columns: list[str]) -> dict[str, str]:
    """Run columns of a paired wide table, ``{column: condition}`` (``run_accession..hypoxia.`` -> ``hypoxia``)."""
    found = {}
    for column in columns:
        match = RUN_COLUMN.match(column.strip())
        if match and match.group("condition").strip().lower() not in {"", "accession", "id"}:
            found[column] = match.group("condition").strip()
    return found if len(found) >= 2 else {}


def _melt_pairs(table: pd.DataFrame, run_columns: dict[str, str]) -> pd.DataFrame:
    """One row per run: a treated/control pair row becomes one row per run column.

    The first run column holds the treated run and keeps the pair's treatment;
    the others get their condition name (e.g. ``normoxia``) as treatment.
    """
    others = [c for c in table.columns if c not in run_columns]
    treatment_column = next((c for c in others if sample_field_name(c) == "treatment"), None)
    rows = []
    for pair, row in enumerate(table.itertuples(index=False), start=1):
        record = dict(zip(table.columns, row, strict=True))
        for position, (column, condition) in enumerate(run_columns.items()):
            run = {c: record[c] for c in others}
            run["sample"] = record[column]
            run["condition"] = condition
            run["pair"] = str(pair)
            if treatment_column is not None and position > 0:
                run[treatment_column] = condition
            rows.append(run)
    long = pd.DataFrame(rows)
    return long[["sample", *others, "condition", "pair"]]


def read_samples(
    path: str | os.PathLike,
    *,
    sample_column: str | None = None,
    sep: str | None = None,
    paired: bool | None = None,
    header: bool = True,
) -> pd.DataFrame:
    """A sample table indexed by sample ID (column ``sample`` or the first column).

    Columns named like the data model's fields (``Tissue``, ``study_accession``,
    ``Treatment`` ...) are renamed to ``tissue``, ``study``, ``treatment``,
    ``title``; category spellings differing by case are unified. ``paired``
    (default: detected from columns such as ``run_accession..hypoxia.``)
    turns a treated/control pair table into one row per run with ``condition``
    and ``pair`` columns.
    """
    table = read_table(path, sep=sep, header=header, min_columns=1)
    if not header:
        table.columns = ["sample", *[f"column_{i}" for i in range(2, table.shape[1] + 1)]]
    table = table.apply(lambda column: column.str.strip())
    run_columns = paired_run_columns(list(table.columns))
    if paired is None:
        paired = bool(run_columns) and sample_column is None
    if paired:
        if not run_columns:
            raise FormatError(
                f"{path}: paired layout needs two or more run columns named like 'run_accession..treated.' "
                f"and 'run_accession..control.'; the header has {list(table.columns)}"
            )
        table = _melt_pairs(table, run_columns)
        sample_column = "sample"
    if sample_column is None:
        sample_column = next((c for c in table.columns if c.lower() in {"sample", "run", "run_accession", "sample_id"}), table.columns[0])
    if sample_column not in table.columns:
        raise FormatError(f"{path}: no sample ID column {sample_column!r}; the header has {list(table.columns)}")
    ids = pd.Index(table[sample_column], dtype=object)
    if (ids == "").any():
        raise FormatError(f"{path}: a row has an empty sample ID in column {sample_column!r}")
    check_unique(ids, path, "sample ID")
    renamed, seen = {}, set()
    for column in table.columns:
        field = sample_field_name(column)
        if column != sample_column and field and field not in seen:
            renamed[column] = field
            seen.add(field)
    table = table.rename(columns=renamed).set_index(sample_column)
    table.index.name = "sample"
    for field in CATEGORICAL_FIELDS:
        if field in table:
            table[field] = unify_case(table[field])
    table.attrs["source"] = str(path)
    return table


def align_samples(
    expression: xr.DataArray, samples: pd.DataFrame, expression_source: str, samples_source: str
) -> pd.DataFrame:
    """The sample table in matrix order; every matrix sample must be in the table and vice versa."""
    in_matrix = pd.Index(expression["sample"].values, dtype=object)
    missing = in_matrix.difference(samples.index, sort=False)
    extra = samples.index.difference(in_matrix, sort=False)
    if len(missing):
        raise InputError(
            f"{expression_source}: {len(missing)} sample(s) of the matrix are not in the sample table "
            f"{samples_source}: {list(missing[:5])}; expected every matrix column to be described"
        )
    if len(extra):
        raise InputError(
            f"{samples_source}: {len(extra)} sample(s) of the table are not columns of the matrix "
            f"{expression_source}: {list(extra[:5])}; expected the same samples in both"
        )
    return samples.loc[in_matrix]
