"""The default scenario's three claims (issue: the contagion engine)."""

from __future__ import annotations

from contagion.runner import RunResult


def test_shock_sets_off_a_cascade_across_at_least_two_venues(shocked_run: RunResult) -> None:
    s = shocked_run.summary
    assert len(s["venues_hit"]) >= 2, s["venues_hit"]
    assert s["defaults"] >= 1
    assert "CEX" in s["venues_defaulted"]
    assert s["cascade_depth"] >= 2  # a default caused by an earlier default
    assert s["bad_debt_usd"] > 0
    assert s["liquidations"] > 100


def test_without_the_shock_nothing_defaults(calm_run: RunResult) -> None:
    s = calm_run.summary
    assert s["defaults"] == 0
    assert s["venues_hit"] == []
    assert s["bad_debt_usd"] == 0
    assert s["socialised_usd"] == 0


def test_cross_margin_off_keeps_the_cascade_narrower(shocked_run: RunResult,
                                                     isolated_run: RunResult) -> None:
    on, off = shocked_run.summary, isolated_run.summary
    assert len(off["venues_hit"]) < len(on["venues_hit"])
    assert "PerpX" in on["venues_hit"] and "PerpX" not in off["venues_hit"]
    assert off["bad_debt_by_venue"]["PerpX"] < on["bad_debt_by_venue"]["PerpX"]


def test_cex_default_traces_back_to_the_eth_price_shock(shocked_run: RunResult) -> None:
    from contagion.events import trace_cause

    ev = shocked_run.events
    cex = ev[(ev["kind"] == "default") & (ev["venue"] == "CEX")]["event_id"].iloc[0]
    chain = trace_cause(ev, int(cex))
    kinds = ev.set_index("event_id").loc[chain, "kind"].tolist()
    assert kinds[-1] == "price_shock"
    assert "default" in kinds[1:]  # the firm's default came first
    assert ev.set_index("event_id").loc[chain[-1], "asset"] == "ETH"


def test_oracles_lag_the_market_during_the_crash(shocked_run: RunResult) -> None:
    s = shocked_run.series
    gap = (s["oracle_ETH-twap"] / s["price_ETH"] - 1).abs()
    assert gap.max() > 0.01  # the TWAP oracle trails the market by more than 1%
    assert (s["oracle_ETH-feed"] > 0).all()


def test_settlement_delay_is_a_window_for_default() -> None:
    """Cross-margin calls that take an hour to settle are lost when CEX defaults meanwhile."""
    from contagion.model import ContagionModel
    from models import get_scenario

    lost = {}
    for delay in (0, 12):
        model = ContagionModel(get_scenario("default", n_traders=1000,
                                            cross_margin_settlement_steps=delay),
                               seed=1, check_conservation=True)
        model.run()
        perp = model.perps[0]
        lost[delay] = perp.transfer_loss_usd
        assert perp.unfunded_usd < 1e-6  # every transfer settled or was written off
    assert lost[0] == 0.0
    assert lost[12] > 0.0
