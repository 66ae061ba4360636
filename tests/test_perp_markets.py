"""Several perp markets at one venue (issue 9): cross margin across markets, one feed per
market from the world graph, positions files and scenario files with ``markets``."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contagion.agents.perp import apply_trades
from contagion.book import PerpBook
from contagion.errors import ParameterError, PositionsError, ScenarioFileError
from contagion.model import ContagionModel
from contagion.params import AssetParams, OracleParams, PerpMarketParams, PricePathParams
from contagion.positions import read_positions
from contagion.runner import simulate
from contagion.scenario import Scenario
from contagion.scenario_file import dumps, loads, scenario_from_dict, scenario_to_dict
from contagion.world import build_world
from models import get_scenario


def two_markets(n_traders: int = 400, *, btc_delay_steps: int = 6, **market: float) -> Scenario:
    """The default scenario with BTC listed at PerpX besides ETH (maintenance margin 4%
    unless ``market`` says otherwise; BTC crashes 30% from step 20; its oracle publishes
    ``btc_delay_steps`` late)."""
    market = {"maintenance_margin_frac": 0.04, **market}
    sc = get_scenario("default", n_traders=n_traders)
    pv = sc.perps[0]
    return dataclasses.replace(
        sc,
        assets=(*sc.assets, AssetParams(name="BTC", kind="volatile", initial_price_usd=60000.0)),
        oracles=(*sc.oracles, OracleParams(name="BTC-feed", asset="BTC",
                                           delay_steps=btc_delay_steps)),
        paths=(*sc.paths, PricePathParams(asset="BTC", kind="crash", shock_frac=0.3,
                                          shock_start_step=20, shock_duration_steps=20)),
        perps=(dataclasses.replace(pv, markets=(
            PerpMarketParams(asset="BTC", oracle="BTC-feed", **market),)),),
    )


class Fixed:
    """A feed at a fixed price (what a venue reads of an oracle: price and last_event)."""

    def __init__(self, name: str, price: float) -> None:
        self.name, self.price, self.last_event = name, price, -1


def _rows() -> list[dict[str, object]]:
    """Account 0 at PerpX: $1,000 margin, long 1 ETH at 2,000 and short 0.1 BTC at 60,000."""
    return [
        {"account": 0, "venue": "PerpX", "kind": "collateral", "asset": "USDC", "amount": 1000.0},
        {"account": 0, "venue": "PerpX", "kind": "perp", "asset": "ETH", "amount": 1.0,
         "entry_price": 2000.0, "cross_margined": "false"},
        {"account": 0, "venue": "PerpX", "kind": "perp", "asset": "BTC", "amount": -0.1,
         "entry_price": 60000.0, "cross_margined": "false"},
        {"account": 1, "venue": "CEX", "kind": "deposit", "asset": "USDC", "amount": 2e8},
    ]


def _account_at(eth: float, btc: float) -> tuple[ContagionModel, int]:
    model = ContagionModel(two_markets(n_traders=10), seed=0, positions=pd.DataFrame(_rows()))
    pv = model.perps[0]
    pv.oracles = [Fixed("ETH", eth), Fixed("BTC", btc)]
    pv.invalidate()
    return model, int(np.flatnonzero(pv.book.owner == 0)[0])


# ------------------------------------------------------------------ cross margin
def test_a_loss_in_one_market_is_carried_by_profit_in_the_other() -> None:
    # ETH 2000 -> 1000: the long loses 1,000, its whole margin (alone it would be bankrupt);
    # BTC 60000 -> 54000: the short gains 0.1 * 6,000 = 600.
    # equity = 1000 - 1000 + 600 = 600; maintenance = 1 * 1000 * 5% + 0.1 * 54000 * 4% = 266
    model, row = _account_at(1000.0, 54000.0)
    pv = model.perps[0]
    assert pv.book.size[row].tolist() == [1.0, -0.1]
    eq, mm = pv.margin_state()
    assert eq[row] == pytest.approx(600.0)
    assert mm[row] == pytest.approx(50.0 + 216.0)
    pv.liquidate()
    assert pv.book.size[row].tolist() == [1.0, -0.1]  # not liquidated
    assert pv.liquidation_count == 0


def test_the_account_is_liquidated_when_net_equity_misses_total_maintenance() -> None:
    # ETH at 1000 (-1,000), BTC at 57500 (+250): equity 250 < 50 + 0.1 * 57500 * 4% = 280
    model, row = _account_at(1000.0, 57500.0)
    pv = model.perps[0]
    eq, mm = pv.margin_state()
    assert eq[row] == pytest.approx(250.0) and mm[row] == pytest.approx(280.0)
    depth_eth = float(model.market.depth_usd[pv.assets[0]])
    depth_btc = float(model.market.depth_usd[pv.assets[1]])
    pv.liquidate()
    # both positions are closed, each into its own market's book
    assert pv.book.size[row].tolist() == [0.0, 0.0]
    ev = model.events_frame
    closes = ev[ev["kind"] == "perp_liquidation"].set_index("asset")
    assert sorted(closes.index) == ["BTC", "ETH"]
    fill_eth = 1000.0 * (1 - 1.0 * 1000.0 / depth_eth)  # a long sells: below the mark
    fill_btc = 57500.0 * (1 + 0.1 * 57500.0 / depth_btc)  # a short buys back: above it
    assert closes.loc["ETH", "price"] == pytest.approx(fill_eth, rel=1e-12)
    assert closes.loc["BTC", "price"] == pytest.approx(fill_btc, rel=1e-12)
    assert closes.loc["ETH", "amount"] == 1.0 and closes.loc["BTC", "amount"] == -0.1
    assert closes.loc["BTC", "mmr_frac"] == 0.04 and closes.loc["ETH", "mmr_frac"] == 0.05
    # what is left: equity at the fills less the 1% fee on both notionals
    e_fill = 1000.0 + (fill_eth - 2000.0) - 0.1 * (fill_btc - 60000.0)
    fee = 0.01 * (fill_eth + 0.1 * fill_btc)
    assert e_fill > fee  # no shortfall
    assert pv.book.collateral[row] == pytest.approx(e_fill - fee, rel=1e-9)
    assert closes["shortfall_usd"].tolist() == [0.0, 0.0]
    assert pv.liquidation_count == 1  # one account


def test_a_bankrupt_cross_account_splits_its_shortfall_by_notional() -> None:
    # ETH at 800 (-1,200), BTC at 61000 (-100): equity -300 before fills
    model, row = _account_at(800.0, 61000.0)
    pv = model.perps[0]
    fund_before = pv.fund.balance_usd
    pv.liquidate()
    ev = model.events_frame
    closes = ev[ev["kind"] == "perp_liquidation"].set_index("asset")
    fill_eth, fill_btc = closes.loc["ETH", "price"], closes.loc["BTC", "price"]
    shortfall = -(1000.0 + (fill_eth - 2000.0) - 0.1 * (fill_btc - 60000.0))
    assert shortfall > 0
    notional = np.array([fill_eth, 0.1 * fill_btc])
    np.testing.assert_allclose(closes.loc[["ETH", "BTC"], "shortfall_usd"],
                               shortfall * notional / notional.sum(), rtol=1e-9)
    assert fund_before - pv.fund.balance_usd == pytest.approx(shortfall, rel=1e-9)
    assert pv.book.collateral[row] == pytest.approx(0.0, abs=1e-6)


def test_open_interest_and_maintenance_sum_over_markets() -> None:
    model, row = _account_at(1500.0, 50000.0)
    pv = model.perps[0]
    assert pv.maintenance(np.array([row]))[0] == pytest.approx(1500 * 0.05 + 5000 * 0.04)
    # the outside market makers hold the opposite of both positions
    assert pv.book.size[0].tolist() == [-1.0, 0.1]
    assert pv.open_interest_usd() == pytest.approx(1500.0 + 5000.0)


# ------------------------------------------------------------------ generated books
def test_generated_traders_each_pick_one_market() -> None:
    model = ContagionModel(two_markets(), seed=3)
    b = model.perps[0].book
    assert b.size.shape == (len(b), 2)
    held = (b.size[1:] != 0).sum(axis=1)
    assert (held == 1).all()
    assert (b.size[1:, 0] != 0).any() and (b.size[1:, 1] != 0).any()
    np.testing.assert_allclose(b.size.sum(axis=0), 0.0, atol=1e-9)  # row 0 nets each market
    # the same seed draws the same market
    again = ContagionModel(two_markets(), seed=3).perps[0].book
    assert np.array_equal(b.size, again.size) and np.array_equal(b.entry, again.entry)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_units_are_conserved_and_markets_net_to_zero(seed: int) -> None:
    model = ContagionModel(two_markets(n_traders=300), seed=seed, check_conservation=True)
    model.run()
    b = model.perps[0].book
    np.testing.assert_allclose(b.size.sum(axis=0), 0.0, atol=1e-6 * np.abs(b.size).sum())
    ev = model.events_frame
    assert set(ev.loc[ev["kind"] == "perp_liquidation", "asset"]) == {"ETH", "BTC"}
    assert set(ev.loc[ev["kind"] == "adl", "asset"]) <= {"ETH", "BTC"}
    pv = model.perps[0]
    covered = pv.fund_paid_usd + pv.adl_covered_usd + pv.socialised_usd + pv.unresolved_usd
    assert np.isclose(pv.bad_debt_usd, covered, rtol=1e-6, atol=1e-3)


# ------------------------------------------------------------------ world graph
def test_each_market_has_its_price_feed_edge() -> None:
    G = build_world(two_markets())
    feeds = sorted((u, d["asset"]) for u, _, d in G.in_edges("PerpX", data=True)
                   if d["type"] == "price_feed")
    assert feeds == [("BTC-feed", "BTC"), ("ETH-feed", "ETH")]


def test_removing_the_second_markets_feed_changes_the_cascade() -> None:
    sc = two_markets()
    with_edge = ContagionModel(sc, seed=0)
    without = ContagionModel(sc, seed=0)
    without.graph.remove_edge("BTC-feed", "PerpX", key="price_feed:BTC")
    for m in (with_edge, without):
        m.run(40)
    assert with_edge.perps[0].oracles[1].name == "BTC-feed"
    assert without.perps[0].oracles[1].name == "BTC market price"
    assert without.perps[0].oracles[0].name == "ETH-feed"  # the first market keeps its feed

    def btc_closes(m: ContagionModel) -> pd.DataFrame:
        ev = m.events_frame
        return ev[(ev["kind"] == "perp_liquidation") & (ev["asset"] == "BTC")]

    late, prompt = btc_closes(with_edge), btc_closes(without)
    assert len(prompt) > 0 and len(late) > 0
    # marked to the market with no lag, BTC positions are closed earlier than through the
    # oracle that publishes six steps late
    assert prompt["step"].min() < late["step"].min()


# ------------------------------------------------------------------ positions files
def test_a_positions_file_with_two_markets_round_trips_byte_for_byte(tmp_path: Path) -> None:
    sc = two_markets(n_traders=300)
    first = simulate(sc, seed=4)
    path = tmp_path / "positions.parquet"
    first.positions.to_parquet(path, index=False)
    assert set(first.positions.loc[first.positions["kind"] == "perp", "asset"]) == {"ETH", "BTC"}
    second = simulate(sc, seed=4, positions=read_positions(path))

    def parquet(frame: pd.DataFrame) -> bytes:
        buf = io.BytesIO()
        frame.to_parquet(buf, index=False)
        return buf.getvalue()

    assert parquet(second.events) == parquet(first.events)
    assert parquet(second.positions) == parquet(first.positions)
    assert second.series.equals(first.series)


def test_a_hand_written_two_market_file_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "books.csv"
    pd.DataFrame(_rows()).to_csv(path, index=False)
    sc = two_markets(n_traders=10)
    first = simulate(sc, seed=1, positions=read_positions(path))
    perp = first.positions[(first.positions["venue"] == "PerpX")
                           & (first.positions["account"] == 0)]
    assert perp["kind"].tolist() == ["collateral", "perp", "perp"]
    assert perp["asset"].tolist() == ["USDC", "ETH", "BTC"]
    assert perp["amount"].tolist() == [1000.0, 1.0, -0.1]
    assert perp["entry_price"].tolist()[1:] == [2000.0, 60000.0]
    out = tmp_path / "again.parquet"
    first.positions.to_parquet(out, index=False)
    second = simulate(sc, seed=1, positions=read_positions(out))
    assert second.events.equals(first.events)
    assert second.positions.equals(first.positions)


def test_a_perp_row_in_a_market_the_venue_does_not_list_is_rejected() -> None:
    rows = _rows()
    rows.insert(2, {"account": 2, "venue": "PerpX", "kind": "perp", "asset": "EXT",
                    "amount": 5.0, "entry_price": 1.0})
    with pytest.raises(PositionsError) as info:
        ContagionModel(two_markets(n_traders=10), seed=0, positions=pd.DataFrame(rows))
    assert info.value.problems == [(3, "asset", "'EXT' is not a market of PerpX; it lists ETH, "
                                    "BTC (add a market with perps.PerpX.markets in the scenario)")]
    # BTC is refused where the venue lists only ETH
    with pytest.raises(PositionsError, match=r"row 3, column asset: 'BTC' is not a market of "
                                             r"PerpX; it lists ETH \("):
        ContagionModel(get_scenario("default", n_traders=10), seed=0,
                       positions=pd.DataFrame(_rows()[:2] + _rows()[2:]))


def test_the_outside_world_nets_each_market_on_its_own() -> None:
    rows = [*_rows(),
            {"account": -1, "venue": "PerpX", "kind": "perp", "asset": "BTC", "amount": 0.2,
             "entry_price": 60000.0}]
    with pytest.raises(PositionsError, match=r"row 5, column amount: the outside world's size at "
                                             r"PerpX's BTC market must net .*: 0\.1"):
        ContagionModel(two_markets(n_traders=10), seed=0, positions=pd.DataFrame(rows))
    rows[-1] = {**rows[-1], "amount": 0.1}
    model = ContagionModel(two_markets(n_traders=10), seed=0, positions=pd.DataFrame(rows))
    assert model.perps[0].book.size[0].tolist() == [-1.0, 0.1]  # ETH still set by the engine


# ------------------------------------------------------------------ scenario files
def test_a_scenario_file_with_markets_round_trips() -> None:
    sc = two_markets(initial_margin_frac=0.08, maintenance_margin_frac=0.04)
    text = dumps(sc)
    assert '[[perps.markets]]\nasset = "BTC"\noracle = "BTC-feed"\n' \
           "initial_margin_frac = 0.08\nmaintenance_margin_frac = 0.04\n" in text
    assert loads(text) == sc
    assert scenario_from_dict(scenario_to_dict(sc)) == sc
    # a market left without margins takes the venue's
    plain = loads(text.replace("initial_margin_frac = 0.08\nmaintenance_margin_frac = 0.04\n", ""))
    assert plain.perps[0].markets[0].initial_margin_frac is None
    assert plain.perps[0].market_maintenance_margin_fracs == (0.05, 0.05)


@pytest.mark.parametrize(("old", "new", "says"), [
    ('oracle = "BTC-feed"\ninitial', 'oracle = "ETH-feed"\ninitial',
     "'perps[PerpX].markets[BTC].oracle' = 'ETH-feed' is invalid: allowed an oracle of 'BTC'"),
    ('[[perps.markets]]\nasset = "BTC"', '[[perps.markets]]\nasset = "ETH"',
     "'perps[PerpX].markets[ETH].asset' = 'ETH' is invalid: allowed each asset at most once"),
    ('[[perps.markets]]\nasset = "BTC"', '[[perps.markets]]\nasset = "USDC"',
     "'perps[PerpX].markets[USDC].asset' = 'USDC' is invalid: allowed a declared non-stable"),
    ("maintenance_margin_frac = 0.04\n", "maintenance_margin_frac = 0.09\n",
     "'perps[PerpX].markets[BTC].maintenance_margin_frac' = 0.09 is invalid: allowed 0 < x <= 0.08"),
    ("initial_margin_frac = 0.08\n", "initial_margin_frac = 0.08\nleverage = 3\n",
     "key 'perps[PerpX].markets[BTC].leverage' is not a field of PerpMarketParams"),
])
def test_bad_markets_are_refused_naming_the_key(old: str, new: str, says: str) -> None:
    text = dumps(two_markets(initial_margin_frac=0.08, maintenance_margin_frac=0.04))
    assert old in text
    with pytest.raises(ScenarioFileError) as info:
        loads(text.replace(old, new, 1), source="mine.toml")
    assert str(info.value).startswith("mine.toml:")
    assert says in str(info.value)


def test_a_market_whose_maintenance_exceeds_the_venues_initial_margin_is_refused() -> None:
    pv = get_scenario("default").perps[0]
    with pytest.raises(ParameterError, match=r"perps\[PerpX\]\.markets\[BTC\]\."
                                             r"maintenance_margin_frac' = 0.2"):
        dataclasses.replace(pv, markets=(PerpMarketParams(asset="BTC", oracle="B",
                                                          maintenance_margin_frac=0.2),))


# ------------------------------------------------------------------ invariants
@settings(max_examples=60, deadline=None)
@given(n=st.integers(2, 6), m=st.integers(1, 4), data=st.data())
def test_matched_trades_in_any_market_conserve_the_venues_cash(n: int, m: int, data) -> None:  # type: ignore[no-untyped-def]
    money = st.floats(1.0, 1e5, allow_nan=False)
    book = PerpBook(
        collateral=np.array(data.draw(st.lists(money, min_size=n, max_size=n))),
        size=np.zeros((n, m)), entry=np.ones((n, m)) * 100.0,
        owner=np.arange(n, dtype=np.int64), cross=np.zeros(n, dtype=bool))
    before = book.cash()
    for _ in range(data.draw(st.integers(1, 25))):
        k = data.draw(st.integers(0, m - 1))
        i, j = data.draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=2, unique=True))
        q = data.draw(st.floats(-50.0, 50.0, allow_nan=False))
        price = data.draw(st.floats(1.0, 1e4, allow_nan=False))
        apply_trades(book, np.array([i]), np.array([q]), price, market=k)
        apply_trades(book, np.array([j]), np.array([-q]), price, market=k)
    assert book.size.shape == (n, m)
    np.testing.assert_allclose(book.size.sum(axis=0), 0.0, atol=1e-9)
    scale = float(np.abs(book.collateral).sum() + (np.abs(book.size) * book.entry).sum()) + 1.0
    assert abs(book.cash() - before) <= 1e-9 * scale


def test_a_vector_book_is_one_market() -> None:
    book = PerpBook(collateral=np.array([5.0, 1.0]), size=np.array([-2.0, 2.0]),
                    entry=np.array([10.0, 12.0]), owner=np.array([-1, 0]),
                    cross=np.zeros(2, dtype=bool))
    assert book.size.shape == (2, 1) and book.markets == 1
    assert book.cash() == 5.0 + 20.0 + 1.0 - 24.0


def test_the_narrative_tells_each_market_of_a_venue_apart() -> None:
    from dashboard.narrative import step_narrative

    result = simulate(two_markets(), seed=0)
    ev = result.events
    closes = ev[(ev["kind"] == "perp_liquidation") & (ev["venue"] == "PerpX")]
    both = closes.groupby("step")["asset"].nunique()
    step = int(both[both == 2].index[0])
    lines = [x for x in step_narrative(ev, result.series, step) if "maintenance margin" in x]
    assert any("on PerpX's ETH market" in x for x in lines)
    assert any("on PerpX's BTC market" in x for x in lines)
