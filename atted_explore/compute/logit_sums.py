"""The bag sums of the subagging engine, shared by the threads of one process.

Each bag adds ``floor(scale * LS_b + 0.5)`` of every pair ``A < B`` to one packed
strict upper triangle (int32, :func:`~atted_explore.compute.ranking.accumulate_logit`);
see :mod:`~atted_explore.compute.indices`.
"""

from __future__ import annotations

import threading
from collections import deque

import numpy as np

from . import ranking


class LogitSums:
    """The packed bag sums (strict upper triangle, int32) that the threads of one process add their bags to.

    One triangle for all threads instead of one per thread (0.8 GB less per extra thread at 20,000 genes).
    Each block of ``ranking.TILE`` rows is added under its own lock; a thread skips blocks another
    thread holds and comes back to them, and thread ``t`` of ``n`` starts ``t / n`` of the way
    down, so threads rarely wait. Integer sums do not depend on the order of addition: the
    total is bit-identical to one thread's.
    """

    def __init__(self, n_genes: int):
        self.packed = np.zeros(n_genes * (n_genes - 1) // 2, dtype=np.int32)
        self.locks = [threading.Lock() for _ in range(0, n_genes, ranking.TILE)]

    def add(self, ranks: np.ndarray, scale: float, thread: int = 0, n_threads: int = 1) -> None:
        """Add ``round(scale * LS_b)`` of one bag's doubled ``ranks`` (:func:`ranking.accumulate_logit`)."""
        n_blocks = len(self.locks)
        first = thread * n_blocks // n_threads
        pending = deque((first + block) % n_blocks for block in range(n_blocks))
        skipped = 0
        while pending:
            block = pending.popleft()
            # wait for a lock only once every other pending block was found taken since the last add
            if not self.locks[block].acquire(blocking=skipped >= len(pending)):
                pending.append(block)
                skipped += 1
                continue
            try:
                ranking.accumulate_logit(ranks, scale, self.packed, block * ranking.TILE, (block + 1) * ranking.TILE)
            finally:
                self.locks[block].release()
            skipped = 0
