"""ID normalization, join reports, gene sets, GO localization and ortholog sources."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from atted_explore.atlas import gene_sets
from atted_explore.io import (
    IdRule,
    JoinWarning,
    attach_gene_sets,
    id_rule,
    localization,
    map_ids,
    orthogroup_members,
    rbh_members,
    read_gene_sets,
    read_go_annotations,
    read_go_parents,
    read_orthogroups,
    read_rbh,
)


def node_with(genes):
    return xr.Dataset(coords={"gene": np.array(genes, dtype=object)})


# ------------------------------------------------------------------------ IDs


def test_rice_ids_match_case_insensitively_and_keep_the_expression_spelling():
    with pytest.warns(JoinWarning, match=r"2 of 3 IDs matched, 1 unmatched \(e\.g\. OS99G9999999\)"):
        report = map_ids(
            ["OS07G0264100", " Os01g0100700 ", "OS99G9999999"],
            ["Os07g0264100", "Os01g0100700"],
            id_rule("Osa-r"),
            what="oryzacyc",
            onto="Osa-r genes",
        )
    assert report.mapping["OS07G0264100"] == "Os07g0264100"
    table = report.table()
    assert list(table.columns) == ["id", "gene", "matched"]
    assert table["matched"].tolist() == [True, True, False]
    assert report.counts() == {"what": "oryzacyc", "onto": "Osa-r genes", "ids": 3, "matched": 2, "unmatched": 1}


def test_isoform_suffixes_map_transcripts_to_genes():
    rule = id_rule("Ath-r")
    assert list(rule.gene_ids(["AT1G01060.1", "AL1G11530.t1", "AT1G01060"])) == ["AT1G01060", "AL1G11530", "AT1G01060"]
    exact = IdRule(case_insensitive=False, isoform_suffix=None)
    report = map_ids(["at1g01060", "AT1G01060.1"], ["AT1G01060"], exact, what="x", onto="y", warn=False)
    assert report.n_matched == 0


# ------------------------------------------------------------------- gene sets


def test_kegg_style_gmt_and_pmn_gene_sets(tmp_path):
    (tmp_path / "kegg.txt").write_text("ath00010\tG1\tG2\nath00010\tG3\nath00020\tG2 G4\n")
    (tmp_path / "sets.gmt").write_text("SET_A\tfirst set\tG1\tG2\nSET_B\t\tG3\n")
    (tmp_path / "pmn.tsv").write_text(
        "Pathway-id\tPathway-name\tReaction-id\tEC\tProtein-id\tProtein-name\tGene-id\tGene-name\n"
        "PWY-1\tserine synthesis\tR1\tEC-1\tP1\tp\tOS07G0264100\tOs07g0264100\n"
        "PWY-1\tserine synthesis\tR2\tEC-2\tP2\tp\tunknown\tunknown\n"
        "PWY-1\tserine synthesis\tR3\tEC-3\tP3\tp\tOS01G0100700\tOs01g0100700\n"
        "PWY-2\tother\tR4\tEC-4\tP4\tp\tunknown\tunknown\n"
    )
    kegg = read_gene_sets(tmp_path / "kegg.txt")
    assert kegg.sets == {"ath00010": ["G1", "G2", "G3"], "ath00020": ["G2", "G4"]}
    gmt = read_gene_sets(tmp_path / "sets.gmt")
    assert gmt.sets == {"SET_A": ["G1", "G2"], "SET_B": ["G3"]} and gmt.names == {"SET_A": "first set"}
    pmn = read_gene_sets(tmp_path / "pmn.tsv")
    assert pmn.sets == {"PWY-1": ["OS07G0264100", "OS01G0100700"]}  # 'unknown' genes dropped, PWY-2 empty
    assert pmn.names["PWY-1"] == "serine synthesis"

    node = node_with(["Os07g0264100", "Os01g0100700", "Os02g0000000"])
    with pytest.warns(JoinWarning, match="2 of 2 IDs matched"):
        attached, report = attach_gene_sets(node, pmn, id_rule("Osa-r"))
    assert gene_sets(attached) == {"PWY-1": ["Os07g0264100", "Os01g0100700"]}
    assert str(attached["gene_set_name"].sel(gene_set="PWY-1").values) == "serine synthesis"


def test_real_oryzacyc_matches_rice_ids_and_corncyc_does_not_match_v4_maize(shared_data):
    rice = read_gene_sets(shared_data / "pathways" / "oryzacyc_pathways.20230103.gz")
    rice_genes = pd.read_csv(shared_data / "maize_rice_tissues" / "rice_expression.tsv.gz", sep="\t", usecols=[0]).iloc[:, 0]
    report = map_ids(rice.member_ids(), rice_genes, id_rule("Osa-r"), what="oryzacyc", onto="rice", warn=False)
    assert report.n_matched > 500  # upper-case OryzaCyc IDs match mixed-case RAP IDs
    corn = read_gene_sets(shared_data / "pathways" / "corncyc_pathways.20230103.gz")
    maize_genes = pd.read_csv(shared_data / "maize_rice_tissues" / "maize_expression.tsv.gz", sep="\t", usecols=[0]).iloc[:, 0]
    report = map_ids(corn.member_ids(), maize_genes, id_rule("Zma-r"), what="corncyc", onto="maize", warn=False)
    assert report.n_matched / report.n_total < 0.01  # v5 IDs vs v4 expression: near nothing matches


# ------------------------------------------------------------------------- GO

PARENTS = (
    "go_id\tparent_id\trelationship\n"
    "GO:0009535\tGO:0009534\tpart of\n"
    "GO:0009534\tGO:0009507\tpart of\n"
    "GO:0005730\tGO:0005634\tpart of\n"
    "GO:0001111\tGO:0009507\tregulates\n"
)


def test_compartments_come_from_cellular_component_ancestors(tmp_path):
    (tmp_path / "parents.tsv").write_text(PARENTS)
    (tmp_path / "go.tsv").write_text(
        "locus\tgo_id\tterm\tontology\n"
        "AT1G01010\tGO:0009535\tchloroplast thylakoid membrane\tCC\n"
        "AT1G01020\tGO:0005730\tnucleolus\tCC\n"
        "AT1G01030\tGO:0001111\tregulates a chloroplast thing\tCC\n"
        "AT1G01040\tGO:0009507\tchloroplast\tBP\n"
        "AT9G99999\tGO:0005634\tnucleus\tCC\n"
    )
    genes = ["AT1G01010", "AT1G01020", "AT1G01030", "AT1G01040"]
    with pytest.warns(JoinWarning, match="3 of 4 IDs matched"):
        located, report = localization(
            read_go_annotations(tmp_path / "go.tsv"), read_go_parents(tmp_path / "parents.tsv"), genes, id_rule("Ath-r")
        )
    assert located.dtype == bool and located.dims == ("gene", "compartment")
    assert located.sel(gene="AT1G01010", compartment="chloroplast")
    assert located.sel(gene="AT1G01020", compartment="nucleus")
    assert not located.sel(gene="AT1G01030").any()  # 'regulates' does not locate
    assert not located.sel(gene="AT1G01040").any()  # a BP row is not a location
    assert report.unmatched == ["AT9G99999"]


def test_gaf_2_2_annotations_skip_not_qualifiers(tmp_path):
    (tmp_path / "parents.tsv").write_text(PARENTS)
    row = "TAIR\t{id}\tsym\t{q}\t{go}\tTAIR:1\tIDA\t\tC\tname\t\tprotein\ttaxon:3702\t20200101\tTAIR\t\t\n"
    (tmp_path / "a.gaf").write_text(
        "!gaf-version: 2.2\n"
        + row.format(id="AT1G01010", q="located_in", go="GO:0009534")
        + row.format(id="AT1G01020", q="NOT|located_in", go="GO:0009507")
    )
    annotations = read_go_annotations(tmp_path / "a.gaf")
    assert list(annotations["locus"]) == ["AT1G01010"]
    located, _ = localization(
        annotations, read_go_parents(tmp_path / "parents.tsv"), ["AT1G01010", "AT1G01020"], id_rule("Ath-r"), warn=False
    )
    assert located.sel(compartment="chloroplast").values.tolist() == [True, False]


# ------------------------------------------------------------------ orthologs


def test_orthogroups_map_species_codes_to_nodes(tmp_path):
    (tmp_path / "og.tsv").write_text(
        "Family\tSpecies\tGene\nF1\tosa\tOS01G0100700\nF1\tzma\tZm00001d009743\nF2\tzma\tZm00001d000001\n"
        "F2\tath\tAT1G01010\nF3\tosa\tOs01g0999999\n"
    )
    genes = {"Osa-r": ["Os01g0100700"], "Zma-r": ["Zm00001d009743", "Zm00001d000001"]}
    with pytest.warns(JoinWarning):
        table, reports = orthogroup_members(read_orthogroups(tmp_path / "og.tsv"), genes)
    assert set(map(tuple, table[["group", "node", "gene"]].to_numpy())) == {
        ("F1", "Osa-r", "Os01g0100700"),
        ("F1", "Zma-r", "Zm00001d009743"),
    }  # F2 has one gene left in the atlas, F3 none
    assert reports["Osa-r"].n_unmatched == 1 and reports["Zma-r"].n_matched == 2


def test_rbh_pairs_of_transcripts_become_gene_pairs(tmp_path):
    (tmp_path / "rbh.csv").write_text(
        "query_id;subject_id;dN\nAT1G01010.1;AL1G11530.t1;0.1\nAT1G01020.1;AL1G00000.t1;0.2\n"
    )
    genes = {"Ath-r": ["AT1G01010", "AT1G01020"], "Aly-r": ["AL1G11530"]}
    table, reports = rbh_members(read_rbh(tmp_path / "rbh.csv"), "Ath-r", "Aly-r", genes, warn=False)
    assert sorted(table["gene"]) == ["AL1G11530", "AT1G01010"]
    assert table["group"].nunique() == 1
    assert reports["Aly-r"].unmatched == ["AL1G00000.t1"]


def test_real_rbh_table_reads(shared_data):
    pairs = read_rbh(shared_data / "orthologs" / "Ath_vs_Alyrata_RBH.csv.gz")
    assert list(pairs.columns) == ["query", "subject"]
    assert len(pairs) > 10_000 and pairs["query"].str.match(r"AT[1-5CM]G\d{5}\.\d+").mean() > 0.9


def test_id_rule_depends_on_the_species():
    maize, arabidopsis = id_rule("Zma-r"), id_rule("Ath-r")
    assert list(maize.key(["GRMZM2G000001_T01", "Zm00001d001234_T001"])) == ["grmzm2g000001", "zm00001d001234"]
    assert list(arabidopsis.key(["GRMZM2G000001_T01", "AT1G01060.1"])) == ["grmzm2g000001_t01", "at1g01060"]
    assert id_rule("Zma") == maize and id_rule(None) == arabidopsis
