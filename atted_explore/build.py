"""Build an atlas: expression + sample table (+ gene sets, GO, orthologs) -> analysed Zarr atlas.

Two ways to call the command line::

    atted-explore build --dataset ath_hypoxia --out data/ath_hypoxia.zarr
    atted-explore build --dataset maize_rice_tissues --out data/maize_rice.zarr

    atted-explore build --species Osa-r --expression rice.tsv.gz --samples rice.tsv \\
        --gene-sets oryzacyc.gz --species Zma-r --expression maize.tsv.gz \\
        --samples maize.tsv --orthologs orthogroups.tsv.gz --out data/mine.zarr

Options after ``--species`` describe that species until the next ``--species``.
The pipeline per species: read and join the inputs (every join reported),
then PCA, coexpression (subagging of PCs; bags on local threads, or as Dask
tasks on a cluster with ``--scheduler``) and the function score when gene sets exist. Nothing is
written until everything succeeded; the atlas is then saved atomically.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__, compute
from .atlas import SAMPLE_FIELDS, check_output_path, open_atlas, save_atlas, validate
from .datasets.registry import fetch
from .errors import InputError
from .io import ids, tables
from .io.atted import SPECIES_NAMES
from .io.genesets import attach_gene_sets, read_gene_sets
from .io.go import localization, read_go_annotations, read_go_parents
from .io.ids import JoinWarning
from .io.orthologs import orthogroup_members, rbh_members, read_orthogroups, read_rbh

ISOFORMS = (*tables.ISOFORM_COMBINE, "none")


@dataclass
class SpeciesInput:
    """The files of one species platform node (``node``, e.g. ``"Ath-r"``).

    ``gene_set_checks``: gene-set files whose join is only reported (e.g. a
    pathway table of another genome version), never attached nor required.
    ``combine_isoforms``: how transcripts of one gene combine (``"sum"`` for
    TPM); ``None`` keeps IDs as given.
    """

    node: str
    expression: Path
    samples: Path
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


#: named recipes: how each real dataset of the registry becomes an atlas.
RECIPES: dict[str, dict] = {
    "ath_hypoxia": {
        "description": "Arabidopsis thaliana RNA-seq under hypoxia/submergence and normoxia controls (6 SRA studies)",
        "species": [
            {
                "node": "Ath-r",
                "expression": "ath_hypoxia_expression",
                "samples": "ath_hypoxia_samples",
                "combine_isoforms": "sum",
                "gene_sets": ["aracyc"],
                "go": "ath_go",
            }
        ],
        "orthogroups": [],
    },
    "maize_rice_tissues": {
        "description": "Maize and rice tissues (endosperm, pollen, whole seedling) with PLAZA 4.0 orthogroups",
        "species": [
            {
                "node": "Zma-r",
                "expression": "maize_expression",
                "samples": "maize_samples",
                "gene_set_checks": ["corncyc"],  # CornCyc uses v5 IDs: the join report shows the mismatch
            },
            {"node": "Osa-r", "expression": "rice_expression", "samples": "rice_samples", "gene_sets": ["oryzacyc"]},
        ],
        "orthogroups": ["maize_rice_orthogroups"],
    },
}


def recipe_inputs(name: str) -> tuple[list[SpeciesInput], list[OrthologInput], str]:
    """Species and ortholog inputs of a named recipe, files fetched from the registry."""
    if name not in RECIPES:
        raise InputError(f"--dataset {name!r}: not a recipe; known recipes: {sorted(RECIPES)}")
    recipe = RECIPES[name]
    try:
        return _resolve_recipe(recipe, fetch)
    except InputError as error:
        raise InputError(f"dataset {name!r}: {error}") from None


def _resolve_recipe(recipe: dict, fetch) -> tuple[list[SpeciesInput], list[OrthologInput], str]:
    species = [
        SpeciesInput(
            node=spec["node"],
            expression=fetch(spec["expression"]),
            samples=fetch(spec["samples"]),
            gene_sets=[fetch(n) for n in spec.get("gene_sets", [])],
            go=fetch(spec["go"]) if spec.get("go") else None,
            combine_isoforms=spec.get("combine_isoforms"),
            gene_set_checks=[fetch(n) for n in spec.get("gene_set_checks", [])],
        )
        for spec in recipe["species"]
    ]
    orthologs = [OrthologInput(fetch(n)) for n in recipe["orthogroups"]]
    return species, orthologs, recipe["description"]


# --------------------------------------------------------------------------- assembly


def _record(reports: dict, key: str, report) -> None:
    reports[key] = report.counts()


def load_species(spec: SpeciesInput, go_parents: Path | None = None):
    """One species node: expression, sample coords, gene sets, localization; join reports in ``attrs["join_reports"]``."""
    import numpy as np
    import xarray as xr


    rule = ids.id_rule(spec.node)
    expression = tables.read_expression(
        spec.expression, transform=spec.transform, combine_isoforms=spec.combine_isoforms, id_rule=rule
    )
    samples = tables.read_samples(spec.samples)
    samples = tables.align_samples(expression, samples, str(spec.expression), str(spec.samples))
    reports: dict[str, dict] = {}
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
            "samples_source": str(spec.samples),
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

            go_parents = fetch("go_parents")
        located, report = localization(
            read_go_annotations(spec.go), read_go_parents(go_parents), node["gene"].values, rule,
            source=f"GO {spec.go}", onto=f"{spec.node} genes",
        )
        node = node.assign(localization=located)
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
    """An unanalysed atlas (``xarray.DataTree``): one node per species, orthologs at the root."""
    import numpy as np
    import pandas as pd
    import xarray as xr


    if not species:
        raise InputError("no species given; expected at least one --species with --expression and --samples")
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
                "samples": str(s.samples),
                "gene_sets": [str(p) for p in s.gene_sets],
                "go": str(s.go) if s.go else "",
            }
            for s in species
        },
        "orthologs": [str(o.path) for o in orthologs],
    }


# --------------------------------------------------------------------------- analysis


def analyse_node(node, *, n_bags: int = 1000, top_k: int = 2000, seed: int = 0, client=None, progress=True):
    """PCA, then coexpression by subagging of PCs, then the function score (attr) when gene sets exist."""
    node = compute.pca(node, seed=seed)
    node = compute.coexpression(node, n_bags=n_bags, top_k=top_k, seed=seed, client=client, progress=progress)
    if "member_set" in node:
        node.attrs["function_score"] = float(compute.function_score(node))
    return node


def build_atlas(
    species: list[SpeciesInput],
    orthologs: list[OrthologInput] = (),
    *,
    out: str | os.PathLike,
    overwrite: bool = False,
    name: str | None = None,
    description: str = "",
    n_bags: int = 1000,
    top_k: int = 2000,
    seed: int = 0,
    client=None,
    progress: bool = True,
    go_parents: Path | None = None,
) -> Path:
    """Read, join, analyse and save an atlas at ``out``; returns the path.

    The output path is checked first (an existing path needs ``overwrite``; a
    read-only folder is refused); the atlas is validated and written
    atomically, so on any error nothing is written or changed.
    """
    from tqdm.auto import tqdm


    out = Path(out)
    check_output_path(out, overwrite=overwrite, replace_non_atlas=overwrite)
    atlas = assemble_atlas(species, orthologs, name=name or out.stem, description=description, go_parents=go_parents)
    nodes = [n for n in atlas.children]
    for node_name in tqdm(nodes, desc="species", unit="node", disable=not progress):
        analysed = analyse_node(
            atlas[node_name].to_dataset(), n_bags=n_bags, top_k=top_k, seed=seed, client=client, progress=progress
        )
        atlas[node_name] = analysed
    validate(atlas)
    return save_atlas(atlas, out, overwrite=overwrite, replace_non_atlas=overwrite)


# --------------------------------------------------------------------------- command line


class _NewSpecies(argparse.Action):
    def __call__(self, parser, namespace, value, option_string=None):
        groups = list(getattr(namespace, self.dest) or [])
        groups.append({"node": value})
        setattr(namespace, self.dest, groups)


class _SpeciesOption(argparse.Action):
    """An option that belongs to the latest ``--species``."""
    def __call__(self, parser, namespace, value, option_string=None):
        groups = getattr(namespace, "species", None)
        if not groups:
            parser.error(f"{option_string} must follow a --species NODE")
        if self.dest in groups[-1]:
            parser.error(f"{option_string} given twice for species {groups[-1]['node']}")
        groups[-1][self.dest] = value


class _AppendToSpecies(argparse.Action):
    """A repeatable option that belongs to the latest ``--species``."""
    def __call__(self, parser, namespace, value, option_string=None):
        groups = getattr(namespace, "species", None)
        if not groups:
            parser.error(f"{option_string} must follow a --species NODE")
        groups[-1].setdefault(self.dest, []).append(value)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``atted-explore build``."""
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = (
        "examples:\n"
        "  atted-explore build --dataset ath_hypoxia --out data/ath_hypoxia.zarr\n"
        "  atted-explore build --dataset maize_rice_tissues --out data/maize_rice.zarr\n"
        "  atted-explore build --species Osa-r --expression rice.tsv.gz --samples rice.tsv --gene-sets oryzacyc.gz \\\n"
        "      --species Zma-r --expression maize.tsv.gz --samples maize.tsv --orthologs og.tsv.gz --out data/mine.zarr\n"
        "named datasets read their files from $ATTED_EXPLORE_MIRROR (or the cache / a download), sha256-checked"
    )
    source = parser.add_argument_group("what to build (a named dataset, or one or more --species groups)")
    source.add_argument("--dataset", help="a named real dataset: " + ", ".join(sorted(RECIPES)))
    source.add_argument("--species", action=_NewSpecies, metavar="NODE", help="start a species node, e.g. Osa-r")
    source.add_argument("--expression", action=_SpeciesOption, type=Path, metavar="FILE",
                        help="genes x samples matrix (TSV/CSV[.gz], Parquet, .h5ad)")
    source.add_argument("--samples", action=_SpeciesOption, type=Path, metavar="FILE",
                        help="sample table (long, or paired wide treated/control)")
    source.add_argument("--gene-sets", dest="gene_sets", action=_AppendToSpecies, type=Path, metavar="FILE",
                        help="KEGG-style, GMT or PMN pathway file (repeatable)")
    source.add_argument("--go", action=_SpeciesOption, type=Path, metavar="FILE",
                        help="GO annotations (locus/go_id table or GAF 2.2) -> localization")
    source.add_argument("--transform", action=_SpeciesOption, choices=tables.TRANSFORMS,
                        help="log2p1 for TPM/counts (default), none for log values")
    source.add_argument("--isoforms", action=_SpeciesOption, choices=ISOFORMS,
                        help="combine transcript IDs (AT1G01060.1) per gene: sum for TPM; default none")
    parser.add_argument("--orthologs", action="append", type=Path, default=[], metavar="FILE",
                        help="orthogroup long table (group, species, gene); repeatable")
    parser.add_argument("--rbh", action="append", nargs=3, default=[], metavar=("FILE", "QUERY_NODE", "SUBJECT_NODE"),
                        help="reciprocal-best-hit table (';'-separated query_id;subject_id) between two nodes")
    parser.add_argument("--go-parents", type=Path, default=None, metavar="FILE",
                        help="GO parent links (default: the registry's go_parents)")
    parser.add_argument("--out", type=Path, required=True, help="atlas path (Zarr folder)")
    parser.add_argument("--overwrite", action="store_true", help="replace what exists at --out")
    parser.add_argument("--scheduler", metavar="ADDRESS", help="dask.distributed scheduler address for the bags")
    parser.add_argument("--bags", type=int, default=1000, help="subagging bags (default 1000)")
    parser.add_argument("--top-k", dest="top_k", type=int, default=2000, help="partners kept per gene (default 2000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bars")


