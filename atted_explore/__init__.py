"""atted_explore: explore gene coexpression conditions across plant species."""

from . import datasets
from .atlas import open_atlas, save_atlas, validate
from .compute import coexpression, function_score, pca
from .errors import InputError

__all__ = ["InputError", "coexpression", "datasets", "function_score", "open_atlas", "pca", "save_atlas", "validate"]
__version__ = "0.1.0"
