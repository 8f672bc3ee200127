"""The build accepts what users have: no sample table, a tissue-only table, values on the wrong scale (real data)."""

from __future__ import annotations

import gzip
import warnings

import numpy as np
import pytest

from atted_explore import open_atlas, validate
from atted_explore.cli import main
from atted_explore.io.tables import TransformWarning, check_transform, read_expression

from .real_atlases import build_real_atlas, write_matrix_slice


@pytest.fixture(scope="module")
def real_folder(tmp_path_factory):
    return tmp_path_factory.mktemp("real-atlases")


def test_tissue_only_sample_table_builds_a_valid_atlas(real_folder, shared_data, capsys):
    path = build_real_atlas("tissue_only", real_folder, shared_data)
    printed = capsys.readouterr()
    assert "Osa-r samples: 27 of 27 IDs matched" in printed.out
    assert "warning:" not in printed.err  # TPM with the default log2p1: nothing to warn about
    node = validate(open_atlas(path))["Osa-r"].to_dataset()
    assert node.sizes["sample"] == 27 and node.sizes["gene"] == 1500
    assert sorted(set(node["tissue"].values)) == ["endosperm", "pollen", "whole_seedling"]  # case unified
    for field in ("study", "treatment", "title"):
        assert set(node[field].values) == {""}, field
    assert {"sample_score", "gene_score", "coex_partner"} <= set(node.variables)


def test_no_sample_table_takes_sample_ids_from_the_matrix_columns(real_folder, shared_data, capsys):
    path = build_real_atlas("no_samples", real_folder, shared_data)
    assert "Zma-r samples: no sample table; 28 sample IDs from the matrix columns, fields empty" in capsys.readouterr().out
    atlas = validate(open_atlas(path))
    node = atlas["Zma-r"].to_dataset()
    with gzip.open(shared_data / "maize_rice_tissues" / "maize_expression.tsv.gz", "rt") as lines:
        header = next(lines).rstrip("\n").split("\t")[1:]
    assert list(node["sample"].values) == header
    for field in ("study", "tissue", "treatment", "title"):
        assert set(node[field].values) == {""}, field
    assert "samples" not in node.attrs["join_reports"] and node.attrs["samples_source"] == ""
    assert atlas.attrs["provenance"]["species"]["Zma-r"]["samples"] == ""
    assert node.sizes["rank"] == 100 and (node["coex_partner"].values >= 0).all()


def test_a_species_without_a_matrix_is_one_clear_error(tmp_path, shared_data, capsys):
    samples = shared_data / "maize_rice_tissues" / "rice_samples.tsv"
    assert main(["build", "--species", "Osa-r", "--samples", str(samples), "--out", str(tmp_path / "x.zarr")]) == 2
    assert capsys.readouterr().err.strip() == "error: --species Osa-r: missing --expression FILE"


def _build_rice(tmp_path, matrix, transform):
    command = ["build", "--species", "Osa-r", "--expression", str(matrix), "--transform", transform,
               "--out", str(tmp_path / f"{transform}.zarr"), "--bags", "3", "--top-k", "10", "--no-progress"]
    return main(command)


def test_transform_none_on_linear_values_warns_in_one_line(tmp_path, shared_data, capsys):
    matrix = write_matrix_slice(shared_data / "maize_rice_tissues" / "rice_expression.tsv.gz", tmp_path / "tpm.tsv", 400)
    with pytest.warns(TransformWarning):
        assert read_expression(matrix, transform="none").values.max() > 1000  # real TPM
    assert _build_rice(tmp_path, matrix, "none") == 0  # a warning, not a refusal
    err = capsys.readouterr().err
    warned = [line for line in err.splitlines() if line.startswith("warning:")]
    assert len(warned) == 1, err
    assert str(matrix) in warned[0] and "transform 'none'" in warned[0] and "look like linear values" in warned[0]
    assert "--transform log2p1" in warned[0] and "Traceback" not in err


def test_log2p1_on_values_already_logged_warns(tmp_path, shared_data, capsys):
    tpm = read_expression(write_matrix_slice(shared_data / "maize_rice_tissues" / "rice_expression.tsv.gz",
                                             tmp_path / "tpm.tsv", 400), transform="log2p1")  # already log2(x + 1)
    logged = tmp_path / "logged.tsv"
    tpm.to_pandas().to_csv(logged, sep="\t", float_format="%.5f")
    assert _build_rice(tmp_path, logged, "log2p1") == 0
    err = capsys.readouterr().err
    assert "look like log values already" in err and "--transform none" in err and str(logged) in err
    assert _build_rice(tmp_path, logged, "none") == 0
    assert "warning:" not in capsys.readouterr().err  # the right transform: silent


def test_transform_checks_leave_plausible_values_alone():
    counts = np.array([[0.0, 3.0], [12.0, 1.0]])  # small whole numbers: counts, not logs
    logs = np.array([[0.5, 14.25], [3.1, 7.0]])
    with pytest.warns(TransformWarning, match="look like log values"):
        check_transform(logs, "log2p1", "m.tsv")
    with pytest.warns(TransformWarning, match="look like linear values"):
        check_transform(logs * 1000, "none", "m.tsv")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_transform(counts, "log2p1", "m.tsv")
        check_transform(logs, "none", "m.tsv")
        check_transform(logs * 1000, "log2p1", "m.tsv")
