"""CoexMaps: layouts per subset, alignment, conservation across species, map modules (demo and real data)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import xarray as xr

from atted_explore.atlas import gene_sets
from atted_explore import InputError, analyze_atlas, coexmap, datasets, map_conservation, validate
from atted_explore.compute.map_modules import (
    gene_set_module, map_modules, module_enrichment, module_matches, stored_conservation,
)
from atted_explore.compute.module_cohesion import cohesive_modules
from atted_explore.summary import describe

PERMUTATIONS = 1000


@pytest.fixture(scope="module")
def demo_maps() -> xr.DataTree:
    """The small demo through the pipeline (CoexMaps included)."""
    return analyze_atlas(datasets.demo(preset="small", seed=0), n_bags=50, seed=0, progress=False)


@pytest.fixture(scope="module", params=[0, 1])
def demo_draws(request, demo_maps) -> xr.DataTree:
    """Two draws of the small demo: seed 1's chloroplast maps cut the planted module into islands and
    scattered genes in two species (the islands alone miss it there)."""
    if request.param == 0:
        return demo_maps
    return analyze_atlas(datasets.demo(preset="small", seed=1), n_bags=50, seed=1, progress=False)


def planted(atlas: xr.DataTree, name: str) -> np.ndarray:
    node = atlas[name].dataset
    return node["truth_module"].values == atlas.attrs["truth_conserved_module"]


def test_maps_follow_the_data_model(demo_maps):
    validate(demo_maps)
    for name in demo_maps.children:
        node = demo_maps[name].dataset
        assert node["coexmap"].dims == ("gene", "subset", "xy")
        assert node["coexmap_module"].dtype == np.int32
        assert {"all", "chloroplast", "nucleus"} <= set(node["subset"].values)
        chloroplast = node["localization"].sel(compartment="chloroplast").values
        layout = node["coexmap"].sel(subset="chloroplast").values
        assert np.array_equal(~np.isnan(layout[:, 0]), chloroplast)  # NaN exactly outside the subset
        assert not np.isnan(node["coexmap"].sel(subset="all").values).any()
        # a small subset is skipped by the pipeline and says why
        skipped = node.attrs["coexmap_skipped"]
        assert all(subset not in node["subset"].values for subset in skipped)
    assert "CoexMaps (all:" in describe(demo_maps) and "CoexMap conservation" in describe(demo_maps)


def test_chloroplast_maps_are_more_conserved_than_all_gene_maps(demo_maps):
    for a, b in itertools.combinations(list(demo_maps.children), 2):
        scores = {
            subset: map_conservation(demo_maps, a, b, subset, n_permutations=PERMUTATIONS)
            for subset in ("all", "chloroplast")
        }
        chloroplast, everything = scores["chloroplast"], scores["all"]
        assert float(chloroplast["score"]) > float(everything["score"]), (a, b)
        # chance levels differ with the number of anchors: compare above chance too
        assert float(chloroplast["excess"]) > float(everything["excess"]), (a, b)
        assert float(chloroplast["p_value"]) < 0.01, (a, b, float(chloroplast["p_value"]))
        assert int(chloroplast["n_anchors"]) >= 30
        assert float(chloroplast["baseline"]) < float(chloroplast["score"])


def test_stored_table_matches_a_fresh_computation(demo_maps):
    table = stored_conservation(demo_maps)
    row = table[(table["node_a"] == "Ath-r") & (table["node_b"] == "Osa-r") & (table["subset"] == "chloroplast")]
    fresh = map_conservation(demo_maps, "Ath-r", "Osa-r", "chloroplast", n_permutations=200, seed=0)
    assert float(row["score"].iloc[0]) == pytest.approx(float(fresh["score"]))
    assert float(row["p_value"].iloc[0]) == pytest.approx(float(fresh["p_value"]))


def test_planted_module_is_one_cluster_per_species_and_clusters_match(demo_draws):
    clusters = {}
    for name in demo_draws.children:
        cluster, share, purity = gene_set_module(demo_draws[name].dataset, "chloroplast", planted(demo_draws, name))
        assert cluster >= 0 and share >= 0.75 and purity >= 0.6, (name, cluster, share, purity)
        clusters[name] = cluster
        enriched = module_enrichment(demo_draws[name].dataset, "chloroplast").to_dataframe()
        top = enriched[enriched["module"] == cluster].iloc[0]
        assert top["gene_set"] == demo_draws.attrs["truth_conserved_module"] and top["q_value"] < 1e-6
    for a, b in itertools.combinations(clusters, 2):
        matches = module_matches(demo_draws, a, b, "chloroplast").to_dataframe()
        best = matches[matches["best"] & (matches["module_a"] == clusters[a])].iloc[0]
        assert best["module_b"] == clusters[b] and best["q_value"] < 0.01, (a, b)


def test_islands_are_checked_against_coexpression():
    """Split where two modules share an island, merge one module cut in two, scattered members rejoin it."""
    rng = np.random.default_rng(1)
    centres = rng.standard_normal((2, 30))
    module = lambda c, n: centres[c] + 0.4 * rng.standard_normal((n, 30))  # noqa: E731
    vectors = np.vstack([module(0, 40), module(1, 40), rng.standard_normal((30, 30))])
    a, b, scattered = slice(0, 40), slice(40, 80), slice(80, 110)
    shared_island = np.r_[np.zeros(80, int), np.full(30, -1)]
    split = cohesive_modules(shared_island, vectors, 20)
    assert len(set(split[a])) == 1 and len(set(split[b])) == 1 and split[0] != split[40] and (split[scattered] == -1).all()
    cut = np.r_[np.zeros(20, int), np.ones(20, int), np.full(40, 2), np.full(30, -1)]
    merged = cohesive_modules(cut, vectors, 20)
    assert len(set(merged[a])) == 1 and merged[0] != merged[40]
    half_scattered = np.r_[np.zeros(20, int), np.full(20, -1), np.ones(40, int), np.full(30, -1)]
    joined = cohesive_modules(half_scattered, vectors, 20)
    assert (joined[a] == joined[0]).all() and (joined[b] == joined[40]).all() and (joined[scattered] == -1).all()
    assert sorted(set(joined)) == [-1, 0, 1]  # numbered by first gene


def test_maps_are_deterministic_by_seed(demo_maps):
    one = coexmap(demo_maps, ["chloroplast"], seed=3, progress=False)
    two = coexmap(demo_maps, ["chloroplast"], seed=3, progress=False)
    other = coexmap(demo_maps, ["chloroplast"], seed=4, progress=False)
    layout = lambda tree: tree["Osa-r"].dataset["coexmap"].values  # noqa: E731
    assert np.array_equal(layout(one), layout(two), equal_nan=True)
    assert not np.array_equal(layout(one), layout(other), equal_nan=True)
    assert np.array_equal(one["Osa-r"].dataset["coexmap_module"].values, two["Osa-r"].dataset["coexmap_module"].values)


def test_alignment_brings_orthologs_together(demo_maps):
    """After Procrustes, ortholog anchors sit closer to their counterparts than random pairs do."""
    alignment = demo_maps["Osa-r"].attrs["coexmap_alignment"]["chloroplast"]
    assert alignment["aligned"] and alignment["reference"] == "Ath-r"
    from atted_explore.compute.map_modules import layout, ortholog_anchors

    ath, osa = (layout(demo_maps[n].dataset, "chloroplast") for n in ("Ath-r", "Osa-r"))
    anchors = ortholog_anchors(demo_maps, "Ath-r", "Osa-r", ~np.isnan(ath[:, 0]), ~np.isnan(osa[:, 0]))
    points_a, points_b = anchors.positions(ath, osa)
    paired = np.linalg.norm(points_a - points_b, axis=1).mean()
    shuffled = np.linalg.norm(points_a - points_b[np.random.default_rng(0).permutation(len(points_b))], axis=1).mean()
    assert paired < 0.8 * shuffled


def test_bad_inputs_get_clear_errors(demo_maps):
    with pytest.raises(InputError, match="unknown subset 'plastoglobule'"):
        coexmap(demo_maps, ["plastoglobule"], progress=False)
    sets = gene_sets(demo_maps["Ath-r"].dataset)
    small = min(sets, key=lambda s: len(sets[s]))
    with pytest.raises(InputError, match=f"subset '{small}' has {len(sets[small])} genes on node 'Ath-r'; a CoexMap needs at least 30"):
        coexmap(demo_maps, [small], progress=False)
    no_orthologs = demo_maps.copy()
    no_orthologs.dataset = demo_maps.dataset.drop_vars(["ortholog_group", "ortholog_node", "ortholog_gene"])
    with pytest.raises(InputError, match="no ortholog table"):
        map_conservation(no_orthologs, "Ath-r", "Osa-r", "chloroplast")
    lonely = demo_maps.copy()
    keep = demo_maps.dataset["ortholog_node"].values != "Zma-r"
    lonely.dataset = demo_maps.dataset.isel(ortholog=np.flatnonzero(keep))
    with pytest.raises(InputError, match="species node 'Zma-r' has no orthologs"):
        map_conservation(lonely, "Ath-r", "Zma-r")
    with pytest.raises(InputError, match="subset 'Golgi' has no CoexMap"):
        map_conservation(demo_maps, "Ath-r", "Osa-r", "Golgi")
    with pytest.raises(InputError, match="both 'Ath-r'"):
        map_conservation(demo_maps, "Ath-r", "Ath-r")
    with pytest.raises(InputError, match="gene_set_module: expected a non-empty mask of 500 genes"):
        gene_set_module(demo_maps["Ath-r"].dataset, "chloroplast", np.zeros(3, dtype=bool))


def test_a_map_whose_only_dense_group_is_one_island_gets_that_module():
    rng = np.random.default_rng(0)
    island = rng.normal(0, 0.2, size=(30, 2))
    scattered = rng.uniform(-10, 10, size=(40, 2))
    labels = map_modules(np.vstack([island, scattered, np.full((2, 2), np.nan)]))
    # the island's core is the one module (HDBSCAN's single cluster leaves its fringe out); nothing scattered joins it
    assert set(labels[:30]) <= {0, -1} and (labels[:30] == 0).mean() >= 0.6 and (labels[30:] == -1).all()
    two = map_modules(np.vstack([island, island + 8, scattered]))  # two islands: the usual HDBSCAN result
    assert len(set(two[:30])) == 1 and len(set(two[30:60])) == 1 and two[0] != two[30] and min(two[:60]) >= 0
