"""Delimited tables and expression matrices.

Delimited text (TSV/CSV, optionally gzipped), Parquet and AnnData ``.h5ad``
expression matrices become a ``gene x sample`` float32 ``xarray.DataArray``
of log2 values (sample tables: :mod:`atted_explore.io.samples`).

Every problem raises a :class:`~atted_explore.errors.FormatError` naming the
file, line and column and what was expected.
"""

from __future__ import annotations

import csv
import io
import os
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import FormatError, InputError
from .ids import IdRule, looks_like_isoforms
from .text import read_text

DELIMITER_NAMES = {"\t": "tab", ",": "comma", ";": "semicolon"}

TRANSFORMS = ("log2p1", "none")
#: above this maximum, values given as log2 (transform "none") look linear: log2 of a TPM is at most ~20.
LINEAR_LOOKING_MAX = 1000.0
#: below this maximum, values to be log-transformed (transform "log2p1") look already logged.
LOGGED_LOOKING_MAX = 30.0
ISOFORM_COMBINE = ("sum", "mean", "max")




class TransformWarning(UserWarning):
    """An expression matrix's values do not look like what its transform expects (linear vs log2)."""


# ------------------------------------------------------------------ delimited text


def delimiter_for(path: str | os.PathLike) -> str:
    """The delimiter a file's name promises: comma for ``.csv``, tab otherwise."""
    suffixes = [s.lower() for s in Path(path).suffixes]
    return "," if ".csv" in suffixes else "\t"


def _split_line(line: str, sep: str) -> list[str]:
    return next(csv.reader([line], delimiter=sep))


def _line(text: str, index: int) -> str:
    """Line ``index`` (0-based) of ``text``."""
    start = 0
    for _ in range(index):
        start = text.index("\n", start) + 1
    end = text.find("\n", start)
    return text[start:] if end < 0 else text[start:end]


def _line_fields(text: str, sep: str) -> tuple[np.ndarray, np.ndarray]:
    """Per line: the number of ``sep``-separated fields, and whether the line is not blank.

    Vectorised over the bytes (annotation tables have millions of lines).
    """
    data = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    ends = np.flatnonzero(data == 10)
    if len(data) and data[-1] != 10:
        ends = np.append(ends, len(data))
    starts = np.concatenate([[0], ends[:-1] + 1]).astype(np.int64)
    separators = np.flatnonzero(data == ord(sep))
    fields = np.diff(np.searchsorted(separators, np.concatenate([starts, [len(data)]]))) + 1
    nonblank = ends > starts
    # whitespace-only lines are blank too; they are rare, so look only at lines of one field
    for index in np.flatnonzero(nonblank & (fields == 1)):
        if not (data[starts[index] : ends[index]] > 32).any():
            nonblank[index] = False
    return fields, nonblank


def read_table(
    path: str | os.PathLike,
    *,
    sep: str | None = None,
    header: bool = True,
    min_columns: int = 1,
) -> pd.DataFrame:
    """A delimited text table as strings; see :func:`read_table_lines`."""
    return read_table_lines(path, sep=sep, header=header, min_columns=min_columns)[0]


