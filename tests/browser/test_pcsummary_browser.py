"""The PCSummary view served alone in a real browser: cards render, model-written HTML stays text."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

import atted_explore as ae
from atted_explore.summarizers import ChatSummarizer
from tests.serving import ARTIFACTS, free_port, serving
from tests.chat_stub import HTML_LABEL, SECRET, serving_stub

pytestmark = pytest.mark.browser

SCREENSHOT = ARTIFACTS / "pcsummary.png"


@pytest.fixture(scope="module")
def pcsummary_url(served_atlas, tmp_path_factory):
    """The served demo atlas, PC1 of Ath-r relabelled by a model whose label carries HTML, PCSummary alone."""
    _, atlas = served_atlas
    atlas = atlas.copy()
    with serving_stub() as (url, _):
        summarizer = ChatSummarizer(f"{url}/html/v1", "stub-model", api_key=SECRET)
        atlas["Ath-r"] = ae.interpret_pcs(atlas["Ath-r"].to_dataset(), summarizer=summarizer, pcs=[1], progress=False)
    folder = tmp_path_factory.mktemp("pcsummary")
    path = ae.save_atlas(atlas, folder / "labelled.zarr")
    script = folder / "pcsummary_app.py"
    script.write_text(textwrap.dedent(f"""
        import panel as pn
        import atted_explore as ae
        from atted_explore.views import PCSummary

        pn.extension()
        view = PCSummary(ae.open_atlas({str(path)!r})["Ath-r"])
        status = pn.pane.Str("selected: none", css_classes=["selected-pc"])
        view.param.watch(lambda event: setattr(status, "object", f"selected: {{event.new}}"), "selected_pc")
        pn.Column(status, view, sizing_mode="stretch_width").servable()
    """))
    port = free_port()
    command = [str(Path(sys.executable).with_name("panel")), "serve", str(script), "--port", str(port), "--liveness"]
    url = f"http://localhost:{port}/pcsummary_app"
    with serving(command, url, folder / "serve.log"):
        yield url


def test_cards_render_with_html_labels_as_text(page, pcsummary_url):
    page.goto(pcsummary_url)
    first = page.locator(".pc-card-title h3").first
    first.wait_for()
    assert page.locator(".pc-card-title h3").count() >= 5
    assert HTML_LABEL["label"] in first.inner_text()  # the label's markup shows as characters
    body = page.locator(".pc-card").first
    body.get_by_text("Enriched gene sets").first.wait_for()
    assert body.get_by_text("Representative samples").count() >= 1
    assert page.locator(".pc-card img").count() == 0 and page.locator(".pc-card-title b").count() == 0
    page.get_by_text("Show on PC View").first.click()
    page.get_by_text("selected: 1").wait_for()
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=False)
    assert page.evaluate("window.__xss") is None
    assert SECRET not in page.content()
    assert page.problems == []
