"""The newcomer's first minute: ``atted-explore demo`` on a fresh data folder, to a painted PC plot.

Measured from starting the command (installation done): the server answering (``/liveness``),
the first page (HTTP 200) and the PC plot painted in Chromium (target <= 30 s). The small demo is
served at once while the default preset is built in a subprocess. Baseline in the same run: the
time Python takes to import the app (no page can come sooner). ``--full`` also waits for the
default atlas to be built (what the first page waited for before) and reports that ratio.

Usage: ``python benchmarks/first_page.py [--quick | --full]``; the last line holds key=value figures.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "benchmarks"), str(ROOT)]
from _common import parser, result_line  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from tests.serving import free_port  # noqa: E402

PAINTED_JS = """canvas => {
    const d = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && (d[i] < 240 || d[i + 1] < 240 || d[i + 2] < 240)) n++;
    return n;
}"""
LIMIT_S = 600


def until(check, start: float, what: str, limit: float = LIMIT_S) -> float:
    """Seconds from ``start`` until ``check()`` is true (fails past ``limit``)."""
    while not check():
        if time.monotonic() - start > limit:
            raise SystemExit(f"{what} did not happen within {limit} s")
        time.sleep(0.2)
    return time.monotonic() - start


def answers(url: str, timeout: float = 2) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200
    except OSError:
        return False


def main() -> None:
    args = parser(__doc__.splitlines()[0])
    args.add_argument("--full", action="store_true", help="also wait for the default atlas to be built")
    args = args.parse_args()
    start = time.monotonic()
    subprocess.run([sys.executable, "-c", "import atted_explore.app"], check=True)
    import_s = time.monotonic() - start
    port = free_port()
    url = f"http://localhost:{port}/"
    figures: dict[str, float] = {"import_s": import_s}
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as data:
        env = {**os.environ, "ATTED_EXPLORE_DATA": data}
        command = [str(Path(sys.executable).with_name("atted-explore")), "demo", "--port", str(port)]
        log = Path(data) / "demo.log"
        with log.open("w") as out:
            start = time.monotonic()
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
        try:
            figures["liveness_s"] = until(lambda: answers(f"{url}liveness"), start, "the server")
            figures["http_200_s"] = until(lambda: answers(url, timeout=LIMIT_S), start, "the first page")
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(url, timeout=LIMIT_S * 1000)
                canvas = page.locator(".bk-Canvas").first.locator("canvas").first
                canvas.wait_for(state="attached", timeout=LIMIT_S * 1000)
                figures["painted_s"] = until(lambda: canvas.evaluate(PAINTED_JS) > 200, start, "a painted PC plot")
                figures["banner_shown"] = int(page.get_by_text("full default demo atlas").count() > 0)
                browser.close()
            if args.full:
                default = Path(data) / "demo-default-seed0.zarr"
                figures["default_built_s"] = until(lambda: (default / "zarr.json").exists(), start, "the default atlas",
                                                   limit=3 * 3600)
                figures["default_vs_first_page"] = figures["default_built_s"] / figures["painted_s"]
        finally:
            process.send_signal(signal.SIGINT)  # as Ctrl-C: the demo stops its background build too
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
    figures["first_page_vs_import"] = figures["painted_s"] / import_s
    figures["load_average"] = os.getloadavg()[0]
    print(f"fresh data folder: server up {figures['liveness_s']:.1f} s, first page {figures['http_200_s']:.1f} s, "
          f"PC plot painted {figures['painted_s']:.1f} s (target <= 30 s; importing the app alone "
          f"{import_s:.1f} s); banner for the default build shown: {bool(figures['banner_shown'])}; "
          f"load average {figures['load_average']:.1f} on {os.cpu_count()} CPUs")
    if args.full:
        print(f"the default atlas was ready after {figures['default_built_s']:.0f} s "
              f"({figures['default_vs_first_page']:.1f}x the first page)")
    print(result_line(**figures))


if __name__ == "__main__":
    main()
