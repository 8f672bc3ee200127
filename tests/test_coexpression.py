"""Coexpression engine: formulas on hand-checkable inputs, fast path vs the direct computation,
reproducibility, baselines and the output schema."""

from __future__ import annotations

import json
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import xarray as xr
from scipy.stats import rankdata

from atted_explore import InputError
from atted_explore.atlas import validate_node
from atted_explore.compute import coexpression, indices, logit_sums, pca, ranking


def _vectors(n_genes, n_dims, seed=0, n_factors=5):
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((n_genes, n_factors)) @ rng.standard_normal((n_factors, n_dims))
    return latent + rng.standard_normal((n_genes, n_dims))


def _node(n_genes=120, n_samples=40, seed=0) -> xr.Dataset:
    values = _vectors(n_genes, n_samples, seed).astype(np.float32) + 6
    return xr.Dataset(
        {"expression": (("gene", "sample"), values)},
        coords={"gene": [f"g{i:03d}" for i in range(n_genes)], "sample": [f"s{j}" for j in range(n_samples)]},
    )


def _fast_mean_logit(vectors, bags, n_bins=4096, depth=100):
    """Bag-averaged logit scores of the fast path as a full matrix."""
    n = vectors.shape[0]
    scale = indices.logit_scale(n, len(bags))
    packed = indices.bag_logit_sum(vectors, bags, scale, n_bins, min(depth, n - 1))
    full = np.empty((n, n), dtype=np.int32)
    ranking.unpack_rows(packed, 0, n, n, full)
    return full / (scale * len(bags))


# ------------------------------------------------------------------ formulas


def test_mutual_rank_logit_and_inverse_by_hand():
    assert ranking.mutual_rank(4, 9) == 6.0
    n = 101
    np.testing.assert_allclose(ranking.logit_score([1, 50.5, 100], n), [np.log(100), 0.0, -np.log(100)])
    np.testing.assert_allclose(ranking.mr_from_logit(ranking.logit_score([3.0, 77.0], n), n), [3.0, 77.0])


def test_zscore_rows_excludes_self():
    scores = np.array([[9.0, 1.0, 2.0, 3.0], [0.0, 9.0, 5.0, 5.0]])
    z = ranking.zscore_rows(scores, exclude_diagonal_from=0)
    np.testing.assert_allclose(z[0, 1:], [-np.sqrt(1.5), 0.0, np.sqrt(1.5)])  # mean 2, sd sqrt(2/3)
    np.testing.assert_allclose(z[1, [0, 2, 3]], [-np.sqrt(2), np.sqrt(0.5), np.sqrt(0.5)])
    assert z[0, 0] == 0 and z[1, 1] == 0  # self is not a partner


def test_rank_matrix_by_hand():
    corr = np.array([[1.0, 0.9, 0.1, 0.5], [0.9, 1.0, 0.2, 0.2], [0.1, 0.2, 1.0, 0.3], [0.5, 0.2, 0.3, 1.0]])
    expected = np.array([[0, 1, 3, 2], [1, 0, 2.5, 2.5], [3, 2, 0, 1], [1, 3, 2, 0]])
    np.testing.assert_array_equal(ranking.rank_matrix(corr), expected)


def test_binned_ranks_equal_exact_ranks_when_values_are_apart():
    rng = np.random.default_rng(3)
    n = 60
    unit = indices.unit_rows(rng.standard_normal((n, 12)), np.float64)
    corr = (unit @ unit.T).astype(np.float32)
    ranks = np.zeros((n, n), dtype=np.uint16)
    ranking.partner_ranks(corr, unit, 0, 2**20, 1, ranks)
    np.testing.assert_array_equal(ranks / 2, ranking.rank_matrix(corr))
    coarse = np.zeros_like(ranks)
    ranking.partner_ranks(corr, unit, 0, 64, 1, coarse)
    exact = ranking.rank_matrix(corr)
    assert np.abs(coarse / 2 - exact).max() <= n / 2  # ties within a bin share a mid-rank


