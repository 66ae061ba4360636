"""Where a sweep or a report may write: checked before any run, without writing anything.

:func:`output_dir_problem` says why a directory cannot be an output folder (or ``None`` if
it can): it is the file system's root, the home folder, the current folder or one of its
parents (writing or clearing there would mix the results with the user's own files); it is
a file, or lies below one; or the nearest folder that exists is not writable (probed by
creating and removing an empty temporary folder, which leaves nothing behind).

The sweep (``--out``, ``sweep.out``) and the report (``--out``) both use it.
(contagion.output may grow an equivalent helper for ``contagion run --out``; the two
should then be merged.)
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["describe_os_error", "output_dir_problem"]


def _nearest_existing(path: Path) -> Path:
    p = path
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def output_dir_problem(path: str | Path) -> str | None:
    """Why ``path`` cannot be an output folder, in words, or ``None`` if it can.

    Examples
    --------
    >>> output_dir_problem("/")
    "'/' is the root of the file system: choose a new folder for the results"
    >>> output_dir_problem(".")  # doctest: +ELLIPSIS
    "'.' is the current folder (...): choose a new folder for the results, e.g. runs/sweeps/NAME"
    """
    raw = str(path)
    if not raw.strip():
        return "an empty path: give a folder for the results"
    if "\x00" in raw:
        return f"{raw!r} contains a NUL character"
    target = Path(os.path.abspath(os.path.expanduser(raw)))
    try:
        resolved = target.resolve()
        cwd = Path.cwd().resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop, a vanished folder
        return f"{raw!r} cannot be resolved ({exc})"
    if resolved == resolved.parent:
        return f"{raw!r} is the root of the file system: choose a new folder for the results"
    if resolved == cwd or resolved in cwd.parents:
        what = "the current folder" if resolved == cwd else "a parent of the current folder"
        return (f"{raw!r} is {what} ({resolved}): choose a new folder for the results, "
                "e.g. runs/sweeps/NAME")
    try:
        home: Path | None = Path.home().resolve()
    except (OSError, RuntimeError, KeyError):  # no home folder known
        home = None
    if home is not None and (resolved == home or resolved in home.parents):
        return f"{raw!r} is your home folder or one of its parents: choose a new folder for the results"
    if resolved.exists() and not resolved.is_dir():
        return f"{raw!r} is a file, not a folder"
    base = _nearest_existing(resolved)
    if not base.is_dir():
        return f"{raw!r} lies below {str(base)!r}, which is a file, not a folder"
    try:
        probe = tempfile.mkdtemp(prefix=".contagion-probe-", dir=base)
    except OSError as exc:
        return f"{raw!r} cannot be written: {base} is not writable ({exc.strerror or exc})"
    try:
        os.rmdir(probe)
    except OSError:  # pragma: no cover - we just made it
        pass
    return None


def describe_os_error(exc: OSError, hint: str = "") -> str:
    """One line for a disk or OS fault: which file could not be written or read, and why.

    Examples
    --------
    >>> describe_os_error(OSError(28, "No space left on device", "out/parts/p1.parquet"))
    "cannot write or read 'out/parts/p1.parquet': No space left on device"
    """
    where = f" {str(exc.filename)!r}" if exc.filename else ""
    why = exc.strerror or str(exc) or type(exc).__name__
    return f"cannot write or read{where}: {why}" + (f" ({hint})" if hint else "")
