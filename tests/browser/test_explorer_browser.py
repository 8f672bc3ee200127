"""The served Explorer in a real browser: it renders, reacts, follows the URL and never runs annotation HTML."""

from __future__ import annotations

import re
import time

import numpy as np
import pytest
from playwright.sync_api import Error as PlaywrightError

from atted_explore.datasets._demo_text import HTML_PAYLOADS
from tests.browser.pages import TOOLTIP_TEXT, hover_text

pytestmark = pytest.mark.browser

#: the views put an invisible word joiner inside "</" of annotations (embedded data never closes a <script>).
WORD_JOINER = "\u2060"


def shown_as(text: str) -> str:
    return text.replace("</", f"<{WORD_JOINER}/")


XSS_TEXTS = ("<script>window.__xss=1</script>", '<img src=x onerror="window.__xss=1">', "heat &amp; drought")


def open_app(page, url: str, atlas) -> None:
    page.goto(url)
    page.get_by_text(atlas.attrs["name"]).first.wait_for()
    pc_plot(page).wait_for()


def pc_plot(page):
    """The PC view's plot: the first Bokeh canvas of the page (its tab comes first)."""
    return page.locator(".bk-Canvas").first


def painted_pixels(page) -> int:
    """Pixels of the PC view's data layer that are neither blank nor white."""
    return pc_plot(page).locator("canvas").first.evaluate(
        """canvas => {
            const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
            let n = 0;
            for (let i = 0; i < data.length; i += 4) {
                if (data[i + 3] > 0 && (data[i] < 240 || data[i + 1] < 240 || data[i + 2] < 240)) n++;
            }
            return n;
        }"""
    )


def plot_image(page) -> bytes | None:
    """Screenshot of the PC view's plot (None while the plot is being replaced)."""
    try:
        return pc_plot(page).screenshot(timeout=5_000)
    except PlaywrightError:
        return None


DATA_TO_SCREEN = """(canvas, [x, y]) => {
    // the Bokeh plot drawn on this canvas maps data coordinates to canvas pixels with its frame's scales
    const plot = [...window.Bokeh.index.all_views()].find(
        (view) => view.canvas_view?.el === canvas && view.model.x_range !== undefined && view.frame?.x_scale);
    const rect = canvas.getBoundingClientRect();
    return [rect.left + plot.frame.x_scale.compute(x), rect.top + plot.frame.y_scale.compute(y)];
}"""


def hover_data_point(page, x: float, y: float) -> None:
    """Move the mouse over the PC view's point at data coordinates ``(x, y)``."""
    page.mouse.move(*pc_plot(page).evaluate(DATA_TO_SCREEN, [x, y]))


def stable_plot_image(page) -> bytes:
    """The PC view's image once two screenshots in a row agree (the first frame may be redrawn)."""
    images = [None]

    def settled():
        images.append(plot_image(page))
        return images[-1] if images[-1] is not None and images[-1] == images[-2] else None

    return wait_until(settled, what="a settled PC view image")


def wait_until(condition, timeout: float = 30.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.25)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


def choose_gene(page, picker, text: str) -> None:
    """Type into a gene search box and take the first suggestion."""
    picker.click()
    picker.fill("")  # the box may show the featured gene
    picker.press_sequentially(text, delay=30)
    menu_item = page.locator(".bk-menu .bk-item, .bk-menu > div").filter(visible=True).first
    menu_item.wait_for()
    menu_item.click()


def active_tab(page) -> str:
    return page.locator(".bk-tab.bk-active").first.inner_text().strip()


def most_variable_gene(node) -> str:
    expression = node["expression"].values
    return str(node["gene"].values[int(np.argmax(expression.std(axis=1)))])


def test_app_loads_with_atlas_name_and_rendered_pc_plot(page, app_url, served_atlas):
    _, atlas = served_atlas
    open_app(page, app_url, atlas)
    wait_until(lambda: painted_pixels(page) > 200, what="datashaded samples on the PC view")
    assert page.evaluate("window.__xss") is None
    assert page.problems == []


def test_panel_serve_of_the_explorer_notebook_shows_the_app(page, notebook_app_url, served_atlas):
    _, atlas = served_atlas
    open_app(page, notebook_app_url, atlas)
    wait_until(lambda: painted_pixels(page) > 200, what="datashaded samples on the PC view")
    assert page.problems == []


def test_choosing_a_gene_recolours_the_pc_view(page, app_url, served_atlas):
    _, atlas = served_atlas
    open_app(page, app_url, atlas)
    wait_until(lambda: painted_pixels(page) > 200, what="the first frame")
    before = stable_plot_image(page)
    gene = most_variable_gene(atlas["Ath-r"])
    choose_gene(page, page.get_by_placeholder("gene ID or symbol").first, gene)
    colour_by = page.locator("select").nth(3)
    wait_until(lambda: colour_by.input_value() == "gene expression", what="colour by gene expression")
    wait_until(lambda: plot_image(page) not in (None, before), what="the PC view to recolour")
    assert page.problems == []


