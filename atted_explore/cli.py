"""The ``atted-explore`` command line: demo, serve, info, build, interpret.

Errors caused by the user's input are printed as one line (``error: ...``)
with exit code 2; nothing else is caught, so real bugs keep their traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

from . import build
from .io.store import check_output_path, open_atlas
from .datasets.recipes import RECIPES, recipe_inputs
from .errors import InputError
from .io import tables
from .io.assemble import ISOFORMS, OrthologInput, SpeciesInput
from .io.ids import JoinWarning


def _serve(atlas, args: argparse.Namespace) -> None:
    from .app import serve

    serve(atlas, port=args.port, address=args.address, allow_origins=args.allow_origin)


def _add_serve_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=5006, help="port to serve on (default 5006)")
    parser.add_argument(
        "--address", default="localhost",
        help="address to listen on: localhost (default), 127.0.0.1, ::1 or [::1], a host name or IP of this machine; "
             "0.0.0.0 (IPv4) or :: (IPv6) listens on every interface; an empty address is refused",
    )
    parser.add_argument(
        "--allow-origin", dest="allow_origin", action="append", default=[], metavar="HOST[:PORT]",
        help="public host of a reverse proxy whose pages may use the app (repeatable; no wildcards)",
    )


def cmd_demo(args: argparse.Namespace) -> int:
    """Build (or reuse) the demo atlas and serve it.

    Serving a larger preset that is not built yet, the small demo (without CoexMaps, whose UMAPs
    are most of its build) is built and served first; the larger one is built in a subprocess once
    the first page is shown (the page says when it is ready).
    """
    from .datasets.prepared import demo_is_current, demo_path, prepared_demo

    current = not args.rebuild and demo_is_current(args.out, preset=args.preset, seed=args.seed, n_bags=args.bags)
    if args.no_serve or args.preset == "small" or current:
        path = prepared_demo(args.out, preset=args.preset, seed=args.seed, n_bags=args.bags, rebuild=args.rebuild)
        print(f"demo atlas: {path}", flush=True)
        if not args.no_serve:
            _serve(path, args)
        return 0
    from .app import BackgroundBuild, serve

    # a small demo with maps (from `demo --preset small`) is as quick to serve as one without
    with_maps = demo_is_current(preset="small", seed=args.seed)
    small = prepared_demo(preset="small", seed=args.seed, coexmaps=with_maps)
    path = demo_path(args.out, args.preset, args.seed)
    command = [sys.executable, "-m", "atted_explore.cli", "demo", "--no-serve", "--preset", args.preset,
               "--seed", str(args.seed), "--out", str(path)]
    command += (["--bags", str(args.bags)] if args.bags else []) + (["--rebuild"] if args.rebuild else [])
    # serve starts it once the first page is on screen, so the build does not slow that page down
    building = BackgroundBuild(command, path, f"the full {args.preset} demo atlas")
    print(f"demo atlas: {small} (serving it while {path} is built)", flush=True)
    serve(open_atlas(small), port=args.port, address=args.address, allow_origins=args.allow_origin, building=building)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    _serve(open_atlas(args.path), args)  # opened once: a clear error now rather than a broken page later
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from .summary import describe

    print(describe(open_atlas(args.path)))
    return 0


# --------------------------------------------------------------------------- build


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


def add_build_arguments(parser: argparse.ArgumentParser) -> None:
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
                        help="sample table (long, or paired wide treated/control); without it, sample IDs "
                             "come from the matrix columns and sample fields stay empty")
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
    parser.add_argument("--no-coexmaps", dest="coexmaps", action="store_false",
                        help="skip the CoexMaps (UMAP layouts per subset, alignment, conservation)")


def _build_inputs(args: argparse.Namespace) -> tuple[list[SpeciesInput], list[OrthologInput], str]:
    if args.dataset and args.species:
        raise InputError("give either --dataset or --species groups, not both")
    if args.dataset:
        species, orthologs, description = recipe_inputs(args.dataset)
    else:
        if not args.species:
            raise InputError("nothing to build: give --dataset NAME or --species NODE --expression FILE [--samples FILE]")
        species = []
        for group in args.species:
            if "expression" not in group:
                raise InputError(f"--species {group['node']}: missing --expression FILE")
            isoforms = group.get("isoforms", "none")
            species.append(
                SpeciesInput(
                    node=group["node"],
                    expression=group["expression"],
                    samples=group.get("samples"),
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


def _print_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings during a build as one line each, like the errors (no source line echoed)."""
    print(f"warning: {message}", file=sys.stderr, flush=True)


