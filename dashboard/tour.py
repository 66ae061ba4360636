"""Guided tours: short written stages that move the player to the step they talk about.

A tour is a TOML file in ``dashboard/tours/`` (the text lives in the repository). Each
stage has a ``title``, a Markdown ``body`` and a ``step``: a number, or a rule resolved
against the run's event log so the stage lands on the right step whatever the seed:
``"first:<kind>"`` (first event of that kind), ``"default:<venue>"``,
``"exhausted:<fund>"``, ``"max:<series column>"`` / ``"min:<series column>"``,
``"max_gap:<oracle>/<asset>"`` (largest oracle-vs-market gap).

A stage may also carry ``[stage.claims]``: what its text says about the run, in a form
``tests/dashboard/test_tour_claims.py`` checks against the preset's seed-0 run (the one the
dashboard shows first), so a tour cannot drift from its run. The dashboard does not read
them. Keys: ``defaulted``/``not_defaulted`` and ``drained``/``not_drained`` (node names: their
state at the stage's step, and whether their default or ``fund_exhausted`` event came at or
before it), ``states`` (node -> state at the step), ``events``/``no_events`` (event kinds,
``"kind@venue"`` for one venue's, present or absent at the step), ``distinct_step`` (the
stage lands on a step no earlier stage lands on) and ``numbers`` (a quantity of the run ->
the figure the body quotes for it, as written in the body: ``"summary.bad_debt_usd" =
"$1.57M"``; the run's value must round to it). The quantities are listed in that test.

:func:`tour_for` is what the dashboard shows: the preset's own tour, else a short generic
tour built from the run (never another preset's text).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from dashboard.narrative import format_usd

if TYPE_CHECKING:
    from contagion.runner import RunResult

__all__ = ["TOURS", "Stage", "generic_tour", "load_tour", "resolve_step", "tour_for"]

TOURS = Path(__file__).parent / "tours"


@dataclass(frozen=True)
class Stage:
    title: str
    body: str
    step: str | int
    #: What the body says happened, checked against the run by the tests (see above).
    claims: dict[str, Any] = field(default_factory=dict, hash=False)


def load_tour(name: str = "default") -> list[Stage]:
    """The stages of tour ``name`` (``dashboard/tours/<name>.toml``)."""
    path = TOURS / f"{name}.toml"
    data = tomllib.loads(path.read_text())
    return [Stage(title=s["title"], body=s["body"].strip(), step=s["step"],
                  claims=dict(s.get("claims", {})))
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


def tour_for(name: str, result: RunResult | None = None) -> list[Stage]:
    """The stages the dashboard shows for preset ``name``: its tour file if there is one,
    else :func:`generic_tour` of ``result``, else a single stage saying there is none."""
    if (TOURS / f"{name}.toml").exists():
        return load_tour(name)
    if result is None:
        return [Stage(title="1. No guided tour", step=0, body=(
            f"There is no guided tour for *{name}* yet. Play the run, read *This step* and "
            "click the nodes.\n\n*Question:* which venue is hit first, and through which "
            "link does the loss travel?"))]
    return generic_tour(name, result)


def generic_tour(name: str, result: RunResult) -> list[Stage]:
    """A short tour built from a run's events and series, for a preset without a tour file:
    the start; the first liquidations, the first default and the first fund that runs dry
    (each only when the run has it, in the order they happen); where the losses ended up."""
    ev, summary = result.events, result.summary
    kinds = set(ev["kind"])
    stages: list[tuple[str, str | int, str, str]] = [(
        f"There is no written tour for *{name}*: these stages are built from this run. "
        f"{result.scenario.description}", 0, "The start",
        "which venues are linked in the network, and by what kind of exposure?")]
    firsts = ev.groupby("kind")["step"].min()
    liq = min((k for k in ("liquidation", "perp_liquidation") if k in kinds),
              key=lambda k: int(firsts[k]), default=None)
    if liq is not None:
        stages.append((f"The first **liquidations**: {summary.get('liquidations', 0):,} in the "
                       f"whole run ({format_usd(summary.get('liquidation_volume_usd'))}).",
                       f"first:{liq}", "The first liquidations",
                       "which price or oracle move set them off? Read *This step*."))
    defaults = ev.loc[ev["kind"] == "default", "venue"]
    if len(defaults):
        first = str(defaults.iloc[0])
        stages.append((f"**{first}** defaults, the first of {len(set(defaults)):,} to default "
                       "in this run.", f"default:{first}", f"{first} defaults",
                       f"click {first} in the network and read how it came to default."))
    funds = ev.loc[ev["kind"] == "fund_exhausted", "agent"]
    if len(funds):
        fund = str(funds.iloc[0])
        stages.append((f"The **{fund}** fund is empty: what it cannot pay falls on others.",
                       f"exhausted:{fund}", f"{fund} runs dry", "who pays the rest?"))
    stages.append((f"Bad debt {format_usd(summary.get('bad_debt_usd'))}, funds used "
                   f"{format_usd(summary.get('fund_used_usd'))}, socialised "
                   f"{format_usd(summary.get('socialised_usd'))}, ADL "
                   f"{format_usd(summary.get('adl_usd'))} in the whole run.",
                   "max:bad_debt_usd" if summary.get("bad_debt_usd") else int(result.series.index.max()),
                   "Where the losses ended up",
                   "which parameter on the Compare tab changes the outcome most?"))
    middle = sorted(stages[1:-1], key=lambda s: resolve_step(s[1], ev, result.series))
    return [Stage(title=f"{i}. {title}", body=f"{text}\n\n*Question:* {question}", step=step)
            for i, (text, step, title, question) in enumerate([stages[0], *middle, stages[-1]],
                                                             start=1)]
