"""Computation on atlas nodes: PCA, coexpression indices, functional consistency (no plotting).

Modules: :mod:`.sample_pca` (PCA and the PC rule), :mod:`.indices`
(subagging of PCs, Pearson and MR baselines), :mod:`.ranking` (rank, MR,
logit and z-score formulas and kernels), :mod:`.consistency` (function score),
:mod:`.pc_genes`, :mod:`.pc_samples` and :mod:`.interpretation` (what each PC means),
:mod:`.pipeline` (all steps in order: the build, the demo and the notebooks call it).
"""

from .consistency import function_score
from .indices import coexpression
from .interpretation import interpret_pcs
from .pipeline import analyze_atlas, analyze_node
from .sample_pca import pca

__all__ = ["analyze_atlas", "analyze_node", "coexpression", "function_score", "interpret_pcs", "pca"]
