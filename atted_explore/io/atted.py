"""ATTED-II bulk downloads -> one species node of an atlas.

Layouts read (zipped or not; a ``.zip`` anywhere is checked for zip slip and
zip bombs before it is extracted into a temporary folder):

A download folder (a platform folder ``{Sp}-{p}.c{N}-{M}`` such as
``Ath-r.c7-0``, or any folder name), holding any of

* ``{Sp}-{p}.v{YY-MM}.G{genes}-S{samples}.{method}.{ls|z|mrgeo}.d`` — the
  coexpression folder: one file per query gene, named by its (Entrez) gene
  ID, lines ``partner<TAB>value`` (``ls`` logit score, ``z`` z-score; larger
  is stronger) or ``partner<TAB>MR<TAB>PCC`` (old ``mrgeo``; smaller MR is
  stronger). Kept: the ``top_k`` strongest partners per gene, as
  ``coex_partner`` (positions on ``gene``) and ``coex_score`` (for ``mrgeo``
  the PCC, with the MR in ``coex_mr``).
* ``*.expression.combat.txt`` — genes x runs (header row, gene in column 1),
  log2 values -> ``expression``.
* ``*.expression.PC.txt`` — genes x PCs (PC-space expression) -> ``gene_score``.
* ``*.id-id-title.txt`` / ``*.list.txt`` — ``run<TAB>study<TAB>title``, no header.
* ``*.run_info.txt`` — one row per run, run ID first (a header row optional).
* ``*.study_info.txt`` — one row per study, study ID first, then its title.
* ``*{,_nucl,_mito,_chlo}.umap.txt`` — ``gene<TAB>x<TAB>y`` CoexMap layouts ->
  ``coexmap`` subsets ``all``, ``nucleus``, ``mitochondrion``, ``chloroplast``.
* ``date``, ``method``, ``type``, ``KEGG`` (function score), ``genes.txt`` —
  node attributes (``genes.txt`` also fixes the gene order without a matrix).

A coexpression folder can also be read on its own. Species, platform,
version and gene/sample counts come from the names of the files and folders
inside (``atted_names``), never from a list of known dataset IDs; the
download folder's own name is only a hint.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..atlas import with_partner_order
from ..errors import FormatError, InputError, UnsafeArchiveError
from .archive import extract_zip
from .atted_names import (
    COEX_FOLDER, SPECIES_NAMES, UMAP_FILE, UMAP_SUBSETS, identity, name_prefix, parse_folder_name, parsed_name,
)
from .ids import IdRule, map_ids
from .samples import sample_field_name
from .tables import read_expression, read_table_lines
from .text import read_text

COEX_KINDS = ("ls", "z", "mrgeo")
MAX_ZIP_NESTING = 2
RUN_ID = re.compile(r"^[SDE]R[RXS]\d+$|^GSM\d+$")
STUDY_ID = re.compile(r"^[SDE]RP\d+$|^PRJ[A-Z]+\d+$|^GSE\d+$")
SMALL_FILES = ("date", "method", "type", "KEGG")
#: attrs named after a folder-name field when a small file has the plain name.
NAME_ATTRS = {"method": "coex_method", "kind": "coex_kind"}
#: run accessions compare exactly (trimmed only).
EXACT = IdRule(case_insensitive=False)


# ----------------------------------------------------------------------- file layout


@dataclass
class Layout:
    """The files of one bulk download, by role."""

    coex_folder: Path | None = None
    expression: Path | None = None
    pc_expression: Path | None = None
    id_title: Path | None = None
    run_info: Path | None = None
    study_info: Path | None = None
    umap: dict[str, Path] = field(default_factory=dict)
    small: dict[str, Path] = field(default_factory=dict)
    genes_txt: Path | None = None
    #: what each named file or folder says about species, platform, version: ``{name: parsed}``.
    identities: dict[str, dict[str, str | int]] = field(default_factory=dict)


def _unpack(path: Path, scratch: Path) -> Path:
    """``path`` itself, or its checked extraction when it is a zip (the folder inside when there is one)."""
    if not path.name.endswith(".zip"):
        return path
    target = extract_zip(path, scratch / f"x{len(list(scratch.iterdir()))}")
    inner = target / path.name.removesuffix(".zip")
    if inner.exists():
        return inner
    entries = [p for p in target.iterdir() if not p.name.startswith((".", "__MACOSX"))]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return target


def _files(folder: Path, scratch: Path, zip_depth: int = 0) -> list[Path]:
    """Every regular file below ``folder``; nested zips are extracted (checked) and their files listed.

    ATTED-II nests at most one zip in another (a zipped platform folder holding
    zipped coexpression folders); deeper nesting is refused as a recursive bomb.
    """
    found = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(".") or entry.name == "__MACOSX":
            continue
        if entry.name.endswith(".zip"):
            if zip_depth >= MAX_ZIP_NESTING:
                raise UnsafeArchiveError(f"{entry.name}: zip nested more than {MAX_ZIP_NESTING} levels deep; refused")
            unpacked = _unpack(entry, scratch)
            found.extend(_files(unpacked, scratch, zip_depth + 1) if unpacked.is_dir() else [unpacked])
        elif entry.is_dir():
            found.extend(_files(entry, scratch, zip_depth))
        else:
            found.append(entry)
    return found


def _layout(root: Path, scratch: Path, zip_depth: int) -> Layout:
    layout = Layout()
    if COEX_FOLDER.match(root.name):
        layout.coex_folder = root
        layout.identities[root.name] = parse_folder_name(root.name)
        return layout
    for path in _files(root, scratch, zip_depth):
        name, parent = path.name, path.parent.name
        prefix = name_prefix(name)
        parsed = parsed_name(prefix) if prefix else None
        if parsed:
            layout.identities[name] = parsed
        if parent.endswith(tuple(f".{k}.d" for k in COEX_KINDS)):
            layout.identities[parent] = parse_folder_name(parent)  # a coexpression folder with a broken name is refused
            layout.coex_folder = path.parent
        elif name.endswith(".expression.combat.txt"):
            layout.expression = path
        elif name.endswith(".expression.PC.txt"):
            layout.pc_expression = path
        elif name.endswith((".id-id-title.txt", ".list.txt")):
            layout.id_title = path
        elif name.endswith(".run_info.txt"):
            layout.run_info = path
        elif name.endswith(".study_info.txt"):
            layout.study_info = path
        elif UMAP_FILE.match(name):
            layout.umap[UMAP_SUBSETS[UMAP_FILE.match(name).group("subset") or ""]] = path
        elif name in SMALL_FILES:
            layout.small[name] = path
        elif name == "genes.txt":
            layout.genes_txt = path
    return layout


# ----------------------------------------------------------------------- small tables


def _keyed_table(path: Path, looks_like_id, columns: list[str]) -> pd.DataFrame:
    """A tab-separated table keyed by its first column, header row detected."""
    raw, _ = read_table_lines(path, sep="\t", header=False)
    if not looks_like_id(raw.iat[0, 0].strip()):  # the first cell is a column name, not an ID
        raw = raw.iloc[1:].set_axis([c.strip() for c in raw.iloc[0]], axis=1)
    else:
        names = columns + [f"column_{i}" for i in range(len(columns) + 1, raw.shape[1] + 1)]
        raw = raw.set_axis(names[: raw.shape[1]], axis=1)
    raw = raw.apply(lambda c: c.str.strip())
    key = raw.columns[0]
    if raw[key].duplicated().any():
        raise FormatError(f"{path}: duplicate IDs in column {key!r}: {list(raw[key][raw[key].duplicated()][:5])}")
    return raw.set_index(key)


def read_sample_list(path: str | os.PathLike) -> pd.DataFrame:
    """An ATTED-II run list (``run<TAB>study<TAB>title``, no header) indexed by run, columns study, title."""
    path = Path(path)
    table = _keyed_table(path, lambda cell: True, ["sample", "study", "title"])
    if table.shape[1] < 2:
        raise FormatError(f"{path}: {table.shape[1] + 1} columns; expected run<TAB>study<TAB>title")
    table = table.iloc[:, :2].set_axis(["study", "title"], axis=1)
    table.index.name = "sample"
    return table


def _samples(layout: Layout, runs: pd.Index | None) -> pd.DataFrame:
    """Sample annotation from the id-id-title, run_info and study_info files."""
    tables = []
    if layout.id_title:
        tables.append(read_sample_list(layout.id_title))
    if layout.run_info:
        run_info = _keyed_table(layout.run_info, lambda c: bool(RUN_ID.match(c)) or (runs is not None and c in runs), ["sample"])
        run_info.index.name = "sample"
        tables.append(run_info.rename(columns=lambda c: sample_field_name(c) or c.strip().lower()))
    samples = pd.DataFrame(index=pd.Index([], name="sample", dtype=object))
    for table in tables:
        samples = samples.combine_first(table) if len(samples) else table
    if runs is not None:
        described = runs.isin(samples.index).all()
        map_ids(runs, samples.index, EXACT, what="runs of the expression matrix", onto="sample annotation", warn=not described)
        samples = samples.reindex(runs)
    if layout.study_info and "study" in samples:
        studies = _keyed_table(layout.study_info, lambda c: bool(STUDY_ID.match(c)) or c in set(samples["study"]), ["study", "study_title"])
        title_column = studies.columns[0] if len(studies.columns) else None
        if title_column is not None:
            samples["study_title"] = samples["study"].map(studies[title_column])
    return samples.fillna("").astype(str)


# ----------------------------------------------------------------------- coexpression


def _numeric_row_table(path: Path, n_columns: int, what: str) -> tuple[pd.DataFrame, np.ndarray]:
    """A headerless table of an ID column then numbers; FormatError at the first bad line."""
    raw, lines = read_table_lines(path, sep="\t", header=False, min_columns=n_columns)
    if raw.shape[1] != n_columns:
        raise FormatError(f"{path}, line {lines[0]}: {raw.shape[1]} fields; expected {what}")
    values = raw.iloc[:, 1:].apply(pd.to_numeric, errors="coerce")
    bad = ~np.isfinite(values.to_numpy(dtype=float))
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise FormatError(
            f"{path}, line {lines[row]}, column {col + 2}: {raw.iat[row, col + 1]!r} is not a finite number; expected {what}"
        )
    values.insert(0, "id", raw.iloc[:, 0].str.strip())
    return values, lines


def _coexpression(folder: Path, kind: str, genes: pd.Index, top_k: int) -> dict[str, np.ndarray]:
    n_columns = 3 if kind == "mrgeo" else 2
    what = "partner<TAB>MR<TAB>PCC" if kind == "mrgeo" else "partner<TAB>value"
    position = pd.Series(np.arange(len(genes)), index=genes)
    k = min(top_k, max(len(genes) - 1, 1))
    partners = np.full((len(genes), k), -1, dtype=np.int32)
    scores = np.full((len(genes), k), np.nan, dtype=np.float32)
    mrs = np.full((len(genes), k), np.nan, dtype=np.float32) if kind == "mrgeo" else None
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise FormatError(f"{folder}: coexpression folder holds no gene files; expected one file per gene")
    for path in files:
        if path.name not in position.index:
            raise FormatError(f"{path}: query gene {path.name!r} is not a gene of this dataset (file names are gene IDs)")
        table, lines = _numeric_row_table(path, n_columns, what)
        unknown = ~table["id"].isin(position.index)
        if unknown.any():
            row = int(np.flatnonzero(unknown.to_numpy())[0])
            raise FormatError(
                f"{path}, line {lines[row]}: unknown partner gene {table['id'].iat[row]!r}; "
                "expected a gene ID of this dataset"
            )
        table = table[table["id"] != path.name]
        strength = -table.iloc[:, 1].to_numpy() if kind == "mrgeo" else table.iloc[:, 1].to_numpy()
        order = np.argsort(-strength, kind="stable")[:k]
        row = position[path.name]
        partners[row, : len(order)] = position.loc[table["id"].to_numpy()[order]].to_numpy()
        scores[row, : len(order)] = table.iloc[order, -1].to_numpy()
        if mrs is not None:
            mrs[row, : len(order)] = table.iloc[order, 1].to_numpy()
    out = {"coex_partner": partners, "coex_score": scores}
    if mrs is not None:
        out["coex_mr"] = mrs
    return out


# ----------------------------------------------------------------------- the reader


def _gene_table(path: Path, genes: pd.Index, n_columns: int | None, what: str) -> pd.DataFrame:
    """A gene-keyed numeric table (header row detected) with every gene known."""
    raw, lines = read_table_lines(path, sep="\t", header=False, min_columns=2)
    header = pd.to_numeric(raw.iloc[0, 1:], errors="coerce").isna().any()
    names = list(raw.iloc[0, 1:]) if header else [str(i) for i in range(1, raw.shape[1])]
    if header:
        raw, lines = raw.iloc[1:].reset_index(drop=True), lines[1:]
    if n_columns is not None and raw.shape[1] != n_columns:
        raise FormatError(f"{path}: {raw.shape[1]} columns; expected {what}")
    values = raw.iloc[:, 1:].apply(pd.to_numeric, errors="coerce")
    bad = ~np.isfinite(values.to_numpy(dtype=float))
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise FormatError(f"{path}, line {lines[row]}: {raw.iat[row, col + 1]!r} is not a finite number; expected {what}")
    ids = raw.iloc[:, 0].str.strip()
    unknown = ~ids.isin(genes)
    if unknown.any():
        row = int(np.flatnonzero(unknown.to_numpy())[0])
        raise FormatError(f"{path}, line {lines[row]}: unknown gene {ids.iat[row]!r}; expected a gene ID of this dataset")
    if ids.duplicated().any():
        raise FormatError(f"{path}: duplicate gene IDs {list(ids[ids.duplicated()][:5])}")
    values.index = pd.Index(ids, dtype=object)
    values.columns = names
    return values


def _small_attrs(layout: Layout) -> dict[str, object]:
    attrs: dict[str, object] = {}
    for name, path in layout.small.items():
        text = read_text(path).strip()
        attrs[f"atted_{name.lower()}"] = text
        if name == "KEGG":
            number = re.search(r"[-+]?\d+(\.\d+)?([eE][-+]?\d+)?", text)
            if number:
                attrs["function_score"] = float(number.group(0))
    return attrs


def _genes(layout: Layout, expression: xr.DataArray | None, source: Path) -> pd.Index:
    if expression is not None:
        return pd.Index(expression["gene"].values, dtype=object)
    if layout.genes_txt:
        genes = pd.Index([g.strip() for g in read_text(layout.genes_txt).split("\n") if g.strip()], dtype=object)
        if genes.has_duplicates:
            raise FormatError(f"{layout.genes_txt}: duplicate gene IDs {list(genes[genes.duplicated()][:5])}")
        return genes
    if layout.coex_folder:
        names = (p.name for p in layout.coex_folder.iterdir() if p.is_file() and not p.name.startswith("."))
        return pd.Index(sorted(names, key=lambda n: (len(n), n)), dtype=object)
    raise FormatError(
        f"{source}: no genes found; expected an *.expression.combat.txt matrix, a genes.txt list or a coexpression folder"
    )


def read_atted(path: str | os.PathLike, top_k: int = 2000, *, node: str | None = None) -> xr.Dataset:
    """One species node from an ATTED-II bulk download (folder or zip; see the module doc).

    Species, platform and version come from the names of the files and
    folders inside, whatever the downloaded folder itself is called (its name
    is only a hint); ``node`` (e.g. ``"Ath-r"``) names the species platform
    when nothing inside does. The node's name is ``node.attrs["node"]``;
    ``top_k`` strongest partners per gene are kept.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    if top_k < 1:
        raise InputError(f"top_k {top_k}: expected a positive number of partners")
    with tempfile.TemporaryDirectory(prefix="atted-read-") as scratch:
        root = _unpack(path, Path(scratch))
        if not root.is_dir():
            raise FormatError(f"{path}: expected a folder (or a zip of one)")
        try:
            layout = _layout(root, Path(scratch), zip_depth=int(path.name.endswith(".zip")))
        except UnsafeArchiveError as error:  # raised on a scratch copy: say which input it came from
            raise UnsafeArchiveError(f"{path}: inside it, {error}") from None
        parsed = identity(path, layout.identities, node)
        expression = read_expression(layout.expression, transform="none") if layout.expression else None
        genes = _genes(layout, expression, path)
        data_vars: dict[str, tuple] = {}
        coords: dict[str, object] = {"gene": np.asarray(genes, dtype=object)}
        if expression is not None:
            data_vars["expression"] = (("gene", "sample"), expression.values)
            runs = pd.Index(expression["sample"].values, dtype=object)
        else:
            runs = None
        if layout.id_title or layout.run_info:
            samples = _samples(layout, runs)
            coords["sample"] = np.asarray(samples.index, dtype=object)
            for column in samples.columns:
                coords[column] = ("sample", samples[column].to_numpy(dtype=object))
        elif runs is not None:
            coords["sample"] = np.asarray(runs, dtype=object)
        if layout.coex_folder is not None:
            arrays = _coexpression(layout.coex_folder, str(parse_folder_name(layout.coex_folder.name)["kind"]), genes, top_k)
            for name, array in arrays.items():
                data_vars[name] = (("gene", "rank"), array)
            coords["rank"] = np.arange(1, arrays["coex_partner"].shape[1] + 1)
        if layout.pc_expression is not None:
            scores = _gene_table(layout.pc_expression, genes, None, "gene<TAB>score on each PC").reindex(genes)
            if scores.isna().any().any():
                missing = scores.index[scores.isna().any(axis=1)]
                raise FormatError(f"{layout.pc_expression}: no PC scores for {len(missing)} gene(s), e.g. {list(missing[:5])}")
            data_vars["gene_score"] = (("gene", "pc"), scores.to_numpy(dtype=np.float32))
            coords["pc"] = np.arange(1, scores.shape[1] + 1)
        if layout.umap:
            subsets = list(layout.umap)
            maps = np.full((len(genes), len(subsets), 2), np.nan, dtype=np.float32)
            for column, subset in enumerate(subsets):
                table = _gene_table(layout.umap[subset], genes, 3, "gene<TAB>x<TAB>y").reindex(genes)
                maps[:, column, :] = table.to_numpy(dtype=np.float32)
            data_vars["coexmap"] = (("gene", "subset", "xy"), maps)
            coords["subset"] = np.array(subsets, dtype=object)
            coords["xy"] = np.array(["x", "y"], dtype=object)
        out = with_partner_order(xr.Dataset(data_vars, coords=coords))
        out.attrs.update(_small_attrs(layout))
    code = str(parsed["code"])
    out.attrs.update(
        {
            "node": f"{code}-{parsed['platform']}",
            "species": SPECIES_NAMES.get(code, code),
            "species_code": code,
            "platform": str(parsed["platform"]),
            "source": str(path),
            **{f"atted_{NAME_ATTRS.get(k, k)}": v for k, v in parsed.items() if k not in ("code", "platform")},
        }
    )
    if "kind" in parsed:
        out.attrs["coex_method"] = f"ATTED-II {parsed.get('method', '')} ({parsed['kind']})"
    return out

