"""Build an atlas: read and join the inputs, run the analysis pipeline, save atomically.

``atted-explore build`` (argument parsing in :mod:`atted_explore.cli`) calls
:func:`build_atlas`; named real datasets come from
:mod:`atted_explore.datasets.recipes`.
"""

from __future__ import annotations

import os
from pathlib import Path

from .atlas import validate

from .io.store import check_output_path, save_atlas
from .compute.pipeline import analyze_atlas
from .io.assemble import OrthologInput, SpeciesInput, assemble_atlas


def build_atlas(
    species: list[SpeciesInput],
    orthologs: list[OrthologInput] = (),
    *,
    out: str | os.PathLike,
    overwrite: bool = False,
    name: str | None = None,
    description: str = "",
    n_bags: int = 1000,
    top_k: int = 2000,
    seed: int = 0,
    client=None,
    progress: bool = True,
    go_parents: Path | None = None,
    coexmaps: bool = True,
) -> Path:
    """Read, join, analyze and save an atlas at ``out``; returns the path.

    The output path is checked first (an existing path needs ``overwrite``; a
    read-only folder is refused); the atlas is validated and written
    atomically, so on any error nothing is written or changed.
    """
    out = Path(out)
    check_output_path(out, overwrite=overwrite, replace_non_atlas=overwrite)
    atlas = assemble_atlas(species, orthologs, name=name or out.stem, description=description, go_parents=go_parents)
    atlas = analyze_atlas(
        atlas, n_bags=n_bags, top_k=top_k, seed=seed, client=client, progress=progress, coexmaps=coexmaps
    )
    validate(atlas)
    return save_atlas(atlas, out, overwrite=overwrite, replace_non_atlas=overwrite)