def _inputs(args: argparse.Namespace) -> tuple[list[SpeciesInput], list[OrthologInput], str]:
    if args.dataset and args.species:
        raise InputError("give either --dataset or --species groups, not both")
    if args.dataset:
        species, orthologs, description = recipe_inputs(args.dataset)
    else:
        if not args.species:
            raise InputError("nothing to build: give --dataset NAME or --species NODE --expression FILE --samples FILE")
        species = []
        for group in args.species:
            missing = [f"--{o}" for o in ("expression", "samples") if o not in group]
            if missing:
                raise InputError(f"--species {group['node']}: missing {' and '.join(missing)}")
            isoforms = group.get("isoforms", "none")
            species.append(
                SpeciesInput(
                    node=group["node"],
                    expression=group["expression"],
                    samples=group["samples"],
                    gene_sets=group.get("gene_sets", []),
                    go=group.get("go"),
                    transform=group.get("transform", "log2p1"),
                    combine_isoforms=None if isoforms == "none" else isoforms,
                )
            )
        orthologs, description = [], ""
    orthologs = orthologs + [OrthologInput(p) for p in args.orthologs]
    orthologs += [OrthologInput(Path(f), (q, s)) for f, q, s in args.rbh]
    return species, orthologs, description


def print_join_reports(atlas) -> None:
    for node_name, child in atlas.children.items():
        for key, counts in child.attrs.get("join_reports", {}).items():
            print(f"  {node_name} {key}: {counts['matched']:,} of {counts['ids']:,} IDs matched, {counts['unmatched']:,} unmatched")


