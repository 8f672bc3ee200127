"""Expression matrices, sample tables and the odd-but-valid text they come in."""

from __future__ import annotations

import gzip
import warnings

import numpy as np
import pandas as pd
import pytest

from atted_explore.io import IdRule, align_samples, id_rule, read_expression, read_samples
from atted_explore.io.samples import unify_case

MATRIX = "gene\tS1\tS2\tS3\nG1\t0\t1\t3\nG2\t7\t15\t0.5\n"


def write(path, text, *, encoding="utf-8", compress=False):
    data = text.encode(encoding)
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def test_tsv_matrix_is_log2_plus_one(tmp_path):
    expression = read_expression(write(tmp_path / "m.tsv", MATRIX))
    assert expression.dims == ("gene", "sample")
    assert list(expression["gene"].values) == ["G1", "G2"]
    assert list(expression["sample"].values) == ["S1", "S2", "S3"]
    assert expression.dtype == np.float32
    np.testing.assert_allclose(expression.sel(gene="G2").values, np.log2([8, 16, 1.5]), rtol=1e-6)


def test_gzip_csv_and_log_values_untransformed(tmp_path):
    path = write(tmp_path / "m.csv.gz", MATRIX.replace("\t", ","), compress=True)
    expression = read_expression(path, transform="none")
    assert float(expression.sel(gene="G2", sample="S2")) == 15.0


@pytest.mark.parametrize(
    "variant",
    [
        pytest.param(lambda t: t.replace("\n", "\r\n"), id="crlf"),
        pytest.param(lambda t: "\ufeff" + t, id="bom"),
        pytest.param(lambda t: "\n\n" + t.replace("G1", "\nG1") + "\n\n\n", id="blank-lines"),
        pytest.param(lambda t: t.replace("G1\t", '"G1"\t').replace("S2", '"S2"'), id="quoted-fields"),
    ],
)
def test_odd_but_valid_text_loads_the_same(tmp_path, variant):
    reference = read_expression(write(tmp_path / "plain.tsv", MATRIX))
    odd = read_expression(write(tmp_path / "odd.tsv", variant(MATRIX)))
    assert list(odd["gene"].values) == list(reference["gene"].values)
    assert list(odd["sample"].values) == list(reference["sample"].values)
    np.testing.assert_array_equal(odd.values, reference.values)


def test_isoforms_are_summed_before_the_log(tmp_path):
    text = "transcript\tR1\tR2\nAT1G01010.1\t1\t2\nAT1G01010.2\t3\t6\nAT1G01020.1\t0\t1\n"
    expression = read_expression(write(tmp_path / "t.tsv", text), combine_isoforms="sum", id_rule=id_rule("Ath-r"))
    assert list(expression["gene"].values) == ["AT1G01010", "AT1G01020"]
    np.testing.assert_allclose(expression.sel(gene="AT1G01010").values, np.log2([5, 9]), rtol=1e-6)


def test_parquet_and_h5ad_matrices(tmp_path):
    import anndata

    frame = pd.DataFrame({"S1": [1.0, 3.0], "S2": [0.0, 7.0]}, index=pd.Index(["G1", "G2"], name="gene"))
    frame.to_parquet(tmp_path / "m.parquet")
    from_parquet = read_expression(tmp_path / "m.parquet")
    np.testing.assert_allclose(from_parquet.sel(gene="G2").values, np.log2([4, 8]))
    adata = anndata.AnnData(X=frame.T.to_numpy(), obs=pd.DataFrame(index=["S1", "S2"]), var=pd.DataFrame(index=["G1", "G2"]))
    adata.write_h5ad(tmp_path / "m.h5ad")
    from_h5ad = read_expression(tmp_path / "m.h5ad")
    assert list(from_h5ad["gene"].values) == ["G1", "G2"]
    np.testing.assert_array_equal(from_h5ad.values, from_parquet.values)


def test_sample_table_fields_and_case_unified(tmp_path):
    text = "sample\tTissue\tstudy_accession\tnote\nS1\tleaf\tP1\ta\nS2\tLeaf\tP1\tb\nS3\tleaf\tP2\tc\nS4\troot\tP2\td\n"
    samples = read_samples(write(tmp_path / "s.tsv", text))
    assert list(samples.index) == ["S1", "S2", "S3", "S4"]
    assert list(samples["tissue"]) == ["leaf", "leaf", "leaf", "root"]
    assert list(samples["study"]) == ["P1", "P1", "P2", "P2"]
    assert list(samples["note"]) == ["a", "b", "c", "d"]


def test_unify_case_prefers_the_most_frequent_spelling():
    values = pd.Series(["Endosperm", "endosperm", "endosperm", "pollen"])
    assert list(unify_case(values)) == ["endosperm", "endosperm", "endosperm", "pollen"]
    tie = pd.Series(["Leaf", "leaf"] * 50)
    assert set(unify_case(tie)) == {"Leaf"}  # a tie goes to the spelling seen first


def test_paired_wide_table_becomes_one_row_per_run(tmp_path):
    text = (
        "study_accession\trun_accession..hypoxia.\trun_accession..normoxia.\tTreatment\n"
        "P1\tR2\tR1\t2 h hypoxia\nP1\tR4\tR3\t2 h hypoxia\nP2\tR6\tR5\tsubmergence\n"
    )
    samples = read_samples(write(tmp_path / "pairs.tsv", text))
    assert len(samples) == 6
    assert samples.loc["R2", "condition"] == "hypoxia" and samples.loc["R1", "condition"] == "normoxia"
    assert samples.loc["R2", "treatment"] == "2 h hypoxia" and samples.loc["R1", "treatment"] == "normoxia"
    assert samples.loc["R6", "pair"] == samples.loc["R5", "pair"] != samples.loc["R2", "pair"]
    assert samples.loc["R5", "study"] == "P2"


def test_real_hypoxia_samples_pair_up_with_the_matrix(shared_data):
    expression = read_expression(
        shared_data / "ath_hypoxia" / "expression.tsv.gz", combine_isoforms="sum", id_rule=id_rule("Ath-r")
    )
    samples = read_samples(shared_data / "ath_hypoxia" / "samples.tsv")
    assert len(samples) == 2 * 29 == expression.sizes["sample"]
    aligned = align_samples(expression, samples, "matrix", "table")
    assert list(aligned.index) == list(expression["sample"].values)
    assert set(aligned["condition"]) == {"hypoxia", "normoxia"}
    assert aligned["study"].nunique() == 6
    assert not any(g.endswith(".1") for g in expression["gene"].values)
    assert expression.sizes["gene"] < 1000  # isoforms of one gene were combined


def test_isoform_ids_need_a_combine_choice_only_when_the_rule_sees_them(tmp_path):
    text = "id\tR1\nAT1G01010.1\t1\nAT1G01020.1\t2\n"
    path = write(tmp_path / "t.tsv", text)
    kept = read_expression(path, id_rule=IdRule(isoform_suffix=None))
    assert list(kept["gene"].values) == ["AT1G01010.1", "AT1G01020.1"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_expression(path, combine_isoforms="max", id_rule=id_rule("Ath-r")).sizes["gene"] == 2
