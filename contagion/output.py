"""Write a run's outputs to a directory, all or nothing, and read them back.

Files are written into a temporary sibling directory which is renamed into place only
when every file is complete, so an interrupted or failed write never leaves a
half-written result where a reader would look for one. :func:`check_destination` checks an
output directory before a run starts (the command line calls it before simulating), and a
directory is only ever replaced when it holds nothing but a previous run's outputs
(:data:`RUN_FILES`): a user's own files are never deleted. :func:`read_run` is the inverse of
:func:`write_run`: the same frames (dtypes included), network, summary, scenario, starting
books and world graph.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from contagion.errors import ContagionError, OutputError, ParameterError, RunFileError
from contagion.network import read_network, write_network
from contagion.positions import positions_table, starting_books
from contagion.runner import RunResult
from contagion.scenario_file import dumps, loads
from contagion.world import read_world, write_world

__all__ = ["RUN_FILES", "check_destination", "check_output_file", "read_run", "writable_dir",
           "write_run"]

#: Every file :func:`write_run` may write. A directory holding only these (a previous run's
#: outputs) may be replaced (``overwrite``, ``--force``); one holding anything else is never
#: replaced, so nothing of the user's is deleted.
RUN_FILES = ("events.parquet", "events.csv", "series.parquet", "series.csv", "venues.parquet",
             "node_states.parquet", "exposures.parquet", "network.json", "summary.json",
             "scenario.toml", "positions.parquet", "world.json")


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if hasattr(x, "item"):
        return x.item()
    return x


def writable_dir(path: str | os.PathLike[str], *, name: str = "directory") -> Path:
    """``path`` as a directory this process can write files in, created if missing.

    Raises :class:`ParameterError` naming ``name`` (an option or parameter, e.g.
    ``--cache-dir``) if it exists and is not a directory, cannot be created, or is not
    writable (tried by creating a nameless temporary file in it).
    """
    p = Path(path).expanduser()
    if p.exists() and not p.is_dir():
        raise ParameterError(name, str(path), "a directory", "it exists and is not a directory")
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ParameterError(name, str(path), "a directory that can be created",
                             f"cannot create it: {exc.strerror or exc}") from None
    try:
        with tempfile.TemporaryFile(dir=p):
            pass
    except OSError as exc:
        raise ParameterError(name, str(path), "a writable directory",
                             f"cannot create a file in it: {exc.strerror or exc}") from None
    return p


def _nearest_existing(p: Path) -> Path:
    """``p`` or its nearest ancestor that exists."""
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def _probe_writable(directory: Path, name: str, shown: str) -> None:
    """Create and remove a temporary directory in ``directory`` (what :func:`write_run` does),
    so a read-only file system, missing permission or full inode table shows now."""
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".contagion-probe.", dir=directory))
    except OSError as exc:
        raise ParameterError(name, shown, "a place this process can write",
                             f"cannot create anything in {str(directory)!r}: "
                             f"{exc.strerror or exc}") from None


def _foreign(p: Path) -> list[str]:
    """Entries of directory ``p`` that are not a run's outputs (sorted)."""
    return sorted(e.name for e in p.iterdir() if e.name not in RUN_FILES or not e.is_file())


