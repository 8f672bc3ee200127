"""Science checks: planted truth of the demo atlas, and real rice data against permuted annotations."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from atted_explore.atlas import gene_sets
from atted_explore.compute import coexpression, function_score, pca
from atted_explore.io import attach_gene_sets, id_rule, read_expression, read_gene_sets, read_orthogroups


def module_precision(node) -> float:
    """Mean over planted-module genes of the fraction of its top (module size - 1) partners in its module."""
    truth = node["truth_module"].values.astype(str)
    partners = node["coex_partner"].values
    hits = []
    for gene in np.flatnonzero(truth != ""):
        mates = int((truth == truth[gene]).sum()) - 1
        if mates:
            hits.append(np.mean(truth[partners[gene, :mates]] == truth[gene]))
    return float(np.mean(hits))


@pytest.fixture(scope="module")
def demo_indices(small_demo):
    """Ath-r of the small demo: the node whose dominant study holds ~45% of the samples."""
    node = small_demo["Ath-r"].to_dataset()
    return {
        "subagging": coexpression(pca(node), n_bags=100, top_k=100, progress=False),
        "pearson": coexpression(node, "pearson", top_k=100),
    }


def test_planted_module_partners_top_each_others_lists(demo_indices):
    node = demo_indices["subagging"]
    truth = node["truth_module"].values.astype(str)
    module_share = np.mean([(truth == m).mean() for m in truth[truth != ""]])
    precision = module_precision(node)
    pearson = module_precision(demo_indices["pearson"])
    print(
        f"demo Ath-r: module precision@(module size - 1) subagging {precision:.3f}, Pearson {pearson:.3f} "
        f"(random {module_share:.3f})"
    )
    assert precision > 5 * module_share and precision > 0.3


def test_subagging_beats_sample_pearson_when_one_study_dominates(demo_indices, small_demo):
    node = small_demo["Ath-r"].to_dataset()
    dominant = node.attrs["truth_dominant_study"]
    share = float((node["study"].values == dominant).mean())
    subagging, pearson = (function_score(demo_indices[m]) for m in ("subagging", "pearson"))
    print(f"demo Ath-r (dominant study {share:.0%} of samples): function score subagging {subagging:.2f}, Pearson {pearson:.2f}")
    assert share > 0.3
    assert subagging > pearson


@pytest.fixture(scope="module")
def rice(shared_data):
    """Rice tissues (7,647 genes x 27 samples) with OryzaCyc pathways and PLAZA paralog pairs."""
    folder = shared_data / "maize_rice_tissues"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # join reports: OryzaCyc covers part of the genome
        node = read_expression(folder / "rice_expression.tsv.gz").to_dataset()
        sets = read_gene_sets(shared_data / "pathways" / "oryzacyc_pathways.20230103.gz")
        node, report = attach_gene_sets(node, sets, id_rule("Osa-r"))
    groups = read_orthogroups(folder / "orthogroups.tsv.gz")
    rice_genes = groups[groups["species"] == "osa"]
    paralogs = rice_genes.merge(rice_genes, on="group")
    paralogs = paralogs[paralogs["gene_x"] < paralogs["gene_y"]][["gene_x", "gene_y"]]
    return node, report, paralogs


def test_rice_ids_match_case_insensitively(rice):
    node, report, _ = rice
    assert report.n_matched > 500  # OryzaCyc spells OS07G0264100, the matrix Os07g0264100
    assert all(g.startswith("Os") and "g" in g for g in list(gene_sets(node).values())[0])


def test_real_rice_indices_beat_permuted_annotations(rice):
    node, _, paralogs = rice
    indices = {
        "subagging": coexpression(pca(node), n_bags=10, top_k=200, progress=False),
        "pearson": coexpression(node, "pearson", top_k=200),
        "mr": coexpression(node, "mr", top_k=200),
    }
    sets = gene_sets(node)
    genes = node["gene"].values.astype(str)
    rng = np.random.default_rng(0)
    permutations = [dict(zip(genes, rng.permutation(genes))) for _ in range(149)]
    rows = []
    for method, index in indices.items():
        observed = function_score(index, sets, paralogs=paralogs)
        null = np.array(
            [function_score(index, {k: [p[g] for g in v] for k, v in sets.items()}, paralogs=paralogs) for p in permutations]
        )
        p_value = (1 + (null >= observed).sum()) / (1 + null.size)
        rows.append((method, observed, null.mean(), null.max(), p_value))
    table = pd.DataFrame(rows, columns=["method", "score", "null_mean", "null_max", "p"])
    print("\nrice (OryzaCyc, 149 gene-label permutations):\n" + table.to_string(index=False))
    by_method = table.set_index("method")
    assert by_method.loc["subagging", "p"] < 0.01  # above all 149 permutations: the method this package is for
    assert (table["score"] > table["null_mean"]).all()
