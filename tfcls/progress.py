"""The one progress rule for long work (embedding, tuner trials, epochs, export, retraining).

Everything goes to stderr, so stdout keeps only a command's results and its summary line:

- on a terminal, :class:`Progress` is a tqdm bar, redrawn in place (a nested bar, such as
  the texts of one export candidate, vanishes when done; a top-level one stays);
- elsewhere (CI logs, a pipe) it is a counted line every ``interval`` seconds (10 s), so a
  long step still shows life without flooding the log; a step shorter than that prints
  nothing;
- :func:`set_quiet` (``--quiet`` on every command, or ``TFCLS_QUIET=1``, which child
  processes inherit) silences progress entirely: bars, lines and :func:`log` messages;
  errors, warnings and the summary line are printed as before.

:class:`Progress` counts items; :class:`Stages` names the steps of a long procedure;
:func:`log` prints one progress message without breaking a bar. Keras and KerasTuner
hooks built on these are in :mod:`tfcls.progress_keras`.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from types import TracebackType
from typing import Any, TextIO

QUIET_ENV = "TFCLS_QUIET"


def set_quiet(quiet: bool = True) -> None:
    """Silence (or restore) progress for this process and the tfcls processes it starts."""
    if quiet:
        os.environ[QUIET_ENV] = "1"
    else:
        os.environ.pop(QUIET_ENV, None)


def is_quiet() -> bool:
    """Whether progress is silenced (:func:`set_quiet`, or ``TFCLS_QUIET=1`` inherited)."""
    return os.environ.get(QUIET_ENV, "") not in ("", "0")


def _isatty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def log(message: str, stream: TextIO | None = None) -> None:
    """Print one progress message on stderr (unless quiet), above any bar being drawn."""
    if is_quiet():
        return
    stream = stream or sys.stderr
    if _isatty(stream):
        from tqdm import tqdm

        tqdm.write(message, file=stream)
    else:
        stream.write(message + "\n")
    stream.flush()


def _width(stream: TextIO) -> dict[str, Any]:
    """tqdm's size options: follow the terminal, or 80 x 24 where it reports no size (a
    pseudo-terminal without one, where tqdm would draw nothing)."""
    try:
        size = os.get_terminal_size(stream.fileno())
    except (AttributeError, OSError, ValueError):
        size = os.terminal_size((0, 0))
    if size.columns > 0 and size.lines > 0:
        return {"dynamic_ncols": True}
    return {"ncols": size.columns or 80, "nrows": size.lines or 24}


class Progress:
    """Progress of ``total`` items (None: unknown) of one step, by the module's rule.

    ``update(n, note=...)`` records items done; ``note`` is a short status shown after
    the count (``best val_accuracy 0.8100``). The line printed off a terminal reads
    ``label: done/total unit (pct%), rate; note``. Use it as a context manager or call
    :meth:`close`; ``enabled=False`` makes it silent whatever the quiet switch says.
    """

    def __init__(
        self,
        label: str,
        total: int | None,
        unit: str = "items",
        stream: TextIO | None = None,
        interval: float | None = None,
        enabled: bool = True,
        initial: int = 0,
    ) -> None:
        self.label, self.total, self.unit = label, total, unit
        self.stream = stream or sys.stderr
        self.tty = _isatty(self.stream)
        self.interval = interval if interval is not None else (0.1 if self.tty else 10.0)
        self.enabled = enabled and not is_quiet() and (total is None or total > 0)
        self.done, self.note = initial, ""
        self.start = time.perf_counter()
        self._last = self.start
        self._printed = False
        self._bar: Any = None
        if self.enabled and self.tty:
            from tqdm import tqdm

            self._bar = tqdm(
                total=total,
                initial=initial,
                desc=label,
                unit=f" {unit}",
                file=self.stream,
                leave=None,  # a top-level bar stays, a nested one goes
                mininterval=self.interval,
                **_width(self.stream),
            )

    def update(self, n: int = 1, note: str | None = None) -> None:
        """Record ``n`` more items done (and a new ``note``); draw if it is time."""
        self.done += n
        if note is not None:
            self.note = note
        if not self.enabled:
            return
        if self._bar is not None:
            if note is not None:
                self._bar.set_postfix_str(note, refresh=False)
            self._bar.update(n)
            return
        now = time.perf_counter()
        if now - self._last >= self.interval:
            self._last = now
            self._print()

    def close(self) -> None:
        """Finish: close the bar; off a terminal, a final line if any line was printed."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self.enabled and self._printed:
            self._print()
        self.enabled = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def line(self) -> str:
        """The counted line printed off a terminal."""
        elapsed = max(time.perf_counter() - self.start, 1e-9)
        count = f"{self.done}/{self.total}" if self.total else f"{self.done}"
        pct = f" ({100.0 * self.done / self.total:.0f}%)" if self.total else ""
        rate = self.done / elapsed
        if rate >= 1 or not self.done:
            speed = f"{rate:.0f} {self.unit}/s"
        else:
            speed = f"{elapsed / self.done:.1f} s each"
        note = f"; {self.note}" if self.note else ""
        return f"{self.label}: {count} {self.unit}{pct}, {speed}{note}"

    def _print(self) -> None:
        self._printed = True
        self.stream.write(self.line() + "\n")
        self.stream.flush()


class Stages:
    """Named steps of a long procedure (retraining): ``label i/n: name`` as each begins.

    One :func:`log` line per stage, on a terminal and off it alike (stages are long;
    each inner step draws its own progress), nothing when quiet.
    """

    def __init__(self, label: str, names: Sequence[str], stream: TextIO | None = None) -> None:
        self.label, self.names, self.stream = label, list(names), stream
        self.current = 0

    def begin(self, name: str) -> None:
        """Announce the stage ``name`` (one of ``names``; an unlisted one is counted on)."""
        self.current = self.names.index(name) + 1 if name in self.names else self.current + 1
        log(f"{self.label} {self.current}/{len(self.names)}: {name}", self.stream)
