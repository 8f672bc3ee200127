"""Assemble an unanalyzed atlas from files: expression, sample table, gene sets, GO, orthologs.

Every join (samples, gene sets, GO, orthologs) is reported with matched and
unmatched counts, stored in the node's ``join_reports`` attribute.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from .. import __version__
from ..atlas import SAMPLE_FIELDS
from ..errors import InputError
from . import ids, tables
from .atted_names import SPECIES_NAMES
from .genesets import attach_gene_sets, read_gene_sets
from .go import biological_process_sets, localization, read_go_annotations, read_go_parents
from .orthologs import orthogroup_members, rbh_members, read_orthogroups, read_rbh
from .samples import align_samples, read_samples

ISOFORMS = (*tables.ISOFORM_COMBINE, "none")


@dataclass
class SpeciesInput:
    """The files of one species platform node (``node``, e.g. ``"Ath-r"``).

    ``samples``: the sample table, or ``None`` when there is none: sample IDs
    then come from the matrix columns and the sample fields stay empty.
    ``gene_set_checks``: gene-set files whose join is only reported (e.g. a
    pathway table of another genome version), never attached nor required.
    ``combine_isoforms``: how transcripts of one gene combine (``"sum"`` for
    TPM); ``None`` keeps IDs as given.
    """

    node: str
    expression: Path
    samples: Path | None = None
    gene_sets: list[Path] = field(default_factory=list)
    go: Path | None = None
    transform: str = "log2p1"
    combine_isoforms: str | None = None
    gene_set_checks: list[Path] = field(default_factory=list)


@dataclass
class OrthologInput:
    """An orthogroup long table (``nodes=None``) or a reciprocal-best-hit table between ``nodes``."""
    path: Path
    nodes: tuple[str, str] | None = None


def _record(reports: dict, key: str, report) -> None:
    reports[key] = report.counts()


def load_species(spec: SpeciesInput, go_parents: Path | None = None):
    """One species node: expression, sample coords, gene sets, localization and GO BP sets; join reports in
    ``attrs["join_reports"]``."""
    rule = ids.id_rule(spec.node)
    expression = tables.read_expression(
        spec.expression, transform=spec.transform, combine_isoforms=spec.combine_isoforms, id_rule=rule
    )
    reports: dict[str, dict] = {}
    if spec.samples is None:  # sample IDs from the matrix columns, no annotation
        samples = pd.DataFrame(index=pd.Index(expression["sample"].values, dtype=object, name="sample"))
    else:
        samples = read_samples(spec.samples)
        samples = align_samples(expression, samples, str(spec.expression), str(spec.samples))
        _record(
            reports,
            "samples",
            ids.map_ids(
                expression["sample"].values, samples.index, ids.IdRule(case_insensitive=False),
                what=f"samples {spec.samples}", onto=f"{spec.node} expression columns",
            ),
        )
    sample_coords = {
        column: ("sample", samples[column].astype(str).to_numpy(dtype=object))
        for column in samples.columns
        if column not in ("gene", "sample")
    }
    for name in SAMPLE_FIELDS:
        sample_coords.setdefault(name, ("sample", np.full(samples.shape[0], "", dtype=object)))
    node = xr.Dataset(
        {"expression": expression.astype(np.float32)},
        coords=sample_coords,
        attrs={
            "species": SPECIES_NAMES.get(spec.node[:3], spec.node[:3]),
            "species_code": spec.node[:3],
            "platform": spec.node.split("-", 1)[1] if "-" in spec.node else "",
            "expression_source": str(spec.expression),
            "samples_source": str(spec.samples or ""),
            "transform": spec.transform,
            "combine_isoforms": spec.combine_isoforms or "none",
        },
    )
    for path in spec.gene_sets:
        node, report = attach_gene_sets(node, read_gene_sets(path), rule, onto=f"{spec.node} genes")
        _record(reports, f"gene_sets:{Path(path).name}", report)
    for path in spec.gene_set_checks:
        checked = read_gene_sets(path)
        report = ids.map_ids(
            checked.member_ids(), node["gene"].values, rule, what=f"gene sets {path} (join check only)",
            onto=f"{spec.node} genes",
        )
        _record(reports, f"gene_sets_check:{Path(path).name}", report)
    if spec.go is not None:
        if go_parents is None:
            from ..datasets.registry import fetch  # the registry's GO parents unless the caller names a file

            go_parents = fetch("go_parents")
        annotations = read_go_annotations(spec.go)
        located, report = localization(
            annotations, read_go_parents(go_parents), node["gene"].values, rule,
            source=f"GO {spec.go}", onto=f"{spec.node} genes",
        )
        node = node.assign(localization=located).merge(
            biological_process_sets(annotations, node["gene"].values, rule)  # for PC enrichment
        )
        _record(reports, f"go:{Path(spec.go).name}", report)
    node.attrs["join_reports"] = reports
    return node


def assemble_atlas(
    species: list[SpeciesInput],
    orthologs: list[OrthologInput] = (),
    *,
    name: str = "atlas",
    description: str = "",
    go_parents: Path | None = None,
):
    """An unanalyzed atlas (``xarray.DataTree``): one node per species, orthologs at the root."""
    if not species:
        raise InputError("no species given; expected at least one --species with --expression (and optionally --samples)")
    node_names = [s.node for s in species]
    if len(set(node_names)) != len(node_names):
        raise InputError(f"species nodes {node_names}: each node name must be given once")
    nodes = {spec.node: load_species(spec, go_parents) for spec in species}
    genes_by_node = {n: list(node["gene"].values) for n, node in nodes.items()}
    members = []
    for item in orthologs:
        if item.nodes is None:
            table, reports = orthogroup_members(read_orthogroups(item.path), genes_by_node)
        else:
            table, reports = rbh_members(read_rbh(item.path), *item.nodes, genes_by_node)
        members.append(table)
        for node_name, report in reports.items():
            nodes[node_name].attrs["join_reports"][f"orthologs:{Path(item.path).name}"] = report.counts()
    root = xr.Dataset(attrs={"name": name, "description": description, "provenance": _provenance(species, orthologs)})
    if members:
        table = pd.concat(members, ignore_index=True).drop_duplicates()
        root = root.assign(
            ortholog_group=("ortholog", table["group"].to_numpy(dtype=object)),
            ortholog_node=("ortholog", table["node"].to_numpy(dtype=object)),
            ortholog_gene=("ortholog", table["gene"].to_numpy(dtype=object)),
        )
    tree = xr.DataTree(root)
    for node_name, node in nodes.items():
        tree[node_name] = xr.DataTree(node.assign_coords(gene=np.asarray(node["gene"].values, dtype=object)))
    return tree


def _provenance(species: list[SpeciesInput], orthologs: list[OrthologInput]) -> dict:
    return {
        "atted_explore": __version__,
        "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "species": {
            s.node: {
                "expression": str(s.expression),
                "samples": str(s.samples or ""),
                "gene_sets": [str(p) for p in s.gene_sets],
                "go": str(s.go) if s.go else "",
            }
            for s in species
        },
        "orthologs": [str(o.path) for o in orthologs],
    }
