"""`atted-explore build`: generic species groups and the named real-data recipes."""

from __future__ import annotations

import numpy as np
import pytest

from atted_explore import datasets, open_atlas, validate
from atted_explore.atlas import gene_sets, orthologs
from atted_explore.compute import analyze_node
from atted_explore.cli import main
from atted_explore.datasets import registry

PARENTS = "go_id\tparent_id\trelationship\nGO:0009535\tGO:0009507\tpart of\n"


def write_species(folder, code, n_genes=30, n_samples=12, seed=0):
    """A small matrix with two planted modules, its sample table, a pathway file and GO annotations."""
    rng = np.random.default_rng(seed)
    genes = [f"{code}G{i:03d}" for i in range(n_genes)]
    samples = [f"{code}S{j}" for j in range(n_samples)]
    driver = rng.gamma(2.0, 10.0, size=(2, n_samples))
    values = rng.gamma(2.0, 2.0, size=(n_genes, n_samples))
    values[:10] += driver[0] * rng.uniform(0.8, 1.2, size=(10, 1))
    values[10:20] += driver[1] * rng.uniform(0.8, 1.2, size=(10, 1))
    rows = [f"{g}\t" + "\t".join(f"{v:.4f}" for v in row) for g, row in zip(genes, values, strict=True)]
    (folder / f"{code}_expression.tsv").write_text("\n".join(["gene\t" + "\t".join(samples), *rows]) + "\n")
    (folder / f"{code}_samples.tsv").write_text(
        "sample\tTissue\tstudy\n" + "".join(f"{s}\t{'Leaf' if j % 2 else 'leaf'}\tP{j // 6}\n" for j, s in enumerate(samples))
    )
    (folder / f"{code}_kegg.txt").write_text(
        f"path:m1\t{' '.join(genes[:10])}\npath:m2\t{' '.join(genes[10:20])}\npath:x\tNOT_A_GENE\n"
    )
    (folder / f"{code}_go.tsv").write_text(
        "locus\tgo_id\nlocus_missing\tGO:0009507\n" + "".join(f"{g.lower()}\tGO:0009535\n" for g in genes[:5])
    )
    return genes


def test_generic_build_of_two_species_with_orthologs_on_a_dask_scheduler(tmp_path, capsys):
    from distributed import LocalCluster

    for code in ("Osa", "Zma"):
        write_species(tmp_path, code, seed=len(code) + ord(code[0]))
    (tmp_path / "parents.tsv").write_text(PARENTS)
    (tmp_path / "og.tsv").write_text(
        "Family\tSpecies\tGene\n" + "".join(f"OG{i}\tosa\tOsaG{i:03d}\nOG{i}\tzma\tZmaG{i:03d}\n" for i in range(25))
    )
    command = ["build"]
    for code in ("Osa", "Zma"):
        command += ["--species", f"{code}-r", "--expression", str(tmp_path / f"{code}_expression.tsv"),
                    "--samples", str(tmp_path / f"{code}_samples.tsv"), "--gene-sets", str(tmp_path / f"{code}_kegg.txt"),
                    "--go", str(tmp_path / f"{code}_go.tsv")]
    command += ["--orthologs", str(tmp_path / "og.tsv"), "--go-parents", str(tmp_path / "parents.tsv"),
                "--bags", "20", "--top-k", "10", "--no-progress", "--out", str(tmp_path / "mine.zarr")]
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster:
        assert main([*command, "--scheduler", cluster.scheduler_address]) == 0
    printed = capsys.readouterr().out
    assert "atlas written" in printed and "Osa-r gene_sets:Osa_kegg.txt: 20 of 21 IDs matched, 1 unmatched" in printed

    atlas = validate(open_atlas(tmp_path / "mine.zarr"))
    assert sorted(atlas.children) == ["Osa-r", "Zma-r"]
    node = atlas["Osa-r"].to_dataset()
    assert node.sizes["rank"] == 10 and {"sample_score", "gene_score", "coex_partner"} <= set(node.variables)
    assert node["tissue"].values.tolist().count("leaf") == 12  # 'Leaf' unified
    assert set(gene_sets(node)) == {"path:m1", "path:m2"}
    assert node["localization"].sel(compartment="chloroplast").values.sum() == 5  # lower-case loci, via part_of
    reports = node.attrs["join_reports"]
    assert reports["go:Osa_go.tsv"]["unmatched"] == 1 and reports["samples"]["matched"] == 12
    assert reports["orthologs:og.tsv"]["matched"] == 25
    assert 0 <= float(node.attrs["function_score"]) <= 100
    table = orthologs(atlas)
    assert len(table) == 50 and set(table["node"]) == {"Osa-r", "Zma-r"}
    # planted module: a module gene's best partners are in its module
    first = node["coex_partner"].sel(gene="OsaG000").values[:5]
    assert (first < 10).mean() >= 0.8


