"""What each PC means: enrichment, annotation terms, study annotation, representatives, stored texts."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import stats

import atted_explore as ae
from atted_explore.atlas import INTERPRETATION_TABLES
from atted_explore.cli import main
from atted_explore.compute.interpretation import describe_pcs, interpretation_tables, pc_facts
from atted_explore.compute.pc_genes import pc_enrichment, top_genes
from atted_explore.datasets import registry
from atted_explore.compute.pc_samples import (
    characteristic_terms, contrasted_terms, representative_samples, sample_terms, study_common_annotation, tokens,
)
from atted_explore.errors import InputError
from atted_explore.io import read_sample_list
from atted_explore.io.go import biological_process_sets
from atted_explore.io.ids import id_rule

#: a PC carries a planted condition when its sample scores correlate with the condition's activity this much.
CARRIED = 0.5
#: a module drives a PC side when its planted loadings times the PC's covariance with the conditions reach this.
DRIVEN = 0.25
MIN_MODULE = 5


@pytest.fixture(scope="module")
def interpreted():
    atlas = ae.datasets.demo(preset="small", seed=0)
    return {name: ae.interpret_pcs(ae.pca(atlas[name].to_dataset()), progress=False) for name in atlas.children}


def _carried_conditions(node):
    """(pc, side, condition) for every PC whose best-correlated tissue/treatment condition reaches CARRIED."""
    kinds = node["truth_condition_kind"].values
    found = []
    for pc in node["pc"].values:
        scores = node["sample_score"].sel(pc=pc).values
        correlations = {
            str(c): np.corrcoef(scores, node["truth_condition_activity"].sel(condition=c).values)[0, 1]
            for c, kind in zip(node["condition"].values, kinds)
            if kind != "batch" and node["truth_condition_activity"].sel(condition=c).std() > 0
        }
        best = max(correlations, key=lambda c: abs(correlations[c]))
        if abs(correlations[best]) >= CARRIED:
            found.append((int(pc), "positive" if correlations[best] > 0 else "negative", best))
    return found


def test_the_planted_condition_is_among_the_top_three_terms(interpreted):
    hits, cases = 0, []
    for name, node in interpreted.items():
        terms = interpretation_tables(node)["terms"]
        for pc, side, condition in _carried_conditions(node):
            top = terms.query("pc == @pc and side == @side").head(3)["term"].tolist()
            hit = bool(set(condition.split()) & set(top))  # "shoot apex" is found as "shoot" or "apex"
            hits += hit
            cases.append((name, pc, side, condition, top, hit))
    assert len(cases) >= 15, cases  # the demo plants a condition on most of its PCs
    assert hits / len(cases) >= 0.9, [c for c in cases if not c[-1]]


def test_the_driving_module_is_among_the_top_three_enriched_sets(interpreted):
    cases = []
    for name, node in interpreted.items():
        enrichment = interpretation_tables(node)["enrichment"]
        activity = node["truth_condition_activity"].values
        sizes = pd.Series(node["truth_module"].values).value_counts()
        modules = node["module"].values
        for pc in node["pc"].values:
            scores = node["sample_score"].sel(pc=pc).values
            z = (scores - scores.mean()) / scores.std()
            drive = node["truth_module_condition"].values @ (z[:, None] * (activity - activity.mean(0))).mean(0)
            for side, sign in (("positive", 1), ("negative", -1)):
                best = int(np.argmax(sign * drive))
                if sign * drive[best] >= DRIVEN and sizes.get(modules[best], 0) >= MIN_MODULE:
                    top = enrichment.query("pc == @pc and side == @side").head(3)
                    cases.append((name, int(pc), side, modules[best], list(top["set"]),
                                  modules[best] in set(top["set"]),
                                  bool((top["set"] == modules[best]).any() and
                                       top.loc[top["set"] == modules[best], "fdr"].iat[0] < 0.05)))
    assert len(cases) >= 15, cases
    assert sum(c[5] for c in cases) / len(cases) >= 0.9, [c for c in cases if not c[5]]
    assert sum(c[6] for c in cases) / len(cases) >= 0.75, [c for c in cases if not c[6]]  # and significant


def test_tokens_strip_html_accessions_numbers_and_stop_words():
    assert tokens("<script>window.__xss=1</script>Heat <b>stress</b>") == ["heat", "stress"]
    assert tokens('<img src=x onerror="window.__xss=1">root') == ["root"]
    assert tokens("heat &amp; drought, Col-0 <b>WT</b>") == ["heat", "drought", "wt"]
    assert tokens("RNA-Seq of roots SRR123456 GSE45 PRJNA12345 DRP001015 24h 10uM rep2 2 of the H2O2") == ["roots", "h2o2"]


def test_plurals_fold_onto_singulars_present_in_the_atlas():
    node = xr.Dataset(coords={"sample": ["a", "b"], "title": ("sample", ["roots", "root tip"])})
    assert sample_terms(node).tolist() == [["root"], ["root", "tip"]]


def test_a_term_the_study_contrasts_counts_only_for_its_samples_that_carry_it():
    node = xr.Dataset(coords={
        "sample": ["c1", "c2", "t1", "t2", "h1", "h2"],
        "study": ("sample", ["S1", "S1", "S1", "S1", "S2", "S2"]),
        "title": ("sample", ["leaf cold; control", "leaf cold; control", "leaf cold; cold", "leaf cold; cold",
                             "heat roots", "heat roots"]),
        "treatment": ("sample", ["control", "control", "cold", "cold", "heat", "heat"]),
    })
    assert sample_terms(node)["c1"] == ["leaf", "cold", "control"]  # the study's text names cold on its controls
    contrasted = contrasted_terms(node)
    assert contrasted["c1"] == ["leaf", "control"] and contrasted["t1"] == ["leaf", "cold"]
    assert contrasted["h1"] == ["heat", "roots"]  # nothing varies in S2: its terms count for every sample


def test_enrichment_is_the_hypergeometric_tail_with_bh_over_everything():
    rng = np.random.default_rng(0)
    genes = np.array([f"G{i:03d}" for i in range(200)], dtype=object)
    scores = rng.normal(size=(200, 2))
    scores[:8, 0] += 6  # eight genes of set "up" lead PC1
    node = ae.atlas.with_gene_sets(
        xr.Dataset({"gene_score": (("gene", "pc"), scores)}, coords={"gene": genes, "pc": [1, 2]}),
        {"up": list(genes[:12]), "other": list(genes[100:130])},
    )
    enrichment, selected = pc_enrichment(node)
    top = top_genes(node, 1, "positive")
    assert 8 <= top.size <= 10 and set(range(8)) <= set(top)
    row = enrichment.query("pc == 1 and side == 'positive' and set == 'up'").iloc[0]
    assert row["overlap"] == 8 and row["rank"] == 1
    assert row["p"] == pytest.approx(stats.hypergeom.sf(7, 200, 12, top.size))
    assert row["fdr"] < 1e-6
    assert selected.query("pc == 1 and side == 'positive'")["n_top"].iat[0] == top.size
    # BH counts every test (2 PCs x 2 sides x 2 sets), also those with no overlap
    assert enrichment["fdr"].min() == pytest.approx(min(1.0, row["p"] * 8))


def test_characteristic_term_p_values_match_scipy_mann_whitney(interpreted):
    node = interpreted["Ath-r"]
    terms = interpretation_tables(node)["terms"]
    carried = contrasted_terms(node).map(lambda ts: "light" in ts).to_numpy()
    scores = node["sample_score"].sel(pc=3).values
    for side, alternative in (("positive", "greater"), ("negative", "less")):
        row = terms.query("pc == 3 and side == @side and term == 'light'").iloc[0]
        expected = stats.mannwhitneyu(scores[carried], scores[~carried], alternative=alternative, method="asymptotic")
        assert row["p"] == pytest.approx(expected.pvalue, rel=1e-6)
        u = stats.mannwhitneyu(scores[carried], scores[~carried]).statistic
        auc = u / carried.sum() / (~carried).sum()
        assert row["auc"] == pytest.approx(auc if side == "positive" else 1 - auc)
        assert row["n_samples"] == carried.sum()
        assert row["n_studies"] == len(set(node["study"].values[carried]))


def test_representatives_are_one_per_study_with_what_they_share_removed(interpreted):
    node = interpreted["Ath-r"]
    reps, shared = representative_samples(node, n_representatives=5)
    terms = sample_terms(node)
    for (pc, side), group in reps.groupby(["pc", "side"]):
        assert len(group) == 5 and group["study"].is_unique
        scores = group["score"].to_numpy()
        assert np.all(np.diff(scores) <= 0) if side == "positive" else np.all(np.diff(scores) >= 0)
        common = shared.query("pc == @pc and side == @side")["terms"].iat[0]
        for sample, own in zip(group["sample"], group["terms"]):
            assert set(common) <= set(terms[sample]) and not set(common) & set(own)
            assert set(own) | set(common) == set(terms[sample])


def test_every_study_of_the_real_atted_sample_list_gets_a_common_annotation(shared_data, monkeypatch):
    monkeypatch.setenv(registry.MIRROR_ENV, str(shared_data))
    runs = read_sample_list(registry.fetch("atted_sample_list"))
    node = xr.Dataset(coords={
        "sample": runs.index.to_numpy(dtype=object),
        "study": ("sample", runs["study"].to_numpy(dtype=object)),
        "study_title": ("sample", runs["title"].to_numpy(dtype=object)),
    })
    common = study_common_annotation(node)
    assert len(runs) == 1409 and len(common) == 140 and common["n_samples"].sum() == 1409
    assert common["terms"].map(len).min() >= 1
    terms = sample_terms(node)
    for study, shared in zip(common["study"], common["terms"]):
        assert all(set(shared) <= set(ts) for ts in terms[runs["study"] == study])
    assert not any(re.match(r"^(srp|drp|erp|srr|drr|err)\d+$", t) for ts in common["terms"] for t in ts)


def test_tables_survive_save_and_open_and_validate(interpreted, tmp_path):
    node = interpreted["Osa-r"]
    tree = xr.DataTree.from_dict({"/": xr.Dataset(attrs={"name": "t"}), "Osa-r": node})
    ae.validate(tree)
    back = ae.open_atlas(ae.save_atlas(tree, tmp_path / "a.zarr"))["Osa-r"].to_dataset()
    before, after = interpretation_tables(node), interpretation_tables(back)
    for name in INTERPRETATION_TABLES:
        pd.testing.assert_frame_equal(before[name], after[name], check_dtype=False)
    assert list(back["label"].values) == list(node["label"].values)
    assert back.attrs["interpretation"]["summarizer"] == "offline"


def test_a_table_with_wrong_dims_is_refused(interpreted):
    node = interpreted["Zma-r"]
    broken = node.assign(term_auc=("pc", np.zeros(node.sizes["pc"])))
    with pytest.raises(InputError, match="term_auc"):
        ae.atlas.validate_node(broken, "Zma-r")


def test_offline_labels_only_use_words_from_the_statistics(interpreted):
    for node in interpreted.values():
        tables = interpretation_tables(node)
        for pc, label in zip(node["pc"].values, node["label"].values):
            facts = pc_facts(node, tables, int(pc))
            allowed = {"vs", "no", "clear", "condition"}
            for side in facts["sides"].values():
                allowed |= {t["term"] for t in side["terms"]} | set(side["shared_terms"])
                allowed |= {w for s in side["gene_sets"] for w in re.findall(r"\w+", s["name"].lower())}
            words = set(re.findall(r"[\w-]+", label.lower()))
            assert words <= allowed, (pc, label, words - allowed)


def test_pcs_subset_rewrites_only_those_texts_and_bad_pcs_are_refused(interpreted):
    node = interpreted["Ath-r"].assign_coords(label=("pc", ["old"] * interpreted["Ath-r"].sizes["pc"]))
    again = ae.interpret_pcs(node, pcs=[2, 3], progress=False)
    assert again["label"].values[0] == "old" and again["label"].values[1] != "old"
    assert again.attrs["interpretation"]["pcs"] == [2, 3]
    with pytest.raises(InputError, match="pcs=\\[99\\]"):
        ae.interpret_pcs(node, pcs=[99], progress=False)
    with pytest.raises(InputError, match="pca"):
        characteristic_terms(node.drop_vars("sample_score"))
    with pytest.raises(InputError, match="unknown option"):
        describe_pcs(node, fractoin=0.1)


def test_the_pipeline_labels_pcs_unless_told_not_to():
    node = ae.datasets.demo(preset="small", seed=1, n_samples=60, n_genes=200)["Zma-r"].to_dataset()
    labelled = ae.analyze_node(node, n_bags=3, top_k=10, progress=False)
    assert (labelled["label"].values != "").all() and "enrichment_fdr" in labelled
    plain = ae.analyze_node(node, n_bags=3, top_k=10, progress=False, interpret=False)
    assert "label" not in plain.coords and "enrichment_fdr" not in plain


def test_cli_interpret_updates_the_atlas_in_place(interpreted, tmp_path, capsys):
    node = interpreted["Zma-r"].drop_vars(["label", "summary", "pc_description"])
    path = ae.save_atlas(xr.DataTree.from_dict({"/": xr.Dataset(attrs={"name": "t"}), "Zma-r": node}), tmp_path / "a.zarr")
    assert main(["interpret", str(path), "--pcs", "1-3", "--no-progress"]) == 0
    assert "Zma-r PC1:" in capsys.readouterr().out
    back = ae.open_atlas(path)["Zma-r"]
    assert all(back["label"].values[:3] != "") and all(back["label"].values[3:] == "")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.zarr"]  # no temporary left behind
    assert main(["interpret", str(path), "--pcs", "3-1"]) == 2
    assert "--pcs '3-1'" in capsys.readouterr().err
    assert main(["interpret", str(path), "--llm-url", "http://localhost:1/v1"]) == 2


def test_a_node_without_annotation_or_gene_sets_says_so_and_round_trips(tmp_path):
    rng = np.random.default_rng(0)
    node = xr.Dataset(
        {"expression": (("gene", "sample"), rng.normal(5, 1, size=(60, 30)).astype("float32"))},
        coords={"gene": np.array([f"g{i}" for i in range(60)], dtype=object),
                "sample": np.array([f"s{i}" for i in range(30)], dtype=object)},
    )
    labelled = ae.interpret_pcs(ae.pca(node), progress=False)
    assert set(labelled["label"].values) == {"no clear condition"}
    assert "no gene sets, so no enrichment was tested" in labelled["pc_description"].values[0]
    tree = xr.DataTree.from_dict({"/": xr.Dataset(attrs={"name": "bare"}), "X-r": labelled})
    back = ae.open_atlas(ae.save_atlas(tree, tmp_path / "bare.zarr"))["X-r"].to_dataset()
    tables = interpretation_tables(back)
    assert len(tables["enrichment"]) == 0 and len(tables["terms"]) == 0
    assert tables["representatives"].groupby(["pc", "side"]).size().eq(5).all()  # every sample its own study


def test_go_biological_process_sets_are_stored_and_tested():
    genes = np.array([f"AT1G{i:05d}" for i in range(1, 101)], dtype=object)
    rows = [(g.lower(), "GO:0009408", "response to heat", "BP") for g in genes[:6]]  # IDs matched case-insensitively
    rows += [(g, "GO:0009507", "chloroplast", "CC") for g in genes[:40]]  # not a process
    rows += [(g, "GO:0000001", "tiny process", "BP") for g in genes[50:52]]  # 2 genes: below the size floor
    rows += [("AT9G99999", "GO:0009408", "response to heat", "BP")]  # not on the node
    annotations = pd.DataFrame(rows, columns=["locus", "go_id", "term", "ontology"])
    sets = biological_process_sets(annotations, genes, id_rule("Ath-r"))
    assert list(sets["go_term"].values) == ["GO:0009408"] and sets["go_term_name"].item() == "response to heat"
    assert sorted(sets["go_member_gene"].values) == sorted(genes[:6])
    scores = np.random.default_rng(1).normal(size=(100, 1))
    scores[:6, 0] += 8
    node = xr.Dataset({"gene_score": (("gene", "pc"), scores)}, coords={"gene": genes, "pc": [1]}).merge(sets)
    assert ae.atlas.go_sets(node) == {"GO:0009408": list(genes[:6])}
    enrichment, _ = pc_enrichment(node)
    best = enrichment.query("side == 'positive'").iloc[0]
    assert (best["set"], best["source"], best["name"], best["overlap"]) == ("GO:0009408", "GO BP", "response to heat", 6)
    assert best["fdr"] < 1e-6
