"""Browser latency of the PC View on 100,000 samples: from the click to changed pixels, in Chromium.

* ``recolour_browser_ms_100k``: choose another colour field (study <-> tissue): new data goes into the
  plot on screen (target <= 300 ms); the plot element must stay the same (zoom and tools kept);
* baseline, same run: switching between a field and a gene's expression, which replaces the figure
  (another kind of colouring), the path every recolour took when each change rebuilt the plot.

Served by ``atted-explore serve`` on loopback; Debian's /usr/bin/chromium through Playwright.
Usage: ``python benchmarks/browser_latency.py [--quick]``; the last line holds key=value figures.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "benchmarks"), str(ROOT)]
from _bench_atlas import CANVAS_STATE_JS, bench_atlas  # noqa: E402
from _common import parser, result_line  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from tests.serving import free_port, serve_command, serving  # noqa: E402

def timed_choice(page, value: str, limit_ms: float = 20_000) -> tuple[float, bool]:
    """Choose ``value`` in the PC View's colour select: (ms until the plot's pixels change, same canvas element)."""
    canvas = page.locator(".bk-Canvas").first.locator("canvas").first
    canvas.evaluate("c => { c.__marker = true; }")
    before, _, _ = canvas.evaluate(CANVAS_STATE_JS)
    select = page.locator("select:has(option[value='gene expression'])").first
    start = page.evaluate("() => performance.now()")
    select.select_option(value)
    while True:
        pixels, same, now = canvas.evaluate(CANVAS_STATE_JS)
        if pixels != before or now - start > limit_ms:
            return now - start, same


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    path = bench_atlas("100k", n_samples=100_000, n_genes=500)
    repeats = 3 if args.quick else 8
    port = free_port()
    url = f"http://localhost:{port}/"
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp, serving(serve_command(path, port), url, Path(tmp) / "serve.log"):
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            page.goto(url, timeout=300_000)
            page.locator(".bk-Canvas").first.wait_for(timeout=180_000)
            page.wait_for_timeout(3000)
            recolour, replace, kept = [], [], []
            for i in range(repeats):
                ms, same = timed_choice(page, "tissue" if i % 2 == 0 else "study")
                recolour.append(ms)
                kept.append(same)
                page.wait_for_timeout(300)
            for i in range(repeats):
                ms, _ = timed_choice(page, "gene expression" if i % 2 == 0 else "study")
                replace.append(ms)
                page.wait_for_timeout(300)
            browser.close()
    figures["recolour_browser_ms_100k"] = statistics.median(recolour)
    figures["replace_browser_ms_100k"] = statistics.median(replace)
    figures["replace_vs_recolour"] = figures["replace_browser_ms_100k"] / figures["recolour_browser_ms_100k"]
    figures["plot_element_kept"] = int(all(kept))
    figures["load_average"] = os.getloadavg()[0]
    print(f"recolour (same plot, new data): median {figures['recolour_browser_ms_100k']:.0f} ms "
          f"(runs {', '.join(f'{v:.0f}' for v in recolour)}); plot element kept: {all(kept)}")
    print(f"baseline, figure replaced: median {figures['replace_browser_ms_100k']:.0f} ms "
          f"({figures['replace_vs_recolour']:.2f}x the recolour); target recolour <= 300 ms; "
          f"load average {figures['load_average']:.1f} on {os.cpu_count()} CPUs")
    print(result_line(**figures))


if __name__ == "__main__":
    main()
