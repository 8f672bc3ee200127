"""The NetworkDrawer served alone: paste a list, the network renders, hover and click a gene, download it."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import networkx as nx
import pytest

from tests.serving import free_port, serving
from .pages import COLOURED_PIXELS, TOOLTIP_TEXT
from .test_explorer_browser import wait_until

pytestmark = pytest.mark.browser

APP = Path(__file__).resolve().with_name("network_app.py")
XSS = '<img src=x onerror="window.__xss=1">'
@pytest.fixture(scope="module")
def network_url(served_atlas, tmp_path_factory):
    """``panel serve tests/browser/network_app.py`` on the demo atlas; yields the app's URL."""
    path, _ = served_atlas
    port = free_port()
    command = [str(Path(sys.executable).with_name("panel")), "serve", str(APP), "--port", str(port), "--liveness"]
    env = {**os.environ, "ATTED_EXPLORE_ATLAS": str(path)}
    log = tmp_path_factory.mktemp("network-serve") / "serve.log"
    url = f"http://localhost:{port}/network_app"
    with serving(command, url, log, env):
        yield url


def module_genes(atlas) -> list[str]:
    node = atlas["Ath-r"]
    return [str(g) for g in node["gene"].values[node["truth_module"].values == atlas.attrs["truth_conserved_module"]]]


def draw(page, url: str, genes: list[str]) -> None:
    page.goto(url)
    page.locator(".gene-list textarea").fill("\n".join(genes))
    page.locator(".draw-network button").click()
    page.locator(".network-summary", has_text="edges").wait_for()


def network_canvas(page):
    """The data layer of the first network plot."""
    return page.locator(".bk-Canvas").first.locator("canvas").first


def test_pasted_list_renders_hovers_clicks_and_downloads(page, network_url, served_atlas, tmp_path):
    _, atlas = served_atlas
    genes = module_genes(atlas)
    draw(page, network_url, [*genes, "NOT_A_GENE", XSS])
    summary = " ".join(page.locator(".network-summary p").all_inner_texts())
    assert f"{len(genes)} genes" in summary
    unknown = page.locator(".unknown-genes").inner_text()
    assert "NOT_A_GENE" in unknown and "<img" in unknown  # the pasted HTML is shown as text

    # the network renders: node pixels in the plot (saturated colours; edges are grey-blue)
    nodes = wait_until(lambda: network_canvas(page).evaluate(COLOURED_PIXELS, 400), what="drawn nodes")
    assert len(nodes) >= 100

    # hover shows a listed gene with its annotation
    node = atlas["Ath-r"].to_dataset()
    descriptions = {g: str(node["description"].sel(gene=g).values) for g in genes}
    shown, hit = "", None
    for x, y in nodes[::7]:
        page.mouse.move(x, y)
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            shown = page.evaluate(TOOLTIP_TEXT)
            hit = next((g for g in genes if g in shown.split()), None)
            if hit:
                break
            time.sleep(0.1)
        if hit:
            page.mouse.click(x, y)  # the tap tool: the clicked gene is shown with its links
            break
    assert hit, f"no listed gene in the hover tooltip: {shown!r}"
    assert descriptions[hit] in shown and "localization:" in shown
    page.locator(".clicked-gene", has_text=hit).wait_for()

    # the GraphML download arrives and networkx reads it
    with page.expect_download() as download:
        page.locator(".download-graphml button").first.click()
    path = tmp_path / "network.graphml"
    download.value.save_as(path)
    graph = nx.read_graphml(path)
    assert set(graph) == set(genes)
    assert graph.number_of_edges() > len(genes)
    assert graph.nodes[hit]["description"] == descriptions[hit]

    # a second species: conserved edges counted and drawn in a second plot
    page.locator(".compare-species select").select_option("Zma-r")
    page.locator(".conservation", has_text="edges conserved").wait_for()
    wait_until(lambda: page.locator(".bk-Canvas").count() >= 2, what="the second plot")
    page.screenshot(path=tmp_path / "network_1500.png", full_page=True)
    page.set_viewport_size({"width": 900, "height": 700})
    time.sleep(1)
    page.screenshot(path=tmp_path / "network_900.png", full_page=True)
    for plot in page.locator(".bk-Canvas").all():
        box = plot.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 900  # nothing clipped at a narrow width
    assert page.evaluate("window.__xss") is None

    # a long list is not cut (Panel's text area stops at 5,000 characters by default)
    every_gene = atlas["Ath-r"]["gene"].values.astype(str).tolist()
    page.locator(".gene-list textarea").fill("\n".join(every_gene))
    page.locator(".draw-network button").click()
    page.locator(".network-summary", has_text=f"{len(every_gene)} genes").wait_for()
    assert page.problems == []