def read_table_lines(
    path: str | os.PathLike,
    *,
    sep: str | None = None,
    header: bool = True,
    min_columns: int = 1,
) -> tuple[pd.DataFrame, np.ndarray]:
    """A delimited text table as strings (no type guessing, no NA guessing).

    Blank lines are skipped; quoted fields, a BOM and CRLF are accepted. Raises
    FormatError for an empty file, a header without rows, a wrong delimiter
    (the header does not split but would with another one) and ragged rows.
    Duplicate column names are kept as they are (callers decide). Also
    returns the 1-based file line of each table row (for messages).
    """
    sep = sep or delimiter_for(path)
    sep_name = DELIMITER_NAMES.get(sep, repr(sep))
    text = read_text(path)
    fields_per_line, nonblank = _line_fields(text, sep)
    if not nonblank.any():
        raise FormatError(f"{path}: file is empty; expected a {sep_name}-separated table")
    first_index = int(np.argmax(nonblank))
    first_line = _line(text, first_index)
    fields = _split_line(first_line, sep)
    wanted = max(min_columns, 2)
    if len(fields) < wanted:
        others = [d for d in DELIMITER_NAMES if d != sep and len(_split_line(first_line, d)) >= wanted]
        if others:
            raise FormatError(
                f"{path}, line {first_index + 1}: no {sep_name} found but the line is "
                f"{DELIMITER_NAMES[others[0]]}-separated; expected {sep_name}-separated columns"
            )
    if len(fields) < min_columns:
        raise FormatError(
            f"{path}, line {first_index + 1}: {len(fields)} column(s), expected at least {min_columns} "
            f"{sep_name}-separated columns"
        )
    if header and int(nonblank.sum()) == 1:
        raise FormatError(f"{path}: has a header line but no data rows; expected at least one row")
    if '"' not in text:  # without quoting, a field count is a separator count
        ragged = np.flatnonzero(nonblank & (fields_per_line != len(fields)))
        if len(ragged):
            raise FormatError(
                f"{path}, line {int(ragged[0]) + 1}: {int(fields_per_line[ragged[0]])} fields, expected "
                f"{len(fields)} like the {'header' if header else 'first line'} (ragged row)"
            )
    try:
        table = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            header=None,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=True,
            index_col=False,
            engine="c",
        )
    except pd.errors.ParserError as error:
        match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(error))
        if match:
            expected, row, seen = map(int, match.groups())
            raise FormatError(
                f"{path}, line {row}: {seen} fields, expected {expected} like the "
                f"{'header' if header else 'first line'} (ragged row)"
            ) from None
        raise FormatError(f"{path}: cannot be parsed as a {sep_name}-separated table ({error})") from None
    if header:
        table.columns = [str(c).strip() for c in table.iloc[0]]
        table = table.iloc[1:].reset_index(drop=True)
    lines_of_rows = np.flatnonzero(nonblank) + 1
    return table, lines_of_rows[1:] if header else lines_of_rows


# -------------------------------------------------------------------- expression


def _numeric_matrix(raw: pd.DataFrame, path, line_of) -> np.ndarray:
    """Convert string cells to float64; FormatError at the first bad cell."""
    values = raw.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        cell = raw.iat[row, col]
        problem = (
            "is empty"
            if cell.strip() == ""
            else f"{cell!r} is not finite"
            if cell.strip().lower().lstrip("+-") in {"nan", "na", "inf", "infinity"}
            else f"{cell!r} is not a number"
        )
        raise FormatError(
            f"{path}, line {line_of(row)}, column {raw.columns[col]!r}: value {problem}; "
            f"expected a finite number ({int(bad.sum())} bad cell(s) in total)"
        )
    return values


def check_unique(ids: pd.Index, path, what: str, line_of=None) -> None:
    if ids.has_duplicates:
        dupes = ids[ids.duplicated()].unique()
        where = f", line {line_of(int(np.flatnonzero(ids.duplicated())[0]))}" if line_of else ""
        raise FormatError(
            f"{path}{where}: duplicate {what}s {list(dupes[:5])} ({len(dupes)} duplicated); expected each {what} once"
        )


def _checked_expression(path, sep, gene_column) -> tuple[pd.Index, pd.Index, np.ndarray]:
    """Cell-by-cell reading that names the line and column of the first problem."""
    raw, lines = read_table_lines(path, sep=sep, min_columns=2)
    header_line = int(lines[0]) - 1 if len(lines) else 1
    gene_column = gene_column or raw.columns[0]
    if gene_column not in raw.columns:
        raise FormatError(f"{path}: no gene ID column {gene_column!r}; the header has {list(raw.columns)[:8]}")
    genes = pd.Index(raw[gene_column].str.strip(), dtype=object)
    line_of = lambda row: int(lines[row])  # noqa: E731
    if (genes == "").any():
        raise FormatError(f"{path}, line {line_of(int(np.flatnonzero(genes == '')[0]))}: empty gene ID in column {gene_column!r}")
    values_raw = raw.loc[:, [c != gene_column for c in raw.columns]]
    samples = pd.Index(list(values_raw.columns), dtype=object)
    check_unique(genes, path, "gene ID", line_of)
    check_unique(samples, path, "sample ID", lambda _: header_line)
    if (samples == "").any():
        raise FormatError(f"{path}, line {header_line}: a sample column has no name; expected one sample ID per column")
    return genes, samples, _numeric_matrix(values_raw, path, line_of)


