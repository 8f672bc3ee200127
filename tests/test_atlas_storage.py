"""Stored atlases: text as variable-length UTF-8 strings, readable by plain xarray without this package."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import numpy as np

from atted_explore.io.store import open_atlas, save_atlas

READ_WITHOUT_PACKAGE = """
import json, sys
import xarray as xr
tree = xr.open_datatree(sys.argv[1], engine="zarr", consolidated=False)
node = tree["Ath-r"]
assert not any(name.startswith("atted_explore") for name in sys.modules)
print(json.dumps({
    "title": [str(t) for t in node["title"].values[:5]],
    "note": [str(t) for t in node["note"].values],
    "xy": [str(t) for t in node["xy"].values],
    "ortholog_gene": [str(t) for t in tree["ortholog_gene"].values[:3]],
}))
"""


def test_saved_text_is_variable_length_and_opens_with_plain_xarray(small_demo, tmp_path):
    node = small_demo["Ath-r"].to_dataset()
    note = np.array(["<b>heat</b> & cold", "Blüte ∆ 開花", ""])  # fixed-width numpy text, HTML and non-ASCII
    atlas = small_demo.copy()
    atlas["Ath-r"] = node.assign(note=("note_row", note)).assign_coords(xy=np.array(["x", "y"]))
    path = tmp_path / "atlas.zarr"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. zarr's UnstableSpecificationWarning for fixed-length UTF-32
        save_atlas(atlas, path)
    assert atlas["Ath-r"]["note"].dtype.kind == "U"  # the caller's atlas is untouched
    stored = json.loads((path / "Ath-r" / "note" / "zarr.json").read_text())
    assert stored["data_type"] == "string"
    assert stored["codecs"][0]["name"] == "vlen-utf8"
    result = subprocess.run(
        [sys.executable, "-c", READ_WITHOUT_PACKAGE, str(path)], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    read = json.loads(result.stdout)
    assert read["note"] == list(note)
    assert read["xy"] == ["x", "y"]
    assert read["title"] == [str(t) for t in node["title"].values[:5]]
    assert read["ortholog_gene"] == [str(g) for g in small_demo["ortholog_gene"].values[:3]]
    reopened = open_atlas(path)["Ath-r"]
    assert reopened["note"].dtype == object and list(reopened["note"].values) == list(note)
