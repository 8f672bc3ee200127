"""Malformed inputs: each raises a typed package error naming the file, and nothing is written or changed.

Every case writes its fixture into its own folder, snapshots the folder
(names and sha256 of every file), triggers the error, and checks the
snapshot is unchanged (inputs never modified, no partial output left).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import stat
import zipfile
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from atted_explore.cli import main
from atted_explore.errors import FormatError, InputError, UnsafeArchiveError
from atted_explore.io import (
    attach_gene_sets,
    id_rule,
    open_zip,
    rbh_members,
    read_atted,
    read_expression,
    read_gene_sets,
    read_go_annotations,
    read_orthogroups,
    read_rbh,
    read_samples,
)
from atted_explore.io.samples import align_samples

GOOD = "gene\tS1\tS2\nG1\t1\t2\nG2\t3\t4\n"
SAMPLES = "sample\ttissue\nS1\tleaf\nS2\troot\n"
COEX = "Ath-r.v22-05.G2-S2.combat_pca.subagging.ls.d"


def snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        for p in sorted(folder.rglob("*"))
    }


def text(name: str, content: str | bytes):
    """A fixture writer: one file called ``name``."""

    def write(folder: Path) -> Path:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        return path

    return write


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry, data in entries.items():
            archive.writestr(entry, data)
    return buffer.getvalue()


def zip_with(name: str, entries: dict[str, bytes]):
    def write(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(zip_bytes(entries))
        return path

    return write


def coex_folder(lines_by_gene: dict[str, str], name: str = COEX):
    def write(folder: Path) -> Path:
        coex = folder / name
        coex.mkdir()
        for gene, lines in lines_by_gene.items():
            (coex / gene).write_text(lines)
        return coex

    return write


def expression_reader(**options):
    return lambda path: read_expression(path, **options)


def align(path: Path):
    """Matrix next to the sample table written by the case."""
    return align_samples(read_expression(path.parent / "m.tsv"), read_samples(path), "m.tsv", str(path))


def with_matrix(write_table):
    def write(folder: Path) -> Path:
        (folder / "m.tsv").write_text(GOOD)
        return write_table(folder)

    return write


def no_match_gene_sets(path: Path):
    node = xr.Dataset(coords={"gene": np.array(["AT1G01010", "AT1G01020"], dtype=object)})
    return attach_gene_sets(node, read_gene_sets(path), id_rule("Ath-r"))


def rbh_unknown_node(path: Path):
    return rbh_members(read_rbh(path), "Ath-r", "Aly-r", {"Ath-r": ["AT1G01010"]})


def truncated_gzip() -> bytes:
    data = gzip.compress(("gene\tS1\n" + "".join(f"G{i}\t{i}\n" for i in range(2000))).encode())
    return data[: len(data) // 2]


BOMB = b"\0" * (4 * 2**20)


NESTED = {"Ath-r.c7-0/b.zip": zip_bytes({"c.zip": zip_bytes({"d.zip": zip_bytes({"date": b"x"})})})}

# (id, fixture writer, action on the written path, expected error type)
CASES = [
    ("empty-file", text("m.tsv", ""), expression_reader(), FormatError),
    ("blank-lines-only", text("m.tsv", "\n\n  \n"), expression_reader(), FormatError),
    ("header-only", text("m.tsv", "gene\tS1\tS2\n"), expression_reader(), FormatError),
    ("missing-id-column", text("m.tsv", GOOD), expression_reader(gene_column="locus"), FormatError),
    ("non-numeric-cell", text("m.tsv", "gene\tS1\tS2\nG1\t1\thigh\n"), expression_reader(), FormatError),
    ("nan-cell", text("m.tsv", "gene\tS1\tS2\nG1\t1\tNaN\n"), expression_reader(), FormatError),
    ("inf-cell", text("m.tsv", "gene\tS1\tS2\nG1\tinf\t2\n"), expression_reader(), FormatError),
    ("empty-cell", text("m.tsv", "gene\tS1\tS2\nG1\t\t2\n"), expression_reader(), FormatError),
    ("negative-value-log", text("m.tsv", "gene\tS1\tS2\nG1\t1\t-2\n"), expression_reader(), FormatError),
    ("duplicate-gene", text("m.tsv", "gene\tS1\tS2\nG1\t1\t2\nG1\t3\t4\n"), expression_reader(), FormatError),
    ("duplicate-sample-column", text("m.tsv", "gene\tS1\tS1\nG1\t1\t2\n"), expression_reader(), FormatError),
    ("empty-sample-name", text("m.tsv", "gene\t\tS2\nG1\t1\t2\n"), expression_reader(), FormatError),
    ("duplicate-sample-row", text("s.tsv", "sample\ttissue\nS1\tleaf\nS1\troot\n"), read_samples, FormatError),
    ("matrix-sample-not-in-table", with_matrix(text("s.tsv", "sample\ttissue\nS1\tleaf\n")), align, InputError),
    ("table-sample-not-in-matrix", with_matrix(text("s.tsv", SAMPLES + "S3\tstem\n")), align, InputError),
    ("wrong-delimiter-semicolon", text("m.tsv", GOOD.replace("\t", ";")), expression_reader(), FormatError),
    ("wrong-delimiter-tab-in-csv", text("m.csv", GOOD), expression_reader(), FormatError),
    ("truncated-gzip", text("m.tsv.gz", truncated_gzip()), expression_reader(), FormatError),
    ("non-utf8-bytes", text("m.tsv", "gene\tS1\nG1\t1\nG\xe9ne2\t2\n".encode("latin-1")), expression_reader(), FormatError),
    ("ragged-row-long", text("m.tsv", "gene\tS1\tS2\nG1\t1\t2\t3\n"), expression_reader(), FormatError),
    ("ragged-row-short", text("m.tsv", "gene\tS1\tS2\nG1\t1\t2\nG2\t1\n"), expression_reader(), FormatError),
    ("isoforms-without-choice", text("m.tsv", "id\tS1\nAT1G01010.1\t1\nAT1G01020.1\t2\n"),
     expression_reader(id_rule=id_rule("Ath-r")), FormatError),
    ("h5ad-not-hdf5", text("m.h5ad", "not an h5ad file"), expression_reader(), FormatError),
    ("parquet-not-parquet", text("m.parquet", "not parquet"), expression_reader(), FormatError),
    ("zip-slip-dotdot", zip_with("Ath-r.c7-0.zip", {"Ath-r.c7-0/../../evil.txt": b"x"}), read_atted, UnsafeArchiveError),
    ("zip-slip-absolute", zip_with("a.zip", {"/tmp/evil.txt": b"x"}), open_zip, UnsafeArchiveError),
    ("zip-bomb-ratio", zip_with("Ath-r.c7-0.zip", {"Ath-r.c7-0/date": BOMB}), read_atted, UnsafeArchiveError),
    ("zip-bomb-total", zip_with("big.zip", {"a": b"x" * 5000, "b": b"y" * 5000}),
     lambda p: open_zip(p, max_total_bytes=8000), UnsafeArchiveError),
    ("not-a-zip", text("Ath-r.c7-0.zip", "plain text"), read_atted, FormatError),
    ("zip-nested-too-deep", zip_with("Ath-r.c7-0.zip", NESTED), read_atted, UnsafeArchiveError),
    ("atted-unknown-partner", coex_folder({"1": "2\t0.5\n99\t0.4\n", "2": "1\t0.5\n"}), read_atted, FormatError),
    ("atted-non-numeric-score", coex_folder({"1": "2\tstrong\n", "2": "1\t0.5\n"}), read_atted, FormatError),
    ("atted-folder-name-unparsed", coex_folder({"1": "2\t0.5\n", "2": "1\t0.5\n"}, name="coexpression_download"),
     read_atted, FormatError),
    ("atted-folder-without-genes", lambda folder: text("Ath-r.c7-0/date", "2022.05.01\n")(folder).parent, read_atted,
     FormatError),
    ("atted-wrong-column-count", coex_folder({"1": "2\t0.5\t0.3\n", "2": "1\t0.5\t0.3\n"}), read_atted, FormatError),
    ("gene-sets-no-matching-genes", text("kegg.txt", "ath00010\tZm00001d000001\tZm00001d000002\n"), no_match_gene_sets,
     InputError),
    ("gene-sets-empty", text("kegg.txt", "\n"), read_gene_sets, FormatError),
    ("gmt-missing-genes", text("sets.gmt", "SET_A\n"), read_gene_sets, FormatError),
    ("pmn-missing-gene-column", text("pmn.tsv", "Pathway-id\tPathway-name\tGene-name\nP1\tx\tG1\n"),
     lambda p: read_gene_sets(p, format="pmn"), FormatError),
    ("go-missing-locus-column", text("go.tsv", "gene_symbol\tgo_id\nX\tGO:0009507\n"), read_go_annotations, FormatError),
    ("go-bad-term-id", text("go.tsv", "locus\tgo_id\nAT1G01010\tchloroplast\n"), read_go_annotations, FormatError),
    ("gaf-short-line", text("a.gaf", "!gaf-version: 2.2\nTAIR\tAT1G01010\tsym\n"), read_go_annotations, FormatError),
    ("orthogroups-missing-species", text("og.tsv", "Family\tGene\nF1\tG1\n"), read_orthogroups, FormatError),
    ("rbh-unknown-node", text("rbh.csv", "query_id;subject_id\nAT1G01010.1;AL1G1.t1\n"), rbh_unknown_node, InputError),
]


@pytest.mark.parametrize(("write", "action", "error"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_refused_and_nothing_changes(tmp_path, write, action, error):
    path = write(tmp_path)
    before = snapshot(tmp_path)
    with pytest.raises(error) as raised:
        action(path)
    assert isinstance(raised.value, InputError)
    assert path.name in str(raised.value), f"message does not name the file: {raised.value}"
    assert snapshot(tmp_path) == before


def test_corpus_is_large_enough():
    assert len(CASES) >= 30


def test_line_numbers_are_reported_for_bad_bytes_and_cells(tmp_path):
    (tmp_path / "m.tsv").write_bytes("gene\tS1\n\nG1\t1\nG\xe9\t2\n".encode("latin-1"))
    with pytest.raises(FormatError, match=r"m\.tsv, line 4: .*not valid UTF-8"):
        read_expression(tmp_path / "m.tsv")
    (tmp_path / "n.tsv").write_text("gene\tS1\tS2\n\nG1\t1\t2\nG2\t1\tx\n")
    with pytest.raises(FormatError, match=r"n\.tsv, line 4, column 'S2': value 'x' is not a number"):
        read_expression(tmp_path / "n.tsv")
    (tmp_path / "r.tsv").write_text("gene\tS1\tS2\nG1\t1\t2\nG2\t1\n")
    with pytest.raises(FormatError, match=r"r\.tsv, line 3: 2 fields, expected 3"):
        read_expression(tmp_path / "r.tsv")


# ------------------------------------------------------------------- build outputs


def write_build_inputs(folder: Path) -> list[str]:
    genes = [f"G{i}" for i in range(8)]
    rng = np.random.default_rng(0)
    values = rng.gamma(2.0, 5.0, size=(8, 6))
    header = "gene\t" + "\t".join(f"S{j}" for j in range(6))
    rows = [f"{g}\t" + "\t".join(f"{v:.3f}" for v in row) for g, row in zip(genes, values, strict=True)]
    (folder / "m.tsv").write_text("\n".join([header, *rows]) + "\n")
    (folder / "s.tsv").write_text("sample\ttissue\n" + "".join(f"S{j}\t{'leaf' if j < 3 else 'root'}\n" for j in range(6)))
    return ["build", "--species", "Osa-r", "--expression", str(folder / "m.tsv"), "--samples", str(folder / "s.tsv"),
            "--bags", "5", "--top-k", "3", "--no-progress"]


def test_output_path_that_is_not_an_atlas_is_refused_without_overwrite(tmp_path, capsys):
    command = write_build_inputs(tmp_path)
    out = tmp_path / "results"
    out.mkdir()
    (out / "notes.txt").write_text("my notes")
    before = snapshot(tmp_path)
    assert main([*command, "--out", str(out)]) == 2
    message = capsys.readouterr().err
    assert message.startswith("error: ") and str(out) in message and "--overwrite" in message
    assert snapshot(tmp_path) == before


def test_output_in_a_read_only_folder_is_refused(tmp_path, capsys, monkeypatch):
    command = write_build_inputs(tmp_path)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
    if os.geteuid() == 0:  # root ignores permission bits: report the folder as a read-only mount would
        real_access = os.access
        monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == locked and mode == os.W_OK else real_access(p, mode))
    before = snapshot(tmp_path)
    try:
        assert main([*command, "--out", str(locked / "atlas.zarr")]) == 2
    finally:
        locked.chmod(stat.S_IRWXU)
    message = capsys.readouterr().err
    assert "locked" in message and "not writable" in message
    assert snapshot(tmp_path) == before


def test_bad_input_in_a_build_leaves_no_output(tmp_path, capsys):
    command = write_build_inputs(tmp_path)
    (tmp_path / "s.tsv").write_text("sample\ttissue\nS0\tleaf\n")  # five matrix samples undescribed
    before = snapshot(tmp_path)
    assert main([*command, "--out", str(tmp_path / "atlas.zarr")]) == 2
    assert "m.tsv" in capsys.readouterr().err
    assert snapshot(tmp_path) == before


def test_zip_bomb_is_refused_before_anything_is_extracted(tmp_path):
    (tmp_path / "Ath-r.c7-0.zip").write_bytes(zip_bytes({"Ath-r.c7-0/date": BOMB}))
    with pytest.raises(UnsafeArchiveError, match="zip bomb"):
        read_atted(tmp_path / "Ath-r.c7-0.zip")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Ath-r.c7-0.zip"]


def test_overwrite_replaces_a_non_atlas_path_only_when_asked(tmp_path, capsys):
    command = write_build_inputs(tmp_path)
    out = tmp_path / "results"
    out.mkdir()
    (out / "notes.txt").write_text("old")
    assert main([*command, "--out", str(out), "--overwrite"]) == 0
    assert not (out / "notes.txt").exists() and (out / "zarr.json").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary leftovers
