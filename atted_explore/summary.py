"""What an atlas holds: one row per species node, and a text description for ``atted-explore info``."""

from __future__ import annotations

import pandas as pd
import xarray as xr

from .atlas import gene_sets, orthologs, species_nodes
from .compute.map_modules import stored_conservation


def computed(node: xr.Dataset) -> list[str]:
    """Names of the analyses present on a node, in pipeline order."""
    steps = []
    if "expression" in node:
        steps.append("expression")
    if "sample_score" in node or "gene_score" in node:
        steps.append("PCA")
    if "coex_partner" in node:
        steps.append(f"coexpression ({node.attrs.get('coex_method', 'unknown method')}, top {node.sizes['rank']})")
    if "coexmap" in node:
        maps = [str(s) for s in node["subset"].values]
        if "coexmap_module" in node:
            counts = (node["coexmap_module"].max("gene").values + 1).tolist()
            maps = [f"{s}: {int(n)} modules" for s, n in zip(maps, counts)]
        steps.append("CoexMaps (" + ", ".join(maps) + ")")
        skipped = node.attrs.get("coexmap_skipped") or {}
        if skipped:
            steps.append("no CoexMap for " + ", ".join(f"{s} ({why})" for s, why in skipped.items()))
    if "localization" in node:
        steps.append("localization")
    if "member_set" in node:
        steps.append(f"{node.sizes.get('gene_set', 0)} gene sets")
    if "go_member_term" in node:
        steps.append(f"{node.sizes.get('go_term', 0)} GO BP sets")
    if "function_score" in node.attrs:
        steps.append(f"function score {float(node.attrs['function_score']):.2f}")
    interpretation = node.attrs.get("interpretation")
    if isinstance(interpretation, dict):
        writer = interpretation.get("summarizer", "?") + (f" {interpretation['model']}" if interpretation.get("model") else "")
        steps.append(f"PC labels ({writer}, {interpretation.get('written', '')})")
    return steps


def overview_table(atlas: xr.DataTree) -> pd.DataFrame:
    """One row per species node: species, counts and what is computed."""
    rows = []
    for name in species_nodes(atlas):
        node = atlas[name].to_dataset()
        rows.append(
            {
                "node": name,
                "species": node.attrs.get("species", ""),
                "genes": node.sizes.get("gene", 0),
                "samples": node.sizes.get("sample", 0),
                "studies": len(pd.unique(node["study"].values)) if "study" in node.coords else 0,
                "PCs": node.sizes.get("pc", 0),
                "gene sets": len(gene_sets(node)),
                "computed": "; ".join(computed(node)),
            }
        )
    return pd.DataFrame(rows)


def provenance_items(atlas: xr.DataTree) -> list[tuple[str, object]]:
    """The atlas's provenance as (key, value) pairs; a plain string is one ``source`` item."""
    provenance = atlas.attrs.get("provenance") or {}
    return list(provenance.items()) if isinstance(provenance, dict) else [("source", provenance)]


def describe(atlas: xr.DataTree) -> str:
    """Plain-text description of an atlas (``atted-explore info``)."""
    attrs = atlas.attrs
    lines = [f"atlas: {attrs.get('name', '(unnamed)')}"]
    if attrs.get("description"):
        lines.append(f"description: {attrs['description']}")
    for key, value in provenance_items(atlas):
        lines.append(f"provenance.{key}: {value}")
    table = overview_table(atlas)
    lines.append("")
    lines.append(table.drop(columns="computed").to_string(index=False))
    lines.append("")
    for row in table.itertuples():
        lines.append(f"{row.node}: {row.computed or 'nothing computed'}")
    table_orthologs = orthologs(atlas)
    if len(table_orthologs):
        lines.append(
            f"orthologs: {table_orthologs['group'].nunique()} groups, {len(table_orthologs)} memberships"
        )
    conservation = stored_conservation(atlas)
    if len(conservation):
        lines.append("")
        lines.append("CoexMap conservation (ortholog neighbourhoods kept, vs shuffled orthology):")
        shown = conservation.assign(p_value=conservation["p_value"].map("{:.3g}".format))
        lines.append(shown.round({"score": 3, "baseline": 3, "excess": 3}).to_string(index=False))
    return "\n".join(lines)
