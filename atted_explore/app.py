"""The served Explorer app: ``atted-explore serve PATH`` and ``panel serve notebooks/explorer.ipynb``."""

from __future__ import annotations

import ctypes
import gc
import os
import socket
import sys
from pathlib import Path

import holoviews as hv
import panel as pn
import xarray as xr

from .atlas import open_atlas
from .views import Explorer
from .views._style import escape

# loaded once at import: calling pn.extension inside a session drops the template's own resources
pn.extension("tabulator")
hv.extension("bokeh")

URL_STATE = {"species": "species", "gene": "gene", "pair": "pair"}


def _glibc():
    try:
        return ctypes.CDLL("libc.so.6") if sys.platform.startswith("linux") else None
    except OSError:
        return None


_LIBC = _glibc()


def release_memory(session_context) -> None:  # noqa: ARG001 (the signature Bokeh requires)
    """Give a closed session's memory back to the system (glibc keeps freed blocks unless trimmed)."""
    gc.collect()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _atlas(atlas: xr.DataTree | str | os.PathLike) -> xr.DataTree:
    return atlas if isinstance(atlas, xr.DataTree) else open_atlas(atlas)


def create_app(atlas: xr.DataTree | str | os.PathLike) -> pn.viewable.Viewable:
    """The Explorer in a Panel template; its species, gene and pair follow the URL query."""
    explorer = Explorer(_atlas(atlas))
    if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
        pn.state.on_session_destroyed(release_memory)
    if pn.state.location is not None:
        pn.state.location.sync(explorer, URL_STATE)
    if pn.state.session_args.get("pair"):  # a shared pair link (the request's own query) opens on the pair
        explorer.show_pair()
    # Bootstrap: its resources are served locally (the Fast design fetches web fonts, which fails offline)
    template = pn.template.BootstrapTemplate(
        title=f"atted_explore · {escape(explorer.atlas.attrs.get('name', 'atlas'))}",
        sidebar=explorer.sidebar,
        main=[explorer.overview, explorer.tabs],
        header_background="#2f6f4f",
        sidebar_width=300,
    )
    return template


def serve(atlas_or_path: xr.DataTree | str | os.PathLike, *, port: int = 5006, address: str = "localhost",
          show: bool = False) -> None:
    """Serve the Explorer until interrupted; prints the URL. Binds to localhost unless told otherwise."""
    atlas = _atlas(atlas_or_path)
    host = "localhost" if address in ("localhost", "127.0.0.1", "0.0.0.0", "") else address
    origins = [f"localhost:{port}", f"127.0.0.1:{port}"] + ([f"{address}:{port}"] if host == address else [])
    if address == "0.0.0.0":  # exposed on every interface: browsers elsewhere reach it by this machine's name
        origins += [f"{name}:{port}" for name in {socket.gethostname(), socket.getfqdn()}]
    name = Path(str(atlas_or_path)).name if not isinstance(atlas_or_path, xr.DataTree) else "atlas"
    print(f"atted_explore: serving {name} at http://{host}:{port}", flush=True)
    pn.serve(
        {"/": lambda: create_app(atlas)}, port=port, address=address, show=show,
        websocket_origin=origins, title="atted_explore", threaded=False, print_url=False,
        liveness=True,  # GET /liveness answers at once: probes never make the server build a page
    )
