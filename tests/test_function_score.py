"""Function score: pAUC against a direct ROC computation, normalization, paralogs, top-K vs matrix."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from sklearn.metrics import roc_curve

from atted_explore import InputError
from atted_explore.atlas import gene_set_sizes, gene_sets, with_gene_sets
from atted_explore.compute import analyze_node, function_score, indices
from atted_explore.io import attach_gene_sets, id_rule, read_gene_sets
from atted_explore.compute.consistency import partial_auc

GENES = [f"g{i:02d}" for i in range(40)]


def _matrix(values: np.ndarray) -> xr.DataArray:
    return xr.DataArray(values, dims=("gene", "gene2"), coords={"gene": GENES, "gene2": GENES})


def _direct_score(scores, labels, fpr_max):
    fpr, tpr, _ = roc_curve(labels, scores, drop_intermediate=False)
    cut = np.searchsorted(fpr, fpr_max, side="right")
    x = np.r_[fpr[:cut], fpr_max]
    y = np.r_[tpr[:cut], np.interp(fpr_max, fpr, tpr)]
    return np.trapezoid(y, x) / fpr_max**2


def test_partial_auc_matches_direct_roc_integration():
    rng = np.random.default_rng(0)
    scores = np.round(rng.standard_normal(3000), 1)  # many ties
    labels = rng.random(3000) < 0.1 + 0.2 * (scores > 1)
    for fpr_max in (0.01, 0.05, 0.3, 1.0):
        got = partial_auc(scores, labels, labels.sum(), (~labels).sum(), fpr_max) / fpr_max**2
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
    assert function_score(_matrix(truth), sets, fpr_max=0.2) == pytest.approx(5.0)  # perfect: 1 / FPR_max
    rng = np.random.default_rng(2)
    many = {f"s{k}": list(rng.choice(GENES, 4, replace=False)) for k in range(60)}
    randoms = [function_score(_matrix(rng.random((40, 40))), many) for _ in range(200)]
    assert 0.3 < np.mean(randoms) < 0.7  # expected (0.01^2 / 2) / 0.01^2 = 0.5
    randoms = [function_score(_matrix(rng.random((40, 40))), many, fpr_max=0.2) for _ in range(100)]
    assert 0.45 < np.mean(randoms) < 0.55  # 0.5 at any FPR_max


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


# ------------------------------------------------------- parity with function_score.pl


def _function_score_pl(lines, genes, index, fpr=0.01, max_genes=50):
    """function_score.pl's documented method, step by step (slow; a symmetric index over ``genes``).

    (1) an annotation line ``set<TAB>IDs...`` is used when it lists 2..50 IDs;
    its IDs are test genes and its pairs are same-pathway pairs; (3) every pair
    of test genes present in the index, once; (4) sorted by descending value;
    (5) trapezoids of the (false, true) counts walk up to FPR * total_false,
    the last one sliced; pAUC = area / (total_true * total_false); printed as pAUC / FPR^2.
    """
    test_gene, same_pathway = set(), set()
    for _, *ids in lines:
        if len(ids) > max_genes or len(ids) < 2:
            continue
        ids = list(ids)
        while ids:
            g0 = ids.pop(0)
            test_gene.add(g0)
            for g1 in ids:
                same_pathway |= {(g0, g1), (g1, g0)}
    values, positive, already = [], [], set()
    for a, row in zip(genes, index):
        if a not in test_gene:
            continue
        for b, value in zip(genes, row):
            if b not in test_gene or a == b or (a, b) in already or (b, a) in already:
                continue
            values.append(value)
            positive.append((a, b) in same_pathway)
            already.add((b, a))
    total_true = sum(positive)
    total_false = len(positive) - total_true
    order = sorted(range(len(values)), key=lambda i: -values[i])
    x = y = previous_x = previous_y = area = 0.0
    threshold = fpr * total_false
    for i in order:
        if positive[i]:
            y += 1
        else:
            x += 1
        if x < threshold:
            area += (x - previous_x) * (y + previous_y) / 2
            previous_x, previous_y = x, y
        else:
            ratio = (threshold - previous_x) / (x - previous_x)
            sliced_x, sliced_y = previous_x + (x - previous_x) * ratio, previous_y + (y - previous_y) * ratio
            area += (sliced_x - previous_x) * (sliced_y + previous_y) / 2
            break
    return area / (total_true * total_false) / fpr**2


def _annotation_with_absent_ids(genes, rng):
    """Lines of 2-50 listed IDs, some listing IDs absent from the node, and lines too long only when counted as listed."""
    absent = [f"absent{i}" for i in range(200)]
    lines, start = [], 0
    for size, n_absent in [(30, 0), (45, 15), (12, 3), (8, 0), (20, 30), (60, 20), (2, 1), (25, 0), (1, 0)]:
        lines.append((f"set{len(lines)}", *genes[start : start + size], *absent[: n_absent]))
        start += size
    lines.append(("mixed", *rng.choice(genes[:150], 10, replace=False), *absent[:5]))
    return lines  # set4 lists 50 (kept), set5 lists 80 of which 60 on the node (dropped)


def test_equal_to_function_score_pl_on_a_symmetric_index_with_absent_ids(tmp_path):
    rng = np.random.default_rng(7)
    genes = [f"G{i:03d}" for i in range(300)]
    lines = _annotation_with_absent_ids(genes, rng)
    same = np.zeros((300, 300))
    for _, *ids in lines:
        idx = [genes.index(g) for g in ids if g in genes]
        same[np.ix_(idx, idx)] += 1
    values = rng.standard_normal((300, 300)) + 1.5 * same
    values = (values + values.T) / 2
    matrix = xr.DataArray(values, dims=("gene", "gene2"), coords={"gene": genes, "gene2": genes})
    expected = _function_score_pl(lines, genes, values)
    sets = {set_id: list(ids) for set_id, *ids in lines}
    assert function_score(matrix, sets) == pytest.approx(expected, abs=0.01)
    # read from a file and attached to a node: the listed sizes travel with the node
    path = tmp_path / "pathways.txt"
    path.write_text("".join("\t".join(line) + "\n" for line in lines))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the join report: absent IDs do not match
        node, _ = attach_gene_sets(xr.Dataset(coords={"gene": genes}), read_gene_sets(path), id_rule("Ath-r"))
    assert int(node["gene_set_size"].sel(gene_set="set5")) == 80
    assert function_score(matrix, gene_sets(node), set_sizes=gene_set_sizes(node)) == pytest.approx(expected, abs=0.01)
    matched_only = function_score(matrix, gene_sets(node), set_sizes={s: len(m) for s, m in gene_sets(node).items()})
    assert abs(matched_only - expected) > 0.01  # filtering after matching (set5 kept) changes the score


def test_build_stores_the_atted_comparable_score_and_the_z_table_score():
    rng = np.random.default_rng(3)
    n_genes, n_samples = 300, 60
    modules = np.repeat(np.arange(10), 30)
    expression = rng.standard_normal((10, n_samples))[modules] + 1.2 * rng.standard_normal((n_genes, n_samples))
    genes = [f"G{i:03d}" for i in range(n_genes)]
    lines = _annotation_with_absent_ids(genes, rng)
    node = xr.Dataset(
        {"expression": (("gene", "sample"), expression.astype(np.float32) + 8)},
        coords={"gene": genes, "sample": [f"S{j}" for j in range(n_samples)]},
    )
    node = with_gene_sets(node, {s: list(ids) for s, *ids in lines})
    out = analyze_node(node, n_bags=6, top_k=20, progress=False)
    params = json.loads(out.attrs["coex_params"])
    vectors = indices._gene_vectors(out)
    exact = indices.reference_mean_logit(vectors, indices.bag_columns(params["n_pcs"], 0.5, 6, seed=0))
    expected = _function_score_pl(lines, genes, exact)
    print(f"function score of the bag-mean logit: build {out.attrs['function_score']:.3f}, reference {expected:.3f}")
    assert out.attrs["function_score"] == pytest.approx(expected, abs=0.01)
    assert out.attrs["function_score_z"] == pytest.approx(function_score(out))
    assert out.attrs["function_score"] != out.attrs["function_score_z"]