def test_analyze_node_runs_pca_coexpression_and_function_score(tmp_path):
    from atted_explore.io.assemble import SpeciesInput, load_species

    write_species(tmp_path, "Osa")
    node = load_species(
        SpeciesInput("Osa-r", tmp_path / "Osa_expression.tsv", tmp_path / "Osa_samples.tsv", gene_sets=[tmp_path / "Osa_kegg.txt"])
    )
    analyzed = analyze_node(node, n_bags=10, top_k=5, progress=False)
    assert analyzed.sizes["rank"] == 5 and analyzed.sizes["pc"] >= 1
    assert "function_score" in analyzed.attrs and "function_score" not in node.attrs


@pytest.fixture
def mirror(monkeypatch, shared_data):
    monkeypatch.setenv(registry.MIRROR_ENV, str(shared_data))
    return shared_data


def test_real_hypoxia_atlas_builds_with_its_documented_command(tmp_path, mirror, capsys):
    out = tmp_path / "ath_hypoxia.zarr"
    assert main(["build", "--dataset", "ath_hypoxia", "--out", str(out), "--bags", "30", "--top-k", "50", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "Ath-r samples: 58 of 58 IDs matched" in printed and "aracyc" in printed
    node = validate(open_atlas(out))["Ath-r"].to_dataset()
    assert node.sizes["sample"] == 58 and set(node["condition"].values) == {"hypoxia", "normoxia"}
    assert node.sizes["rank"] == 50 and not any(str(g).endswith(".1") for g in node["gene"].values)
    reports = node.attrs["join_reports"]
    assert reports["gene_sets:aracyc_pathways.20230103.gz"]["matched"] > 0
    assert reports["go:ath_go.tsv.gz"]["matched"] > 0.9 * node.sizes["gene"]
    assert node["localization"].sel(compartment="chloroplast").values.sum() > 50
    assert main(["info", str(out)]) == 0 and "Ath-r" in capsys.readouterr().out


def test_real_maize_rice_atlas_builds_and_reports_the_corncyc_mismatch(tmp_path, mirror, capsys):
    out = tmp_path / "maize_rice.zarr"
    command = ["build", "--dataset", "maize_rice_tissues", "--out", str(out), "--bags", "4", "--top-k", "20", "--no-progress"]
    assert main(command) == 0
    assert "Zma-r gene_sets_check:corncyc_pathways.20230103.gz: 16 of 4,284 IDs matched" in capsys.readouterr().out
    atlas = validate(open_atlas(out))
    maize, rice = atlas["Zma-r"].to_dataset(), atlas["Osa-r"].to_dataset()
    corncyc = maize.attrs["join_reports"]["gene_sets_check:corncyc_pathways.20230103.gz"]
    assert corncyc["matched"] / corncyc["ids"] < 0.01  # CornCyc v5 IDs vs v4 expression IDs
    assert "member_set" not in maize and "function_score" not in maize.attrs
    oryzacyc = rice.attrs["join_reports"]["gene_sets:oryzacyc_pathways.20230103.gz"]
    assert oryzacyc["matched"] > 500 and len(gene_sets(rice)) > 100 and "function_score" in rice.attrs
    assert set(maize["tissue"].values) == {"endosperm", "pollen", "whole_seedling"}
    assert maize.sizes["rank"] == 20 and rice.sizes["gene"] == 7647
    table = orthologs(atlas)
    assert set(table["node"]) == {"Zma-r", "Osa-r"} and table["group"].nunique() > 3000


def test_load_gives_the_unanalyzed_recipe_atlas(mirror):
    atlas = validate(datasets.load("ath_hypoxia"))
    node = atlas["Ath-r"].to_dataset()
    assert "expression" in node and "coex_partner" not in node and "localization" in node
    assert node.attrs["join_reports"]["samples"]["matched"] == 58
