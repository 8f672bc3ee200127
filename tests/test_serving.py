"""Safe by default: where ``atted-explore serve`` listens, the URL it prints, whom it lets in; the Binder proxy entry."""

from __future__ import annotations

import runpy
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from atted_explore import save_atlas
from atted_explore.cli import main
from atted_explore.errors import InputError
from atted_explore.serving import listening, origin_host

from .factories import make_atlas
from .views_atlas import analysed_demo

REPO = Path(__file__).resolve().parents[1]
BINDER_CONFIG = REPO / "binder" / "jupyter_server_config.py"


@pytest.fixture(scope="module")
def analysed_path(tmp_path_factory):
    """The small demo atlas, analysed with few bags and saved: what the served app opens."""
    return save_atlas(analysed_demo(n_bags=5, top_k=20), tmp_path_factory.mktemp("served") / "demo.zarr")


def test_default_is_localhost_with_loopback_origins_only():
    where = listening("localhost", 5006)
    assert where.bind == "localhost" and where.url == "http://localhost:5006/" and where.every_interface is None
    assert set(where.origins) == {"localhost:5006", "127.0.0.1:5006", "[::1]:5006"}


@pytest.mark.parametrize("given", ["::1", "[::1]", " [::1] ", "0:0:0:0:0:0:0:1"])
def test_ipv6_loopback_bare_or_bracketed(given):
    where = listening(given, 8000)
    assert where.bind == "::1" and where.url == "http://[::1]:8000/"
    assert "[::1]:8000" in where.origins and "localhost:8000" in where.origins
    assert not any(o.startswith("::") for o in where.origins)


def test_a_specific_address_allows_only_itself():
    where = listening("192.0.2.10", 5006)
    assert where.bind == "192.0.2.10" and where.url == "http://192.0.2.10:5006/" and where.origins == ("192.0.2.10:5006",)
    where = listening("2001:db8::5", 5006)
    assert where.url == "http://[2001:db8::5]:5006/" and where.origins == ("[2001:db8::5]:5006",)


@pytest.mark.parametrize("address, family", [("0.0.0.0", "IPv4"), ("::", "IPv6"), ("[::]", "IPv6")])
def test_every_interface_only_when_named(address, family):
    where = listening(address, 5006)
    assert where.every_interface == family
    assert where.url == f"http://{socket.getfqdn()}:5006/"  # the name others use, not 0.0.0.0
    assert f"{socket.gethostname()}:5006" in where.origins and "localhost:5006" in where.origins


@pytest.mark.parametrize(
    "address, message",
    [("", "empty"), ("   ", "empty"), ("localhost:5006", "without a port"), ("[localhost]", "IPv6 addresses only"),
     ("bad host!", "not a host name")],
)
def test_bad_addresses_are_refused(address, message):
    with pytest.raises(InputError, match=message):
        listening(address, 5006)


def test_reverse_proxy_origins():
    where = listening("127.0.0.1", 5006, ["proxy.example.org", "https://Lab.Example.org:8443/", "[2001:db8::1]:9000"])
    assert where.origins[-3:] == ("proxy.example.org", "lab.example.org:8443", "[2001:db8::1]:9000")
    for bad, message in [("*", "wildcards"), ("*.example.org", "wildcards"), ("https://x.org/app", "HOST or HOST:PORT"),
                         ("x.org:99999", "port"), ("", "HOST or HOST:PORT")]:
        with pytest.raises(InputError, match=message):
            origin_host(bad)
    with pytest.raises(InputError, match="--port 0"):
        listening("localhost", 0)


def test_cli_refuses_bad_serve_options_in_one_line(tmp_path, capsys):
    path = save_atlas(make_atlas(n_genes=7, n_samples=4), tmp_path / "atlas.zarr")
    assert main(["serve", str(path), "--address", ""]) == 2
    assert capsys.readouterr().err.startswith("error: --address '': empty")
    assert main(["serve", str(path), "--allow-origin", "*"]) == 2
    assert "wildcards" in capsys.readouterr().err


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
        return True
    except OSError:
        return False


def _free_ipv6_port() -> int:
    with socket.socket(socket.AF_INET6) as sock:
        sock.bind(("::1", 0))
        return sock.getsockname()[1]


def _first_page(url: str, process: subprocess.Popen, log: Path) -> None:
    """Wait until the server at ``url`` listens, then GET its page once (building the first session can be slow)."""
    parts = urllib.parse.urlsplit(url)
    deadline = time.monotonic() + 90
    while True:
        assert process.poll() is None, log.read_text()
        try:
            socket.create_connection((parts.hostname, parts.port), timeout=2).close()
            break
        except OSError:
            assert time.monotonic() < deadline, f"nothing listens at {url}:\n{log.read_text()}"
            time.sleep(0.5)
    with urllib.request.urlopen(url, timeout=120) as response:
        assert response.status == 200 and b"bokeh" in response.read().lower()


@pytest.mark.skipif(not _ipv6_loopback(), reason="this machine has no IPv6 loopback (::1)")
def test_serve_on_ipv6_loopback_answers_and_prints_its_url(tmp_path, analysed_path):
    port = _free_ipv6_port()
    command = [str(Path(sys.executable).with_name("atted-explore")), "serve", str(analysed_path), "--address", "[::1]",
               "--port", str(port)]
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        _first_page(f"http://[::1]:{port}/", process, log)
        with pytest.raises(OSError):  # IPv6 only: nothing listens on 127.0.0.1 for this server
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
    finally:
        process.terminate()
        process.wait(timeout=15)
    printed = log.read_text()
    assert f"at http://[::1]:{port}/" in printed and "Traceback" not in printed and "http://::1" not in printed


