"""Browser latency of the PC View on 100,000 samples: from the click to changed pixels, in Chromium.

* ``recolour_browser_ms_100k``: choose another colour field (study <-> tissue): new data goes into the
  plot on screen (target <= 300 ms); the plot element must stay the same (zoom and tools kept);
* baseline, same run: switching between a field and a gene's expression, which replaces the figure
  (another kind of colouring), the path every recolour took when each change rebuilt the plot;
* where the time goes, per recolour: the server's CPU time, the page's main-thread task time (Chromium's
  ``TaskDuration`` metric) and the bytes the server sends over the websocket. On a loaded machine the wall
  time mostly waits for a core; their sum estimates the latency on an idle one.

Served by ``atted-explore serve`` on loopback; Debian's /usr/bin/chromium through Playwright.
Usage: ``python benchmarks/browser_latency.py [--quick]``; the last line holds key=value figures.
"""

from __future__ import annotations

import os
import statistics
from dataclasses import dataclass
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "benchmarks"), str(ROOT)]
from _bench_atlas import CANVAS_STATE_JS, bench_atlas  # noqa: E402
from _common import parser, result_line  # noqa: E402
import psutil  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from tests.serving import free_port, serve_command, serving  # noqa: E402

@dataclass
class Probe:
    """Counters read around one action: server CPU, page main-thread time, websocket bytes received."""

    server: psutil.Process
    cdp: object
    received: list

    def read(self) -> tuple[float, float, int]:
        cpu = self.server.cpu_times()
        metrics = {m["name"]: m["value"] for m in self.cdp.send("Performance.getMetrics")["metrics"]}
        return (cpu.user + cpu.system) * 1000, metrics["TaskDuration"] * 1000, sum(self.received)


def timed_choice(page, probe: Probe, value: str, limit_ms: float = 60_000) -> dict:
    """Choose ``value`` in the PC View's colour select: ms until the plot's pixels change, whether the canvas
    element stayed, and the server CPU ms, page task ms and websocket bytes spent meanwhile."""
    canvas = page.locator(".bk-Canvas").first.locator("canvas").first
    canvas.evaluate("c => { c.__marker = true; }")
    before, _, _, _ = canvas.evaluate(CANVAS_STATE_JS)
    select = page.locator("select:has(option[value='gene expression'])").first
    counters = probe.read()
    start = page.evaluate("() => performance.now()")
    select.select_option(value)
    polling_ms = 0.0
    while True:
        pixels, same, now, took = canvas.evaluate(CANVAS_STATE_JS)
        polling_ms += took
        if pixels != before or now - start > limit_ms:
            break
    page.wait_for_timeout(500)  # messages still arriving after the first change count too
    server_ms, page_ms, received = (after - first for after, first in zip(probe.read(), counters, strict=True))
    return {"ms": now - start, "kept": same, "server_cpu_ms": server_ms, "page_ms": page_ms - polling_ms,
            "bytes": received}


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    path = bench_atlas("100k", n_samples=100_000, n_genes=500)
    repeats = 3 if args.quick else 8
    port = free_port()
    url = f"http://localhost:{port}/"
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp, serving(serve_command(path, port), url, Path(tmp) / "serve.log") as proc:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            received: list[int] = []
            page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: received.append(len(payload))))
            cdp = page.context.new_cdp_session(page)
            cdp.send("Performance.enable")
            probe = Probe(psutil.Process(proc.pid), cdp, received)
            page.goto(url, timeout=300_000)
            page.locator(".bk-Canvas").first.wait_for(timeout=300_000)
            page.wait_for_timeout(3000)
            recolour = [timed_choice(page, probe, "tissue" if i % 2 == 0 else "study") for i in range(repeats)]
            replace = [timed_choice(page, probe, "gene expression" if i % 2 == 0 else "study")
                       for i in range(repeats)]
            browser.close()
    median = lambda runs, key: statistics.median(run[key] for run in runs)  # noqa: E731
    figures["recolour_browser_ms_100k"] = median(recolour, "ms")
    figures["replace_browser_ms_100k"] = median(replace, "ms")
    figures["replace_vs_recolour"] = figures["replace_browser_ms_100k"] / figures["recolour_browser_ms_100k"]
    figures["plot_element_kept"] = int(all(run["kept"] for run in recolour))
    for name, runs in (("recolour", recolour), ("replace", replace)):
        figures[f"{name}_server_cpu_ms"] = median(runs, "server_cpu_ms")
        figures[f"{name}_page_ms"] = median(runs, "page_ms")
        figures[f"{name}_mb"] = median(runs, "bytes") / 1e6
    figures["recolour_idle_estimate_ms"] = figures["recolour_server_cpu_ms"] + figures["recolour_page_ms"]
    figures["load_average"] = os.getloadavg()[0]
    runs = ", ".join(f"{run['ms']:.0f}" for run in recolour)
    print(f"recolour (same plot, new data): median {figures['recolour_browser_ms_100k']:.0f} ms "
          f"(runs {runs}); plot element kept: "
          f"{bool(figures['plot_element_kept'])}")
    print(f"baseline, figure replaced: median {figures['replace_browser_ms_100k']:.0f} ms "
          f"({figures['replace_vs_recolour']:.2f}x the recolour); target recolour <= 300 ms")
    for name in ("recolour", "replace"):
        print(f"  {name}: server CPU {figures[f'{name}_server_cpu_ms']:.0f} ms, page main thread "
              f"{figures[f'{name}_page_ms']:.0f} ms, {figures[f'{name}_mb']:.2f} MB over the websocket")
    print(f"  recolour on an idle machine (server CPU + page time): ~{figures['recolour_idle_estimate_ms']:.0f} ms; "
          f"load average {figures['load_average']:.1f} on {os.cpu_count()} CPUs")
    print(result_line(**figures))


if __name__ == "__main__":
    main()
