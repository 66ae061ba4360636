"""Guided tours: short written stages that move the player to the step they talk about.

A tour is a TOML file in ``dashboard/tours/`` (the text lives in the repository). Each
stage has a ``title``, a Markdown ``body`` and a ``step``: a number, or a rule resolved
against the run's event log so the stage lands on the right step whatever the seed:
``"first:<kind>"`` (first event of that kind), ``"default:<venue>"``,
``"exhausted:<fund>"``, ``"max:<series column>"`` / ``"min:<series column>"``,
``"max_gap:<oracle>/<asset>"`` (largest oracle-vs-market gap).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

__all__ = ["TOURS", "Stage", "load_tour", "resolve_step"]

TOURS = Path(__file__).parent / "tours"


@dataclass(frozen=True)
class Stage:
    title: str
    body: str
    step: str | int


def load_tour(name: str = "default") -> list[Stage]:
    """The stages of tour ``name`` (``dashboard/tours/<name>.toml``)."""
    path = TOURS / f"{name}.toml"
    data = tomllib.loads(path.read_text())
    return [Stage(title=s["title"], body=s["body"].strip(), step=s["step"])
            for s in data["stage"]]


def resolve_step(rule: str | int, events: pd.DataFrame, series: pd.DataFrame) -> int:
    """The step a stage points at, for this run (0 when the rule finds nothing)."""
    last = int(series.index.max())
    if isinstance(rule, int):
        return max(0, min(rule, last))
    kind, _, arg = rule.partition(":")
    ev = events
    hit: pd.Series
    if kind == "first":
        hit = ev.loc[ev["kind"] == arg, "step"]
    elif kind == "default":
        hit = ev.loc[(ev["kind"] == "default") & (ev["venue"] == arg), "step"]
    elif kind == "exhausted":
        hit = ev.loc[(ev["kind"] == "fund_exhausted") & (ev["agent"] == arg), "step"]
    elif kind in ("max", "min") and arg in series:
        col = series[arg]
        return int(col.idxmax() if kind == "max" else col.idxmin())
    elif kind == "max_gap":
        oracle, _, asset = arg.partition("/")
        o, p = series.get(f"oracle_{oracle}"), series.get(f"price_{asset}")
        if o is None or p is None:
            return 0
        return int(((o / p) - 1).abs().idxmax())
    else:
        return 0
    return int(hit.min()) if len(hit) else 0