def run(args: argparse.Namespace) -> int:
    """``atted-explore build``: returns the exit code."""
    if args.bags < 1 or args.top_k < 1:
        raise InputError(f"--bags {args.bags} / --top-k {args.top_k}: expected positive numbers")
    species, orthologs, description = _inputs(args)
    check_output_path(args.out, overwrite=args.overwrite, replace_non_atlas=args.overwrite)
    client = None
    if args.scheduler:
        from distributed import Client

        try:
            client = Client(args.scheduler, timeout="60s")
        except OSError as error:
            raise InputError(f"--scheduler {args.scheduler}: cannot connect ({error})") from None
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=JoinWarning)  # printed below from the node attrs
            path = build_atlas(
                species, orthologs, out=args.out, overwrite=args.overwrite, name=args.dataset or args.out.stem,
                description=description, n_bags=args.bags, top_k=args.top_k, seed=args.seed, client=client,
                progress=args.progress, go_parents=args.go_parents,
            )
    finally:
        if client is not None:
            client.close()
    seconds = time.perf_counter() - start
    atlas = open_atlas(path)
    print(f"atlas written: {path} ({seconds:.1f} s)")
    print("join reports:")
    print_join_reports(atlas)
    for node_name, child in atlas.children.items():
        score = child.attrs.get("function_score")
        if score is not None:
            print(f"  {node_name} function score: {float(score):.2f}")
    return 0
