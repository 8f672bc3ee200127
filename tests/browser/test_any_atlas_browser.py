"""Every atlas the build can make opens in the browser: demo, 100,000 samples, real data with and without
sample annotation. Each tab is opened and photographed at two window sizes (kept as test artefacts)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from atted_explore import analyze_atlas, datasets, save_atlas
from atted_explore.atlas import species_nodes
from atted_explore.io.store import open_atlas
from tests.browser.pages import hover_text
from tests.serving import ARTIFACTS, free_port, serve_command, serving
from tests.real_atlases import ATLASES, build_real_atlas

pytestmark = pytest.mark.browser

SIZES = {"large": (1500, 1100), "small": (900, 700)}
#: the PC view's first plot canvas is painted when it holds this many non-white pixels.
PAINTED = 200
#: Tornado's log of a message the server was still writing when the test closed the page (upstream, harmless)
CLOSED_PAGE_WRITE = re.compile(
    r"Task exception was never retrieved\nfuture: <Task finished name='[^']*' coro=<WebSocketProtocol13\.write_message"
    r".*?\ntornado\.websocket\.WebSocketClosedError\n?",
    re.S,
)


@pytest.fixture(scope="session")
def atlas_folder(tmp_path_factory):
    return tmp_path_factory.mktemp("any-atlas")


def build(kind: str, folder: Path, shared_data: Path) -> Path:
    if kind in ATLASES:
        return build_real_atlas(kind, folder, shared_data)
    samples = {"demo_58": {"Ath-r": 58, "Osa-r": 40, "Zma-r": 30}, "demo_100k": {"Ath-r": 100_000}}[kind]
    atlas = analyze_atlas(datasets.demo(preset="small", seed=0, n_samples=samples), n_bags=5, top_k=50, progress=False)
    return save_atlas(atlas, folder / f"{kind}.zarr")


PAINTED_JS = """canvas => {
    const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let n = 0;
    for (let i = 0; i < data.length; i += 4)
        if (data[i + 3] > 0 && (data[i] < 240 || data[i + 1] < 240 || data[i + 2] < 240)) n++;
    return n;
}"""


def wait_until_painted(page, seconds: float = 60) -> int:
    """Non-white pixels of the first plot canvas once there are more than :data:`PAINTED` (0 if never)."""
    canvas = page.locator(".bk-Canvas").first.locator("canvas").first
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        painted = canvas.evaluate(PAINTED_JS)
        if painted > PAINTED:
            return painted
        page.wait_for_timeout(500)
    return 0


def wait_until_idle(page, seconds: float = 60) -> None:
    """Until the app's busy indicator has stopped spinning for a second (the server has sent the tab)."""
    page.wait_for_timeout(500)
    deadline, quiet = time.monotonic() + seconds, 0
    while time.monotonic() < deadline and quiet < 2:
        quiet = quiet + 1 if page.locator(".pn-busy-container .loader.spin").count() == 0 else 0
        page.wait_for_timeout(500)
    page.wait_for_timeout(500)  # the browser draws what arrived


def cut_at_the_right(page) -> list[str]:
    """Tab headers and plots on screen that reach past the right edge of the tabs' own area."""
    area = page.locator(".bk-panel-models-tabs-Tabs").first.bounding_box()
    right = area["x"] + area["width"] + 1
    cut = []
    for what, locator in (("tab", page.locator(".bk-tab")), ("plot", page.locator(".bk-Canvas"))):
        for i in range(locator.count()):
            box = locator.nth(i).bounding_box()
            if box is not None and box["width"] > 0 and box["x"] + box["width"] > right:
                cut.append(f"{what} {i} ends at {box['x'] + box['width']:.0f}px, the page at {right:.0f}px")
    return cut


@pytest.mark.parametrize("kind", ["demo_58", "demo_100k", *ATLASES])
def test_every_tab_of_any_atlas_renders(kind, atlas_folder, shared_data, browser_context, tmp_path):
    path = build(kind, atlas_folder, shared_data)
    first = open_atlas(path)
    samples = set(first[species_nodes(first)[0]]["sample"].values.astype(str))
    port = free_port()
    url = f"http://localhost:{port}/"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with serving(serve_command(path, port), url, tmp_path / "serve.log"):
        for size, (width, height) in SIZES.items():
            page = browser_context.new_page()
            problems = []
            page.on("console", lambda message: message.type == "error" and problems.append(message.text))
            page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
            page.set_viewport_size({"width": width, "height": height})
            page.set_default_timeout(60_000)
            page.goto(url)
            page.locator(".bk-Canvas").first.wait_for()
            assert wait_until_painted(page), f"{kind}: the PC plot stays blank"
            if size == "large":  # hover names a sample, datashaded (100,000 samples) or not
                shown = hover_text(page.locator(".bk-Canvas").first, samples)
                assert samples.intersection(shown.split()), f"{kind}: no sample in the hover tooltip: {shown!r}"
            tabs = page.locator(".bk-tab")
            names = [tabs.nth(i).inner_text() for i in range(tabs.count())]
            assert {"PC view", "Coexpression list", "Gene pair"} <= set(names)
            for i, name in enumerate(names):
                tabs.nth(i).click()
                wait_until_idle(page)
                page.screenshot(path=str(ARTIFACTS / f"{kind}-{size}-{i}-{name.replace(' ', '_')}.png"))
                assert page.get_by_text("could not update").count() == 0, f"{kind}: {name} shows an error"
                assert cut_at_the_right(page) == [], f"{kind} at {width}px: {name} is cut at the page's right edge"
            page.close()
            assert problems == [], f"{kind} at {width}x{height}: {problems}"
    log = CLOSED_PAGE_WRITE.sub("", (tmp_path / "serve.log").read_text())
    assert "Traceback" not in log, log
