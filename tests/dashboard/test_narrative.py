"""The dashboard's narrative: per-step sentences, default traces and node events."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from contagion.runner import RunResult, simulate
from dashboard.narrative import (
    default_trace,
    format_units,
    format_usd,
    node_events,
    step_narrative,
)
from models import get_scenario


@pytest.fixture(scope="session")
def run() -> RunResult:
    """The default scenario, 300 traders, seed 0 (ETH crash; AlphaFund, CEX, LendB default)."""
    return simulate(get_scenario("default", n_traders=300), seed=0)


@pytest.fixture(scope="session")
def oracles(run: RunResult) -> dict[str, str]:
    return {o.name: o.asset for o in run.scenario.oracles}


@pytest.fixture(scope="session")
def stories(run: RunResult, oracles: dict[str, str]) -> dict[int, list[str]]:
    """The narrative of every step."""
    return {int(s): step_narrative(run.events, run.series, int(s), oracles=oracles)
            for s in run.series.index}


def _first_step(run: RunResult, kind: str, **where: str) -> int:
    ev = run.events[run.events["kind"] == kind]
    for col, value in where.items():
        ev = ev[ev[col] == value]
    return int(ev["step"].iloc[0])


# ---------------------------------------------------------------- formatting
@pytest.mark.parametrize(("x", "text"), [
    (0, "$0"), (12, "$12"), (999.4, "$999"), (999.7, "$1.0k"), (9_949, "$9.9k"), (9_950, "$10k"),
    (340_000, "$340k"), (999_999, "$1.0M"), (3_400_000, "$3.4M"), (-1_234_567, "-$1.2M"),
    (80_000_000, "$80M"), (2.5e9, "$2.5B"), (None, "n/a"),
])
def test_format_usd_rounds_for_people(x: float | None, text: str) -> None:
    assert format_usd(x) == text


@pytest.mark.parametrize(("x", "text"), [
    (1700.4, "1,700"), (458.83, "458.8"), (1.8947, "1.895"), (0.0351, "0.0351"),
    (153_453.2, "153,453"), (1_147_958, "1.1M"), (-51.97, "-51.97"), (float("nan"), "n/a"),
])
def test_format_units_rounds_for_people(x: float, text: str) -> None:
    assert format_units(x) == text


# ---------------------------------------------------------------- step narrative
def test_every_step_has_a_few_full_sentences(stories: dict[int, list[str]]) -> None:
    for step, lines in stories.items():
        assert 1 <= len(lines) <= 20, step
        assert all(isinstance(s, str) and (s[0].isupper() or s[0].isdigit()) and s.endswith(".")
                   for s in lines), step


def test_narrative_never_lists_accounts_one_by_one(run: RunResult,
                                                   stories: dict[int, list[str]]) -> None:
    liq = run.events[run.events["kind"].isin(["liquidation", "perp_liquidation"])]
    busiest = int(liq.groupby("step").size().idxmax())
    assert liq.groupby("step").size().max() > 5
    lines = stories[busiest]
    assert sum("fell below" in s for s in lines) <= liq.loc[liq["step"] == busiest,
                                                            ["venue", "asset"]].drop_duplicates().shape[0]


def test_narrative_formats_numbers_for_people(stories: dict[int, list[str]]) -> None:
    text = " ".join(s for lines in stories.values() for s in lines)
    assert not re.search(r"\$\d{1,3}(,\d{3}){2,}", text)  # no "$80,000,000"
    assert not re.search(r"\d\.\d{3,}e[+-]\d", text)  # no "6.052e+04"
    assert "$" in text


def test_narrative_at_the_cex_default_says_cex_defaulted_and_why(
        run: RunResult, stories: dict[int, list[str]]) -> None:
    lines = stories[_first_step(run, "default", venue="CEX")]
    default = [s for s in lines if "CEX" in s and "default" in s]
    assert default
    assert any("CEX defaulted:" in s and "run" in s for s in lines)
    assert any(s.startswith("Depositors withdrew") and "CEX" in s for s in lines)
    assert any("EXT crashed" in s for s in lines)


def test_narrative_tells_cause_before_effect_within_a_step(
        run: RunResult, stories: dict[int, list[str]]) -> None:
    lines = stories[_first_step(run, "default", venue="CEX")]
    at = {key: next(i for i, s in enumerate(lines) if key in s)
          for key in ("withdrew", "CEX defaulted", "positions on PerpX", "bad debt")}
    assert at["withdrew"] < at["CEX defaulted"] < at["positions on PerpX"] < at["bad debt"]


def test_narrative_of_lending_liquidations_gives_accounts_debt_units_and_pool_move(
        run: RunResult, stories: dict[int, list[str]]) -> None:
    step = _first_step(run, "liquidation", venue="LendA")
    ev = run.events[(run.events["step"] == step) & (run.events["kind"] == "liquidation")
                    & (run.events["venue"] == "LendA")]
    line = next(s for s in stories[step] if "on LendA fell below HF 1" in s)
    n = ev["account"].nunique()
    assert line.startswith(f"{n} account{'s' if n > 1 else ''} on LendA")
    assert format_usd(ev["value_usd"].sum()) in line
    assert f"{format_units(ev['amount'].sum())} ETH into ETH/USDC" in line
    move = run.series.at[step, "impact_ETH/USDC"]
    assert f"{move:+.1%}" in line


def test_narrative_of_perp_liquidations_counts_longs_and_shorts(
        run: RunResult, stories: dict[int, list[str]]) -> None:
    step = _first_step(run, "perp_liquidation")
    ev = run.events[(run.events["step"] == step) & (run.events["kind"] == "perp_liquidation")]
    line = next(s for s in stories[step] if "PerpX" in s and "maintenance margin" in s)
    longs, shorts = int((ev["amount"] > 0).sum()), int((ev["amount"] < 0).sum())
    assert f"({longs} long, {shorts} short)" in line
    assert f"{format_usd(ev['value_usd'].sum())} notional" in line


def test_narrative_reports_oracle_updates_with_old_and_new_price(
        run: RunResult, stories: dict[int, list[str]]) -> None:
    ev = run.events[(run.events["kind"] == "oracle_update") & (run.events["amount"] < -0.5)]
    step, oracle = int(ev["step"].iloc[0]), str(ev["agent"].iloc[0])
    line = next(s for s in stories[step] if s.startswith(f"The {oracle} oracle"))
    assert re.search(r"updated EXT [\d.,]+ -> [\d.,]+ \(-\d+\.\d%\) after its deviation threshold\.$",
                     line)


def test_narrative_reports_fund_draws_exhaustion_and_socialised_losses(
        run: RunResult, stories: dict[int, list[str]]) -> None:
    lines = stories[_first_step(run, "fund_exhausted")]
    assert any(s.startswith("LendB-Fund paid") for s in lines)
    assert any("exhausted" in s for s in lines)
    assert any(s.startswith("LendB socialised") for s in lines)


def test_a_calm_step_says_calm(run: RunResult, stories: dict[int, list[str]]) -> None:
    assert stories[0][0] == "Step 0: calm — no liquidations or losses; prices moved less than 1%."
    last = int(run.series.index.max())
    assert stories[last][0].startswith(f"Step {last}: calm")


def test_a_step_without_events_is_calm(run: RunResult) -> None:
    lines = step_narrative(run.events.iloc[:0], run.series, 7)
    assert lines == ["Step 7: calm — no liquidations or losses; prices moved less than 1%."]


# ---------------------------------------------------------------- default trace
def test_default_trace_runs_from_the_first_shock_to_the_default(run: RunResult) -> None:
    lines = default_trace(run.events, "CEX")
    assert len(lines) >= 3
    assert all(re.match(r"Step \d+: ", s) for s in lines)
    steps = [int(re.findall(r"^Step (\d+)", s)[0]) for s in lines]
    assert steps == sorted(steps)
    assert "CEX defaulted" in lines[-1]
    assert any("AlphaFund defaulted" in s for s in lines)  # the first default fed the second


def test_default_trace_of_a_venue_that_never_defaulted_is_empty(run: RunResult) -> None:
    assert default_trace(run.events, "PerpX") == []
    assert default_trace(run.events, "nowhere") == []


# ---------------------------------------------------------------- node events
def test_node_events_of_a_trader_are_its_accounts_rows(run: RunResult) -> None:
    account = int(run.events.loc[run.events["kind"] == "liquidation", "account"].iloc[0])
    rows = node_events(run.events, f"trader:{account}")
    assert list(rows.columns) == ["step", "kind", "value_usd", "detail"]
    assert len(rows) == int((run.events["account"] == account).sum())
    assert "liquidation" in set(rows["kind"])
    assert rows["step"].is_monotonic_increasing


def test_node_events_of_an_institution_match_venue_or_agent(run: RunResult) -> None:
    rows = node_events(run.events, "AlphaFund")
    assert {"default", "loan_loss", "loan_recall"} <= set(rows["kind"])  # loan_* name it as agent
    assert rows["step"].is_monotonic_increasing
    fund = node_events(run.events, "LendB-Fund")
    assert {"fund_draw", "fund_exhausted"} <= set(fund["kind"])


def test_node_events_of_a_cohort_or_unknown_node_are_empty(run: RunResult) -> None:
    for node in ("cohort:LendA+CEX", "trader:x", "nobody"):
        rows = node_events(run.events, node)
        assert isinstance(rows, pd.DataFrame) and rows.empty
        assert list(rows.columns) == ["step", "kind", "value_usd", "detail"]
