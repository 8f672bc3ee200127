"""CoexMaps of the real maize-rice atlas: every subset mapped, aligned and scored (real public data).

What made this test slow (profiled: 526 s wall, 93 s CPU at load ~6 with 20 bags and
top_k 200): the coexpression engine (20 bags x 2 species, two thirds of the wall time)
and numba's one-off compilation of UMAP (55 s CPU, paid once per process). The checks
below need neither many bags nor long partner lists: which subsets exist, how many
ortholog anchors they have and where maize's annotated subset comes from do not depend
on them, and the scores only have to be well-formed. So: 4 bags, top_k 100, no PC
interpretation (it plays no part in the maps). The figures quoted in the closing notes
come from 20 bags and top_k 200 (see notebooks/04_cross_species.ipynb).
"""

from __future__ import annotations

import pytest

from atted_explore import analyze_atlas, datasets, validate
from atted_explore.compute.map_modules import stored_conservation

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def maize_rice(shared_data):
    return analyze_atlas(datasets.load("maize_rice_tissues"), n_bags=4, top_k=100, interpret=False, seed=0,
                         progress=False)


def test_real_maize_rice_conservation_per_subset(maize_rice):
    """Maize vs rice (no localization): all genes, OryzaCyc-annotated genes (carried to maize through
    orthogroups) and single-copy orthologs."""
    validate(maize_rice)
    table = stored_conservation(maize_rice)
    assert set(table["subset"]) == {"all", "annotated", "single_copy"}
    assert ((table["node_a"] == "Zma-r") & (table["node_b"] == "Osa-r")).all()
    assert (table["n_anchors"] >= 100).all()
    assert table["p_value"].between(1 / 201, 1).all() and table["baseline"].between(0, 1).all()
    assert table["score"].between(0, 1).all()
    assert "orthologs of Osa-r" in maize_rice["Zma-r"].attrs["coexmap_subsets"]["annotated"]
    for name in ("Zma-r", "Osa-r"):
        node = maize_rice[name].dataset
        assert set(node["subset"].values) == {"all", "annotated", "single_copy"}
        placed = (~node["coexmap"].isnull().any("xy")).sum("gene")
        assert int(placed.sel(subset="all")) == node.sizes["gene"]  # every gene on the all-gene map
        assert 0 < int(placed.sel(subset="single_copy")) < node.sizes["gene"]
    print(table.to_string())
