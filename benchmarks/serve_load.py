"""Load test of the served Explorer: 20 concurrent browser sessions on a 20,000-gene x 20,000-sample atlas.

Each session (a Chromium page, loopback only) opens the app, recolours the PC View by another
field, chooses a gene (the PC View recolours by its expression), then closes. Reported: errors
(console errors, page errors, time-outs; target 0), p95 latency of a recolour (click to changed
pixels), and the server's RSS before any session, after the first session, at the peak and 60 s
after every session closed (target: back within 10% of the level after the first session).
Baseline in the same run: the same recolour with one session alone.

Bounded: 20 sessions, two actions each, 10 minutes at most. Usage:
``python benchmarks/serve_load.py [--quick]`` (quick: 5 sessions, 5,000 x 5,000 atlas).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "benchmarks"), str(ROOT)]
from _bench_atlas import CANVAS_STATE_JS, bench_atlas  # noqa: E402
from _common import parser, result_line  # noqa: E402
from playwright.async_api import async_playwright  # noqa: E402

from atted_explore import open_atlas  # noqa: E402

from tests.serving import free_port, serve_command, serving  # noqa: E402

TIME_LIMIT_S = 600
ACTION_LIMIT_MS = 60_000


async def changed_after(page, action) -> float:
    """ms from ``action()`` until the PC plot's pixels change (raises TimeoutError past the limit)."""
    canvas = page.locator(".bk-Canvas").first.locator("canvas").first
    before, _, start, _ = await canvas.evaluate(CANVAS_STATE_JS)
    await action()
    while True:
        pixels, _, now, _ = await canvas.evaluate(CANVAS_STATE_JS)
        if pixels != before:
            return now - start
        if now - start > ACTION_LIMIT_MS:
            raise TimeoutError("the PC plot did not change")
        await asyncio.sleep(0.02)


async def session(browser, url: str, gene: str, results: dict) -> None:
    """One user: open, recolour by field, choose a gene; latencies and problems into ``results``."""
    page = await browser.new_page(viewport={"width": 1400, "height": 1000})
    problems = results["problems"]
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    try:
        # the server builds one session at a time: the last of 20 pages opened at once waits for the other 19
        await page.goto(url, timeout=TIME_LIMIT_S * 1000)
        await page.locator(".bk-Canvas").first.wait_for(timeout=TIME_LIMIT_S * 1000)
        await page.wait_for_timeout(1000)
        color = page.locator("select:has(option[value='gene expression'])").first
        field = "tissue" if await color.input_value() != "tissue" else "study"
        results["recolour_ms"].append(await changed_after(page, lambda: color.select_option(field)))
        picker = page.get_by_placeholder("gene ID or symbol").first

        async def choose_gene():
            await picker.click()
            await picker.fill("")
            await picker.press_sequentially(gene, delay=20)
            item = page.locator(".bk-menu .bk-item, .bk-menu > div").filter(visible=True).first
            await item.click(timeout=ACTION_LIMIT_MS)

        results["gene_ms"].append(await changed_after(page, choose_gene))
    except Exception as error:  # every failure of a session is counted, none stops the others
        problems.append(f"{type(error).__name__}: {error}")
    finally:
        await page.close()


def rss_mb(process: psutil.Process) -> float:
    return process.memory_info().rss / 1e6


async def run_load(url: str, server: psutil.Process, n_sessions: int, genes: list[str]) -> dict:
    results = {"problems": [], "recolour_ms": [], "gene_ms": []}
    rss = {"before": rss_mb(server)}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        alone = {"problems": [], "recolour_ms": [], "gene_ms": []}
        await session(browser, url, genes[0], alone)
        rss["after_first"] = rss_mb(server)
        peak = [rss["after_first"]]

        async def sample():
            while True:
                peak.append(rss_mb(server))
                await asyncio.sleep(0.25)

        sampler = asyncio.create_task(sample())
        start = time.monotonic()
        tasks = [asyncio.create_task(session(browser, url, genes[i % len(genes)], results)) for i in range(n_sessions)]
        _, unfinished = await asyncio.wait(tasks, timeout=TIME_LIMIT_S)
        for task in unfinished:  # a session still running at the time limit is an error, not a hang
            task.cancel()
            results["problems"].append(f"session unfinished after {TIME_LIMIT_S} s")
        await asyncio.gather(*unfinished, return_exceptions=True)
        results["load_s"] = time.monotonic() - start
        sampler.cancel()
        rss["peak"] = max(peak)
        await browser.close()
    await asyncio.sleep(60)  # sessions are discarded ~15-30 s after their page closes
    rss["after_60s"] = rss_mb(server)
    results |= {"rss": rss, "alone": alone}
    return results


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    size = 5_000 if args.quick else 20_000
    n_sessions = 5 if args.quick else 20
    path = bench_atlas(f"{size // 1000}k-square", n_samples=size, n_genes=size, n_bags=2, top_k=100)
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    genes = [str(g) for g in open_atlas(path)["Ath-r"]["gene"].values[:: size // 7][:5]]
    with tempfile.TemporaryDirectory() as tmp, serving(serve_command(path, port), url, Path(tmp) / "s.log") as proc:
        results = asyncio.run(run_load(url, psutil.Process(proc.pid), n_sessions, genes))
    rss, alone = results["rss"], results["alone"]
    latencies = results["recolour_ms"] + results["gene_ms"]
    figures = {
        "sessions": n_sessions,
        "errors": len(results["problems"]),
        "recolour_p95_ms": float(np.percentile(latencies, 95)) if latencies else float("nan"),
        "recolour_median_ms": statistics.median(latencies) if latencies else float("nan"),
        "alone_recolour_ms": statistics.median(alone["recolour_ms"] + alone["gene_ms"] or [float("nan")]),
        "rss_before_mb": rss["before"], "rss_first_mb": rss["after_first"], "rss_peak_mb": rss["peak"],
        "rss_after_60s_mb": rss["after_60s"],
        "rss_return_ratio": rss["after_60s"] / rss["after_first"],
        "load_s": results["load_s"], "load_average": os.getloadavg()[0],
    }
    figures["p95_vs_alone"] = figures["recolour_p95_ms"] / figures["alone_recolour_ms"]
    for problem in results["problems"][:10]:
        print(f"  problem: {problem}")
    print(f"{n_sessions} sessions on {size:,} genes x {size:,} samples: {figures['errors']} errors; "
          f"recolour p95 {figures['recolour_p95_ms']:.0f} ms (one session alone: {figures['alone_recolour_ms']:.0f} ms)")
    print(f"server RSS: before {rss['before']:.0f} MB, after the first session {rss['after_first']:.0f} MB, "
          f"peak {rss['peak']:.0f} MB, 60 s after closing {rss['after_60s']:.0f} MB "
          f"({100 * (figures['rss_return_ratio'] - 1):+.1f}% vs after the first; target within 10%)")
    print(result_line(**figures))


if __name__ == "__main__":
    main()
