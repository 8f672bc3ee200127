"""The served Explorer app: ``atted-explore serve PATH`` and ``panel serve notebooks/explorer.ipynb``."""

from __future__ import annotations

import os
import socket
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


def _atlas(atlas: xr.DataTree | str | os.PathLike) -> xr.DataTree:
    return atlas if isinstance(atlas, xr.DataTree) else open_atlas(atlas)


def create_app(atlas: xr.DataTree | str | os.PathLike) -> pn.viewable.Viewable:
    """The Explorer in a Panel template; its species, gene and pair follow the URL query."""
    explorer = Explorer(_atlas(atlas))
    if pn.state.location is not None:
        pn.state.location.sync(explorer, URL_STATE)
    if explorer.pair:  # a shared pair link opens on the pair
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
    )
