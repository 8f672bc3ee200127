"""Sample PCA: in-memory vs Dask agreement, formulas, the PC-count rule."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest
import xarray as xr

from atted_explore import InputError, open_atlas, save_atlas
from atted_explore.compute import pca


def _node(n_genes=300, n_samples=80, rank=6, seed=0, lazy=False) -> xr.Dataset:
    rng = np.random.default_rng(seed)
    strengths = np.linspace(12, 4, rank)
    signal = (rng.standard_normal((n_genes, rank)) * strengths) @ rng.standard_normal((rank, n_samples))
    values = (signal + 0.5 * rng.standard_normal((n_genes, n_samples)) + 5).astype(np.float32)
    data = da.from_array(values, chunks=(64, -1)) if lazy else values
    return xr.Dataset(
        {"expression": (("gene", "sample"), data)},
        coords={"gene": [f"g{i}" for i in range(n_genes)], "sample": [f"s{j}" for j in range(n_samples)]},
    )


def test_scores_reconstruct_the_centred_matrix_and_variance_fractions():
    node = _node()
    out = pca(node, n_pcs=10, method="memory")
    x = node["expression"].values.astype(float)
    centred = x - x.mean(axis=1, keepdims=True)
    exact = np.linalg.svd(centred, compute_uv=False)
    assert out.sizes["pc"] == 10 and out["pc"].values.tolist() == list(range(1, 11))
    np.testing.assert_allclose(out["pc_variance"].values, exact[:10] ** 2 / (exact**2).sum(), rtol=1e-3, atol=1e-6)
    gene, sample = out["gene_score"].values.astype(float), out["sample_score"].values.astype(float)
    s = np.sqrt((gene**2).sum(axis=0))
    approx = (gene / s) @ np.diag(s) @ (sample / s).T  # U S V^T from gene_score = U S, sample_score = V S
    residual = np.linalg.norm(centred - approx) / np.linalg.norm(centred)
    assert residual < np.sqrt(1 - (exact[:10] ** 2).sum() / (exact**2).sum()) + 1e-3
    # sign rule: the largest |gene score| of every PC is positive
    assert (gene[np.abs(gene).argmax(axis=0), np.arange(10)] > 0).all()


def test_memory_and_dask_agree_up_to_sign():
    memory = pca(_node(), n_pcs=6, method="memory")
    lazy = pca(_node(lazy=True), n_pcs=6)  # auto -> dask for a dask-backed node
    for name in ("gene_score", "sample_score"):
        a, b = memory[name].values.astype(float), lazy[name].values.astype(float)
        signs = np.sign((a * b).sum(axis=0))
        np.testing.assert_allclose(a, b * signs, rtol=1e-3, atol=1e-3 * np.abs(a).max())
    np.testing.assert_allclose(memory["pc_variance"], lazy["pc_variance"], rtol=1e-4)


def test_pc_rules():
    node = _node(rank=6)
    by_stick = pca(node, rule="broken-stick", max_pcs=30, min_pcs=3)
    assert 3 <= by_stick.sizes["pc"] <= 6  # six planted axes, the rest is noise
    assert pca(node, max_pcs=30).sizes["pc"] == 10  # the default floor of 10 PCs
    by_variance = pca(node, rule="cumulative:0.85", max_pcs=30, min_pcs=1)
    cumulative = np.cumsum(by_variance["pc_variance"].values)
    assert by_variance.sizes["pc"] > 3 and cumulative[-1] >= 0.85 > cumulative[-2]
    assert pca(node, rule="cumulative:1.0", max_pcs=12).sizes["pc"] == 12  # capped by max_pcs
    assert by_stick.attrs["pca_rule"] == "broken-stick (min 3, max 30)"


@pytest.mark.parametrize("kwargs", [{"rule": "cumulative:2"}, {"rule": "elbow"}, {"method": "gpu"}, {"n_pcs": 0}])
def test_bad_parameters_are_input_errors(kwargs):
    with pytest.raises(InputError):
        pca(_node(n_genes=40, n_samples=10), **kwargs)


def test_pca_of_a_zarr_backed_node_runs_out_of_core(tmp_path):
    node = _node(n_genes=200, n_samples=40).assign_attrs(species="Test", species_code="Tst", platform="r")
    save_atlas(xr.DataTree.from_dict({"Tst-r": node}), tmp_path / "atlas.zarr")
    lazy = open_atlas(tmp_path / "atlas.zarr")["Tst-r"].to_dataset()
    assert hasattr(lazy["expression"].data, "dask")
    out = pca(lazy, n_pcs=5)
    expected = pca(node, n_pcs=5, method="memory")
    np.testing.assert_allclose(out["pc_variance"], expected["pc_variance"], rtol=1e-4)
    assert hasattr(out["expression"].data, "dask")  # the matrix itself stays lazy
