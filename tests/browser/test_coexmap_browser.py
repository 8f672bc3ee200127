"""The CoexMap view in a real browser: three panels, ortholog-linked box selection, subset switch, zoom kept on a
recolor (a known failure in the browser), no errors."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from tests.serving import free_port, serving

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "data" / "screenshots"

DARK_PIXELS = """canvas => {
    // highlight rings are drawn in #111111 (titles too, but they do not change with the selection)
    const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let n = 0;
    for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] > 200 && data[i] < 45 && data[i + 1] < 45 && data[i + 2] < 45) n++;
    }
    return n;
}"""


@pytest.fixture(scope="module")
def coexmap_url(served_atlas, tmp_path_factory):
    path, _ = served_atlas
    port = free_port()
    app = Path(__file__).with_name("coexmap_app.py")
    command = [sys.executable, str(app), str(path), str(port)]
    log = tmp_path_factory.mktemp("coexmap-serve") / "serve.log"
    url = f"http://localhost:{port}/coexmap"
    with serving(command, url, log):
        yield url


# x ranges of every figure on the page, in document order
X_RANGES = """() => {
    const out = [];
    for (const doc of Bokeh.documents) for (const m of doc.all_models) if (m.type === "Figure" || m.type === "Plot") {
        out.push([m.x_range.start, m.x_range.end]);
    }
    return out;
}"""


def canvases(page):
    return page.locator(".bk-Canvas")


def panel_images(page) -> list[bytes]:
    return [canvases(page).nth(i).screenshot() for i in range(3)]


def wait_until(condition, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.3)
    return False


def dark(page, i: int) -> int:
    return canvases(page).nth(i).locator("canvas").first.evaluate(DARK_PIXELS)


def test_three_panels_linked_selection_and_subset_switch(page, coexmap_url, served_atlas):
    page.goto(coexmap_url)
    assert wait_until(lambda: canvases(page).count() == 3, 60), "three map panels"
    page.wait_for_timeout(1500)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "coexmap-1500.png"), full_page=True)
    before = [dark(page, i) for i in (1, 2)]

    # box-select the left part of the first panel (box select is the active drag tool)
    box = canvases(page).nth(0).bounding_box()
    page.mouse.move(box["x"] + 0.1 * box["width"], box["y"] + 0.1 * box["height"])
    page.mouse.down()
    page.mouse.move(box["x"] + 0.6 * box["width"], box["y"] + 0.75 * box["height"], steps=8)
    page.mouse.up()
    table = page.locator(".tabulator")
    assert wait_until(lambda: "ortholog" in table.inner_text() and "selected" in table.inner_text()), table.inner_text()
    text = table.inner_text()
    for other in ("Osa-r", "Zma-r"):
        assert other in text
    assert wait_until(lambda: all(dark(page, i) > b + 20 for i, b in zip((1, 2), before))), "orthologs highlighted"
    page.screenshot(path=str(SCREENSHOTS / "coexmap-selected-1500.png"), full_page=True)

    images = panel_images(page)
    page.locator("select:has(option[value='chloroplast'])").first.select_option("all")
    assert wait_until(lambda: all(a != b for a, b in zip(images, panel_images(page)))), "every panel redrawn"

    page.set_viewport_size({"width": 900, "height": 700})
    page.wait_for_timeout(1000)
    page.screenshot(path=str(SCREENSHOTS / "coexmap-900.png"), full_page=True)
    page.set_viewport_size({"width": 1500, "height": 1100})
    assert page.problems == []


def zoom_then_recolor(page) -> tuple[list, list]:
    """Wheel-zoom every panel in, then recolor: the x ranges after the zoom and after the recolor."""
    page.wait_for_timeout(1000)
    before = page.evaluate(X_RANGES)
    for i in range(3):  # the wheel zooms (active scroll tool), as a user does
        box = canvases(page).nth(i).bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.wheel(0, -600)
        page.wait_for_timeout(300)
    zoomed = page.evaluate(X_RANGES)
    assert len(zoomed) == 3 and all(b - a < 0.6 * (d - c) for (a, b), (c, d) in zip(zoomed, before)), zoomed
    page.wait_for_timeout(1500)  # the range streams report the zoom to the server
    legend = page.locator("div[style*='font-size:12px']").first  # the first panel's legend
    assert "module" in legend.inner_text()
    page.locator("select:has(option[value='compartment'])").first.select_option("compartment")
    assert wait_until(lambda: "module" not in legend.inner_text()), "recolored by compartment"
    page.wait_for_timeout(1500)
    return zoomed, page.evaluate(X_RANGES)


def test_a_recolor_keeps_every_panels_zoom_after_a_subset_switch(page, coexmap_url):
    page.goto(coexmap_url)
    assert wait_until(lambda: canvases(page).count() == 3, 60), "three map panels"
    images = panel_images(page)
    page.locator("select:has(option[value='chloroplast'])").first.select_option("all")
    assert wait_until(lambda: all(a != b for a, b in zip(images, panel_images(page)))), "every panel redrawn"
    zoomed, kept = zoom_then_recolor(page)
    assert [v for r in kept for v in r] == pytest.approx([v for r in zoomed for v in r]), "recolor kept the zoom"
    assert page.problems == []


def test_a_recolor_keeps_every_panels_zoom(page, coexmap_url):
    page.goto(coexmap_url)
    assert wait_until(lambda: canvases(page).count() == 3, 60), "three map panels"
    page.locator("select:has(option[value='chloroplast'])").first.select_option("chloroplast")  # the map shown
    zoomed, kept = zoom_then_recolor(page)
    assert [v for r in kept for v in r] == pytest.approx([v for r in zoomed for v in r]), "recolor kept the zoom"
    assert page.problems == []