# ------------------------------------------------------------------ Binder: the Jupyter proxy is the only way in


def _binder_entry(tmp_path, monkeypatch):
    monkeypatch.setenv("REPO_DIR", str(tmp_path))

    class Config:
        class ServerProxy:
            servers: dict = {}

    config = Config()
    runpy.run_path(str(BINDER_CONFIG), init_globals={"c": config})
    return config.ServerProxy.servers["atted-explore"]


def _option(command: list[str], name: str) -> list[str]:
    return [command[i + 1] for i, word in enumerate(command) if word == name]


def test_binder_entry_binds_loopback_and_allows_no_wildcard_origin(tmp_path, monkeypatch):
    entry = _binder_entry(tmp_path, monkeypatch)
    command = entry["command"]
    assert command[:3] == ["panel", "serve", "notebooks/explorer.ipynb"]
    assert _option(command, "--address") == ["127.0.0.1"]
    assert _option(command, "--port") == ["{port}"]
    assert _option(command, "--prefix") == ["{base_url}atted-explore"]
    origins = _option(command, "--allow-websocket-origin")
    assert origins == ["127.0.0.1:{port}"] and not any("*" in word for word in command)
    # the proxy presents the page origin the panel server allows (the browser's origin is checked by Jupyter)
    assert entry["request_headers_override"] == {"Origin": "http://127.0.0.1:{port}"}
    assert entry["absolute_url"] is True
    assert entry["environment"]["ATTED_EXPLORE_ATLAS"] == str(tmp_path / "data" / "demo-small-seed0.zarr")


def test_session_urls_parse_with_ipv6_hosts():
    import panel.io.location as panel_location

    from atted_explore.app import _location_params_for_ipv6_hosts

    params = _location_params_for_ipv6_hosts(panel_location._get_location_params)
    assert params("http", "[::1]:5006", "/?gene=AT1G01010") == {
        "protocol": "http:", "hostname": "[::1]", "port": "5006", "pathname": "/", "search": "?gene=AT1G01010",
        "href": "http://[::1]:5006/?gene=AT1G01010",
    }
    assert params("http", "[2001:db8::1]", "/")["hostname"] == "[2001:db8::1]"
    assert params("http", "localhost:5006", "/") == panel_location._get_location_params("http", "localhost:5006", "/")


# ------------------------------------------------------------------ sessions stay small


def test_closed_sessions_leave_no_view_behind(analysed_atlas, monkeypatch):
    """Sessions that recolored and chose a gene keep nothing alive once the server has discarded them."""
    import gc
    import weakref

    import panel as pn
    from bokeh.models import AutocompleteInput, Select

    from atted_explore import app
    from atted_explore.views import Explorer

    from .serving import ClientSession, free_port, option_values

    made = []

    class RecordedExplorer(Explorer):
        def __init__(self, *args, **params):
            super().__init__(*args, **params)
            made.append(weakref.ref(self))

    monkeypatch.setattr(app, "Explorer", RecordedExplorer)
    port = free_port()
    # closed sessions are discarded 0.2 s after their last connection (Bokeh's default: 15-32 s)
    server = pn.serve({"/": lambda: app.create_app(analysed_atlas)}, port=port, address="127.0.0.1", threaded=True,
                      show=False, check_unused_sessions_milliseconds=200, unused_session_lifetime_milliseconds=200)
    try:
        deadline = time.monotonic() + 30
        while socket.socket().connect_ex(("127.0.0.1", port)) != 0 and time.monotonic() < deadline:
            time.sleep(0.2)

        def visit(gene: str) -> None:
            session = ClientSession(f"http://127.0.0.1:{port}/", limit_s=60)
            color = session.model(Select, lambda m: "gene expression" in option_values(m))
            session.timed(color, next(f for f in ("tissue", "study") if f != color.value))
            picker = session.model(AutocompleteInput, lambda m: m.placeholder == "gene ID or symbol")
            session.timed(picker, next(c for c in picker.completions if c.split(" ")[0] == str(gene)))
            session.client.close()

        # a thread of its own: the client runs its own event loop, which cannot start in a thread that
        # already runs one (the browser tests' Playwright does, in the main thread, for the whole run)
        with ThreadPoolExecutor(1) as pool:
            for gene in analysed_atlas["Ath-r"]["gene"].values[[10, 20]]:
                pool.submit(visit, gene).result()
        assert len(made) == 2
        deadline = time.monotonic() + 30
        while any(ref() is not None for ref in made) and time.monotonic() < deadline:
            time.sleep(0.5)
            gc.collect()
        assert [ref() for ref in made] == [None, None]
    finally:
        server.stop()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the restart applies where glibc's malloc_trim is")
def test_served_command_restarts_itself_with_malloc(tmp_path, analysed_path):
    """``atted-explore serve`` runs on the C library's malloc (same pid), whose freed pages ``malloc_trim`` returns:
    with Python's own allocator, 20 closed sessions left +34% RSS in arenas no trim could free."""
    from .serving import free_port, serve_command, serving

    port = free_port()
    with serving(serve_command(analysed_path, port), f"http://127.0.0.1:{port}/", tmp_path / "serve.log") as process:
        environment = Path(f"/proc/{process.pid}/environ").read_bytes().split(b"\0")
        command = Path(f"/proc/{process.pid}/cmdline").read_bytes().split(b"\0")
    assert b"PYTHONMALLOC=malloc" in environment
    assert command[1:4] == [str(Path(sys.executable).with_name("atted-explore")).encode(), b"serve", str(analysed_path).encode()]
    assert "Traceback" not in (tmp_path / "serve.log").read_text()