def _first_line(text: str) -> str | None:
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        if text[start:end].strip():
            return text[start:end]
        start = end + 1
    return None


def _fast_expression(text: str, sep: str, gene_column: str | None):
    """The matrix through pandas' C parser, or None when anything looks wrong (then the checked reader explains)."""
    first = _first_line(text)
    header = [f.strip() for f in _split_line(first, sep)] if first is not None else []
    gene_column = gene_column or (header[0] if header else None)
    samples = [f for f in header if f != gene_column]
    if len(header) < 2 or gene_column not in header or "" in samples or len(set(samples)) != len(samples):
        return None
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            header=0,
            index_col=gene_column,
            dtype={gene_column: str},
            keep_default_na=False,  # a gene called 'NA' stays 'NA'; an 'NA' value falls back to the checked reader
            engine="c",
        )
    except Exception:  # any parser complaint (pandas raises several types): the checked reader explains it
        return None
    if frame.index.nlevels != 1 or frame.shape[1] != len(samples):
        return None
    genes = pd.Index(frame.index.astype(str).str.strip(), dtype=object)
    if not all(kind in "fiu" for kind in frame.dtypes.map(lambda d: d.kind)):
        return None
    values = frame.to_numpy(dtype=np.float64)
    if genes.has_duplicates or (genes == "").any() or not np.isfinite(values).all():
        return None
    return genes, pd.Index(samples, dtype=object), values


def _read_delimited_expression(path, sep, gene_column) -> tuple[pd.Index, pd.Index, np.ndarray]:
    sep = sep or delimiter_for(path)
    return _fast_expression(read_text(path), sep, gene_column) or _checked_expression(path, sep, gene_column)


def _read_parquet_expression(path, gene_column) -> tuple[pd.Index, pd.Index, np.ndarray]:
    try:
        frame = pd.read_parquet(path)
    except Exception as error:  # pyarrow raises several unrelated types for bad files
        raise FormatError(f"{path}: not a readable Parquet file ({error})") from None
    if gene_column:
        if gene_column not in frame.columns:
            raise FormatError(f"{path}: no gene ID column {gene_column!r}; columns are {list(frame.columns)[:8]}")
        frame = frame.set_index(gene_column)
    elif frame.index.dtype == object or isinstance(frame.index.dtype, pd.StringDtype):
        pass
    else:
        frame = frame.set_index(frame.columns[0])
    genes = pd.Index(frame.index.astype(str).str.strip(), dtype=object)
    samples = pd.Index([str(c).strip() for c in frame.columns], dtype=object)
    check_unique(genes, path, "gene ID")
    check_unique(samples, path, "sample ID")
    raw = frame.astype(str).reset_index(drop=True)
    raw.columns = samples
    return genes, samples, _numeric_matrix(raw, path, lambda row: f"row {row + 1}")


