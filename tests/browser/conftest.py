"""The served Explorer in headless Debian Chromium (Playwright; the system browser, never a download)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from atted_explore import save_atlas
from tests.views_atlas import analysed_demo

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
SERVER_START_TIMEOUT = 90


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"atted-explore serve exited with {process.returncode}:\n{log.read_text()}")
        try:  # the first page builds a session, slow on a busy machine: wait for it rather than retry
            with urllib.request.urlopen(url, timeout=max(5.0, deadline - time.monotonic())) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"atted-explore serve did not answer at {url} within {SERVER_START_TIMEOUT} s:\n{log.read_text()}")


@pytest.fixture(scope="session")
def served_atlas(tmp_path_factory):
    """The small demo atlas with PCA and coexpression, saved to Zarr (the tree is returned as well)."""
    atlas = analysed_demo()
    path = save_atlas(atlas, tmp_path_factory.mktemp("atlas") / "demo.zarr")
    return path, atlas


@contextmanager
def _serving(command: list[str], url: str, log: Path, env: dict | None = None, cwd: Path | None = None):
    """Run a server command until the block ends (yields its process); fail with its log if it does not answer."""
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd)
    try:
        _wait_for(url, process, log)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="session")
def app_url(served_atlas, tmp_path_factory):
    """``atted-explore serve PATH --port N`` in a subprocess; yields its URL."""
    path, _ = served_atlas
    port = _free_port()
    command = [str(Path(sys.executable).with_name("atted-explore")), "serve", str(path), "--port", str(port)]
    url = f"http://localhost:{port}/"
    with _serving(command, url, tmp_path_factory.mktemp("server") / "serve.log"):
        yield url


@pytest.fixture(scope="session")
def notebook_app_url(served_atlas, tmp_path_factory):
    """``panel serve notebooks/explorer.ipynb`` on the same atlas (``ATTED_EXPLORE_ATLAS``); yields its URL."""
    path, _ = served_atlas
    port = _free_port()
    notebook = Path(__file__).resolve().parents[2] / "notebooks" / "explorer.ipynb"
    command = [str(Path(sys.executable).with_name("panel")), "serve", str(notebook), "--port", str(port)]
    env = {**os.environ, "ATTED_EXPLORE_ATLAS": str(path)}
    log = tmp_path_factory.mktemp("panel-serve") / "serve.log"
    url = f"http://localhost:{port}/explorer"
    with _serving(command, url, log, env):
        yield url


@pytest.fixture(scope="session")
def browser_context(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1500, "height": 1100},
        )
        yield context
        context.close()


@pytest.fixture
def page(browser_context):
    """A fresh tab; ``page.problems`` collects console errors, page errors and failed requests."""
    page = browser_context.new_page()
    page.problems = []
    page.on("console", lambda message: message.type == "error" and page.problems.append(message.text))
    page.on("pageerror", lambda error: page.problems.append(f"page error: {error}"))
    page.on("requestfailed", lambda request: page.problems.append(f"request failed: {request.url}"))
    page.set_default_timeout(30_000)
    yield page
    page.close()
