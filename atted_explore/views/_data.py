"""What the views keep in memory: everything of a species node except the expression matrix.

:func:`shared_resident` keeps a few such nodes per process, keyed by content, so
every browser session of a served atlas shares one copy; :func:`annotation_table`
shares their sample annotation tables the same way.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict

import numpy as np
import pandas as pd
import xarray as xr
from dask.base import is_dask_collection, tokenize

from ..errors import InputError
from . import _style


def as_node(node: xr.Dataset | xr.DataTree) -> xr.Dataset:
    """A species node as a Dataset (a DataTree child is accepted as well)."""
    if isinstance(node, xr.DataTree):
        node = node.to_dataset()
    if not isinstance(node, xr.Dataset) or "gene" not in node.dims:
        raise InputError("a view needs one species node of an atlas (a Dataset with a 'gene' dim), e.g. atlas['Ath-r']")
    return node


def resident(node: xr.Dataset | xr.DataTree) -> xr.Dataset:
    """The node with every variable but ``expression`` loaded (small: per sample, gene or PC).

    ``expression`` stays lazy; views read one gene's row at a time. A node already
    resident (e.g. from :func:`shared_resident`) is returned as is, so per-node caches
    such as :func:`annotation_table` apply to it.
    """
    node = as_node(node)
    if all(variable._in_memory for name, variable in node.variables.items() if name != "expression"):
        return node
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


#: resident nodes kept per process (least recently used dropped first).
NODE_CACHE_SIZE = 6
_nodes: OrderedDict[str, xr.Dataset] = OrderedDict()
_nodes_lock = threading.Lock()


def node_token(node: xr.Dataset) -> str:
    """A content key: lazy variables by their dask names (which file and array they read), others by value.

    Two opens of one stored atlas give the same key; a node whose variables or
    annotations were replaced in a notebook gives another.
    """
    parts = [
        (name, variable.data.name if is_dask_collection(variable.data) else variable.values)
        for name, variable in sorted(node.variables.items())
    ]
    return tokenize(parts, repr(sorted(node.attrs.items())))


def shared_resident(node: xr.Dataset | xr.DataTree) -> xr.Dataset:
    """:func:`resident` through a small per-process cache keyed by :func:`node_token`."""
    node = as_node(node)
    key = node_token(node)
    with _nodes_lock:
        if key in _nodes:
            _nodes.move_to_end(key)
            return _nodes[key]
    loaded = resident(node)
    with _nodes_lock:
        _nodes[key] = loaded
        while len(_nodes) > NODE_CACHE_SIZE:
            _nodes.popitem(last=False)
    return loaded


_tables: dict[int, tuple[tuple[str, ...], pd.DataFrame]] = {}


def annotation_table(node: xr.Dataset) -> tuple[tuple[str, ...], pd.DataFrame]:
    """The node's sample fields (a tuple) and its script-safe annotation table (read-only), made once per node object.

    Every view and every session showing a (shared) node gets the same table: scanning
    the fields takes ~0.3 s at 100,000 samples, and one copy of the strings per session
    would scatter small objects that the process cannot give back once sessions close.
    """
    key = id(node)
    with _nodes_lock:
        if key in _tables:
            return _tables[key]
    made = (tuple(_style.sample_fields(node)), pd.DataFrame(_style.sample_annotations(node)))
    with _nodes_lock:
        if key not in _tables:
            _tables[key] = made
            weakref.finalize(node, _tables.pop, key, None)  # the id may be reused once the node is gone
        return _tables[key]
