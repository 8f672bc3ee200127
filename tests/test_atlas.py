"""The atlas data model: validation errors, atomic persistence, lazy round trip."""

from __future__ import annotations

import os

import numpy as np
import pytest
import xarray as xr

import atted_explore
from atted_explore import InputError, open_atlas, save_atlas, validate
from atted_explore.atlas import gene_sets, orthologs
from atted_explore.io.store import is_atlas
from atted_explore.errors import AtlasValidationError, OutputPathError

from .factories import make_atlas, make_node


def test_valid_atlas_passes_and_is_returned():
    atlas = make_atlas()
    assert validate(atlas) is atlas


@pytest.mark.parametrize(
    "break_it, message",
    [
        (lambda n: n.drop_dims("gene"), "missing dim 'gene'"),
        (lambda n: n.assign_coords(gene=["G1"] * n.sizes["gene"]), "duplicate IDs on dim 'gene'"),
        (lambda n: n.assign_coords(sample=["S"] * n.sizes["sample"]), "duplicate IDs on dim 'sample'"),
        (lambda n: n.assign(expression=n["expression"].T), "expected ('gene', 'sample')"),
        (lambda n: n.assign(expression=n["expression"].where(n["expression"] > 0.3)), "non-finite"),
        (lambda n: n.assign(localization=n["localization"].astype(int)), "expected bool"),
        (
            lambda n: n.assign(
                coex_partner=(("gene", "rank"), np.full((n.sizes["gene"], 2), 99, np.int32))
            ).assign_coords(rank=[1, 2]),
            "'coex_partner'",
        ),
        (lambda n: n.assign(member_gene=("member", np.array(["nope"] * n.sizes["member"], dtype=object))), "unknown genes"),
    ],
)
def test_validation_names_node_variable_and_problem(break_it, message):
    atlas = make_atlas()
    atlas["Ath-r"] = break_it(atlas["Ath-r"].to_dataset())
    with pytest.raises(AtlasValidationError) as err:
        validate(atlas)
    assert "atlas node 'Ath-r'" in str(err.value)
    assert message in str(err.value)
    assert isinstance(err.value, InputError) and isinstance(err.value, ValueError)


def test_orthologs_naming_unknown_genes_or_nodes_are_rejected():
    atlas = make_atlas()
    root = atlas.dataset.assign(ortholog_gene=("ortholog", np.array(["AT9G99999", "AT1G00000"], dtype=object)))
    atlas.dataset = root
    with pytest.raises(AtlasValidationError, match="ortholog_gene.*AT9G99999"):
        validate(atlas)
    atlas.dataset = root.assign(ortholog_node=("ortholog", np.array(["Xyz-r", "Ath-r"], dtype=object)))
    with pytest.raises(AtlasValidationError, match="unknown species nodes"):
        validate(atlas)


def test_not_a_datatree_and_no_species_are_rejected():
    with pytest.raises(AtlasValidationError, match="DataTree"):
        validate(make_node())
    with pytest.raises(AtlasValidationError, match="no species node"):
        validate(xr.DataTree())


def test_round_trip_preserves_everything_and_opens_lazily(tmp_path):
    atlas = make_atlas()
    path = save_atlas(atlas, tmp_path / "atlas.zarr")
    assert is_atlas(path)
    back = open_atlas(path)
    node = back["Ath-r"].to_dataset()
    assert node["expression"].chunks is not None  # dask-backed, read on demand
    original = atlas["Ath-r"].to_dataset()
    xr.testing.assert_identical(node.load(), original)
    assert back.attrs["name"] == "test atlas"
    assert back.attrs["provenance"] == {"generator": "tests", "seed": 0}
    assert back["Ath-r"].attrs == original.attrs
    assert orthologs(back).equals(orthologs(atlas))
    assert gene_sets(node) == gene_sets(original)
    assert node["title"].values[0] == 'leaf <b>"heat"</b> & co'


def test_round_trip_keeps_species_order(tmp_path):
    nodes = {name: make_node().assign_attrs(species=name) for name in ("Zma-r", "Ath-r", "Osa-r")}
    path = save_atlas(xr.DataTree.from_dict(nodes), tmp_path / "atlas.zarr")
    assert list(open_atlas(path).children) == ["Zma-r", "Ath-r", "Osa-r"]


def test_save_replaces_an_atlas_and_refuses_other_folders(tmp_path):
    path = save_atlas(make_atlas(seed=0), tmp_path / "atlas.zarr")
    save_atlas(make_atlas(seed=1), path)
    reread = open_atlas(path)["Ath-r"]["expression"].values
    np.testing.assert_array_equal(reread, make_node(seed=1)["expression"].values)
    with pytest.raises(OutputPathError, match="already exists"):
        save_atlas(make_atlas(), path, overwrite=False)

    precious = tmp_path / "results"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    with pytest.raises(OutputPathError, match="not an atlas"):
        save_atlas(make_atlas(), precious)
    assert (precious / "notes.txt").read_text() == "keep me"


