"""Write a run's outputs to a directory, all or nothing.

Files are written into a temporary sibling directory which is renamed into place only
when every file is complete, so an interrupted or failed write never leaves a
half-written result where a reader would look for one.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from contagion.errors import ParameterError
from contagion.network import write_network
from contagion.runner import RunResult
from contagion.scenario_file import dumps
from contagion.world import write_world

__all__ = ["write_run"]


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if hasattr(x, "item"):
        return x.item()
    return x


def write_run(result: RunResult, out: str | Path, *, overwrite: bool = False) -> Path:
    """Write events, series, venues, node states (Parquet and CSV), network (JSON),
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
        result.events.to_csv(tmp / "events.csv", index=False)
        result.series.to_parquet(tmp / "series.parquet")
        result.series.to_csv(tmp / "series.csv")
        result.venues.to_parquet(tmp / "venues.parquet", index=False)
        result.node_states.to_parquet(tmp / "node_states.parquet", index=False)
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
