"""The ``atted-explore`` command line: demo, serve, info, build.

Errors caused by the user's input are printed as one line (``error: ...``)
with exit code 2; nothing else is caught, so real bugs keep their traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import InputError


def _serve(path: Path, args: argparse.Namespace) -> None:
    from .app import serve

    serve(path, port=args.port, address=args.address)


def _add_serve_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=5006, help="port to serve on (default 5006)")
    parser.add_argument(
        "--address", default="localhost", help="address to bind (default localhost; 0.0.0.0 exposes it)"
    )


def cmd_demo(args: argparse.Namespace) -> int:
    from .datasets.prepared import prepared_demo

    path = prepared_demo(
        args.out, preset=args.preset, seed=args.seed, n_bags=args.bags, rebuild=args.rebuild
    )
    print(f"demo atlas: {path}", flush=True)
    if not args.no_serve:
        _serve(path, args)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from .atlas import open_atlas

    open_atlas(args.path)  # a clear error now rather than a broken page later
    _serve(Path(args.path), args)
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from .atlas import open_atlas
    from .summary import describe

    print(describe(open_atlas(args.path)))
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    from . import build

    return build.run(args)


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

    from . import build

    build_parser = commands.add_parser("build", help="build an atlas from expression matrices and annotations")
    build.add_arguments(build_parser)
    build_parser.set_defaults(func=cmd_build)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
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