def check_destination(out: str | os.PathLike[str], *, overwrite: bool = False,
                      name: str = "--out") -> Path:
    """Check that a run's outputs can be written to directory ``out``, before the run starts.

    Refused (a :class:`ParameterError` naming ``name``, the path and what is allowed): the
    current directory, ``..``, ``/`` or any directory above the current one (a run's outputs
    need a directory of their own); an existing file, or a path through one; a place this
    process cannot create files in (tried by creating and removing a temporary directory:
    read-only file systems, permissions); a directory that is not empty, unless it holds
    only a previous run's outputs (:data:`RUN_FILES`) and ``overwrite`` is set. A directory
    holding anything else is refused even with ``overwrite``: only a previous run is ever
    replaced. Returns ``out`` as a :class:`~pathlib.Path`; nothing is created.
    """
    shown = os.fspath(out)
    p = Path(shown).expanduser()
    try:
        here = Path.cwd().resolve()
        full = (here / p).resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop, a vanished cwd
        raise ParameterError(name, shown, "a directory path", f"cannot resolve it: {exc}") from None
    if shown.strip() in ("", ".", "..", "/") or full == here or here.is_relative_to(full):
        raise ParameterError(name, shown, "a directory of the run's own: not the current "
                             "directory, nor one above it, nor /",
                             "e.g. --out runs/mine (created if missing)")
    base = _nearest_existing(full)
    if not base.is_dir():
        what = "it" if base == full else f"{str(base)!r}"
        raise ParameterError(name, shown, "a directory (new or a previous run's)",
                             f"{what} is a file, not a directory")
    if base == full:
        try:
            entries = _foreign(full)
            empty = not any(full.iterdir())
        except OSError as exc:
            raise ParameterError(name, shown, "a directory this process can read",
                                 f"cannot list it: {exc.strerror or exc}") from None
        if entries:
            shown_entries = ", ".join(entries[:5]) + (" ..." if len(entries) > 5 else "")
            raise ParameterError(name, shown, "a new or empty directory, or a previous run's "
                                 "outputs (with --force)",
                                 f"it holds files that are not a run's outputs ({shown_entries}); "
                                 "nothing in it is deleted: choose another --out")
        if not empty and not overwrite:
            raise ParameterError(name, shown, "a new or empty directory",
                                 "it holds a previous run's outputs: pass --force to replace them")
        _probe_writable(full.parent, name, shown)  # the outputs are renamed in beside it
    else:
        _probe_writable(base, name, shown)
    return p


def check_output_file(out: str | os.PathLike[str], *, overwrite: bool = False,
                      name: str = "--out") -> Path:
    """Check that a single output file (``contagion network --out table.csv``) can be written,
    before any work: not a directory, its directory exists and is writable, and it does not
    exist yet unless ``overwrite``. Raises :class:`ParameterError` naming ``name``."""
    shown = os.fspath(out)
    p = Path(shown).expanduser()
    if shown.strip() in ("", ".", "..", "/") or p.is_dir():
        raise ParameterError(name, shown, "a file name, e.g. table.csv", "it is a directory")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        base = _nearest_existing(parent.absolute())
        raise ParameterError(name, shown, "a file in an existing directory",
                             f"{str(base)!r} is a file" if base.exists() and not base.is_dir()
                             else f"the directory {str(parent)!r} does not exist")
    if p.exists() and not overwrite:
        raise ParameterError(name, shown, "a new file", "it exists: pass --force to replace it")
    if p.exists() and not p.is_file():
        raise ParameterError(name, shown, "a regular file", "it exists and is not a file")
    _probe_writable(parent, name, shown)
    return p


def _write_fault(exc: OSError, out: Path) -> OutputError:
    where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
    reason = exc.strerror or (errno.errorcode.get(exc.errno, "") if exc.errno else "") or str(exc)
    return OutputError(f"cannot write {str(out)!r}: {reason}{where}; nothing was written")


