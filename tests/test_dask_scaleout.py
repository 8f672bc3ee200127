"""Scale-out: bags as tasks on a dask.distributed cluster give bit-identical results."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from distributed import Client, LocalCluster

from atted_explore.compute import coexpression, pca


@pytest.fixture(scope="module")
def client():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            yield client


def _node() -> xr.Dataset:
    rng = np.random.default_rng(5)
    values = rng.standard_normal((150, 6)) @ rng.standard_normal((6, 50)) + rng.standard_normal((150, 50))
    return xr.Dataset(
        {"expression": (("gene", "sample"), values.astype(np.float32))},
        coords={"gene": [f"g{i}" for i in range(150)], "sample": [f"s{j}" for j in range(50)]},
    )


def test_cluster_run_is_bit_identical_to_in_process_run(client):
    node = pca(_node(), n_pcs=12)
    calls = []
    distributed = coexpression(node, n_bags=9, top_k=20, seed=11, client=client, progress=lambda d, t: calls.append(d))
    local = coexpression(node, n_bags=9, top_k=20, seed=11, progress=False)
    assert distributed.identical(local)
    assert calls[-1] == 9 and len(calls) == 2  # one update per task (two workers)
    other = coexpression(node, n_bags=9, top_k=20, seed=12, client=client, progress=False)
    assert not np.array_equal(other["coex_score"].values, local["coex_score"].values)


def test_cluster_equals_in_process_where_float64_orders_the_top(client):
    """Tight modules in 3 PCs: top ranks need the float64 refinement; several row blocks per bag."""
    rng = np.random.default_rng(2)
    scores = np.repeat(rng.standard_normal((6, 4)), 100, axis=0) + 0.01 * rng.standard_normal((600, 4))
    node = xr.Dataset(
        {"gene_score": (("gene", "pc"), scores)}, coords={"gene": [f"g{i}" for i in range(600)], "pc": [1, 2, 3, 4]}
    )
    with pytest.warns(UserWarning, match="distinct bag"):  # comb(4, 3) = 4 distinct bags
        distributed = coexpression(node, n_bags=6, fraction=0.75, top_k=30, client=client, progress=False)
    with pytest.warns(UserWarning, match="distinct bag"):
        local = coexpression(node, n_bags=6, fraction=0.75, top_k=30, progress=False, threads=1)
    assert distributed.identical(local)


def test_mr_baseline_on_cluster_equals_local(client):
    node = _node()
    assert coexpression(node, "mr", top_k=10, client=client).identical(coexpression(node, "mr", top_k=10))