def _print_join_reports(atlas) -> None:
    for node_name, child in atlas.children.items():
        if not child.attrs.get("samples_source"):
            print(f"  {node_name} samples: no sample table; {child.sizes['sample']:,} sample IDs from the matrix columns, fields empty")
        for key, counts in child.attrs.get("join_reports", {}).items():
            print(f"  {node_name} {key}: {counts['matched']:,} of {counts['ids']:,} IDs matched, {counts['unmatched']:,} unmatched")


def cmd_build(args: argparse.Namespace) -> int:
    """``atted-explore build``: returns the exit code."""
    if args.bags < 1 or args.top_k < 1:
        raise InputError(f"--bags {args.bags} / --top-k {args.top_k}: expected positive numbers")
    species, orthologs, description = _build_inputs(args)
    check_output_path(args.out, overwrite=args.overwrite, replace_non_atlas=args.overwrite)
    client = None
    if args.scheduler:
        from distributed import Client  # only a scale-out build needs it

        try:
            client = Client(args.scheduler, timeout="60s")
        except OSError as error:
            raise InputError(f"--scheduler {args.scheduler}: cannot connect ({error})") from None
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=JoinWarning)  # printed below from the node attrs
            warnings.showwarning = _print_warning  # restored when the block ends
            path = build.build_atlas(
                species, orthologs, out=args.out, overwrite=args.overwrite, name=args.dataset or args.out.stem,
                description=description, n_bags=args.bags, top_k=args.top_k, seed=args.seed, client=client,
                progress=args.progress, go_parents=args.go_parents, coexmaps=args.coexmaps,
            )
    finally:
        if client is not None:
            client.close()
    seconds = time.perf_counter() - start
    atlas = open_atlas(path)
    print(f"atlas written: {path} ({seconds:.1f} s)")
    print("join reports:")
    _print_join_reports(atlas)
    for node_name, child in atlas.children.items():
        score = child.attrs.get("function_score")
        if score is not None:
            print(f"  {node_name} function score: {float(score):.2f}")
    return 0


# --------------------------------------------------------------------------- interpret


def parse_pcs(text: str | None) -> list[int] | None:
    """``"1-10"``, ``"3"`` or ``"1,4,6-8"`` -> PC numbers; None stays None (all PCs)."""
    if text is None:
        return None
    pcs = []
    for part in text.split(","):
        low, _, high = part.strip().partition("-")
        if not low.isdigit() or (high and not high.isdigit()) or (high and int(high) < int(low)):
            raise InputError(f"--pcs {text!r}: expected PC numbers like 1-10, 3 or 1,4,6-8")
        pcs.extend(range(int(low), int(high or low) + 1))
    return pcs


def cmd_interpret(args: argparse.Namespace) -> int:
    """``atted-explore interpret``: describe and label the PCs of every (or one) species node, in place."""
    from .atlas import species_nodes
    from .io.store import save_atlas
    from .compute.interpretation import interpret_pcs
    from .summarizers import ChatSummarizer

    if bool(args.llm_url) != bool(args.model):
        raise InputError("--llm-url and --model go together (the endpoint and the model name it serves)")
    summarizer = (
        ChatSummarizer(args.llm_url, args.model, timeout_s=args.timeout, fallback=args.fallback)
        if args.llm_url else None
    )
    atlas = open_atlas(args.path)
    names = species_nodes(atlas)
    if args.node and args.node not in names:
        raise InputError(f"--node {args.node!r}: the atlas has species nodes {names}")
    pcs = parse_pcs(args.pcs)
    for name in [args.node] if args.node else names:
        node = atlas[name].to_dataset()
        if "sample_score" not in node:
            raise InputError(f"{args.path}, node {name!r}: no PCA yet (build the atlas with `atted-explore build`)")
        atlas[name] = interpret_pcs(node, summarizer=summarizer, pcs=pcs, progress=args.progress)
        labels = atlas[name]["label"].values
        shown = pcs or [int(pc) for pc in node["pc"].values]
        for pc in shown[:10]:
            print(f"  {name} PC{pc}: {labels[list(node['pc'].values).index(pc)]}")
    save_atlas(atlas, args.path, overwrite=True)
    print(f"atlas updated: {args.path}")
    return 0


