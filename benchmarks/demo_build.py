"""Build time of the demo atlas presets against drawing as many standard normals with numpy.

Each preset is built in a fresh process so its peak RSS is its own (the
streamed ``large`` preset must not hold its expression matrix in memory).
The baseline, measured in the same process right after the build, is the time
numpy takes to draw the same number of float32 standard normals (in blocks of
the same size), so ratio = build / baseline is the generator's overhead.

    python benchmarks/demo_build.py [--quick]

--quick builds ``small``, ``default`` and ``large`` at reduced sample counts.
The last line is ``key=value`` pairs.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

QUICK_SAMPLES = {
    "default": {"Ath-r": 5_000, "Osa-r": 2_000, "Zma-r": 1_250},
    "large": {"Ath-r": 20_000, "Osa-r": 4_000, "Zma-r": 2_000},
}


def _measure(preset: str, overrides: dict, folder: str, results) -> None:
    from atted_explore import datasets
    from atted_explore.atlas import species_nodes

    path = Path(folder) / f"demo-{preset}.zarr" if preset == "large" else None
    start = time.perf_counter()
    atlas = datasets.demo(preset, seed=0, path=path, **overrides)
    build = time.perf_counter() - start
    shapes = [atlas[node]["expression"].shape for node in species_nodes(atlas)]
    block = 8192
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for n_genes, n_samples in shapes:
        for first in range(0, n_samples, block):
            rng.standard_normal((n_genes, min(block, n_samples - first)), dtype=np.float32)
    baseline = time.perf_counter() - start
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux
    results.put((build, baseline, peak_gb, shapes))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="reduced default and large presets (< 1 min)")
    args = parser.parse_args()
    context = multiprocessing.get_context("spawn")
    figures = {}
    with tempfile.TemporaryDirectory(prefix="demo-build-") as folder:
        for preset in ("small", "default", "large"):
            overrides = {"n_samples": QUICK_SAMPLES[preset]} if args.quick and preset in QUICK_SAMPLES else {}
            results = context.Queue()
            worker = context.Process(target=_measure, args=(preset, overrides, folder, results))
            worker.start()
            build, baseline, peak_gb, shapes = results.get()
            worker.join()
            cells = sum(g * s for g, s in shapes)
            print(
                f"{preset:8s} build {build:7.2f} s  numpy normals {baseline:6.2f} s  ratio {build / baseline:5.1f}  "
                f"peak RSS {peak_gb:5.2f} GB  (gene x sample: {', '.join(f'{g}x{s}' for g, s in shapes)}; "
                f"{cells / 1e6:.0f} M values)"
            )
            figures[preset] = (build, baseline, peak_gb, shapes)
    line = {
        "small_s": f"{figures['small'][0]:.3f}",
        "small_ratio": f"{figures['small'][0] / figures['small'][1]:.1f}",
        "default_s": f"{figures['default'][0]:.2f}",
        "default_ratio": f"{figures['default'][0] / figures['default'][1]:.1f}",
        "large_s": f"{figures['large'][0]:.2f}",
        "large_ratio": f"{figures['large'][0] / figures['large'][1]:.1f}",
        "large_samples": max(s for _, s in figures["large"][3]),
        "large_peak_rss_gb": f"{figures['large'][2]:.2f}",
        "peak_rss_gb": f"{max(f[2] for f in figures.values()):.2f}",
        "quick": int(args.quick),
    }
    print(" ".join(f"{key}={value}" for key, value in line.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
