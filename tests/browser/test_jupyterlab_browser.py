"""Notebook 01 in a real JupyterLab, offline: every view's plot is painted, the console stays clean.

JupyterLab listens on 127.0.0.1 with a token; Chromium (Playwright) may reach
loopback only, every other request is blocked, so the test proves the views'
JavaScript and CSS come from the local Python packages and not from a CDN.
The notebook runs as a user runs it (Run > Run All Cells); nbclient-based
tests never render anything, this one looks at the pixels.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.serving import ARTIFACTS, free_port, serving

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "notebooks" / "01_quickstart.ipynb"
BINDER_CONFIG = REPO / "binder" / "jupyter_server_config.py"
LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}
#: cells whose output is a view (the cell's last line starts with this), and what the view must show.
VIEWS = {"PCView": ("pc_view", "plot"), "CoexList": ("coex_list", "table"), "CoexViewer": ("CoexViewer(", "plot"),
         "Explorer": ("Explorer(", "plot")}
RUN_TIMEOUT_MS = 150_000


def _screenshot_folder(name: str) -> Path:
    """Where screenshots go: the browser tests' artefacts folder (kept after the run)."""
    folder = ARTIFACTS / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder

#: what an output shows, through shadow roots: coloured (not grey/white) pixels of each canvas, and table rows.
PAINTED_JS = """
(root) => {
  const canvases = [];
  let rows = 0;
  const walk = (node) => {
    if (node.tagName === 'CANVAS' && node.width >= 100 && node.height >= 100) canvases.push(node);  // not toolbar icons
    if (node.classList && node.classList.contains('tabulator-row')) rows += 1;
    if (node.shadowRoot) walk(node.shadowRoot);
    for (const child of node.children || []) walk(child);
  };
  walk(root);
  const coloured = canvases.map((canvas) => {
    const copy = document.createElement('canvas');
    copy.width = canvas.width; copy.height = canvas.height;
    const context = copy.getContext('2d');
    context.drawImage(canvas, 0, 0);
    const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
    let count = 0;
    for (let i = 0; i < data.length; i += 4) {
      const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
      if (a > 0 && Math.max(r, g, b) - Math.min(r, g, b) > 40) count += 1;
    }
    return count;
  });
  return {coloured, rows};
}
"""
#: a plot counts as painted with this many coloured pixels (axes and grid lines are grey).
PAINTED_PIXELS = 200


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory, served_atlas):
    """``jupyter lab`` on 127.0.0.1 (free port, token, no browser) over a copy of notebook 01; yields (url, token, log).

    It loads the Binder configuration too (``binder/jupyter_server_config.py``): the Explorer behind
    jupyter-server-proxy at ``/atted-explore/explorer``, on the small analysed demo atlas.
    """
    root = tmp_path_factory.mktemp("lab")
    shutil.copy(NOTEBOOK, root / NOTEBOOK.name)
    binder_repo = tmp_path_factory.mktemp("binder-repo")  # REPO_DIR: where the Binder entry finds data/
    (binder_repo / "data").mkdir()
    (binder_repo / "data" / "demo-small-seed0.zarr").symlink_to(served_atlas[0])
    settings = root / ".settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    # every cell stays in the page (no virtual scrolling), so each view's output can be looked at
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    notifications = root / ".settings" / "@jupyterlab" / "apputils-extension"
    notifications.mkdir(parents=True)
    (notifications / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    port, token = free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(root / ".jupyter"),  # no user configuration
        "JUPYTER_RUNTIME_DIR": str(root / ".runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(root / ".settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(root / ".workspaces"),
        "REPO_DIR": str(binder_repo),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",  # the proxy runs `panel`
    }
    command = [
        str(Path(sys.executable).with_name("jupyter")), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
        "--port-retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", "--LabApp.news_url=None",
        "--LabApp.extension_manager=readonly", f"--config={BINDER_CONFIG}",
    ] + (["--allow-root"] if os.geteuid() == 0 else [])  # CI containers run as root
    log = root / "jupyterlab.log"
    url = f"http://127.0.0.1:{port}"
    # started in the repository, as on Binder: the proxy runs `panel serve notebooks/explorer.ipynb` from there
    status = f"{url}/api/status?token={token}"
    with serving(command, status, log, env=env, cwd=REPO, probe=status) as process:
        yield url, token, log, process


def _offline(refused: list[str]):
    """A route handler: loopback requests go through; anything else is refused (as without internet) and noted."""

    def handle(route):
        url = route.request.url
        if url.startswith(("data:", "blob:")) or urlsplit(url).hostname in LOOPBACK:
            route.continue_()
        else:
            refused.append(url)
            route.abort("internetdisconnected")

    return handle


@contextmanager
def _offline_page(browser_context):
    """A new tab that reaches loopback only; yields (page, refused URLs, console errors); unroutes on exit."""
    refused, errors = [], []
    browser_context.route("**/*", _offline(refused))
    page = browser_context.new_page()
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    page.set_default_timeout(60_000)
    try:
        yield page, refused, errors
    finally:
        page.close()
        browser_context.unroute("**/*")


def _prompts(page) -> list[str]:
    return page.locator(".jp-Notebook .jp-CodeCell .jp-InputArea-prompt").all_inner_texts()


def test_notebook_01_views_paint_in_jupyterlab_offline(jupyterlab, browser_context, tmp_path_factory):
    url, token, _, _ = jupyterlab
    with _offline_page(browser_context) as (page, outside, errors):
        page.goto(f"{url}/lab/tree/{NOTEBOOK.name}?token={token}")
        page.locator(".jp-Notebook .jp-CodeCell").first.wait_for()
        page.locator(".jp-StatusBar-Widget").get_by_text("| Idle").wait_for()  # the kernel is connected
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.locator(".lm-Menu-itemLabel").get_by_text("Run All Cells", exact=True).click()
        deadline = time.monotonic() + RUN_TIMEOUT_MS / 1000
        while time.monotonic() < deadline:
            prompts = _prompts(page)
            if prompts and all(p.strip().strip("[]:").isdigit() for p in prompts):
                break
            time.sleep(0.5)
        else:
            page.screenshot(path=str(_screenshot_folder("jupyterlab-failure") / "not_finished.png"))
            pytest.fail(f"notebook did not finish running: prompts {_prompts(page)}")
        cells = page.locator(".jp-Notebook .jp-CodeCell")
        sources = cells.locator(".jp-InputArea-editor").all_inner_texts()
        assert not page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").filter(
            has_text="Traceback").count(), "a cell raised"
        shots = _screenshot_folder("jupyterlab-screenshots")
        shown, missing = {}, {}
        for view, (marker, needs) in VIEWS.items():
            index = next(i for i, text in enumerate(sources) if text.strip().splitlines()[-1].startswith(marker))
            output = cells.nth(index).locator(".jp-OutputArea")
            output.scroll_into_view_if_needed()
            deadline = time.monotonic() + 30
            while True:
                shown[view] = output.evaluate(PAINTED_JS)
                ok = (max(shown[view]["coloured"], default=0) >= PAINTED_PIXELS if needs == "plot"
                      else shown[view]["rows"] >= 10)
                if ok or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            if not ok:
                missing[view] = shown[view]
            output.screenshot(path=str(shots / f"notebook01_{view}.png"))
        print(f"screenshots: {shots}; shown: {shown}")
        assert not missing, f"views not rendered (coloured pixels per canvas, table rows): {missing}"
        assert not outside, f"requests beyond loopback (blocked, so offline they fail): {sorted(set(outside))[:10]}"
        assert not errors, f"console errors: {errors[:10]}"


