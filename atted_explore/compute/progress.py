"""Progress reporting for long computations: a tqdm bar or a ``(done, total)`` callback."""

from __future__ import annotations

import threading
from collections.abc import Callable

from tqdm.auto import tqdm

Progress = bool | Callable[[int, int], object] | None


class ProgressReporter:
    """Thread-safe counter that drives a tqdm bar (``progress=True``) or calls ``progress(done, total)``."""

    def __init__(self, progress: Progress, total: int, description: str):
        self.total = total
        self.done = 0
        self._lock = threading.Lock()
        self._callback = progress if callable(progress) else None
        self._bar = tqdm(total=total, desc=description, unit="bag") if progress is True else None

    def update(self, n: int = 1) -> None:
        with self._lock:
            self.done += n
            if self._bar is not None:
                self._bar.update(n)
            if self._callback is not None:
                self._callback(self.done, self.total)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()

    def __enter__(self) -> ProgressReporter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
