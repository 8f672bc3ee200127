"""Shared pieces of the benchmark scripts: peak memory, the machine's matmul rate, the result line.

Every script prints its figures and ends with ONE line of ``key=value`` pairs
(:func:`result_line`), so CI and the closing notes can parse it.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time

import numpy as np
from threadpoolctl import threadpool_limits


def parser(description: str) -> argparse.ArgumentParser:
    """An argument parser with the common ``--quick`` flag (a run of < 1 minute)."""
    args = argparse.ArgumentParser(description=description)
    args.add_argument("--quick", action="store_true", help="small sizes: finishes in under a minute")
    return args


def peak_rss_gb() -> float:
    """Peak resident memory of this process so far, in GB (``getrusage``; Linux reports KiB)."""
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib * 1024 / 1e9 if sys.platform != "darwin" else kib / 1e9


def matmul_gflops(threads: int | None = None, size: int = 2048, repeats: int = 3, clock=time.perf_counter) -> float:
    """float32 matrix-multiply rate of numpy's BLAS (best of ``repeats``), GFLOP/s.

    ``clock=time.thread_time`` measures CPU time (with ``threads=1``: robust to other load).
    """
    rng = np.random.default_rng(0)
    a = rng.standard_normal((size, size), dtype=np.float32)
    b = rng.standard_normal((size, size), dtype=np.float32)
    best = np.inf
    with threadpool_limits(threads, user_api="blas"):
        a @ b  # warm-up
        for _ in range(repeats):
            start = clock()
            a @ b
            best = min(best, clock() - start)
    return 2 * size**3 / best / 1e9


def wall_and_cpu_ms(fn, repeats: int) -> tuple[float, float]:
    """Median wall time and median process CPU time of ``fn()`` over ``repeats`` calls, in ms.

    On a loaded machine the CPU time is the better estimate of the wall time on an idle one.
    """
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def report_machine_and_results(figures: dict, headline: list[str], note: str = "") -> None:
    """Add the load average and peak memory to ``figures``, print them (after ``note``), then the result
    line with the ``headline`` keys first."""
    import os

    figures["load_average"] = os.getloadavg()[0]
    figures["peak_rss_gb"] = peak_rss_gb()
    print(f"{note}load average {figures['load_average']:.1f} on {os.cpu_count()} CPUs; "
          f"peak RSS {figures['peak_rss_gb']:.2f} GB")
    print(result_line(**{k: figures[k] for k in headline}, **{k: v for k, v in figures.items() if k not in headline}))


def result_line(**figures) -> str:
    """``key=value`` pairs on one line (floats with 4 significant digits)."""
    return " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items())
