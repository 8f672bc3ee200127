"""Computation on atlas nodes: PCA, coexpression indices, functional consistency (no plotting).

Modules: :mod:`.sample_pca` (PCA and the PC rule), :mod:`.indices`
(subagging of PCs, Pearson and MR baselines), :mod:`.ranking` (rank, MR,
logit and z-score formulas and kernels), :mod:`.consistency` (function score),
:mod:`.pipeline` (all steps in order: the build, the demo and the notebooks call it).
"""

from .consistency import function_score
from .indices import coexpression
from .pipeline import analyze_atlas, analyze_node
from .sample_pca import pca

__all__ = ["analyze_atlas", "analyze_node", "coexpression", "function_score", "pca"]
