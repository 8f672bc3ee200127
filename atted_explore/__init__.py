"""atted_explore: explore gene coexpression conditions across plant species."""

__version__ = "0.1.0"  # before the imports: submodules record it in what they build

from . import datasets
from .atlas import open_atlas, save_atlas, validate
from .compute import analyze_atlas, analyze_node, coexmap, coexpression, function_score, map_conservation, pca
from .errors import InputError

__all__ = [
    "InputError", "analyze_atlas", "analyze_node", "coexmap", "coexpression", "datasets", "function_score",
    "map_conservation", "open_atlas", "pca", "save_atlas", "validate",
]