def write_run(result: RunResult, out: str | Path, *, overwrite: bool = False,
              csv: bool = False) -> Path:
    """Write events and series (Parquet, and CSV too with ``csv``: opt-in, CSV is the
    slowest part of writing a large run), venues, node
    states and exposures (Parquet), network (JSON),
    summary (JSON), the scenario it ran (``scenario.toml``, so ``contagion run
    out/scenario.toml --seed S`` runs it again) and the books it started from
    (``positions.parquet``, see :mod:`contagion.positions`; ``--positions`` reads it back)
    and the world graph it ran over (``world.json``; ``--world`` reads it back, edited or not)
    to ``out``.

    Raises :class:`ParameterError` naming ``out`` if it is a file, or a directory that
    is not empty, unless ``overwrite`` and it holds only a previous run's outputs
    (:data:`RUN_FILES`; anything else in it is never deleted, overwrite or not); an
    :class:`~contagion.errors.OutputError` for a disk or OS fault while writing (a full
    disk...), after removing everything it wrote (missing parent directories it created
    included): ``out`` is then as it was.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ParameterError("out", str(out), "a directory", "it exists and is a file")
    if out.exists() and any(out.iterdir()):
        foreign = _foreign(out)
        if foreign or not overwrite:
            raise ParameterError("out", str(out), "a new or empty directory, or a previous "
                                 "run's outputs (with overwrite)",
                                 f"it holds {', '.join(foreign[:5])}, not a run's outputs: "
                                 "nothing in it is deleted" if foreign
                                 else "pass --force to replace it")
    made: list[Path] = []  # parent directories created here, removed again on failure
    parent = out.parent
    while not parent.exists():
        made.append(parent)
        parent = parent.parent
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = _fresh_dir(out.parent, f".{out.name}.")
    except OSError as exc:
        _remove_empty(made)
        raise _write_fault(exc, out) from None
    try:
        result.events.to_parquet(tmp / "events.parquet", index=False)
        result.series.to_parquet(tmp / "series.parquet")
        if csv:
            result.events.to_csv(tmp / "events.csv", index=False)
            result.series.to_csv(tmp / "series.csv")
        result.venues.to_parquet(tmp / "venues.parquet", index=False)
        result.node_states.to_parquet(tmp / "node_states.parquet", index=False)
        result.exposures.to_parquet(tmp / "exposures.parquet", index=False)
        write_network(result.network, tmp / "network.json")
        (tmp / "summary.json").write_text(json.dumps(_jsonable(result.summary), indent=2))
        (tmp / "scenario.toml").write_text(dumps(result.scenario), encoding="utf-8")
        if result.starting_books is not None:
            pq.write_table(positions_table(result.starting_books), tmp / "positions.parquet")
        if result.world is not None:
            write_world(result.world, tmp / "world.json")
        if out.exists():  # empty, or a previous run's outputs only (checked above)
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old.", dir=out.parent))
            out.replace(old)
            try:
                tmp.rename(out)
            except BaseException:
                old.rename(out)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        _remove_empty(made)
        raise _write_fault(exc, out) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        _remove_empty(made)
        raise
    return out


def _fresh_dir(parent: Path, prefix: str) -> Path:
    """A new, uniquely named directory in ``parent`` with the umask's permissions (as the
    user's own ``mkdir``; ``tempfile.mkdtemp`` would make the outputs private, mode 0700)."""
    import secrets

    for _ in range(100):
        p = parent / f"{prefix}{secrets.token_hex(4)}.part"
        try:
            p.mkdir()
        except FileExistsError:
            continue
        return p
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(parent))


def _remove_empty(dirs: list[Path]) -> None:
    """Remove the directories ``dirs`` (deepest first) that are still empty."""
    for d in dirs:
        try:
            d.rmdir()
        except OSError:
            return


def read_run(path: str | Path) -> RunResult:
    """Read a run written by :func:`write_run` back into a :class:`RunResult`.

    Frames come back equal to the written ones (dtypes and index included), the network
    and world graphs with the same nodes, edges and attributes, the summary and scenario
    equal, the starting books rebuilt from ``positions.parquet``
    (:func:`contagion.positions.starting_books`). The seed is the summary's. A directory
    without ``exposures.parquet`` (written before it was) reads with empty exposures.

    Raises :class:`~contagion.errors.RunFileError` naming ``path`` if it is not a run
    directory or a file in it cannot be read.
    """
    root = Path(path)
    if not (root / "summary.json").is_file():
        raise RunFileError(f"{root}: not a run directory (no summary.json)")
    try:
        scenario = loads((root / "scenario.toml").read_text(encoding="utf-8"),
                         source=str(root / "scenario.toml"))
        summary = json.loads((root / "summary.json").read_text(encoding="utf-8"))
        frames = {name: pd.read_parquet(root / f"{name}.parquet")
                  for name in ("events", "series", "venues", "node_states")}
        exposures_file = root / "exposures.parquet"
        exposures = pd.read_parquet(exposures_file) if exposures_file.is_file() else pd.DataFrame()
        positions_file = root / "positions.parquet"
        books = (starting_books(pd.read_parquet(positions_file), scenario)
                 if positions_file.is_file() else None)
        world_file = root / "world.json"
        world = read_world(world_file) if world_file.is_file() else None
        network = read_network(root / "network.json")
    except RunFileError:
        raise
    except (OSError, ValueError, ContagionError) as exc:  # a missing or damaged file
        raise RunFileError(f"{root}: cannot read the run: {exc}") from exc
    return RunResult(scenario=scenario, seed=summary.get("seed"), network=network,
                     exposures=exposures, summary=summary, starting_books=books, world=world,
                     **frames)
