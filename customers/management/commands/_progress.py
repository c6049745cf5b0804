"""A one-line text progress bar for management commands (no extra dependency)."""

from __future__ import annotations

import sys
import time


class ProgressBar:
    def __init__(self, stream=None, width: int = 30):
        self.stream = stream or sys.stderr
        self.width = width
        self._last = 0.0
        self._step = None

    def __call__(self, step: str, done: int, total: int) -> None:
        now = time.monotonic()
        finished = total == 0 or done >= total
        if step == self._step and not finished and now - self._last < 0.2:
            return
        if step != self._step and self._step is not None:
            self.stream.write("\n")
        self._step, self._last = step, now
        share = 1.0 if total == 0 else done / total
        filled = int(share * self.width)
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r{step:<14} [{bar}] {share:6.1%}")
        self.stream.flush()

    def close(self) -> None:
        if self._step is not None:
            self.stream.write("\n")
            self.stream.flush()
        self._step = None
