"""Function score: pAUC against a direct ROC computation, normalisation, paralogs, top-K vs matrix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from sklearn.metrics import roc_curve

from atted_explore import InputError
from atted_explore.atlas import with_gene_sets
from atted_explore.compute import function_score, indices
from atted_explore.compute.consistency import partial_auc

GENES = [f"g{i:02d}" for i in range(40)]


def _matrix(values: np.ndarray) -> xr.DataArray:
    return xr.DataArray(values, dims=("gene", "gene2"), coords={"gene": GENES, "gene2": GENES})


def _direct_score(scores, labels, fpr_max):
    fpr, tpr, _ = roc_curve(labels, scores, drop_intermediate=False)
    cut = np.searchsorted(fpr, fpr_max, side="right")
    x = np.r_[fpr[:cut], fpr_max]
    y = np.r_[tpr[:cut], np.interp(fpr_max, fpr, tpr)]
    return 100 * np.trapezoid(y, x) / fpr_max


def test_partial_auc_matches_direct_roc_integration():
    rng = np.random.default_rng(0)
    scores = np.round(rng.standard_normal(3000), 1)  # many ties
    labels = rng.random(3000) < 0.1 + 0.2 * (scores > 1)
    for fpr_max in (0.01, 0.05, 0.3, 1.0):
        got = 100 * partial_auc(scores, labels, labels.sum(), (~labels).sum(), fpr_max) / fpr_max
        assert got == pytest.approx(_direct_score(scores, labels, fpr_max), rel=1e-9)


def test_function_score_from_matrix_matches_direct_computation():
    rng = np.random.default_rng(1)
    values = rng.standard_normal((40, 40))
    sets = {"a": GENES[0:6], "b": GENES[6:10], "c": GENES[10:13], "single": GENES[20:21]}
    # annotated genes: 0..12 (sets of 2-50 genes); positives: pairs within a, b or c
    set_of = np.repeat([0, 1, 2], [6, 4, 3])
    i, j = np.triu_indices(13, 1)
    labels = set_of[i] == set_of[j]
    symmetric = np.maximum(values, values.T)
    for fpr_max in (0.01, 0.1, 0.5):
        expected = _direct_score(symmetric[i, j], labels, fpr_max)
        assert function_score(_matrix(values), sets, fpr_max=fpr_max) == pytest.approx(expected, rel=1e-9)
    # max_size=5 drops set "a": annotated genes 6..12, positives within b or c
    i, j = np.triu_indices(7, 1)
    expected = _direct_score(symmetric[6:13, 6:13][i, j], set_of[6:][i] == set_of[6:][j], 0.5)
    assert function_score(_matrix(values), sets, max_size=5, fpr_max=0.5) == pytest.approx(expected, rel=1e-9)


def test_perfect_is_100_and_random_is_about_half():
    sets = {"a": GENES[0:6], "b": GENES[6:10], "c": GENES[10:13]}
    truth = np.zeros((40, 40))
    for members in sets.values():
        idx = [GENES.index(g) for g in members]
        truth[np.ix_(idx, idx)] = 1.0
    assert function_score(_matrix(truth), sets) == pytest.approx(100.0)
    rng = np.random.default_rng(2)
    many = {f"s{k}": list(rng.choice(GENES, 4, replace=False)) for k in range(60)}
    randoms = [function_score(_matrix(rng.random((40, 40))), many) for _ in range(200)]
    assert 0.3 < np.mean(randoms) < 0.7  # expected 100 * 0.01 / 2 = 0.5


def test_paralog_pairs_are_excluded():
    sets = {"a": GENES[0:4], "b": GENES[4:8]}
    values = np.zeros((40, 40))
    values[0, 4] = values[4, 0] = 10.0  # a negative pair ranked first
    worse = function_score(_matrix(values), sets)
    assert function_score(_matrix(values), sets, paralogs=[(GENES[0], GENES[4])]) > worse
    table = pd.DataFrame({"x": [GENES[4]], "y": [GENES[0]]})
    assert function_score(_matrix(values), sets, paralogs=table) == function_score(
        _matrix(values), sets, paralogs=[(GENES[0], GENES[4])]
    )


def test_top_k_tables_with_all_partners_equal_the_full_matrix():
    rng = np.random.default_rng(3)
    values = rng.standard_normal((40, 40))
    values = values + values.T
    partners, scores = indices.top_k_table(values, 39)
    node = xr.Dataset(
        {"coex_partner": (("gene", "rank"), partners.astype(np.int32)), "coex_score": (("gene", "rank"), scores)},
        coords={"gene": GENES},
    )
    sets = {"a": GENES[0:6], "b": GENES[6:10], "c": GENES[10:20]}
    assert function_score(node, sets, fpr_max=0.2) == pytest.approx(function_score(_matrix(values), sets, fpr_max=0.2))
    truncated = node.isel(rank=slice(0, 3))  # pairs off the lists tie at the bottom
    assert 0 <= function_score(truncated, sets, fpr_max=0.2) <= 100


def test_node_gene_sets_are_the_default_and_bad_input_is_refused():
    node = with_gene_sets(xr.Dataset(coords={"gene": GENES}), {"a": GENES[:5], "b": GENES[5:9]})
    node = node.assign(
        coex_partner=(("gene", "rank"), np.tile(np.arange(1, 3, dtype=np.int32), (40, 1))),
        coex_score=(("gene", "rank"), np.ones((40, 2), dtype=np.float32)),
    )
    assert function_score(node) == function_score(node, {"a": GENES[:5], "b": GENES[5:9]})
    with pytest.raises(InputError):
        function_score(node, {"tiny": GENES[:1]})
    with pytest.raises(InputError):
        function_score(node, fpr_max=0)
