"""Progress lines for long work, on stderr, rate-limited so logs stay readable."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Prints ``label: done/total (pct) rate/s`` at most every ``interval`` seconds.

    On a terminal the line is redrawn in place; elsewhere (CI logs) a line is printed
    every ``interval`` seconds (default 1 s on a terminal, 10 s otherwise).
    """

    def __init__(
        self,
        label: str,
        total: int,
        unit: str = "items",
        stream: TextIO | None = None,
        interval: float | None = None,
        enabled: bool = True,
    ) -> None:
        self.label, self.total, self.unit = label, total, unit
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval = interval if interval is not None else (1.0 if self.tty else 10.0)
        self.enabled = enabled and total > 0
        self.done = 0
        self.start = time.perf_counter()
        self._last = self.start

    def update(self, n: int) -> None:
        """Record n more items done and print if the interval has passed."""
        self.done += n
        now = time.perf_counter()
        if self.enabled and now - self._last >= self.interval:
            self._last = now
            self._print(final=False)

    def close(self) -> None:
        """Print the final line (only if an intermediate one was printed)."""
        if self.enabled and self._last > self.start:
            self._print(final=True)

    def _print(self, final: bool) -> None:
        elapsed = max(time.perf_counter() - self.start, 1e-9)
        pct = 100.0 * self.done / self.total
        line = (
            f"{self.label}: {self.done}/{self.total} {self.unit} ({pct:.0f}%), "
            f"{self.done / elapsed:.0f} {self.unit}/s"
        )
        if self.tty:
            self.stream.write("\r" + line + ("\n" if final else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
