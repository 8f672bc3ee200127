"""Datasets: the embedded synthetic demo atlas, the registry of real public data and its recipes."""

from . import recipes, registry
from .demo import demo


def names() -> list[str]:
    """Names :func:`load` accepts: the registered files and the atlas recipes."""
    return sorted([*registry.REGISTRY, *recipes.RECIPES])


def load(name: str):
    """A registered dataset, ready to use.

    Recipes (``"ath_hypoxia"``, ``"maize_rice_tissues"``) give an atlas
    (``xarray.DataTree``) with expression, sample annotation, gene sets,
    localization and orthologs, not yet analyzed
    (:func:`atted_explore.compute.analyze_atlas` or ``atted-explore build``
    adds PCA and coexpression). Registered files are read with their reader
    (:func:`~atted_explore.datasets.registry.load_file`).
    """
    return recipes.recipe_atlas(name) if name in recipes.RECIPES else registry.load_file(name)


__all__ = ["demo", "load", "names", "recipes", "registry"]
