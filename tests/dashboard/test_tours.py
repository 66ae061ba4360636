"""Guided tours: every preset has its own, and every stage lands on a step its run has.

The runs are the dashboard's first run of each preset: seed 0 and the preset's defaults.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

from contagion.runner import RunResult, simulate
from dashboard.tour import TOURS, Stage, generic_tour, load_tour, resolve_step, tour_for
from models import SCENARIOS, get_scenario

#: Stage titles that the teaching lessons (docs/teaching/) cite: they must not change.
CITED = {
    "default": ["2. Maintenance margin and the first liquidations", "3. Why oracle lag matters",
                "6. Cross-margin carries the default to PerpX"],
    "black_thursday": ["2. Keepers drop out and auctions clear at zero"],
    "october_2025": ["3. The insurance fund runs dry and ADL fires"],
    "ftx": ["2. A run on FTX", "3. The creditors freeze"],
    "classic_gai_kapadia": ["2. The first round of defaults"],
    "classic_eisenberg_noe": ["1. The balance sheets"],
    "classic_debtrank": ["2. The hub fails"],
    "terra": ["2. The peg breaks"],
    "steth_celsius": ["3. Celsius sells stETH into a thin pool"],
    "mango": ["2. The oracle is pumped"],
}

_RUNS: dict[str, RunResult] = {}


def first_run(name: str) -> RunResult:
    """The run the dashboard shows first for preset ``name`` (computed once per session)."""
    if name not in _RUNS:
        _RUNS[name] = simulate(get_scenario(name), seed=0)
    return _RUNS[name]


def rule_finds(rule: str | int, events: pd.DataFrame, series: pd.DataFrame) -> bool:
    """Whether ``rule`` points at something this run has (not resolve_step's fallback to 0)."""
    if isinstance(rule, int):
        return 0 <= rule <= int(series.index.max())
    kind, _, arg = rule.partition(":")
    if kind == "first":
        return bool((events["kind"] == arg).any())
    if kind == "default":
        return bool(((events["kind"] == "default") & (events["venue"] == arg)).any())
    if kind == "exhausted":
        return bool(((events["kind"] == "fund_exhausted") & (events["agent"] == arg)).any())
    if kind in ("max", "min"):
        return arg in series.columns
    if kind == "max_gap":
        oracle, _, asset = arg.partition("/")
        return f"oracle_{oracle}" in series.columns and f"price_{asset}" in series.columns
    return False


# ---------------------------------------------------------------- every preset has its tour
def test_every_scenario_key_builds_a_scenario_of_that_name() -> None:
    for key in SCENARIOS:
        assert get_scenario(key).name == key  # the tour is looked up by Scenario.name


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_preset_has_its_own_tour_file(name: str) -> None:
    assert (TOURS / f"{name}.toml").exists(), f"no dashboard/tours/{name}.toml"
    assert tour_for(name, first_run(name)) == load_tour(name)


def test_no_tour_file_without_a_preset() -> None:
    assert {p.stem for p in TOURS.glob("*.toml")} <= set(SCENARIOS)


# ---------------------------------------------------------------- the stages
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_stages_are_numbered_unique_and_ask_a_question(name: str) -> None:
    stages = load_tour(name)
    assert 4 <= len(stages) <= 7
    titles = [s.title for s in stages]
    assert len(set(titles)) == len(titles), titles
    for i, stage in enumerate(stages, start=1):
        assert stage.title.startswith(f"{i}. "), stage.title
        assert "*Question:*" in stage.body and "?" in stage.body.split("*Question:*")[1], stage.title
        assert "**" in stage.body, f"{stage.title}: no key term in bold"
        lines = stage.body.split("*Question:*")[0].strip().splitlines()
        assert 3 <= len(lines) <= 6, f"{stage.title}: {len(lines)} lines before the question"


@pytest.mark.parametrize("name", sorted(CITED))
def test_the_titles_the_lessons_cite_are_kept(name: str) -> None:
    titles = [s.title for s in load_tour(name)]
    for title in CITED[name]:
        assert title in titles, f"{name}: {title!r} missing from {titles}"


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_stage_rule_finds_its_step_in_the_first_run(name: str) -> None:
    run = first_run(name)
    last = int(run.series.index.max())
    for stage in load_tour(name):
        assert rule_finds(stage.step, run.events, run.series), f"{stage.title}: {stage.step!r}"
        assert 0 <= resolve_step(stage.step, run.events, run.series) <= last


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_a_tour_starts_at_step_0_and_its_event_stages_land_where_the_event_is(name: str) -> None:
    run = first_run(name)
    ev, series = run.events, run.series
    stages = load_tour(name)
    assert resolve_step(stages[0].step, ev, series) == 0  # a new run opens on stage 1
    for stage in stages:
        if not isinstance(stage.step, str) or stage.step.split(":")[0] not in (
                "first", "default", "exhausted"):
            continue
        kind, _, arg = stage.step.partition(":")
        rows = ev[(ev["kind"] == {"default": "default", "exhausted": "fund_exhausted"}.get(
            kind, arg))]
        if kind in ("default", "exhausted"):
            rows = rows[rows["venue" if kind == "default" else "agent"] == arg]
        assert resolve_step(stage.step, ev, series) == int(rows["step"].min()) > 0, stage.title


def test_the_oracle_gap_stage_of_october_lands_on_the_largest_gap() -> None:
    run = first_run("october_2025")
    gap = (run.series["oracle_USDe-feed"] / run.series["price_USDe"] - 1).abs()
    assert resolve_step("max_gap:USDe-feed/USDe", run.events, run.series) == int(gap.idxmax())
    assert gap.max() > 0.2  # USDe marked well below $1 on one venue


# ---------------------------------------------------------------- the fallback
def test_a_preset_without_a_tour_gets_a_tour_built_from_its_own_run() -> None:
    run = first_run("default")
    stages = tour_for("a_preset_without_a_tour", run)
    assert stages == generic_tour("a_preset_without_a_tour", run)
    assert 2 <= len(stages) <= 7
    assert "no written tour" in stages[0].body and run.scenario.description in stages[0].body
    default_text = " ".join(s.body for s in load_tour("default"))
    for stage in stages:
        assert stage.body not in default_text
        assert "*Question:*" in stage.body
        assert rule_finds(stage.step, run.events, run.series), stage
    titles = [s.title for s in stages]
    assert len(set(titles)) == len(titles)
    assert any(t.endswith("AlphaFund defaults") for t in titles)  # the run's first default
    assert resolve_step(stages[0].step, run.events, run.series) == 0


def test_a_preset_without_a_tour_or_a_run_gets_a_single_stage_saying_so() -> None:
    stages = tour_for("a_preset_without_a_tour")
    assert stages == [Stage(title="1. No guided tour", body=stages[0].body, step=0)]
    assert "no guided tour" in stages[0].body and "*Question:*" in stages[0].body


def test_the_generic_tour_of_a_calm_run_has_no_stage_for_what_did_not_happen() -> None:
    run = simulate(get_scenario("classic_eisenberg_noe", writedown_frac=0.0), seed=0)
    stages = generic_tour("calm", run)
    assert [re.sub(r"^\d+\. ", "", s.title) for s in stages] == ["The start",
                                                                 "Where the losses ended up"]
    assert stages[-1].step == int(run.series.index.max())
