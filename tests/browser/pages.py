"""What the browser tests read on a page: coloured pixels of a plot and the text of its hover tooltip."""

from __future__ import annotations

import time

COLOURED_PIXELS = """(canvas, limit) => {
    // coloured pixels of the data layer are samples (axes and titles are grey or black; the
    // uncoloured samples' muted blue spreads its channels by 75)
    const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    const rect = canvas.getBoundingClientRect();
    const found = [];
    for (let i = 0; i < data.length && found.length < limit; i += 4 * 7) {
        const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
        if (a > 200 && Math.max(r, g, b) - Math.min(r, g, b) > 50) {
            const p = i / 4;
            found.push([rect.left + (p % canvas.width) * rect.width / canvas.width,
                        rect.top + Math.floor(p / canvas.width) * rect.height / canvas.height]);
        }
    }
    return found;
}"""

TOOLTIP_TEXT = """() => {
    // Bokeh tooltips live in nested shadow roots; collect their visible text
    const texts = [];
    const collect = (node) => {
        if (node.nodeName === "STYLE") return;
        if (node.nodeType === 3) { if (node.textContent.trim()) texts.push(node.textContent.trim()); return; }
        if (node.shadowRoot) collect(node.shadowRoot);
        node.childNodes.forEach(collect);
    };
    const find = (root) => root.querySelectorAll("*").forEach((el) => {
        if (String(el.className).includes("bk-Tooltip")) collect(el);
        if (el.shadowRoot) find(el.shadowRoot);
    });
    find(document);
    return texts.join(" ");
}"""


def hover_text(plot, samples: set[str], points: int = 40) -> str:
    """The tooltip shown while the mouse rests on coloured pixels of ``plot`` (a ``.bk-Canvas`` locator),
    trying up to ``points`` of them until it names one of ``samples`` ("" if it never does)."""
    page = plot.page
    shown = ""
    for x, y in plot.locator("canvas").first.evaluate(COLOURED_PIXELS, points):
        page.mouse.move(x, y)
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            shown = page.evaluate(TOOLTIP_TEXT)
            if samples.intersection(shown.split()):
                return shown
            time.sleep(0.1)
    return shown