# --------------------------------------------------------------------------- parser


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="atted-explore", description="Explore gene coexpression conditions across plant species."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="build (or reuse) the demo atlas and serve the app")
    demo.add_argument("--preset", choices=["small", "default", "large"], default="default")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--bags", type=int, default=None, help="subagging bags (default: the preset's)")
    demo.add_argument("--out", type=Path, default=None, help="atlas path (default: data/demo-PRESET-seedN.zarr)")
    demo.add_argument("--rebuild", action="store_true", help="rebuild even if a matching atlas exists")
    demo.add_argument("--no-serve", action="store_true", help="build only, do not serve")
    _add_serve_options(demo)
    demo.set_defaults(func=cmd_demo)

    serve = commands.add_parser("serve", help="serve the Explorer app on an atlas")
    serve.add_argument("path", type=Path, help="atlas (Zarr folder)")
    _add_serve_options(serve)
    serve.set_defaults(func=cmd_serve)

    info = commands.add_parser("info", help="describe an atlas: species, genes, samples, PCs, what is computed")
    info.add_argument("path", type=Path, help="atlas (Zarr folder)")
    info.set_defaults(func=cmd_info)

    build_parser = commands.add_parser("build", help="build an atlas from expression matrices and annotations")
    add_build_arguments(build_parser)
    build_parser.set_defaults(func=cmd_build)

    interpret = commands.add_parser(
        "interpret", help="describe each PC (gene sets, sample terms) and write labels; updates the atlas in place",
        description="Per-PC enrichment, characteristic sample annotation terms and representative samples, and a "
        "label/summary/description per PC (offline, or by an OpenAI-compatible model with --llm-url and --model; "
        "the API key comes from $ATTED_EXPLORE_LLM_KEY).",
    )
    interpret.add_argument("path", type=Path, help="atlas (Zarr folder), rewritten atomically")
    interpret.add_argument("--llm-url", dest="llm_url", metavar="URL",
                           help="OpenAI-compatible endpoint, e.g. http://localhost:8080/v1 (default: offline text)")
    interpret.add_argument("--model", metavar="NAME", help="model name at --llm-url")
    interpret.add_argument("--pcs", metavar="RANGE", help="PCs to (re)write, e.g. 1-10 or 1,3,5-7 (default all)")
    interpret.add_argument("--node", metavar="NAME", help="only this species node (default every node)")
    interpret.add_argument("--timeout", type=float, default=60, help="seconds per model request (default 60)")
    interpret.add_argument("--fallback", action="store_true", help="use the offline text when the model fails")
    interpret.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bars")
    interpret.set_defaults(func=cmd_interpret)
    return parser


def _restart_on_system_allocator() -> None:
    """Run this command again, in the same process, with Python's small objects allocated by the C library's
    malloc (``PYTHONMALLOC=malloc``); nothing happens if that is already set or off Linux.

    Why, for a server: at its peak a server holding 20 sessions of a 20,000-sample atlas has ~700 MB of small
    Python objects in Python's own allocator (pymalloc), in 1 MB arenas it gives back only once every object
    in them is gone. After the sessions were discarded the live objects were as after the first session
    (161 MB in both), but 389 arenas stayed mapped instead of 196, holding 226 MB of empty pools: +34% RSS
    that no trim could return. With malloc, the ``malloc_trim`` run as each session closes
    (:func:`atted_explore.app.release_memory`) returns the emptied pages.
    """
    if not sys.platform.startswith("linux") or os.environ.get("PYTHONMALLOC"):
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], {**os.environ, "PYTHONMALLOC": "malloc"})


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    if argv is None and args.func in (cmd_serve, cmd_demo):  # a server started from the command line
        _restart_on_system_allocator()
    try:
        return args.func(args)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
