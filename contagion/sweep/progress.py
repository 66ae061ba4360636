"""A one-line progress display for sweeps: runs done, failures, elapsed time and ETA.

On a terminal the line is redrawn in place (``\\r``) at most every ``min_interval_s``;
anywhere else (a log file, CI) a plain line is written every ~5% of the runs, so logs
stay short. The display writes only to the stream it is given.
"""

from __future__ import annotations

import time
from typing import TextIO

__all__ = ["ProgressLine", "format_duration"]


def format_duration(seconds: float) -> str:
    """``h:mm:ss`` (or ``m:ss`` under an hour).

    Examples
    --------
    >>> format_duration(75.4), format_duration(3725)
    ('1:15', '1:02:05')
    """
    s = round(max(seconds, 0.0))
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


class ProgressLine:
    """Progress of ``total`` runs of which ``done`` were finished before this session.

    Examples
    --------
    >>> import io
    >>> out = io.StringIO()
    >>> bar = ProgressLine(4, stream=out, label="demo", tty=False)
    >>> for failed in (False, True, False, False):
    ...     bar.advance(failed=failed)
    >>> bar.close()
    >>> out.getvalue().splitlines()[-1].startswith("demo: 4/4 runs, 1 failed, 100%")
    True
    """

    def __init__(self, total: int, *, done: int = 0, stream: TextIO | None = None,
                 label: str = "sweep", tty: bool | None = None,
                 min_interval_s: float = 0.2) -> None:
        self.total = total
        self.done = done
        self.failed = 0
        self.label = label
        self.stream = stream
        self.tty = bool(tty if tty is not None else
                        (stream is not None and getattr(stream, "isatty", lambda: False)()))
        self.min_interval_s = min_interval_s
        self._start_done = done
        self._t0 = time.monotonic()
        self._last_draw = -float("inf")
        self._next_pct = 0
        self._width = 0
        self._drawn_done = -1
        self._closed = False
        if self.tty:
            self._draw(force=True)

    def text(self) -> str:
        """The progress line (without ``\\r`` or newline)."""
        elapsed = time.monotonic() - self._t0
        new = self.done - self._start_done
        left = self.total - self.done
        eta = format_duration(elapsed / new * left) if new and left else ("0:00" if not left else "?")
        pct = 100 * self.done / self.total if self.total else 100.0
        resumed = f" ({self._start_done} done before)" if self._start_done else ""
        return (f"{self.label}: {self.done}/{self.total} runs, {self.failed} failed, {pct:.0f}%{resumed}, "
                f"elapsed {format_duration(elapsed)}, ETA {eta}")

    def _draw(self, *, force: bool = False) -> None:
        if self.stream is None:
            return
        now = time.monotonic()
        if self.tty:
            if not force and now - self._last_draw < self.min_interval_s:
                return
            line = self.text()
            self._drawn_done = self.done
            self.stream.write("\r" + line.ljust(self._width))
            self._width = len(line)
        else:
            pct = 100 * self.done // self.total if self.total else 100
            if not force and pct < self._next_pct:
                return
            self.stream.write(self.text() + "\n")
            self._next_pct = (pct // 5 + 1) * 5
        self.stream.flush()
        self._last_draw = now

    def advance(self, *, failed: bool = False) -> None:
        """Count one finished run."""
        self.done += 1
        self.failed += int(failed)
        self._draw(force=self.done == self.total)

    def tick(self) -> None:
        """Redraw the terminal line (elapsed time, ETA) while runs are in progress."""
        if self.tty and not self._closed:
            self._draw()

    def close(self) -> None:
        """Draw the final state and end the line."""
        if self._closed or self.stream is None:
            return
        self._closed = True
        if self.tty:
            if self._drawn_done != self.done:
                self._draw(force=True)
            self.stream.write("\n")
            self.stream.flush()
        elif self.done != self.total or self._next_pct <= 100:
            self._draw(force=True)
