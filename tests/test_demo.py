"""The synthetic demo atlas: determinism, schema, planted truth, streaming of the large preset."""

from __future__ import annotations

import re

import dask.array as da
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from threadpoolctl import threadpool_limits

from atted_explore import InputError, datasets, open_atlas, save_atlas, validate
from atted_explore.atlas import gene_sets, orthologs, species_nodes

ID_STYLES = {"Ath-r": r"AT[1-5]G\d{5}", "Osa-r": r"Os\d{2}g\d{7}", "Zma-r": r"Zm00001d\d{6}"}
#: a reduced large preset: several sample blocks per species, built in well under a second
REDUCED = {"n_samples": 400, "n_genes": 250, "block_samples": 128}


def nodes(atlas: xr.DataTree) -> dict[str, xr.Dataset]:
    return {name: atlas[name].to_dataset() for name in species_nodes(atlas)}


def conserved_genes(node: xr.Dataset, module: str) -> set[str]:
    return set(node["gene"].values[node["truth_module"].values == module])


# ------------------------------------------------------------------ determinism and schema


def test_same_seed_gives_identical_atlas(small_demo):
    again = datasets.demo(preset="small", seed=0)
    assert again.attrs == small_demo.attrs
    xr.testing.assert_identical(again.dataset, small_demo.dataset)
    for name, node in nodes(small_demo).items():
        xr.testing.assert_identical(again[name].to_dataset(), node)


def test_other_seed_gives_other_atlas(small_demo):
    other = datasets.demo(preset="small", seed=1)
    assert other.attrs["provenance"]["seed"] == 1
    for name, node in nodes(small_demo).items():
        assert not np.array_equal(other[name]["expression"].values, node["expression"].values)
        assert not np.array_equal(other[name]["sample"].values, node["sample"].values)


def test_atlas_validates_and_describes_species(small_demo):
    validate(small_demo)
    assert small_demo.attrs["name"] == "ATTED-explore demo atlas"
    assert small_demo.attrs["provenance"]["generator"] == "atted_explore.datasets.demo"
    assert {"preset", "seed", "version"} <= set(small_demo.attrs["provenance"])
    species = nodes(small_demo)
    assert len(species) >= 3
    assert len({node.sizes["gene"] for node in species.values()}) == len(species)
    for name, node in species.items():
        assert node.attrs["platform"] == "r"
        assert name == f"{node.attrs['species_code']}-r"
        assert all(re.fullmatch(ID_STYLES[name], gene) for gene in node["gene"].values)
        assert all(isinstance(s, str) for s in node["symbol"].values)
        assert (node["symbol"].values != "").mean() > 0.3
        expression = node["expression"]
        assert expression.dims == ("gene", "sample") and expression.dtype == np.float32
        assert float(expression.min()) >= 0 and np.isfinite(expression.values).all()
        assert not any(v.startswith(("sample_score", "gene_score", "coex")) for v in node.variables)


def test_samples_have_run_ids_and_unequal_studies(small_demo):
    all_runs = []
    for node in nodes(small_demo).values():
        runs = node["sample"].values
        all_runs.extend(runs)
        assert all(re.fullmatch(r"[SDE]RR\d{6,8}", run) for run in runs)
        assert all(re.fullmatch(r"[SDE]RP\d{6}", study) for study in node["study"].values)
        counts = node["study"].to_series().value_counts()
        assert counts.iloc[0] / node.sizes["sample"] >= 0.4
        assert counts.index[0] == node.attrs["truth_dominant_study"]
        assert len(counts) >= 10
        assert (counts < 0.05 * node.sizes["sample"]).sum() >= len(counts) / 2
        dominant = node["study"].values == counts.index[0]
        assert len(set(node["tissue"].values[dominant])) == 1
    assert len(set(all_runs)) == len(all_runs)


def test_free_text_carries_html_like_payloads(small_demo):
    for node in nodes(small_demo).values():
        titles = " ".join(node["title"].values)
        assert "<script>window.__xss=1</script>" in titles
        assert '<img src=x onerror="window.__xss=1">' in titles
        assert "&amp;" in titles
        assert any("<" in t and "window.__xss" in t for t in node["treatment"].values)
        assert any("&" in d for d in node["description"].values)
        assert any("<" in d for d in node["description"].values)
        lowered = {t.strip().lower() for t in node["title"].values}
        assert len(lowered) < node.sizes["sample"]  # duplicated wording across samples


def test_compartments(small_demo):
    for name, node in nodes(small_demo).items():
        localization = node["localization"]
        assert list(localization["compartment"].values) == ["chloroplast", "nucleus", "mitochondrion", "other"]
        assert localization.dtype == bool
        per_gene = localization.values.sum(axis=1)
        assert (per_gene >= 1).all()
        assert 0.02 < (per_gene == 2).mean() < 0.15, name
        assert 0.15 <= float(localization.sel(compartment="chloroplast").mean()) <= 0.25, name


# ------------------------------------------------------------------ planted truth


