"""The analyzed demo atlas that ``atted-explore demo`` serves: built once, then reused from ``data/``."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from .. import __version__
from ..io.store import is_atlas, save_atlas, stored_attrs
from ..compute.pipeline import analyze_atlas
from ..errors import InputError
from .demo import demo
from .paths import data_dir

#: subagging bags per preset: enough for stable lists, few enough that ``make demo`` is quick.
DEMO_BAGS = {"small": 50, "default": 100, "large": 100}

PACKAGE = Path(__file__).resolve().parents[1]


def engine_files() -> list[Path]:
    """The code whose output the demo atlas is: the generator, the data model and every computation."""
    return [
        *sorted((PACKAGE / "datasets").glob("*demo*.py")), PACKAGE / "atlas.py",
        *sorted((PACKAGE / "compute").glob("*.py")),
    ]


def engine_code_hash() -> str:
    """SHA-1 over the engine's source files (names and contents): any code change rebuilds the demo."""
    digest = hashlib.sha1()
    for path in engine_files():
        digest.update(f"{path.name}\n".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _recipe(preset: str, seed: int, n_bags: int, coexmaps: bool) -> dict:
    return {"preset": preset, "seed": seed, "n_bags": n_bags, "coexmaps": coexmaps, "package_version": __version__,
            "engine": engine_code_hash()}


def _checked_preset(preset: str, n_bags: int | None) -> int:
    if preset not in DEMO_BAGS:
        raise InputError(f"unknown demo preset {preset!r}; expected one of {sorted(DEMO_BAGS)}")
    return DEMO_BAGS[preset] if n_bags is None else n_bags


def demo_is_current(
    path: str | os.PathLike | None = None, *, preset: str = "default", seed: int = 0, n_bags: int | None = None,
    coexmaps: bool = True,
) -> bool:
    """Whether :func:`prepared_demo` would reuse the atlas at ``path`` as it is (no build needed)."""
    recipe = _recipe(preset, seed, _checked_preset(preset, n_bags), coexmaps)
    path = demo_path(path, preset, seed, coexmaps)
    # the recipe is a root attribute: read it from the store's metadata, not by opening every node
    return is_atlas(path) and stored_attrs(path).get("demo_recipe") == recipe


def prepared_demo(
    path: str | os.PathLike | None = None,
    *,
    preset: str = "default",
    seed: int = 0,
    n_bags: int | None = None,
    rebuild: bool = False,
    progress: bool = True,
    coexmaps: bool = True,
) -> Path:
    """Path of the demo atlas with PCA, coexpression, PC interpretation and CoexMaps computed, building it if needed.

    An atlas already at ``path`` is reused when it was built with the same recipe
    (preset, seed, bags, maps, package version and a hash of the engine's source code, so an engine
    change rebuilds it even without a version bump); otherwise it is rebuilt and replaced atomically.
    ``coexmaps=False`` skips the CoexMaps (their UMAPs are most of a small demo's build), for the
    first page ``atted-explore demo`` serves while the full demo atlas is built.
    """
    n_bags = _checked_preset(preset, n_bags)
    path = demo_path(path, preset, seed, coexmaps)
    if not rebuild and demo_is_current(path, preset=preset, seed=seed, n_bags=n_bags, coexmaps=coexmaps):
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    atlas = analyze_atlas(
        demo(preset=preset, seed=seed, progress=progress), n_bags=n_bags, seed=seed, progress=progress, coexmaps=coexmaps,
    )
    atlas.attrs["demo_recipe"] = _recipe(preset, seed, n_bags, coexmaps)
    return save_atlas(atlas, path)


def demo_path(path: str | os.PathLike | None, preset: str, seed: int, coexmaps: bool = True) -> Path:
    """Where :func:`prepared_demo` keeps a preset's atlas (``data/demo-PRESET-seedN[-nomaps].zarr`` unless given)."""
    if path is not None:
        return Path(path)
    return data_dir() / f"demo-{preset}-seed{seed}{'' if coexmaps else '-nomaps'}.zarr"
