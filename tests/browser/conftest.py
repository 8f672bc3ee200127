"""The served Explorer in headless Debian Chromium (Playwright; the system browser, never a download)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from atted_explore import save_atlas
from tests.serving import free_port, serve_command, serving
from tests.views_atlas import analysed_demo

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="session")
def served_atlas(tmp_path_factory):
    """The small demo atlas with PCA and coexpression, saved to Zarr (the tree is returned as well)."""
    atlas = analysed_demo()
    path = save_atlas(atlas, tmp_path_factory.mktemp("atlas") / "demo.zarr")
    return path, atlas


@pytest.fixture(scope="session")
def app_url(served_atlas, tmp_path_factory):
    """``atted-explore serve PATH --port N`` in a subprocess; yields its URL."""
    path, _ = served_atlas
    port = free_port()
    url = f"http://localhost:{port}/"
    with serving(serve_command(path, port), url, tmp_path_factory.mktemp("server") / "serve.log"):
        yield url


@pytest.fixture(scope="session")
def notebook_app_url(served_atlas, tmp_path_factory):
    """``panel serve notebooks/explorer.ipynb`` on the same atlas (``ATTED_EXPLORE_ATLAS``); yields its URL."""
    path, _ = served_atlas
    port = free_port()
    notebook = Path(__file__).resolve().parents[2] / "notebooks" / "explorer.ipynb"
    command = [str(Path(sys.executable).with_name("panel")), "serve", str(notebook), "--port", str(port), "--liveness"]
    env = {**os.environ, "ATTED_EXPLORE_ATLAS": str(path)}
    log = tmp_path_factory.mktemp("panel-serve") / "serve.log"
    url = f"http://localhost:{port}/explorer"
    with serving(command, url, log, env):
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