def test_modules_are_stored_as_gene_sets(small_demo):
    for name, node in nodes(small_demo).items():
        truth = node["truth_module"].to_series()
        modules = truth[truth != ""].groupby(truth[truth != ""]).groups
        assert set(modules) == set(node["module"].values)
        sets = gene_sets(node)
        for module, genes in modules.items():
            assert 2 <= len(genes) <= 50, (name, module)
            assert set(sets[module]) == set(genes)
        decoys = set(sets) - set(modules)
        assert len(decoys) >= 2
        assert all(node["gene_set_name"].sel(gene_set=list(sets)).values != "")
        drivers = node["truth_module_condition"]
        assert drivers.dims == ("module", "condition")
        assert ((drivers != 0).sum("condition") >= 1).all()
        assert node["truth_condition_activity"].dims == ("sample", "condition")


def test_condition_activity_matches_sample_annotation(small_demo):
    for name, node in nodes(small_demo).items():
        activity = node["truth_condition_activity"]
        kinds = node["truth_condition_kind"].values
        tissues = activity.isel(condition=np.flatnonzero(kinds == "tissue"))
        assert ((tissues > 0).sum("condition") == 1).all(), name
        np.testing.assert_array_equal(tissues.idxmax("condition").values, node["tissue"].values)
        treated = node["treatment"].values != "control"
        treatments = activity.isel(condition=np.flatnonzero(kinds == "treatment"))
        assert (np.abs(treatments).sum("condition").values[treated] > 0).all(), name
        assert (treatments.values[~treated] == 0).all(), name


def test_conserved_chloroplast_module_and_rewired_modules(small_demo):
    module = small_demo.attrs["truth_conserved_module"]
    species = nodes(small_demo)
    table = orthologs(small_demo)
    members = {name: conserved_genes(node, module) for name, node in species.items()}
    for name, node in species.items():
        genes = members[name]
        assert 30 <= len(genes) <= 50
        assert node["localization"].sel(gene=sorted(genes), compartment="chloroplast").all()
        driver = node["truth_module_condition"].sel(module=module)
        assert str(driver.idxmax("condition").values) == "light"
    # every ortholog of a conserved-module gene is a member in its own species
    table["member"] = [gene in members[node] for node, gene in zip(table["node"], table["gene"])]
    conserved_groups = table[table["member"]]["group"].unique()
    in_groups = table[table["group"].isin(conserved_groups)]
    assert in_groups["member"].all()
    assert (in_groups.groupby("group")["node"].nunique() == len(species)).all()
    assert sum(len(g) for g in members.values()) == len(in_groups)
    # other modules rewire: their orthologs do not stay together in one module
    ath, osa = species["Ath-r"], species["Osa-r"]
    module_of = {"Ath-r": ath["truth_module"].to_series(), "Osa-r": osa["truth_module"].to_series()}
    pairs = table[table["node"].isin(module_of)].assign(
        module=lambda t: [module_of[n][g] for n, g in zip(t["node"], t["gene"])]
    )
    by_group = pairs.pivot_table(index="group", columns="node", values="module", aggfunc="first").dropna()
    planted = by_group[(by_group["Ath-r"] != "") & (by_group["Ath-r"] != module)]
    kept_together = planted.groupby("Ath-r")["Osa-r"].agg(lambda m: m[m != ""].value_counts().max() / len(m))
    assert len(planted) >= 20
    assert (planted["Osa-r"] == module).sum() == 0
    assert kept_together.mean() < 0.6


def test_orthologs_one_to_one_and_one_to_many(small_demo):
    validate(small_demo)
    counts = orthologs(small_demo).groupby(["group", "node"]).size().unstack(fill_value=0)
    one_to_one = (counts["Ath-r"] == 1) & (counts["Osa-r"] == 1)
    one_to_many = (counts["Ath-r"] == 1) & (counts["Zma-r"] >= 2)
    assert one_to_one.sum() >= 50
    assert one_to_many.sum() >= 10
    assert ((counts > 0).sum(axis=1) >= 2).all()  # a group links at least two species


def test_leading_pc_follows_a_planted_condition(small_demo):
    for name, node in nodes(small_demo).items():
        expression = node["expression"].values.astype(np.float64)
        centred = expression - expression.mean(axis=1, keepdims=True)
        with threadpool_limits(1):  # threaded BLAS on small matrices only loses time on a busy 2-core runner
            _, gene_axes = np.linalg.eigh(centred @ centred.T)  # SVD's left vectors, ascending
        leading_pc = gene_axes[:, -1] @ centred
        activity = node["truth_condition_activity"].values
        varying = activity.std(axis=0) > 0
        r = [abs(np.corrcoef(leading_pc, activity[:, k])[0, 1]) for k in np.flatnonzero(varying)]
        assert max(r) > 0.8, name


def test_module_genes_are_coexpressed(small_demo):
    for name, node in nodes(small_demo).items():
        correlation = np.corrcoef(node["expression"].values)
        random_pairs = correlation[np.triu_indices(len(correlation), 1)].mean()
        modules = node["truth_module"].values
        within = []
        for module in set(modules) - {""}:
            rows = np.flatnonzero(modules == module)
            within.append(correlation[np.ix_(rows, rows)][np.triu_indices(rows.size, 1)].mean())
        within = np.array(within)
        assert within.mean() > random_pairs + 0.2, name
        assert (within > random_pairs).mean() >= 0.7, name


