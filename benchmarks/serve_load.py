"""Load test of the served Explorer: 20 concurrent sessions on a 20,000-gene x 20,000-sample atlas.

Each session is a Bokeh client session (``bokeh.client.pull_session``, loopback only), what a
browser page is to the server without the browser: it opens the app (the server builds the
Explorer and sends its document), recolours the PC View by another field and chooses a gene
(the PC View recolours by its expression) by setting the widgets' values in its copy of the
document, waits each time for the server's patch of the PC plot, then closes. Twenty Chromium
pages do not fit on two cores; this measures the server. Reported: errors (target 0), p95
latency of a recolour (value set to the plot's patch received), and the server's RSS before
any session, after the first session, at the peak and 60 s after every session closed (target:
back within 10% of the level after the first session). Baseline in the same run: the same
actions in one session alone.

Bounded: 20 sessions, two actions each, 10 minutes at most. Usage:
``python benchmarks/serve_load.py [--quick]`` (quick, under a minute: 4 sessions on a 2,000 x 2,000
atlas built once into ``data/``; the server discards closed sessions after 1 s instead of Bokeh's
15-32 s, and the RSS "after 60 s" is read 5 s after closing).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path

import numpy as np
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "benchmarks"), str(ROOT)]
from _bench_atlas import bench_atlas  # noqa: E402
from _common import parser, result_line  # noqa: E402
from bokeh.models import AutocompleteInput, Select  # noqa: E402

import atted_explore.app  # noqa: E402,F401 (registers Panel's and the app's models for the client documents)
from atted_explore import open_atlas  # noqa: E402

from tests.serving import ClientSession, free_port, option_values, serving  # noqa: E402

TIME_LIMIT_S = 600
ACTION_LIMIT_S = 120
AFTER_CLOSE_S = 60
QUICK_AFTER_CLOSE_S = 5
#: what ``atted-explore serve`` runs, with a chosen lifetime of closed sessions in seconds (0: Bokeh's default)
SERVER = "import sys; from atted_explore.app import serve; serve(sys.argv[1], port=int(sys.argv[2]), " \
         "address='127.0.0.1', closed_session_lifetime_s=float(sys.argv[3]) or None)"
COLOR_FIELDS = ("tissue", "study")


def one_session(url: str, gene: str, results: dict) -> None:
    """Open, recolour by field, choose a gene, close; latencies and problems into ``results``."""
    session = None
    try:
        start = time.perf_counter()
        session = ClientSession(url, ACTION_LIMIT_S)
        results["open_ms"].append((time.perf_counter() - start) * 1000)
        color = session.model(Select, lambda m: "gene expression" in option_values(m))
        field = next(f for f in COLOR_FIELDS if f != color.value)
        results["recolour_ms"].append(session.timed(color, field))
        picker = session.model(AutocompleteInput, lambda m: m.placeholder == "gene ID or symbol")
        label = next(c for c in picker.completions if c == gene or c.startswith(f"{gene} "))
        results["gene_ms"].append(session.timed(picker, label))
    except Exception as error:  # every failure of a session is counted, none stops the others
        results["problems"].append(f"{type(error).__name__}: {error}")
    finally:
        if session is not None:
            session.client.close()


def new_results() -> dict:
    return {"problems": [], "open_ms": [], "recolour_ms": [], "gene_ms": []}


def rss_mb(process: psutil.Process) -> float:
    return process.memory_info().rss / 1e6


def run_load(url: str, server: psutil.Process, n_sessions: int, genes: list[str], after_close_s: float) -> dict:
    rss = {"before": rss_mb(server)}
    alone = new_results()
    one_session(url, genes[0], alone)
    rss["after_first"] = rss_mb(server)
    results, peak, done = new_results(), [rss["after_first"]], threading.Event()

    def sample() -> None:
        while not done.wait(0.25):
            peak.append(rss_mb(server))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.monotonic()
    pool = ThreadPoolExecutor(max_workers=n_sessions)
    tasks = [pool.submit(one_session, url, genes[i % len(genes)], results) for i in range(n_sessions)]
    _, unfinished = wait(tasks, timeout=TIME_LIMIT_S)
    # a session still running at the time limit is an error (its own action limit ends its thread later)
    results["problems"] += [f"session unfinished after {TIME_LIMIT_S} s"] * len(unfinished)
    pool.shutdown(wait=False, cancel_futures=True)
    results["load_s"] = time.monotonic() - start
    done.set()
    sampler.join()
    rss["peak"] = max(peak)
    time.sleep(after_close_s)  # the server discards a closed session 15-32 s later (Bokeh's defaults; quick: 1 s)
    rss["after_60s"] = rss_mb(server)
    return results | {"rss": rss, "alone": alone}


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    size = 2_000 if args.quick else 20_000
    n_sessions = 4 if args.quick else 20
    after_close_s = QUICK_AFTER_CLOSE_S if args.quick else AFTER_CLOSE_S
    path = bench_atlas(f"{size // 1000}k-square", n_samples=size, n_genes=size, n_bags=2, top_k=100)
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    genes = [str(g) for g in open_atlas(path)["Ath-r"]["gene"].values[:: size // 7][:5]]
    command = [sys.executable, "-c", SERVER, str(path), str(port), "1" if args.quick else "0"]
    print(f"load: {n_sessions} concurrent sessions (open, recolour, choose a gene, close) on {size:,} genes x "
          f"{size:,} samples; RSS read {after_close_s} s after closing", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        # on the C library's malloc, as the atted-explore command serves
        with serving(command, url, Path(tmp) / "s.log", env={**os.environ, "PYTHONMALLOC": "malloc"}) as proc:
            results = run_load(url, psutil.Process(proc.pid), n_sessions, genes, after_close_s)
        server_errors = [line for line in (Path(tmp) / "s.log").read_text().splitlines() if "Error" in line]
    rss, alone = results["rss"], results["alone"]
    latencies = results["recolour_ms"] + results["gene_ms"]
    nan = float("nan")
    figures = {
        "sessions": n_sessions,
        "errors": len(results["problems"]) + len(alone["problems"]),
        "recolour_p95_ms": float(np.percentile(latencies, 95)) if latencies else nan,
        "recolour_median_ms": statistics.median(latencies) if latencies else nan,
        "open_p95_ms": float(np.percentile(results["open_ms"], 95)) if results["open_ms"] else nan,
        "alone_recolour_ms": statistics.median(alone["recolour_ms"] + alone["gene_ms"] or [nan]),
        "alone_open_ms": statistics.median(alone["open_ms"] or [nan]),
        "rss_before_mb": rss["before"], "rss_first_mb": rss["after_first"], "rss_peak_mb": rss["peak"],
        "rss_after_60s_mb": rss["after_60s"],
        "rss_return_ratio": rss["after_60s"] / rss["after_first"],
        "after_close_s": after_close_s, "load_s": results["load_s"], "load_average": os.getloadavg()[0],
    }
    figures["p95_vs_alone"] = figures["recolour_p95_ms"] / figures["alone_recolour_ms"]
    for problem in (alone["problems"] + results["problems"])[:10]:
        print(f"  problem: {problem}")
    for line in server_errors[:10]:
        print(f"  server log: {line}")
    print(f"{n_sessions} concurrent sessions on {size:,} genes x {size:,} samples in {figures['load_s']:.0f} s: "
          f"{figures['errors']} errors; recolour p95 {figures['recolour_p95_ms']:.0f} ms, median "
          f"{figures['recolour_median_ms']:.0f} ms (one session alone: {figures['alone_recolour_ms']:.0f} ms); "
          f"page open p95 {figures['open_p95_ms']:.0f} ms (alone {figures['alone_open_ms']:.0f} ms)")
    print(f"server RSS: before {rss['before']:.0f} MB, after the first session {rss['after_first']:.0f} MB, "
          f"peak {rss['peak']:.0f} MB, {after_close_s} s after closing {rss['after_60s']:.0f} MB "
          f"({100 * (figures['rss_return_ratio'] - 1):+.1f}% vs after the first; target within 10%)")
    print(result_line(**figures))


if __name__ == "__main__":
    main()
