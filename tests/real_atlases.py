"""Atlases built from the real public data with the real ``atted-explore build`` command, for tests.

``build_real_atlases(folder)`` builds four small atlases into ``folder`` and
returns ``{name: path}``:

* ``ath_hypoxia`` — the named recipe (Arabidopsis, 58 runs in paired
  hypoxia/normoxia studies, AraCyc, GO localization);
* ``maize_rice`` — the named recipe ``maize_rice_tissues`` (two species,
  tissue-only sample tables, PLAZA orthogroups);
* ``tissue_only`` — a slice of the rice matrix with its one-column sample
  table (``sample``, ``Tissue``): no study, title or treatment;
* ``no_samples`` — a slice of the maize matrix and no sample table at all
  (sample IDs from the matrix columns, every sample field empty).

Few bags and a short partner list keep it fast (about 30 s for all four on
one idle core; the GO join of ``ath_hypoxia`` is most of it). Each atlas is
built once per folder: an existing one is reused. Inputs are read from the
real data folder (``tests/conftest.py`` points the registry's mirror at it);
slices are written into ``folder/inputs``.

Used by tests/test_real_builds.py and the browser tests (page loads, plots
painted, tabs open on every atlas the build can make).
"""

from __future__ import annotations

import gzip
from pathlib import Path

from atted_explore.cli import main

#: genes kept in the sliced matrices (enough for PCA and partner lists, small enough to be quick).
SLICE_GENES = 1500
ATLASES = ("ath_hypoxia", "maize_rice", "tissue_only", "no_samples")


def write_matrix_slice(source: Path, target: Path, n_genes: int = SLICE_GENES) -> Path:
    """The header and first ``n_genes`` rows of a gzipped TSV expression matrix, written (uncompressed) to ``target``."""
    with gzip.open(source, "rt") as lines:
        head = [next(lines) for _ in range(n_genes + 1)]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("".join(head))
    return target


def _build(arguments: list[str], out: Path, bags: int, top_k: int) -> Path:
    if not (out / "zarr.json").exists():
        command = ["build", *arguments, "--out", str(out), "--bags", str(bags), "--top-k", str(top_k), "--no-progress"]
        if main(command) != 0:
            raise RuntimeError(f"atted-explore {' '.join(command)} failed")
    return out


def build_real_atlas(name: str, folder: Path, shared_data: Path, *, bags: int = 10, top_k: int = 100) -> Path:
    """One of :data:`ATLASES` built into ``folder / f"{name}.zarr"`` (reused when it exists)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    inputs = folder / "inputs"
    tissues = Path(shared_data) / "maize_rice_tissues"
    if name == "ath_hypoxia":
        arguments = ["--dataset", "ath_hypoxia"]
    elif name == "maize_rice":
        arguments = ["--dataset", "maize_rice_tissues"]
    elif name == "tissue_only":
        matrix = write_matrix_slice(tissues / "rice_expression.tsv.gz", inputs / "rice_slice.tsv")
        arguments = ["--species", "Osa-r", "--expression", str(matrix), "--samples", str(tissues / "rice_samples.tsv")]
    elif name == "no_samples":
        matrix = write_matrix_slice(tissues / "maize_expression.tsv.gz", inputs / "maize_slice.tsv")
        arguments = ["--species", "Zma-r", "--expression", str(matrix)]
    else:
        raise ValueError(f"unknown real atlas {name!r}; expected one of {ATLASES}")
    return _build(arguments, folder / f"{name}.zarr", bags, top_k)


def build_real_atlases(folder: Path, shared_data: Path, *, bags: int = 10, top_k: int = 100) -> dict[str, Path]:
    """All of :data:`ATLASES` built into ``folder``: ``{name: atlas path}``."""
    return {name: build_real_atlas(name, folder, shared_data, bags=bags, top_k=top_k) for name in ATLASES}
