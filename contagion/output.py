"""Write a run's outputs to a directory, all or nothing, and read them back.

Files are written into a temporary sibling directory which is renamed into place only
when every file is complete, so an interrupted or failed write never leaves a
half-written result where a reader would look for one. :func:`read_run` is the inverse of
:func:`write_run`: the same frames (dtypes included), network, summary, scenario, starting
books and world graph.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from contagion.errors import ContagionError, ParameterError, RunFileError
from contagion.network import read_network, write_network
from contagion.positions import starting_books
from contagion.runner import RunResult
from contagion.scenario_file import dumps, loads
from contagion.world import read_world, write_world

__all__ = ["read_run", "writable_dir", "write_run"]


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


def write_run(result: RunResult, out: str | Path, *, overwrite: bool = False,
              csv: bool = True) -> Path:
    """Write events and series (Parquet and, unless ``csv`` is false, CSV), venues, node
    states and exposures (Parquet), network (JSON),
    summary (JSON), the scenario it ran (``scenario.toml``, so ``contagion run
    out/scenario.toml --seed S`` runs it again) and the books it started from
    (``positions.parquet``, see :mod:`contagion.positions`; ``--positions`` reads it back)
    and the world graph it ran over (``world.json``; ``--world`` reads it back, edited or not)
    to ``out``.

    Raises :class:`ParameterError` naming ``out`` if it exists and is not empty, unless
    ``overwrite``.
    """
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not overwrite:
        raise ParameterError("out", str(out), "a new or empty directory",
                             "pass --force to replace it")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
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
            result.positions.to_parquet(tmp / "positions.parquet", index=False)
        if result.world is not None:
            write_world(result.world, tmp / "world.json")
        if out.exists():
            old = out.with_name(f".{out.name}.old")
            if old.exists():
                shutil.rmtree(old)
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old)
        else:
            tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


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