# ------------------------------------------------------------------ overrides and errors


def test_overrides_change_sizes_per_node():
    atlas = datasets.demo(preset="small", n_samples={"Osa-r": 250}, n_genes=300, n_modules=4)
    species = nodes(atlas)
    assert species["Osa-r"].sizes["sample"] == 250
    assert species["Ath-r"].sizes["sample"] == 600
    assert all(node.sizes["gene"] == 300 for node in species.values())
    assert all(node.sizes["module"] <= 5 for node in species.values())
    assert atlas.attrs["provenance"]["overrides"]["n_genes"] == 300


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_sample": 10}, r"unknown override 'n_sample'.*n_samples"),
        ({"preset": "huge"}, r"unknown preset 'huge'.*small"),
        ({"n_genes": 50}, r"n_genes.*200"),
        ({"n_samples": {"Bra-r": 10}}, r"unknown species node 'Bra-r'"),
        ({"n_studies": 300}, r"n_studies for Ath-r is 300"),
        ({"block_samples": 0}, r"block_samples must be an integer >= 1"),
        ({"seed": -1}, r"seed must be a non-negative integer"),
    ],
)
def test_bad_arguments_raise_input_error(kwargs, message):
    with pytest.raises(InputError, match=message):
        datasets.demo(**kwargs)


# ------------------------------------------------------------------ persistence and streaming


def test_round_trip_keeps_planted_truth(small_demo, tmp_path):
    opened = open_atlas(save_atlas(small_demo, tmp_path / "demo.zarr"))
    assert opened.attrs["truth_conserved_module"] == small_demo.attrs["truth_conserved_module"]
    assert opened.attrs["provenance"] == small_demo.attrs["provenance"]
    for name, node in nodes(small_demo).items():
        back = opened[name].to_dataset()
        assert back.attrs == node.attrs
        for var in ("truth_module", "truth_condition_activity", "truth_module_condition", "expression"):
            np.testing.assert_array_equal(back[var].values, node[var].values)
        assert list(back["condition"].values) == list(node["condition"].values)
        assert back["expression"].data.chunks[0][0] == 32  # few genes x all samples per chunk
        assert back["expression"].data.chunks[1] == (node.sizes["sample"],)


def test_large_preset_streams_to_zarr_and_opens_lazily(tmp_path):
    path = tmp_path / "large.zarr"
    atlas = datasets.demo(preset="large", path=path, **REDUCED)
    validate(atlas)
    for name, node in nodes(atlas).items():
        expression = node["expression"].data
        assert isinstance(expression, da.Array), name
        assert expression.chunks[1] == (128, 128, 128, 16) and expression.chunks[0][0] == 32
        assert node["truth_condition_activity"].shape == (400, node.sizes["condition"])
    assert atlas.attrs["provenance"]["preset"] == "large"
    # the streamed blocks are the model's blocks: an in-memory build of the same sizes matches
    sizes = {key: {name: node.sizes[dim] for name, node in nodes(atlas).items()}
             for key, dim in (("n_samples", "sample"), ("n_genes", "gene"))}
    studies = {name: node["study"].to_series().nunique() for name, node in nodes(atlas).items()}
    in_memory = datasets.demo(preset="small", n_studies=studies, n_modules={"Ath-r": 80, "Osa-r": 60, "Zma-r": 70},
                              n_decoy_sets={"Ath-r": 10, "Osa-r": 8, "Zma-r": 8}, block_samples=128, **sizes)
    for name in species_nodes(atlas):
        np.testing.assert_array_equal(atlas[name]["expression"].values, in_memory[name]["expression"].values)
    # an identical request reuses the store
    stamp = (path / "zarr.json").stat().st_mtime_ns
    again = datasets.demo(preset="large", path=path, **REDUCED)
    assert (path / "zarr.json").stat().st_mtime_ns == stamp
    xr.testing.assert_identical(again["Ath-r"].to_dataset(), atlas["Ath-r"].to_dataset())


def test_large_preset_default_path_and_refusal(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    atlas = datasets.demo(preset="large", seed=3, progress=True, **REDUCED)
    assert (tmp_path / "data" / "demo-large-raw-seed3.zarr" / "zarr.json").is_file()
    assert atlas.attrs["provenance"]["seed"] == 3
    assert "demo atlas" in capsys.readouterr().err
    not_atlas = tmp_path / "notes"
    not_atlas.mkdir()
    (not_atlas / "keep.txt").write_text("mine")
    with pytest.raises(InputError, match="not an atlas"):
        datasets.demo(preset="large", path=not_atlas, **REDUCED)
    assert (not_atlas / "keep.txt").read_text() == "mine"
    assert pd.Index(sorted(p.name for p in tmp_path.iterdir())).equals(pd.Index(["data", "notes"]))
