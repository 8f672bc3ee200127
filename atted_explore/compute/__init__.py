"""Computation on atlas nodes: PCA, coexpression indices, functional consistency (no plotting).

Modules: :mod:`.sample_pca` (PCA and the PC rule), :mod:`.indices`
(subagging of PCs, Pearson and MR baselines), :mod:`.ranking` (rank, MR,
logit and z-score formulas and kernels), :mod:`.consistency` (function score),
:mod:`.pc_genes`, :mod:`.pc_samples` and :mod:`.interpretation` (what each PC means),
:mod:`.coexmap` (CoexMap layouts and alignment), :mod:`.map_modules` (map conservation, modules),
:mod:`.pipeline` (all steps in order: the build, the demo and the notebooks call it),
:mod:`.gene_network` (coexpression network of a gene list; layout in :mod:`.graph_layout`,
cross-species projection in :mod:`.network_projection`, exports in :mod:`.network_export`).
"""

from .coexmap import coexmap
from .consistency import function_score
from .gene_network import network
from .indices import coexpression
from .interpretation import interpret_pcs
from .map_modules import map_conservation, module_enrichment, module_matches
from .network_export import to_cytoscape
from .network_projection import mark_conserved, project_network
from .pipeline import analyze_atlas, analyze_node
from .sample_pca import pca

__all__ = [
    "analyze_atlas", "analyze_node", "coexmap", "coexpression", "function_score", "interpret_pcs",
    "map_conservation", "mark_conserved", "module_enrichment", "module_matches", "network", "pca",
    "project_network", "to_cytoscape",
]
