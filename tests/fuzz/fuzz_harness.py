"""The fuzz harness of the command line: one bad input, and what a user must see.

:func:`assert_refused` runs ``contagion ARGV`` in-process, from a working directory the test
owns, and asserts what issue 11 asks of every bad input:

- the command exits with status 2 (bad input) or 1 (a fault such as a full disk), never 0;
- no Python traceback and no exception escapes ``main``;
- standard error names the input (every string of ``names`` appears in it);
- nothing is left behind and nothing is lost: every file under the watched directories is
  byte-identical afterwards, and no file or directory was added;
- it answers within ``timeout`` seconds (a hang is a failure, not a stuck suite).

Test modules in this folder build their cases with it; generated cases (hypothesis or
parametrised tables) call it once per input.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import signal
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from contagion.cli import main

__all__ = ["Refusal", "assert_refused", "snapshot"]


def snapshot(*roots: Path) -> dict[str, str]:
    """Every file and directory under ``roots``: path -> sha256 of its bytes (``dir`` for a
    directory), so that a changed, added or deleted entry shows as a difference."""
    state: dict[str, str] = {}
    for root in roots:
        if not root.exists():
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            for d in dirnames:
                state[os.path.join(dirpath, d)] = "dir"
            for f in filenames:
                p = os.path.join(dirpath, f)
                try:
                    state[p] = hashlib.sha256(Path(p).read_bytes()).hexdigest()
                except OSError:  # an unreadable file the test planted stays as it was
                    state[p] = "unreadable"
    return state


class _Hang(Exception):
    pass


@contextlib.contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    def _alarm(signum: int, frame: object) -> None:
        raise _Hang(f"no answer within {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def _cwd(path: Path) -> Iterator[None]:
    old = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


@dataclass(frozen=True)
class Refusal:
    """What the command printed and returned for one bad input."""

    code: int
    out: str
    err: str


def assert_refused(argv: Sequence[str], *, cwd: Path, names: Sequence[str] = (),
                   watch: Sequence[Path] = (), codes: Sequence[int] = (1, 2),
                   timeout: float = 30.0) -> Refusal:
    """Run ``contagion argv`` in ``cwd`` and assert it refuses cleanly (see the module doc).

    ``watch`` adds directories besides ``cwd`` whose contents must not change.
    """
    roots = [cwd, *watch]
    before = snapshot(*roots)
    out, err = io.StringIO(), io.StringIO()
    code: int | None = None
    escaped = ""
    with _cwd(cwd), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            with _deadline(timeout):
                code = main(list(argv))
        except SystemExit as exc:  # argparse's own usage errors exit 2
            code = exc.code if isinstance(exc.code, int) else 2
        except _Hang as exc:
            escaped = f"hang: {exc}"
        except BaseException:  # any escape is the defect this harness exists to find
            escaped = traceback.format_exc()
    after = snapshot(*roots)
    text = err.getvalue()
    shown = f"argv={list(argv)!r}\nexit={code}\nstderr={text!r}\nstdout tail={out.getvalue()[-400:]!r}"
    assert not escaped, f"an exception escaped main():\n{escaped}\n{shown}"
    assert code in codes, f"expected exit {tuple(codes)}\n{shown}"
    assert "Traceback" not in text and "Traceback" not in out.getvalue(), f"a traceback\n{shown}"
    assert text.strip(), f"no message on standard error\n{shown}"
    for name in names:
        assert name in text, f"the message does not name {name!r}\n{shown}"
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    changed = sorted(p for p in set(before) & set(after) if before[p] != after[p])
    assert not (added or removed or changed), (
        f"files touched: added {added[:5]}, removed {removed[:5]}, changed {changed[:5]}\n{shown}")
    return Refusal(int(code), out.getvalue(), text)
