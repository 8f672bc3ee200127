"""Run an app server in a subprocess for browser tests and benchmarks (loopback only)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

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
