"""The served Explorer app: ``atted-explore serve PATH`` and ``panel serve notebooks/explorer.ipynb``."""

from __future__ import annotations

import ctypes
import gc
import os
import re
import sys
from pathlib import Path

import holoviews as hv
import panel as pn
import panel.io.location as panel_location
import xarray as xr
from bokeh.settings import settings as bokeh_settings

from .atlas import open_atlas
from .errors import InputError
from .serving import listening
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


def _location_params_for_ipv6_hosts(original):
    """Panel's URL parser for sessions, fixed for IPv6 Host headers.

    Panel 1.9 splits the Host header on ':' (``panel.io.location``), so a
    browser at ``http://[::1]:5006`` gets a server error; the bracketed host is
    handed to it as a plain name and put back afterwards.
    """

    def location_params(protocol, host, uri):
        match = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\](?::(\d+))?", host or "")
        if match is None:
            return original(protocol, host, uri)
        placeholder = "ipv6-host" + (f":{match[2]}" if match[2] else "")
        params = original(protocol, placeholder, uri)
        params["hostname"] = f"[{match[1]}]"
        params["href"] = params["href"].replace("//ipv6-host", f"//[{match[1]}]", 1)
        return params

    return location_params


def serve(atlas_or_path: xr.DataTree | str | os.PathLike, *, port: int = 5006, address: str = "localhost",
          allow_origins: tuple[str, ...] | list[str] = (), show: bool = False) -> None:
    """Serve the Explorer until interrupted; prints the URL.

    Listens on localhost unless told otherwise (see :mod:`atted_explore.serving`:
    IPv6 literals, ``0.0.0.0``/``::`` for every interface, no empty address);
    ``allow_origins`` are the public ``HOST[:PORT]`` of reverse proxies in front.
    """
    where = listening(address, port, allow_origins)  # bad addresses fail before the atlas is opened
    atlas = _atlas(atlas_or_path)
    name = atlas.attrs.get("name", "atlas") if isinstance(atlas_or_path, xr.DataTree) else Path(atlas_or_path).name
    try:
        server = pn.serve(
            {"/": lambda: create_app(atlas)}, port=port, address=where.bind, show=show, start=False,
            title="atted_explore", print_url=False, verbose=False,
            liveness=True,  # GET /liveness answers at once: probes never make the server build a page
        )
    except OSError as error:  # the port is taken, or the address is not one of this machine's
        raise InputError(f"--address {address} --port {port}: cannot listen there ({error.strerror or error})") from None
    print(f"atted_explore: serving {name} at {where.url}", flush=True)
    if where.every_interface:
        print(f"atted_explore: listening on every {where.every_interface} interface: anyone who can reach this "
              "machine can open the app", flush=True)
    # Bokeh's own origin list cannot hold IPv6 literals; its documented setting takes exact host[:port] entries
    bokeh_settings.allowed_ws_origin.set_value(list(where.origins))
    original_params = panel_location._get_location_params
    panel_location._get_location_params = _location_params_for_ipv6_hosts(original_params)
    try:
        server.start()
        server.io_loop.start()
    finally:
        bokeh_settings.allowed_ws_origin.unset_value()
        panel_location._get_location_params = original_params
