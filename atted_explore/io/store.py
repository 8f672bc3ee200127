"""Atlas storage: Zarr stores written atomically, opened lazily, recognised by their metadata.

The data model the stores hold is documented in :mod:`atted_explore.atlas`.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path

import xarray as xr

from ..atlas import FORMAT_VERSION, validate
from ..errors import InputError, OutputPathError


def stored_attrs(path: str | os.PathLike) -> dict | None:
    """The root attributes of a Zarr store, read from its metadata alone; None if there is no store."""
    try:
        return json.loads((Path(path) / "zarr.json").read_text()).get("attributes", {})
    except (OSError, ValueError):
        return None


def is_atlas(path: str | os.PathLike) -> bool:
    """True when ``path`` is a Zarr store written by :func:`save_atlas`."""
    attrs = stored_attrs(path)
    return attrs is not None and "format_version" in attrs and "name" in attrs


def _strings_as_objects(ds: xr.Dataset) -> xr.Dataset:
    """Text (numpy fixed-width ``U`` or ``StringDType``) as object arrays of ``str``.

    Writing, Zarr stores object text as variable-length UTF-8 (the ``string``
    data type with the ``vlen-utf8`` codec, both specified among the Zarr v3
    extensions), whereas fixed-width ``U`` arrays become ``fixed_length_utf32``,
    which other Zarr libraries may not read. Reading, Zarr returns
    ``StringDType``; pandas, HoloViews and Bokeh expect objects.
    """
    text = {name: var.load().astype(object) for name, var in ds.variables.items() if var.dtype.kind in "UT"}
    return ds.assign_coords({k: v for k, v in text.items() if k in ds.coords}).assign(
        {k: v for k, v in text.items() if k not in ds.coords}
    )


def check_output_path(path: str | os.PathLike, *, overwrite: bool, replace_non_atlas: bool = False) -> Path:
    """Refuse an unusable output path, before any work is done; returns it as a ``Path``.

    An existing atlas is replaced only with ``overwrite``; an existing path that is
    not an atlas only with ``replace_non_atlas`` too (never silently).
    """
    path = Path(path)
    if path.exists():
        if not is_atlas(path) and not replace_non_atlas:
            raise OutputPathError(
                f"{path}: exists and is not an atlas; refusing to replace it (choose another path or pass --overwrite)"
            )
        if not overwrite:
            raise OutputPathError(f"{path}: an atlas already exists there (pass --overwrite / overwrite=True to replace it)")
    parent = path.parent
    if not parent.is_dir():
        raise OutputPathError(f"{path}: parent folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise OutputPathError(f"{path}: parent folder {parent} is not writable (read-only?)")
    return path


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists():
        path.unlink()


def save_atlas(
    atlas: xr.DataTree,
    path: str | os.PathLike,
    overwrite: bool = True,
    validate_first: bool = True,
    replace_non_atlas: bool = False,
) -> Path:
    """Write ``atlas`` to a Zarr store at ``path`` atomically.

    The store is built in a temporary sibling folder and renamed into place, so
    an exception or crash never leaves a half-written atlas at ``path`` and
    whatever is already there stays intact until the new atlas is complete. A
    path that exists and is not an atlas is refused unless ``replace_non_atlas``.
    """
    path = check_output_path(path, overwrite=overwrite, replace_non_atlas=replace_non_atlas)
    if validate_first:
        validate(atlas, check_values=False)
    tag = uuid.uuid4().hex[:8]
    tmp = path.parent / f".{path.name}.tmp-{tag}"
    old = path.parent / f".{path.name}.old-{tag}"
    attrs = atlas.attrs
    atlas = atlas.map_over_datasets(_strings_as_objects)  # a new tree: the caller's atlas is not modified
    atlas.attrs = {**attrs, "format_version": FORMAT_VERSION, "node_order": list(atlas.children)}
    atlas.attrs.setdefault("name", path.stem)
    try:
        atlas.to_zarr(tmp, mode="w", consolidated=False)
        if path.exists():
            os.rename(path, old)
        os.rename(tmp, path)
    except BaseException:
        _remove(tmp)
        if old.exists() and not path.exists():
            os.rename(old, path)
        raise
    _remove(old)
    return path


def open_atlas(path: str | os.PathLike, chunks: dict | None = None) -> xr.DataTree:
    """Open an atlas lazily: every array is dask-backed, read on demand."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such atlas (build one with `atted-explore build` or `atted-explore demo`)")
    if not is_atlas(path):
        raise InputError(f"{path}: not an atlas (no atted_explore Zarr metadata found)")
    tree = xr.open_datatree(path, engine="zarr", chunks={} if chunks is None else chunks, consolidated=False)
    tree = tree.map_over_datasets(_strings_as_objects)
    # Zarr lists groups alphabetically: restore the species order the atlas was saved with.
    order = [name for name in tree.attrs.pop("node_order", []) if name in tree.children]
    order += [name for name in tree.children if name not in order]
    ordered = xr.DataTree.from_dict({"/": tree.to_dataset(), **{name: tree[name] for name in order}})
    ordered.attrs = tree.attrs
    return ordered
