"""Serve the CoexMap view alone on an atlas (the browser test runs it in a subprocess): PATH PORT."""

from __future__ import annotations

import sys

import panel as pn

from atted_explore import open_atlas
from atted_explore.views import CoexMap


def main(path: str, port: int) -> None:
    pn.extension("tabulator")
    atlas = open_atlas(path)
    pn.serve({"coexmap": lambda: CoexMap(atlas, subset="chloroplast")}, port=port, address="localhost", liveness=True,
             show=False, allow_websocket_origin=[f"localhost:{port}"])


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
