"""Run an app server in a subprocess for browser tests and benchmarks (loopback only); browser-like client
sessions of a served app."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from bokeh.client import pull_session
from bokeh.document.events import (
    ColumnDataChangedEvent,
    ColumnsPatchedEvent,
    ColumnsStreamedEvent,
    MessageSentEvent,
    ModelChangedEvent,
)
from bokeh.events import DocumentReady
from bokeh.models import ColumnDataSource, Plot, Select

#: where browser tests leave screenshots (CI keeps the folder as an artefact).
ARTIFACTS = Path(os.environ.get("ATTED_EXPLORE_ARTIFACTS", Path(__file__).resolve().parents[1] / "test-artifacts"))
#: seconds a server may take to answer its first full page (a loaded 2-core machine is slow).
START_TIMEOUT = 180


class ServerError(RuntimeError):
    """The server exited or did not answer; the message carries its log."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_command(atlas: Path, port: int) -> list[str]:
    """``atted-explore serve ATLAS --port PORT`` of this interpreter's environment."""
    return [str(Path(sys.executable).with_name("atted-explore")), "serve", str(atlas), "--port", str(port)]


def wait_for(url: str, process: subprocess.Popen, log: Path, probe: str | None = None) -> None:
    """Wait for a cheap ``probe`` URL (default: the server's ``/liveness``), then for ``url`` once.

    Polling a page that builds a session with short timeouts would queue one build per attempt.
    """
    scheme, _, host = url.split("/", 3)[:3]
    liveness = probe or f"{scheme}//{host}/liveness"
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.poll() is not None:
            raise ServerError(f"server exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(liveness, timeout=5) as response:
                if response.status == 200:
                    break
        except OSError:
            if time.monotonic() > deadline:
                raise ServerError(f"no answer at {liveness} within {START_TIMEOUT} s:\n{log.read_text()}") from None
            time.sleep(0.5)
    try:
        with urllib.request.urlopen(url, timeout=START_TIMEOUT) as response:
            response.read()
    except OSError as error:
        raise ServerError(f"{url} failed: {error}\n{log.read_text()}") from None


@contextmanager
def serving(
    command: list[str], url: str, log: Path, env: dict | None = None, cwd: Path | None = None, probe: str | None = None
):
    """Run a server command until the block ends; yields the process once ``url`` answers (see :func:`wait_for`)."""
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd)
    try:
        wait_for(url, process, log, probe)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def updates_plot(event) -> bool:
    """Whether a document event from the server changes a plot's data or puts a new plot in place."""
    if isinstance(event, ColumnDataChangedEvent | ColumnsStreamedEvent | ColumnsPatchedEvent):
        return True
    if not isinstance(event, ModelChangedEvent):
        return False
    if isinstance(event.model, ColumnDataSource):
        return True
    new = event.new
    if isinstance(new, dict):  # a FlexBox's children: lists of models by template slot
        new = [item for items in new.values() for item in (items if isinstance(items, list | tuple) else [items])]
    new = new if isinstance(new, list | tuple) else [new]
    return any(isinstance(item, Plot) for item in new)


def option_values(select: Select) -> list[str]:
    """A Select's option values (Panel sends ``[value, label]`` pairs)."""
    return [o[0] if isinstance(o, list | tuple) else o for o in select.options]


class ClientSession:
    """A browser-like Bokeh client session of a served app: what a page is to the server, without the browser.

    ``timed(model, value)`` sets a widget's value in the session's copy of the
    document and waits for the server's patch of a plot (at most ``limit_s``).
    """

    def __init__(self, url: str, limit_s: float = 120):
        self.limit_s = limit_s
        self.client = pull_session(url=url)
        self.document = self.client.document
        self.changed = threading.Event()
        self.document.on_change(lambda event: updates_plot(event) and self.changed.set())
        # what BokehJS sends once the page is drawn: Panel holds the plots' updates until then
        self.document.callbacks.trigger_on_change(MessageSentEvent(self.document, "bokeh_event", DocumentReady()))

    def model(self, kind, test) -> object:
        """The first model of type ``kind`` for which ``test(model)`` holds."""
        found = [m for m in self.document.select({"type": kind}) if test(m)]
        if not found:
            raise LookupError(f"no such {kind.__name__} in the session's document")
        return found[0]

    def timed(self, model, value: str) -> float:
        """Set a widget's value; ms until the server's patch of a plot arrives."""
        self.changed.clear()
        connection = self.client._connection
        # past the action limit the websocket is closed, which ends the wait below
        timer = connection.io_loop.call_later(self.limit_s, self.client.close)
        start = time.perf_counter()
        model.value = value  # sent to the server once the client's loop runs
        # bokeh.client runs its loop only inside blocking calls, and its public one (force_roundtrip) drops the
        # server's patches that arrive while it waits for its reply: wait on the loop itself
        connection._loop_until(lambda: self.changed.is_set() or not self.client.connected)
        elapsed = time.perf_counter() - start
        connection.io_loop.remove_timeout(timer)
        if not self.changed.is_set():
            raise TimeoutError(f"no patch of a plot {elapsed:.0f} s after setting {value!r}")
        return elapsed * 1000
