"""What the views keep in memory: everything of a species node except the expression matrix."""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..errors import InputError


def as_node(node: xr.Dataset | xr.DataTree) -> xr.Dataset:
    """A species node as a Dataset (a DataTree child is accepted as well)."""
    if isinstance(node, xr.DataTree):
        node = node.to_dataset()
    if not isinstance(node, xr.Dataset) or "gene" not in node.dims:
        raise InputError("a view needs one species node of an atlas (a Dataset with a 'gene' dim), e.g. atlas['Ath-r']")
    return node


def resident(node: xr.Dataset | xr.DataTree) -> xr.Dataset:
    """The node with every variable but ``expression`` loaded (small: per sample, gene or PC).

    ``expression`` stays lazy; views read one gene's row at a time.
    """
    node = as_node(node)
    small = node.drop_vars("expression", errors="ignore").load()
    return small.assign(expression=node["expression"]) if "expression" in node else small


def expression_row(node: xr.Dataset, gene: str) -> np.ndarray:
    """One gene's expression over all samples (reads only that row of a lazy matrix)."""
    if "expression" not in node:
        raise InputError("node has no variable 'expression'")
    genes = node.indexes["gene"]
    if gene not in genes:
        raise InputError(f"gene {gene!r} is not on dim 'gene' of this node")
    return np.asarray(node["expression"].isel(gene=genes.get_loc(gene)).values, dtype=np.float32)
