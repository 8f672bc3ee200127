"""The served Explorer app: ``atted-explore serve PATH`` and ``panel serve notebooks/explorer.ipynb``."""

from __future__ import annotations

import ctypes
import gc
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import holoviews as hv
import panel as pn
import panel.io.location as panel_location
import xarray as xr
from bokeh.settings import settings as bokeh_settings

from .io.store import open_atlas
from .errors import InputError
from .serving import listening
from .views import Explorer
from .views._style import escape

# loaded once at import: calling pn.extension inside a session drops the template's own resources
pn.extension("tabulator")
hv.extension("bokeh")

URL_STATE = {"species": "species", "gene": "gene", "pair": "pair"}
#: seconds after the server starts when a background build starts even if no page was opened yet
BUILD_WITHOUT_VISITOR_S = 30


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


class BackgroundBuild:
    """An atlas built by a command in a subprocess while the app serves another one.

    ``atted-explore demo`` serves the small demo at once and builds the default
    one this way; sessions opened after it is done get the full atlas. The
    command runs from :meth:`start` (``serve`` calls it once the first page is
    shown, so the build does not slow that page down).
    """

    def __init__(self, command: list[str], path: Path, what: str):
        self.path, self.what, self.command = Path(path), what, command
        self.started: float | None = None
        self._log = tempfile.TemporaryFile()
        self._process: subprocess.Popen | None = None

    def start(self) -> None:
        """Run the command (once; later calls do nothing)."""
        if self._process is None:
            self.started = time.monotonic()
            self._process = subprocess.Popen(self.command, stdout=self._log, stderr=subprocess.STDOUT)

    @property
    def state(self) -> str:
        """``"waiting"`` (not started), ``"running"``, ``"done"`` or ``"failed"``."""
        if self._process is None:
            return "waiting"
        code = self._process.poll()
        return "running" if code is None else "done" if code == 0 else "failed"

    def message(self) -> str:
        """One line for the app's banner."""
        if self.state == "waiting":
            return f"Building {self.what} starts once this page is shown: reload the page when it is ready."
        if self.state == "running":
            return f"Building {self.what} ({time.monotonic() - self.started:.0f} s so far): reload the page when it is ready."
        if self.state == "done":
            return f"{self.what[0].upper()}{self.what[1:]} is ready: reload the page to open it."
        self._log.seek(0)
        last = self._log.read().decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        return f"Building {self.what} failed: {last[0]}"

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()


def build_banner(build: BackgroundBuild) -> pn.Column:
    """A progress bar and a line that follow a background build, updated every 2 s while it runs."""
    bar = pn.indicators.Progress(active=True, value=-1, sizing_mode="stretch_width", height=8)
    text = pn.pane.HTML(escape(build.message()), css_classes=["build-banner"], sizing_mode="stretch_width")

    def update() -> None:
        text.object = escape(build.message())
        if build.state not in ("waiting", "running"):
            bar.visible = False
            callback.stop()

    callback = pn.state.add_periodic_callback(update, period=2000) if pn.state.curdoc is not None else None
    return pn.Column(text, bar, sizing_mode="stretch_width")


def create_app(atlas: xr.DataTree | str | os.PathLike, building: BackgroundBuild | None = None) -> pn.viewable.Viewable:
    """The Explorer in a Panel template; its species, gene and pair follow the URL query.

    ``building``: a larger atlas being built meanwhile, announced with its progress.
    """
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
        main=[*([build_banner(building)] if building is not None else []), explorer.overview, explorer.tabs],
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


def _session_lifetime(seconds: float | None) -> dict:
    if seconds is None:
        return {}
    if not seconds > 0:
        raise InputError(f"closed_session_lifetime_s={seconds}: expected a number of seconds above 0")
    milliseconds = max(1, round(seconds * 1000))
    return {"check_unused_sessions_milliseconds": milliseconds, "unused_session_lifetime_milliseconds": milliseconds}


def serve(atlas_or_path: xr.DataTree | str | os.PathLike, *, port: int = 5006, address: str = "localhost",
          allow_origins: tuple[str, ...] | list[str] = (), show: bool = False,
          building: BackgroundBuild | None = None, closed_session_lifetime_s: float | None = None) -> None:
    """Serve the Explorer until interrupted; prints the URL.

    Listens on localhost unless told otherwise (see :mod:`atted_explore.serving`:
    IPv6 literals, ``0.0.0.0``/``::`` for every interface, no empty address);
    ``allow_origins`` are the public ``HOST[:PORT]`` of reverse proxies in front.
    With ``building``, pages announce that build, and pages opened once it is
    done show its atlas instead. ``closed_session_lifetime_s``: how soon a session
    whose page closed is discarded (default Bokeh's: checked every 17 s, discarded
    15 s after its last connection; load tests wait less with a shorter one).
    """
    where = listening(address, port, allow_origins)  # bad addresses fail before the atlas is opened
    lifetime = _session_lifetime(closed_session_lifetime_s)
    atlas = _atlas(atlas_or_path)
    built: dict[str, xr.DataTree] = {}

    def session_app() -> pn.viewable.Viewable:
        if building is None or building.state == "failed":
            return create_app(atlas, building)
        if building.state == "done":
            if "atlas" not in built:
                built["atlas"] = open_atlas(building.path)
            return create_app(built["atlas"])
        pn.state.onload(building.start)  # once this page is on screen
        return create_app(atlas, building)

    name = atlas.attrs.get("name", "atlas") if isinstance(atlas_or_path, xr.DataTree) else Path(atlas_or_path).name
    try:
        server = pn.serve(
            {"/": session_app}, port=port, address=where.bind, show=show, start=False,
            title="atted_explore", print_url=False, verbose=False,
            liveness=True,  # GET /liveness answers at once: probes never make the server build a page
            **lifetime,
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
    if building is not None:  # nobody opened the page (a headless start): build anyway
        server.io_loop.call_later(BUILD_WITHOUT_VISITOR_S, building.start)
    try:
        server.start()
        server.io_loop.start()
    finally:
        bokeh_settings.allowed_ws_origin.unset_value()
        panel_location._get_location_params = original_params
        if building is not None:
            building.stop()
