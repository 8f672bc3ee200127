"""Network exports: Cytoscape.js JSON (``to_cytoscape``), GraphML and a TSV edge list.

GraphML needs nothing here: the graphs of :func:`~atted_explore.compute.gene_network.network`
carry only str, int, float and bool attributes, so ``networkx.write_graphml(graph, path)``
writes them as they are (:func:`graphml_bytes` gives the same file for a download).
"""

from __future__ import annotations

import io

import networkx as nx
import pandas as pd

#: Cytoscape positions are pixels: layout units (about one node spacing) times this.
PIXELS_PER_UNIT = 30.0
EDGE_COLUMNS = ["source", "target", "source_symbol", "target_symbol", "score", "rank", "mr", "conserved"]


def to_cytoscape(graph: nx.Graph) -> dict:
    """Cytoscape.js elements JSON (as Cytoscape desktop's ``.cyjs``) of a network.

    ``{"format_version", "generated_by", "target_cytoscapejs_version", "data": graph attributes,
    "elements": {"nodes": [{"data": {"id", "name", ...node attributes}, "position": {"x", "y"}}],
    "edges": [{"data": {"id", "source", "target", ...edge attributes}}]}}``. ``name`` is the
    symbol (the gene ID when there is none); positions are pixels, y pointing down as on screen.
    """
    from .. import __version__

    nodes = []
    for gene, data in graph.nodes(data=True):
        attributes = {k: v for k, v in data.items() if k not in ("x", "y")}
        element = {"data": {"id": str(gene), "name": data.get("symbol") or str(gene), **attributes}}
        if "x" in data and "y" in data:
            element["position"] = {"x": data["x"] * PIXELS_PER_UNIT, "y": -data["y"] * PIXELS_PER_UNIT}
        nodes.append(element)
    edges = [
        {"data": {"id": f"{a}--{b}", "source": str(a), "target": str(b), **data}}
        for a, b, data in graph.edges(data=True)
    ]
    return {
        "format_version": "1.0",
        "generated_by": f"atted_explore {__version__}",
        "target_cytoscapejs_version": "~3.0",
        "data": dict(graph.graph),
        "elements": {"nodes": nodes, "edges": edges},
    }


def edge_list(graph: nx.Graph) -> pd.DataFrame:
    """One row per edge: source, target, their symbols, score, rank, mr and conserved (when known)."""
    rows = [
        {"source": a, "target": b, "source_symbol": graph.nodes[a].get("symbol", ""),
         "target_symbol": graph.nodes[b].get("symbol", ""), **data}
        for a, b, data in graph.edges(data=True)
    ]
    table = pd.DataFrame(rows, columns=EDGE_COLUMNS)
    return table.dropna(axis=1, how="all").loc[:, lambda t: [c for c in t.columns if c in EDGE_COLUMNS]]


def graphml_bytes(graph: nx.Graph) -> bytes:
    """The GraphML file ``networkx.write_graphml`` writes for the graph, as bytes (for a download)."""
    buffer = io.BytesIO()
    nx.write_graphml(graph, buffer)
    return buffer.getvalue()