def test_binder_proxy_entry_serves_the_explorer_through_jupyter_only(jupyterlab, browser_context, tmp_path_factory):
    """The Explorer behind jupyter-server-proxy: painted and live (websocket through the proxy, no '*' origin).

    The Panel server the proxy starts listens on 127.0.0.1 only.
    """
    import psutil

    url, token, log, process = jupyterlab
    with _offline_page(browser_context) as (page, outside, errors):
        page.goto(f"{url}/atted-explore/explorer?token={token}", timeout=240_000)  # the proxy starts Panel first
        deadline = time.monotonic() + 90
        while True:
            shown = page.locator("body").evaluate(PAINTED_JS)
            if max(shown["coloured"], default=0) >= PAINTED_PIXELS or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        shot = _screenshot_folder("binder-proxy-screenshot") / "explorer_through_jupyter_proxy.png"
        page.screenshot(path=str(shot))
        print(f"screenshot: {shot}")
        assert max(shown["coloured"], default=0) >= PAINTED_PIXELS, f"PC plot not painted through the proxy: {shown}"
        panel_servers = [child for child in psutil.Process(process.pid).children(recursive=True)
                         if "serve" in child.cmdline() and "notebooks/explorer.ipynb" in child.cmdline()]
        assert panel_servers, f"no Panel server started by the proxy:\n{log.read_text()[-3000:]}"
        listening = {c.laddr.ip for server in panel_servers for c in server.net_connections(kind="inet")
                     if c.status == psutil.CONN_LISTEN}
        assert listening == {"127.0.0.1"}, listening
        assert not outside, f"requests beyond loopback: {sorted(set(outside))[:10]}"
        assert not errors, f"console errors: {errors[:10]}"
        assert "Refusing websocket connection" not in log.read_text()