def test_failed_save_keeps_previous_atlas_and_leaves_no_partial_store(tmp_path, monkeypatch):
    path = save_atlas(make_atlas(seed=0), tmp_path / "atlas.zarr")
    before = open_atlas(path)["Ath-r"]["expression"].values

    def crash(self, store, *args, **kwargs):
        os.makedirs(store, exist_ok=True)
        (open(os.path.join(store, "zarr.json"), "w")).write("{half written")
        raise OSError("disk full (injected)")

    monkeypatch.setattr(xr.DataTree, "to_zarr", crash)
    with pytest.raises(OSError, match="injected"):
        save_atlas(make_atlas(seed=1), path)
    monkeypatch.undo()
    np.testing.assert_array_equal(open_atlas(path)["Ath-r"]["expression"].values, before)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["atlas.zarr"]


def test_failed_first_save_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(xr.DataTree, "to_zarr", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom")))
    with pytest.raises(RuntimeError):
        save_atlas(make_atlas(), tmp_path / "new.zarr")
    assert list(tmp_path.iterdir()) == []


def test_read_only_parent_is_refused(tmp_path, monkeypatch):
    tmp_path.chmod(0o500)
    if os.geteuid() == 0:  # root writes through permission bits: make the folder read-only as the OS reports it
        real_access = os.access
        monkeypatch.setattr(os, "access", lambda p, mode: False if str(p) == str(tmp_path) else real_access(p, mode))
    try:
        with pytest.raises(OutputPathError, match="not writable"):
            save_atlas(make_atlas(), tmp_path / "atlas.zarr")
        assert list(tmp_path.iterdir()) == []
    finally:
        tmp_path.chmod(0o700)


def test_open_atlas_errors_name_the_path(tmp_path):
    with pytest.raises(InputError, match="no such atlas"):
        open_atlas(tmp_path / "missing.zarr")
    (tmp_path / "plain").mkdir()
    with pytest.raises(InputError, match="plain: not an atlas"):
        open_atlas(tmp_path / "plain")


def test_invalid_atlas_is_not_written(tmp_path):
    atlas = make_atlas()
    atlas["Ath-r"] = atlas["Ath-r"].to_dataset().assign_coords(gene=["G"] * 6)
    with pytest.raises(AtlasValidationError):
        save_atlas(atlas, tmp_path / "bad.zarr")
    assert not (tmp_path / "bad.zarr").exists()


def test_public_api_exports():
    assert atted_explore.InputError is InputError
    assert callable(atted_explore.datasets.demo)


@pytest.mark.parametrize(
    "reorder",
    [
        lambda n: n.sortby(xr.DataArray(-np.arange(n.sizes["gene"]), dims="gene", coords={"gene": n["gene"]})),
        lambda n: n.isel(gene=slice(1, None)),
    ],
    ids=["sortby", "isel"],
)
def test_partner_positions_refuse_a_reordered_gene_dim(reorder, tmp_path):
    from atted_explore import coexpression, function_score
    from atted_explore.compute.pairs import pair_stats, strongest_partner
    from atted_explore.views.coexlist import partner_table

    node = coexpression(make_node(n_genes=12, n_samples=8), "pearson", top_k=3)
    genes = [str(g) for g in node["gene"].values]
    assert len(partner_table(node, genes[2])) == 3  # the node as computed is fine
    moved = reorder(node)
    assert moved.attrs["coex_gene_order"] == node.attrs["coex_gene_order"]  # xarray carries the attr along
    for read in (
        lambda: partner_table(moved, genes[2]),
        lambda: strongest_partner(moved, genes[2]),
        lambda: pair_stats(moved, genes[2], genes[3]),
        lambda: function_score(moved),
        lambda: validate(xr.DataTree.from_dict({"Ath-r": moved})),
        lambda: save_atlas(xr.DataTree.from_dict({"Ath-r": moved}), tmp_path / "moved.zarr"),
    ):
        with pytest.raises(InputError, match="'coex_partner'.*reordered or subset"):
            read()
    assert not (tmp_path / "moved.zarr").exists()
    path = save_atlas(xr.DataTree.from_dict({"Ath-r": node}), tmp_path / "kept.zarr")
    assert len(partner_table(open_atlas(path)["Ath-r"].to_dataset(), genes[2])) == 3  # the order survives a round trip
