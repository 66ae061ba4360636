"""The headline cards and the venue table show the run's own outputs."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from contagion.runner import RunResult
from dashboard.headline import VENUE_COLUMNS, headline_cards, venue_table, venue_table_records
from dashboard.layout import venue_table_view
from dashboard.narrative import format_usd


def test_cards_are_the_summary(shocked_run: RunResult) -> None:
    s = shocked_run.summary
    cards = {c.key: c for c in headline_cards(shocked_run)}
    assert list(cards) == ["defaults", "venues_hit", "bad_debt", "fund_used", "socialised", "adl",
                           "liquidations"]
    assert cards["defaults"].value == str(len(s["defaulted"]))
    for name in s["defaulted"][:3]:
        assert name in cards["defaults"].detail
    assert cards["venues_hit"].value == str(len(s["venues_hit"]))
    assert cards["bad_debt"].value == format_usd(s["bad_debt_usd"])
    assert cards["fund_used"].value == format_usd(s["fund_used_usd"])
    assert cards["socialised"].value == format_usd(s["socialised_usd"])
    assert cards["adl"].value == format_usd(s["adl_usd"])
    assert cards["liquidations"].value == format_usd(s["liquidation_volume_usd"])
    assert f"{s['liquidations']:,}" in cards["liquidations"].detail
    assert cards["defaults"].alert == bool(s["defaulted"])
    assert cards["socialised"].alert == (s["socialised_usd"] > 0)


def test_venue_table_agrees_with_the_summary(shocked_run: RunResult) -> None:
    s = shocked_run.summary
    t = venue_table(shocked_run)
    assert list(t.columns) == list(VENUE_COLUMNS)
    by = t.set_index("venue")
    for venue, bad in s["bad_debt_by_venue"].items():
        assert by.loc[venue, "bad_debt_usd"] == pytest.approx(bad, abs=1e-6)
    for venue, rate in s["recovery_by_venue"].items():
        assert by.loc[venue, "recovery_rate"] == pytest.approx(rate)
    assert int(t["liquidations"].sum()) == s["liquidations"]
    assert t["liquidated_usd"].sum() == pytest.approx(s["liquidation_volume_usd"], rel=1e-9)
    defaulted = set(t.loc[t["default_step"].notna(), "venue"])
    assert defaulted == set(s["defaulted"]) & set(t["venue"])
    # a venue's fund: its backstop's last balance in the series
    for fund, venue, data in shocked_run.network.edges(data=True):
        if data.get("type") == "backstop" and venue in by.index:
            col = f"fund_{fund}"
            assert by.loc[venue, "fund_left_usd"] == pytest.approx(shocked_run.series[col].iloc[-1])
    for venue in set(t["venue"]) - {v for _, v, d in shocked_run.network.edges(data=True)
                                    if d.get("type") == "backstop"}:
        assert math.isnan(by.loc[venue, "fund_left_usd"])


def test_the_table_view_sorts_and_puts_empty_cells_last(shocked_run: RunResult) -> None:
    rows = venue_table_records(venue_table(shocked_run))
    view = venue_table_view(rows, "default_step", False)
    body = view.children[1].children
    first_cells = [tr.children[0].children for tr in body]
    steps = {r["venue"]: r["default_step"] for r in rows}
    shown = [steps[v] for v in first_cells]
    known = [x for x in shown if x is not None]
    assert known == sorted(known) and shown[:len(known)] == known  # empty (no default) last
    down = venue_table_view(rows, "bad_debt_usd", True).children[1].children
    bad = {r["venue"]: r["bad_debt_usd"] for r in rows}
    values = [bad[tr.children[0].children] for tr in down]
    assert values == sorted(values, reverse=True)
    heads = venue_table_view(rows, "bad_debt_usd", True).children[0].children.children
    sorted_head = [th for th in heads if th.to_plotly_json()["props"].get("aria-sort") != "none"]
    assert len(sorted_head) == 1 and "▼" in sorted_head[0].children.children


def test_a_broken_peg_is_named_beside_the_defaults() -> None:
    """Terra's peg is drawn black once it breaks; the Defaults card says so, so the words
    and the picture agree (it is not a defaulted institution: the count stays)."""
    from contagion.runner import simulate
    from models import get_scenario

    run = simulate(get_scenario("terra"), seed=0)
    card = next(c for c in headline_cards(run) if c.key == "defaults")
    assert card.value == str(len(run.summary["defaulted"]))
    assert "peg broken: Terra" in card.detail
    calm = next(c for c in headline_cards(SimpleNamespace(summary=run.summary)) if c.key ==
                "defaults")
    assert "peg" not in calm.detail
