"""Tiny hand-built atlases for unit tests that must not depend on the demo generator."""

from __future__ import annotations

import numpy as np
import xarray as xr

from atted_explore.atlas import with_gene_sets


def make_node(n_genes=6, n_samples=5, seed=0) -> xr.Dataset:
    rng = np.random.default_rng(seed)
    genes = np.array([f"AT1G0{i:04d}" for i in range(n_genes)], dtype=object)
    samples = np.array([f"SRR{i:06d}" for i in range(n_samples)], dtype=object)
    node = xr.Dataset(
        {
            "expression": (("gene", "sample"), rng.random((n_genes, n_samples), dtype=np.float32)),
            "localization": (("gene", "compartment"), rng.random((n_genes, 2)) > 0.5),
        },
        coords={
            "gene": genes,
            "sample": samples,
            "compartment": np.array(["chloroplast", "nucleus"], dtype=object),
            "symbol": ("gene", np.array([f"SYM{i}" for i in range(n_genes)], dtype=object)),
            "title": ("sample", np.array(['leaf <b>"heat"</b> & co'] * n_samples, dtype=object)),
        },
        attrs={"species": "Arabidopsis thaliana", "species_code": "Ath", "platform": "r"},
    )
    return with_gene_sets(node, {"PWY-1": list(genes[:3]), "PWY-2": list(genes[2:5])}, {"PWY-1": "photosynthesis"})


def make_atlas(**node_kwargs) -> xr.DataTree:
    node = make_node(**node_kwargs)
    root = xr.Dataset(
        {
            "ortholog_group": ("ortholog", np.array(["OG1", "OG1"], dtype=object)),
            "ortholog_node": ("ortholog", np.array(["Ath-r", "Ath-r"], dtype=object)),
            "ortholog_gene": ("ortholog", node["gene"].values[:2]),
        }
    )
    atlas = xr.DataTree.from_dict({"/": root, "Ath-r": node})
    atlas.attrs.update(name="test atlas", provenance={"generator": "tests", "seed": 0})
    return atlas