def test_packed_triangle_round_trip():
    n = 7
    full = np.arange(n * n, dtype=np.int32).reshape(n, n)
    full = np.triu(full, 1) + np.triu(full, 1).T
    packed = full[np.triu_indices(n, 1)].copy()
    out = np.empty((3, n), dtype=np.int32)
    ranking.unpack_rows(packed, 2, 3, n, out)
    np.testing.assert_array_equal(out, full[2:5])


def test_log32_is_within_one_float32_ulp_of_log():
    x = np.concatenate([np.geomspace(1e-5, 7e4, 3001), 2.0 ** np.arange(-16, 17), [0.70710677, 0.70710683, 1.4142135]])
    x = x.astype(np.float32)
    got = np.array([ranking.log32(v) for v in x], dtype=np.float64)
    exact = np.log(x.astype(np.float64))
    assert (np.abs(got - exact) <= np.spacing(np.abs(exact).astype(np.float32))).all()


def test_accumulate_logit_adds_rounded_logit_of_mutual_rank():
    n, scale = 300, 2.0**12  # more genes than one tile
    rng = np.random.default_rng(8)
    ranks = rng.integers(1, n, (n, n)).astype(np.uint16)
    packed = np.zeros(n * (n - 1) // 2, dtype=np.int32)
    ranking.accumulate_logit(2 * ranks, scale, packed)  # the kernel reads doubled ranks
    upper = np.triu_indices(n, 1)
    mr = np.sqrt(ranks[upper].astype(float) * ranks.T[upper])
    direct = np.floor(scale * np.log((n - mr) / mr) + 0.5)
    assert np.abs(packed - direct).max() <= 1  # float32 vs float64 at a rounding boundary
    assert np.mean(packed == direct) > 0.99
    twice = packed.copy()
    ranking.accumulate_logit(2 * ranks, scale, twice)
    np.testing.assert_array_equal(twice, 2 * packed)


def test_threads_sharing_one_triangle_add_exactly_what_one_thread_adds():
    """Several threads add bags to one LogitSums, block by block under locks, in any interleaving."""
    n, scale = 4 * ranking.TILE + 37, 2.0**12  # several row blocks, the last one short
    rng = np.random.default_rng(3)
    bags = [2 * rng.integers(1, n, (n, n)).astype(np.uint16) for _ in range(12)]
    alone = logit_sums.LogitSums(n)
    for ranks in bags:
        alone.add(ranks, scale)
    shared = logit_sums.LogitSums(n)

    def add(thread, start):  # threads 0 and 1 both start at block 0: they collide and must skip or wait
        for ranks in bags[thread::4]:
            shared.add(ranks, scale, start, 4)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(add, range(4), [0, 0, 1, 3]))
    assert alone.packed.any()
    np.testing.assert_array_equal(shared.packed, alone.packed)
    assert not any(lock.locked() for lock in shared.locks)


def test_threads_take_the_next_bag_when_done_so_a_slow_thread_takes_fewer():
    bags = [np.array([b]) for b in range(40)]
    dispenser = indices._BagDispenser(bags)

    def take(pause):
        taken = []
        for columns in dispenser:
            taken.append(int(columns[0]))
            time.sleep(pause)
        return taken

    with ThreadPoolExecutor(2) as pool:
        slow, fast = pool.map(take, [0.05, 0.005])
    assert sorted(slow + fast) == list(range(40))  # every bag once
    assert len(fast) > 3 * len(slow)


def test_bag_draws_depend_only_on_seed_and_bag():
    ten, three = indices.bag_columns(20, 0.5, 10, seed=4), indices.bag_columns(20, 0.5, 3, seed=4)
    assert all(np.array_equal(a, b) for a, b in zip(ten, three))
    assert all(len(b) == 10 and len(set(b)) == 10 for b in ten)
    assert not np.array_equal(ten[0], indices.bag_columns(20, 0.5, 1, seed=5)[0])


