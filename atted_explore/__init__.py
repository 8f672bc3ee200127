"""atted_explore: explore gene coexpression conditions across plant species."""

__version__ = "0.1.0"  # before the imports: submodules record it in what they build

from . import datasets
from .atlas import validate
from .io.store import open_atlas, save_atlas
from .compute import (
    analyze_atlas, analyze_node, coexmap, coexpression, function_score, interpret_pcs, map_conservation, network, pca,
    project_network, to_cytoscape,
)
from .errors import InputError
from .summarizers import ChatSummarizer, OfflineSummarizer

__all__ = [
    "ChatSummarizer", "InputError", "OfflineSummarizer", "analyze_atlas", "analyze_node", "coexmap", "coexpression",
    "datasets", "function_score", "interpret_pcs", "map_conservation", "network", "open_atlas", "pca",
    "project_network", "save_atlas", "to_cytoscape", "validate",
]
