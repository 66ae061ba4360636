"""Historical presets against their history, and against themselves with the cause removed.

Each :class:`PresetCase` runs a preset on a few seeds, and again with its named cause switched
off (the counterfactual), and checks the qualitative outcomes the history shows: who defaults,
whether bad debt appears, whether ADL fires, and that removing the cause changes the outcome.
The figures plot one headline series of both runs (first seed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import plotly.graph_objects as go

from contagion.runner import RunResult, simulate
from experiments.validation.checks import Check, Scale, Section
from models import get_scenario

__all__ = ["CASES", "Claim", "PresetCase", "Runs", "preset_sections"]


@dataclass(frozen=True)
class Runs:
    """The runs of one preset: ``base`` (as calibrated) and ``off`` (cause removed), by seed."""

    base: list[RunResult]
    off: list[RunResult]

    def each(self, fn: Callable[[RunResult], Any], which: str = "base") -> list[Any]:
        return [fn(r) for r in (self.base if which == "base" else self.off)]


@dataclass(frozen=True)
class Claim:
    """A claim of the history; ``judge(runs)`` returns the model's figure and the verdict."""

    claim: str
    source: str
    judge: Callable[[Runs], tuple[str, bool]]


@dataclass(frozen=True)
class PresetCase:
    title: str
    preset: str
    note: str
    cause: str
    counterfactual: dict[str, Any]
    claims: tuple[Claim, ...]
    headline: str  # a series column plotted for both runs
    settings: dict[str, Any] = field(default_factory=dict)


def kind_count(result: RunResult, kind: str, **where: str) -> int:
    """Number of events of ``kind`` (optionally filtered on columns, e.g. ``venue="X"``)."""
    ev = result.events
    mask = ev["kind"] == kind
    for col, value in where.items():
        mask &= ev[col] == value
    return int(mask.sum())


def defaulted(result: RunResult) -> set[str]:
    return set(result.summary.get("defaulted", []))


def _figure(case: PresetCase, runs: Runs) -> go.Figure:
    fig = go.Figure()
    for label, r in (("as calibrated", runs.base[0]), (f"without {case.cause}", runs.off[0])):
        if case.headline in r.series:
            fig.add_trace(go.Scatter(x=r.series.index, y=r.series[case.headline], name=label,
                                     mode="lines"))
    fig.update_layout(title=f"{case.title}: {case.headline}, seed {runs.base[0].seed}",
                      xaxis_title="step", yaxis_title=case.headline)
    return fig


def run_case(case: PresetCase, scale: Scale) -> Runs:
    kw = {"n_traders": scale.preset_traders, **case.settings}
    base = [simulate(get_scenario(case.preset, **kw), seed=s) for s in scale.preset_seeds]
    off = [simulate(get_scenario(case.preset, **kw, **case.counterfactual), seed=s)
           for s in scale.preset_seeds]
    return Runs(base, off)


def case_section(case: PresetCase, scale: Scale) -> Section:
    runs = run_case(case, scale)
    checks = []
    for c in case.claims:
        observed, ok = c.judge(runs)
        checks.append(Check(c.claim, c.source, observed, ok))
    note = (f"`models.get_scenario({case.preset!r})`, {scale.preset_traders} traders, seeds "
            f"{', '.join(map(str, scale.preset_seeds))}. {case.note} Counterfactual: "
            f"{', '.join(f'`{k}={v!r}`' for k, v in case.counterfactual.items())} ({case.cause} "
            "off).")
    return Section(case.title, note, checks, {f"preset_{case.preset}": _figure(case, runs)})


CASES: list[PresetCase] = []


def preset_sections(scale: Scale) -> list[Section]:
    """One section per historical preset that is registered in ``models.SCENARIOS``."""
    from models import SCENARIOS

    return [case_section(c, scale) for c in CASES if c.preset in SCENARIOS]