def test_bag_size_rule_is_monotone_and_rounds_halves_up():
    assert [indices.bag_size(p, 0.5) for p in (3, 4, 5, 6, 7, 9, 11, 20, 200)] == [3, 3, 3, 3, 4, 5, 6, 10, 100]
    for fraction in (0.1, 0.25, 0.5, 0.75, 1.0):
        sizes = [indices.bag_size(p, fraction) for p in range(3, 400)]
        assert all(a <= b for a, b in zip(sizes, sizes[1:]))
        assert all(3 <= m <= p for m, p in zip(sizes, range(3, 400)))


def test_few_distinct_bags_warn():
    with pytest.warns(UserWarning, match="only 10 distinct bag"):
        indices.bag_columns(5, 0.5, 10, seed=0)  # comb(5, 3) = 10
    with pytest.warns(UserWarning, match="only 1 distinct bag"):
        coexpression(_node(n_genes=20).pipe(pca, n_pcs=3), n_bags=4, top_k=5, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        indices.bag_columns(6, 0.5, 10, seed=0)  # comb(6, 3) = 20
        indices.bag_columns(3, 0.5, 1, seed=0)  # one bag: nothing to differ


# ------------------------------------------------------- fast path vs direct


def test_fast_mean_logit_matches_direct_computation():
    vectors = _vectors(150, 16, seed=1)
    bags = indices.bag_columns(16, 0.5, 6, seed=2)
    fast = _fast_mean_logit(vectors, bags)
    direct = indices.reference_mean_logit(vectors, bags)
    off = ~np.eye(150, dtype=bool)
    difference = np.abs(fast - direct)[off]
    assert np.median(difference) < 1e-4  # exact wherever a gene's correlations fall in separate bins
    assert difference.max() < 0.25  # a shared bin shifts a rank by < half its count in one bag
    assert np.corrcoef(fast[off], direct[off])[0, 1] > 0.9999


def test_top_k_tables_match_a_full_computation():
    node = pca(_node(), n_pcs=12)
    out = coexpression(node, n_bags=8, top_k=15, seed=3, progress=False)
    vectors = indices._gene_vectors(node)
    bags = indices.bag_columns(vectors.shape[1], 0.5, 8, seed=3)
    n_bins = json.loads(out.attrs["coex_params"])["rank_bins"]
    z = ranking.zscore_rows(_fast_mean_logit(vectors, bags, n_bins), exclude_diagonal_from=0)
    partners, scores = indices.top_k_table(z, 15)
    np.testing.assert_array_equal(out["coex_partner"].values, partners)
    np.testing.assert_allclose(out["coex_score"].values, scores, rtol=1e-5)
    assert (np.diff(out["coex_score"].values, axis=1) <= 0).all()


def test_partial_ranks_agree_with_exact_ranks_on_3000_genes():
    """Binned ranks vs exact full ranks: top-100 partner lists overlap >= 99%."""
    vectors = _vectors(3000, 40, seed=7, n_factors=8)
    bags = indices.bag_columns(40, 0.5, 4, seed=0)
    fast = ranking.zscore_rows(_fast_mean_logit(vectors, bags), exclude_diagonal_from=0)
    exact = ranking.zscore_rows(indices.reference_mean_logit(vectors, bags), exclude_diagonal_from=0)
    fast_top, _ = indices.top_k_table(fast, 100)
    exact_top, _ = indices.top_k_table(exact, 100)
    overlap = np.mean([np.intersect1d(a, b).size / 100 for a, b in zip(fast_top, exact_top)])
    print(f"top-100 overlap, binned vs exact ranks, 3000 genes: {overlap:.4f}")
    assert overlap >= 0.99


def _module_node(n_pcs: int, n_genes: int = 3000, module_size: int = 200, noise: float = 0.3, seed: int = 0):
    """Genes in tight modules around random centres in PC space: many partners crowd the top bins."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((n_genes // module_size, n_pcs))
    scores = np.repeat(centres, module_size, axis=0) + noise * rng.standard_normal((n_genes, n_pcs))
    return xr.Dataset(
        {"gene_score": (("gene", "pc"), scores)},
        coords={"gene": [f"g{i:04d}" for i in range(n_genes)], "pc": np.arange(1, n_pcs + 1)},
    )


@pytest.mark.parametrize("n_pcs", [3, 6])
def test_top_lists_are_exact_when_partners_crowd_the_top_bins(n_pcs):
    """One bag over all PCs vs exact ranks (scipy rankdata), MR, logit, z: the top-10 lists agree."""
    node = _module_node(n_pcs)
    out = coexpression(node, n_bags=1, fraction=1.0, top_k=10, progress=False)
    vectors = indices._gene_vectors(node)
    exact_logit = indices.reference_mean_logit(vectors, [np.arange(n_pcs)])
    exact_top, _ = indices.top_k_table(ranking.zscore_rows(exact_logit, exclude_diagonal_from=0), 10)
    engine_top = out["coex_partner"].values
    overlap = np.mean([np.intersect1d(a, b).size / 10 for a, b in zip(engine_top, exact_top)])
    rows = np.arange(len(exact_top))
    gap = np.mean(exact_logit[rows, exact_top[:, 0]] - exact_logit[rows, engine_top[:, 0]])
    print(f"{n_pcs} PCs: top-10 overlap {overlap:.4f}, mean exact-LS gap of the top partner {gap:.4f}")
    assert overlap >= 0.99
    assert gap <= 0.01
    assert json.loads(out.attrs["coex_params"])["exact_depth"] == 100


def test_ranks_are_exact_to_the_depth_and_bin_mid_ranks_below():
    rng = np.random.default_rng(4)
    n = 400
    unit = indices.unit_rows(np.repeat(rng.standard_normal((4, 5)), 100, axis=0) + 0.1 * rng.standard_normal((n, 5)), np.float64)
    corr = unit.astype(np.float32) @ unit.astype(np.float32).T
    exact = ranking.rank_matrix(unit @ unit.T)
    ranks = np.zeros((n, n), dtype=np.uint16)
    ranking.partner_ranks(corr, unit, 0, 64, 30, ranks)  # 64 bins: the top bins hold dozens of partners
    got = ranks / 2.0
    top = exact <= 30
    np.fill_diagonal(top, False)
    np.testing.assert_array_equal(got[top], exact[top])
    assert (got[~top] != exact[~top]).any()  # beyond the depth: bin mid-ranks ...
    assert np.abs(got - exact).max() <= n / 2  # ... off by less than half a bin's count


@pytest.mark.parametrize("n_dims", [4, 10])
def test_every_rank_is_within_the_documented_relative_error(n_dims):
    """Below the exact top, |rank - exact| <= tolerance * exact (scipy rankdata of the same float32 values)."""
    rng = np.random.default_rng(n_dims)
    n = 3000
    modules = np.repeat(rng.standard_normal((15, n_dims)), 100, axis=0) + 0.3 * rng.standard_normal((1500, n_dims))
    unit = indices.unit_rows(np.vstack([modules, rng.standard_normal((n - 1500, n_dims))]), np.float64)
    corr = unit.astype(np.float32) @ unit.astype(np.float32).T
    exact = ranking.rank_matrix(corr)
    off_diagonal = ~np.eye(n, dtype=bool)
    errors = {}
    for tolerance in (0.0, 0.003, 0.05):
        ranks = np.zeros((n, n), dtype=np.uint16)
        # refine_depth 0: the float32 values alone decide, as scipy's ranks of them do
        ranking.partner_ranks(corr, unit, 0, 4096, 20, ranks, 0, tolerance)
        error = np.abs(ranks / 2.0 - exact)[off_diagonal]
        assert (error <= tolerance * exact[off_diagonal] + 1e-9).all()
        assert (error[exact[off_diagonal] <= 20] == 0).all()  # the top region is exact
        errors[tolerance] = error / exact[off_diagonal]
    print({t: (float((e > 0).mean()), float(e.max())) for t, e in errors.items()})
    assert errors[0.0].max() == 0  # tolerance 0 sorts every shared bin
    assert errors[0.003].max() <= 0.003 < errors[0.05].max()  # the rule decides which bins are sorted


# ---------------------------------------------------- reproducibility, API


def test_same_seed_same_result_other_seed_differs():
    node = pca(_node(), n_pcs=10)
    a = coexpression(node, n_bags=5, top_k=10, seed=1, progress=False)
    b = coexpression(node, n_bags=5, top_k=10, seed=1, progress=False, threads=1)  # other split of bags
    c = coexpression(node, n_bags=5, top_k=10, seed=2, progress=False)
    assert a.identical(b)
    assert not np.array_equal(a["coex_score"].values, c["coex_score"].values)
    params = json.loads(a.attrs["coex_params"])
    assert a.attrs["coex_method"] == "subagging"
    assert params["seed"] == 1 and params["n_bags"] == 5 and params["pcs_per_bag"] == 5 and params["n_pcs"] == 10


def test_output_schema_and_progress_callback():
    calls = []
    node = _node(n_genes=30)
    out = coexpression(node, n_bags=4, top_k=50, progress=lambda done, total: calls.append((done, total)))
    validate_node(out)
    assert out["coex_partner"].dtype == np.int32 and out["coex_score"].dtype == np.float32
    assert out.sizes["rank"] == 29 and out["rank"].values[0] == 1  # K capped at N - 1
    assert ((out["coex_partner"].values != np.arange(30)[:, None]).all())
    assert sorted(calls) == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert set(node.variables) == {"expression", "gene", "sample"}  # the input is never modified


def test_pearson_baseline_is_sample_correlation():
    node = _node(n_genes=40)
    out = coexpression(node, "pearson", top_k=5)
    corr = np.corrcoef(node["expression"].values.astype(float))
    partners, scores = indices.top_k_table(corr, 5)
    np.testing.assert_array_equal(out["coex_partner"].values, partners)
    np.testing.assert_allclose(out["coex_score"].values, scores, rtol=1e-5)
    assert "coex_mr" not in out


def test_mr_baseline_is_mutual_rank_over_samples():
    node = _node(n_genes=50)
    out = coexpression(node, "mr", top_k=8)
    ranks = ranking.rank_matrix(np.corrcoef(node["expression"].values.astype(float)))
    mr = np.sqrt(ranks * ranks.T)
    np.fill_diagonal(mr, np.inf)
    got = np.take_along_axis(mr, out["coex_partner"].values.astype(int), axis=1)
    # exact ranks: float32 correlations; coex_mr is the inverse of a fixed-point logit score
    np.testing.assert_allclose(out["coex_mr"].values, got, rtol=1e-4)
    np.testing.assert_allclose(np.sort(got, axis=1), np.sort(mr, axis=1)[:, :8], rtol=1e-4)  # the 8 smallest MRs
    np.testing.assert_allclose(out["coex_score"].values, ranking.logit_score(out["coex_mr"].values, 50), atol=1e-4)


@pytest.mark.parametrize(
    "kwargs", [{"method": "spearman"}, {"n_bags": 0}, {"fraction": 0.0}, {"fraction": 1.5}, {"top_k": 0}]
)
def test_bad_parameters_are_input_errors(kwargs):
    with pytest.raises(InputError):
        coexpression(_node(n_genes=10), progress=False, **kwargs)


def test_rank_ties_are_midranks():
    corr = np.array([[1.0, 0.5, 0.5], [0.5, 1.0, 0.5], [0.5, 0.5, 1.0]], dtype=np.float32)
    ranks = np.zeros((3, 3), dtype=np.uint16)
    unit = indices.unit_rows(np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]), np.float64)
    ranking.partner_ranks(corr, unit, 0, 4096, 2, ranks)
    expected = rankdata(-np.array([0.5, 0.5]))  # two tied partners -> 1.5 each
    assert (ranks[~np.eye(3, dtype=bool)] / 2 == expected[0]).all()