def _read_h5ad_expression(path, layer) -> tuple[pd.Index, pd.Index, np.ndarray]:
    import anndata  # loads in seconds: only for .h5ad input

    try:
        adata = anndata.read_h5ad(path)
    except Exception as error:  # h5py/anndata raise many types for bad files
        raise FormatError(f"{path}: not a readable AnnData .h5ad file ({error})") from None
    if layer and layer not in adata.layers:
        raise FormatError(f"{path}: no layer {layer!r}; layers are {list(adata.layers)}")
    matrix = adata.layers[layer] if layer else adata.X
    matrix = matrix.toarray() if hasattr(matrix, "toarray") else np.asarray(matrix)
    genes = pd.Index(adata.var_names.astype(str), dtype=object)
    samples = pd.Index(adata.obs_names.astype(str), dtype=object)
    check_unique(genes, path, "gene ID (var_names)")
    check_unique(samples, path, "sample ID (obs_names)")
    values = matrix.T.astype(np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise FormatError(
            f"{path}, gene {genes[row]!r}, sample {samples[col]!r}: value {values[row, col]} is not finite; "
            "expected finite numbers"
        )
    return genes, samples, values


def read_expression(
    path: str | os.PathLike,
    *,
    transform: str = "log2p1",
    combine_isoforms: str | None = None,
    id_rule: IdRule | None = None,
    gene_column: str | None = None,
    sep: str | None = None,
    layer: str | None = None,
) -> xr.DataArray:
    """A ``gene x sample`` expression matrix as log2 float32 values.

    ``transform``: ``"log2p1"`` for linear values such as TPM (log2(x + 1);
    negative values are refused), ``"none"`` for values already on a log scale.
    ``combine_isoforms``: ``"sum"`` (right for TPM), ``"mean"`` or ``"max"``
    merges transcripts of one gene (``AT1G01060.1``, ``.2``) before the
    transform; ``None`` keeps IDs as they are. Text files have the gene ID in
    ``gene_column`` (default: the first column) and one column per sample;
    ``.h5ad`` files have samples as observations and genes as variables.
    """
    if transform not in TRANSFORMS:
        raise InputError(f"transform {transform!r}: expected one of {TRANSFORMS}")
    if combine_isoforms not in (None, *ISOFORM_COMBINE):
        raise InputError(f"combine_isoforms {combine_isoforms!r}: expected None or one of {ISOFORM_COMBINE}")
    suffixes = [s.lower() for s in Path(path).suffixes]
    if ".parquet" in suffixes:
        genes, samples, values = _read_parquet_expression(path, gene_column)
    elif ".h5ad" in suffixes:
        genes, samples, values = _read_h5ad_expression(path, layer)
    else:
        genes, samples, values = _read_delimited_expression(path, sep, gene_column)
    if transform == "log2p1" and (values < 0).any():
        row, col = np.argwhere(values < 0)[0]
        raise FormatError(
            f"{path}, gene {genes[row]!r}, sample {samples[col]!r}: negative value {values[row, col]:g} "
            "cannot be log-transformed; expected non-negative linear values (TPM, counts) or transform 'none' "
            "(--transform none) for log values"
        )
    check_transform(values, transform, path)
    if combine_isoforms:
        rule = id_rule or IdRule()
        frame = pd.DataFrame(values, index=rule.gene_ids(genes), columns=samples)
        frame = frame.groupby(level=0, sort=False).agg(combine_isoforms)
        genes, values = pd.Index(frame.index, dtype=object), frame.to_numpy()
    elif id_rule is not None and looks_like_isoforms(genes, id_rule):
        raise FormatError(
            f"{path}: gene IDs carry transcript suffixes (e.g. {genes[0]!r}); "
            "choose how isoforms combine (combine_isoforms='sum' for TPM)"
        )
    if transform == "log2p1":
        values = np.log2(values + 1.0)
    return xr.DataArray(
        values.astype(np.float32),
        dims=("gene", "sample"),
        coords={"gene": np.asarray(genes, dtype=object), "sample": np.asarray(samples, dtype=object)},
        name="expression",
        attrs={"source": str(path), "transform": transform, "combine_isoforms": combine_isoforms or "none"},
    )


def check_transform(values: np.ndarray, transform: str, source) -> None:
    """Warn (:class:`TransformWarning`) when values do not look like what ``transform`` expects.

    ``"none"`` (values are log2) with a maximum above :data:`LINEAR_LOOKING_MAX`
    looks like linear TPM or counts; ``"log2p1"`` (values are linear) with
    fractional values and a positive maximum below :data:`LOGGED_LOOKING_MAX`
    looks already logged (a whole TPM matrix almost always reaches hundreds;
    small whole numbers are plausible counts). Only a warning: a matrix can
    be unusual on purpose.
    """
    if values.size == 0:
        return
    top = float(values.max())
    if transform == "none" and top > LINEAR_LOOKING_MAX:
        warnings.warn(
            f"{source}: transform 'none' (values are log2) but the maximum is {top:,.6g}, above "
            f"{LINEAR_LOOKING_MAX:,.0f}: these look like linear values (TPM, counts); if so use transform "
            "'log2p1' (--transform log2p1)",
            TransformWarning,
            stacklevel=3,
        )
    elif transform == "log2p1" and 0 < top < LOGGED_LOOKING_MAX and not np.array_equal(values, np.round(values)):
        warnings.warn(
            f"{source}: transform 'log2p1' (values are linear) but the maximum is {top:.6g}, below "
            f"{LOGGED_LOOKING_MAX:.0f}: these look like log values already; if so use transform 'none' "
            "(--transform none)",
            TransformWarning,
            stacklevel=3,
        )
