"""Computation on atlas nodes: PCA, coexpression indices, functional consistency (no plotting).

Modules: :mod:`.sample_pca` (PCA and the PC rule), :mod:`.indices`
(subagging of PCs, Pearson and MR baselines), :mod:`.ranking` (rank, MR,
logit and z-score formulas and kernels), :mod:`.consistency` (function score),
:mod:`.coexmap` (CoexMap layouts and alignment), :mod:`.map_modules` (map conservation, modules),
:mod:`.pipeline` (all steps in order: the build, the demo and the notebooks call it).
"""

from .coexmap import coexmap
from .consistency import function_score
from .map_modules import map_conservation, module_enrichment, module_matches
from .indices import coexpression
from .pipeline import analyze_atlas, analyze_node
from .sample_pca import pca

__all__ = [
    "analyze_atlas", "analyze_node", "coexmap", "coexpression", "function_score", "map_conservation",
    "module_enrichment", "module_matches", "pca",
]