def test_coexlist_row_opens_the_pair_in_coexviewer(page, app_url, served_atlas):
    _, atlas = served_atlas
    node = atlas["Ath-r"]
    gene = most_variable_gene(node)
    partner = str(node["gene"].values[int(node["coex_partner"].sel(gene=gene).values[0])])
    open_app(page, f"{app_url}?gene={gene}", atlas)
    page.locator(".bk-tab", has_text="Coexpression list").click()
    first_row = page.locator(".coex-list .tabulator-row").first
    first_row.wait_for()
    assert partner in first_row.inner_text()
    first_row.locator('.tabulator-cell[tabulator-field="partner"]').click()
    wait_until(lambda: active_tab(page) == "Gene pair", what="the Gene pair tab")
    stats = page.locator(".pair-stats").first
    wait_until(lambda: gene in stats.inner_text() and partner in stats.inner_text(), what="the pair's statistics")
    assert "partner #1" in stats.inner_text()
    assert page.problems == []


def test_url_query_opens_species_gene_and_pair(page, app_url, served_atlas):
    _, atlas = served_atlas
    node = atlas["Osa-r"]
    gene = most_variable_gene(node)
    other = str(node["gene"].values[0 if node["gene"].values[0] != gene else 1])
    page.goto(f"{app_url}?species=Osa-r&gene={gene}&pair={gene},{other}")
    page.get_by_text(atlas.attrs["name"]).first.wait_for()
    assert page.locator("select").first.input_value() == "Osa-r"
    assert "bk-active" in page.locator(".bk-tab", has_text="Gene pair").get_attribute("class")  # opens on the pair
    stats = page.locator(".pair-stats").first
    wait_until(lambda: gene in stats.inner_text() and other in stats.inner_text(), what="the pair from the URL")
    page.locator(".bk-tab", has_text="Coexpression list").click()  # tabs render when opened
    page.get_by_text(f"partners of {gene}", exact=False).first.wait_for()
    assert page.problems == []


def test_annotation_html_is_shown_as_text_and_never_runs(page, app_url, served_atlas):
    _, atlas = served_atlas
    node = atlas["Ath-r"]
    open_app(page, app_url, atlas)
    title_filter = page.locator('.tabulator-col[tabulator-field="title"] input').first
    for text, query in zip(XSS_TEXTS, ("script>", "onerror", "&amp;"), strict=True):
        title_filter.fill("")
        title_filter.press_sequentially(query, delay=20)
        page.get_by_text(shown_as(text), exact=False).first.wait_for()
    # hover tooltips: the samples whose titles carry the planted HTML show it as text
    titles = node["title"].values.astype(str)
    for text in HTML_PAYLOADS:
        sample = int(np.flatnonzero(np.char.find(titles, text) >= 0)[0])
        x, y = (float(node["sample_score"].sel(pc=pc).values[sample]) for pc in (1, 2))
        hover_data_point(page, x, y)
        wait_until(lambda: text in page.evaluate(TOOLTIP_TEXT).replace(WORD_JOINER, ""),
                   what=f"the tooltip showing {text!r} as text")
    # categories with HTML are entries of the legend beside the plot when coloring by treatment
    page.locator("select").nth(3).select_option("treatment")
    legend = page.locator(".plot-legend").first
    legend.wait_for()
    wait_until(lambda: '"mild" <img src=x onerror="window.__xss=1">' in legend.inner_text(), what="the escaped legend")
    assert legend.locator("img").count() == 0
    assert page.evaluate("window.__xss") is None
    assert page.problems == []


def test_box_selection_lists_samples_and_ranks_terms(page, app_url, served_atlas):
    _, atlas = served_atlas
    open_app(page, app_url, atlas)
    wait_until(lambda: painted_pixels(page) > 200, what="the first frame")
    page.locator("[title='Box Select']").first.click()
    box = pc_plot(page).bounding_box()
    page.mouse.move(box["x"] + 60, box["y"] + 40)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] - 40, steps=8)
    page.mouse.up()
    summary = page.get_by_text(re.compile(r"^[\d,]+ selected samples$")).first
    summary.wait_for()
    selected = int(summary.inner_text().split()[0].replace(",", ""))
    assert 0 < selected < atlas["Ath-r"].sizes["sample"]
    wait_until(lambda: page.locator(".tabulator-row", has_text="tissue").count() + page.locator(
        ".tabulator-row", has_text="study").count() > 0, what="the terms of the selection")
    assert page.problems == []


def test_hover_shows_a_sample_and_its_annotation_as_text(page, app_url, served_atlas):
    _, atlas = served_atlas
    open_app(page, app_url, atlas)
    wait_until(lambda: painted_pixels(page) > 200, what="the first frame")
    samples = set(atlas["Ath-r"]["sample"].values.astype(str))
    shown = hover_text(pc_plot(page), samples)
    assert samples.intersection(shown.split()), f"no sample in the hover tooltip: {shown!r}"
    assert "study:" in shown and "title:" in shown
    assert page.evaluate("window.__xss") is None
    assert page.problems == []
