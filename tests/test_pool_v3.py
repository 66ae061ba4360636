"""Uniswap V3 pools in the engine (issue 12): usable wherever a V2 pool is.

A full-range V3 pool trades as the V2 pool of the same parameters; concentrated liquidity
gives less slippage near the price and far more once the price leaves the range; arbitrage
closes a gap without crossing it; oracles read the V3 spot and TWAP; LPs pulling liquidity
in a crash deepen the fire sale; the model's conservation check holds throughout.
"""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pytest

from contagion.agents.pool_v3 import ConcentratedPool, sqrt_price_x96_of
from contagion.errors import ParameterError
from contagion.mechanics.amm import swap_in
from contagion.mechanics.uniswap_v3 import get_tick_at_sqrt_ratio
from contagion.model import ContagionModel
from contagion.params import AssetParams, MarketParams, PoolParams, PricePathParams, TraderParams
from contagion.scenario import Scenario
from contagion.scenario_file import dumps, loads
from dashboard.narrative import step_narrative
from models import get_scenario

PRICE = 100.0
DEPTH = 1e6
FEE = 0.003
CONCENTRATED = ((0.25, 0.8), (math.inf, 0.2))  # 80% of the value within -20%/+25%


def _scenario(*, steps: int = 1, dislocation: float = 0.0, **pool: object) -> Scenario:
    return Scenario(
        name="v3", market=MarketParams(steps=steps),
        assets=(AssetParams(name="USDC", kind="stable", initial_price_usd=1.0),
                AssetParams(name="X", kind="volatile", initial_price_usd=PRICE,
                            external_depth_usd=DEPTH)),
        paths=(PricePathParams(asset="X", kind="crash", shock_frac=dislocation,
                               shock_start_step=0, shock_duration_steps=1, vol_per_step=0.0),),
        pools=(PoolParams(name="X/USDC", base="X", reserve_base=5e4,
                          arb_capacity_usd_per_step=2e5,
                          **{"fee_frac": FEE, **pool}),),  # type: ignore[arg-type]
        traders=TraderParams(n_traders=20))


def _pool(**pool: object) -> tuple[ContagionModel, ConcentratedPool]:
    model = ContagionModel(_scenario(**pool), seed=1, check_conservation=True)
    p = model.pools["X/USDC"]
    return model, p  # type: ignore[return-value]


def test_full_range_v3_trades_as_the_v2_pool() -> None:
    _, v2 = _pool()
    _, v3 = _pool(kind="v3")
    assert isinstance(v3, ConcentratedPool) and not isinstance(v2, ConcentratedPool)
    assert v3.spot == pytest.approx(PRICE, rel=1e-15)
    # the same value, held as reserves: the mint of a full range at price P is (R, R P)
    assert v3.holdings()[v3.base] == pytest.approx(v2.reserve_base, rel=1e-12)
    assert v3.holdings()[v3.quote] == pytest.approx(v2.reserve_quote, rel=1e-12)
    assert v3.reserve_base == pytest.approx(v2.reserve_base, rel=1e-12)
    sizes = np.array([1e-3, 1.0, 500.0, 2e4, 5e5])
    assert v3.quote_sell_many(sizes) == pytest.approx(v2.quote_sell_many(sizes), rel=1e-12)
    for units in sizes:
        assert v3.quote_sell(float(units)) == pytest.approx(v2.quote_sell(float(units)),
                                                            rel=1e-12)
    # a sequence of trades: every amount and the spot agree within integer rounding. (With
    # a fee they drift apart by the fee's share of the volume: a V2 pair adds its fees to
    # its reserves, hence to k; a V3 pool keeps them out of the liquidity.)
    _, v2 = _pool(fee_frac=0.0)
    _, v3 = _pool(kind="v3", fee_frac=0.0)
    for units, usd in [(100.0, 0.0), (0.0, 3e4), (2e3, 0.0), (0.0, 5e5), (1e4, 0.0)]:
        if units:
            assert v3.sell_base(units) == pytest.approx(v2.sell_base(units), rel=1e-12)
        else:
            assert v3.buy_base(usd) == pytest.approx(v2.buy_base(usd), rel=1e-12)
        assert v3.spot == pytest.approx(v2.spot, rel=1e-12)


def test_concentrated_liquidity_is_deep_near_the_price_and_thin_outside() -> None:
    _, full = _pool(kind="v3")
    _, conc = _pool(kind="v3", v3_ranges=CONCENTRATED)
    # a sale of 1% of the reserve moves the concentrated pool ~8x less (L is ~8x larger)
    small = 500.0
    impact_full = 1.0 - _after_sale(full, small) / PRICE
    impact_conc = 1.0 - _after_sale(conc, small) / PRICE
    assert impact_conc < impact_full / 5
    assert conc.in_range_liquidity > 5 * full.in_range_liquidity
    # a sale that takes the price out of the range: the rest only meets 20% of the value
    _, full = _pool(kind="v3")
    _, conc = _pool(kind="v3", v3_ranges=CONCENTRATED)
    big = 8e4  # 1.6 times the V2-equivalent reserve
    after_full, after_conc = _after_sale(full, big), _after_sale(conc, big)
    assert after_conc < PRICE / (1.25 * 1.0001**60)  # left the range
    assert after_conc < 0.5 * after_full  # much deeper fall than the full-range pool
    # priced out of a lone narrow range, the pool shows V2 formulas a vanishing curve
    _, narrow = _pool(kind="v3", v3_ranges=((0.05, 1.0),))
    narrow.sell_base(1e6)
    assert narrow.in_range_liquidity == 0.0 and narrow.spot < PRICE / 1.05
    assert 0.0 < narrow.reserve_base * narrow.reserve_quote < 1e-30
    # buying a unit back crosses the empty ticks up to the range: it costs its real price
    assert PRICE / 1.06 < narrow.cost_to_buy(1.0) < PRICE
    _, v2 = _pool()
    assert v2.cost_to_buy(10.0) == swap_in(10.0, v2.reserve_quote, v2.reserve_base, FEE)
    _, v3 = _pool(kind="v3")
    assert v3.cost_to_buy(10.0) == pytest.approx(v2.cost_to_buy(10.0), rel=1e-12)
    assert math.isinf(v3.cost_to_buy(1e12))
    # and the float quote of a sale crossing ranges agrees with the exact integer swap
    _, conc = _pool(kind="v3", v3_ranges=CONCENTRATED)
    units = np.array([10.0, 5e3, 2e4, 4e4, 1e6])
    exact = [conc.quote_sell(float(u)) for u in units]
    assert conc.quote_sell_many(units) == pytest.approx(exact, rel=1e-9)


def _after_sale(pool: ConcentratedPool, units: float) -> float:
    pool.sell_base(units)
    return pool.spot


@pytest.mark.parametrize("ranges", [((math.inf, 1.0),), CONCENTRATED])
def test_arbitrage_closes_the_gap_without_crossing(ranges: tuple[tuple[float, float], ...]
                                                   ) -> None:
    """The external price drops 2% at step 1; arbitrage pulls the pool down after it,
    stopping where its own unwind leaves the two prices (net of the fee) equal."""
    steps = 12
    model = ContagionModel(_scenario(steps=steps, dislocation=0.02, kind="v3",
                                     v3_ranges=ranges), seed=1, check_conservation=True)
    pool, x = model.pools["X/USDC"], model.market.index["X"]
    gaps = []
    for _ in range(steps):
        model.step()
        gaps.append(pool.spot / float(model.market.price[x]) - 1.0)
    band = 1.0 / (1.0 - FEE) - 1.0
    assert all(0.0 < g <= band * (1 + 1e-9) for g in gaps[-3:]), gaps
    assert all(b <= a * (1 + 1e-9) for a, b in itertools.pairwise(gaps)), gaps
    assert gaps[-1] > 0.99 * band  # ends just inside the band, nothing left worth arbitraging


def test_v3_state_is_exact_integers_at_a_stated_scale() -> None:
    model, conc = _pool(kind="v3", v3_ranges=CONCENTRATED)
    p0 = float(model.market.price[conc.base])
    assert p0 == pytest.approx(PRICE, rel=1e-14)
    assert conc.sqrt_price == sqrt_price_x96_of(p0)
    assert conc.tick == get_tick_at_sqrt_ratio(conc.sqrt_price) == 46054  # ln(100)/ln(1.0001)
    assert all(lo % 60 == 0 and hi % 60 == 0 for lo, hi, _ in conc.positions)
    lo, hi, _ = conc.positions[0]
    assert 1.0001**lo <= PRICE / 1.25 and 1.0001**hi >= PRICE * 1.25
    # 10**18 raw units a unit: 1 unit sold is 10**18 raw token0 in
    assert conc.quote_sell(1.0) == pytest.approx(PRICE * (1 - FEE), rel=1e-4)


def _default(pool_kw: dict[str, object], shock: float = 0.15) -> ContagionModel:
    sc = get_scenario("default", n_traders=200, steps=48, shock_frac=shock)
    pools = tuple(dataclasses.replace(p, **pool_kw) if p.name == "ETH/USDC" else p
                  for p in sc.pools)
    model = ContagionModel(dataclasses.replace(sc, pools=pools), seed=2, check_conservation=True)
    model.run()
    return model


def test_lp_withdrawal_deepens_the_fire_sale() -> None:
    """ETH falls 15%; the ETH/USDC pool holds 80% of its value within -20%/+25%. When its
    LPs pull 30% of the in-range liquidity a step once ETH is 5% down, the liquidators'
    sales move the pool far more, the pool-TWAP oracle follows, more accounts fall below
    HF 1, and the liquidators, whose sales now cost them the bonus, liquidate less."""
    calm = _default({"kind": "v3", "v3_ranges": CONCENTRATED})
    pulled = _default({"kind": "v3", "v3_ranges": CONCENTRATED, "lp_withdraw_below_frac": 0.05,
                       "lp_withdraw_frac_per_step": 0.3})
    s_calm = calm.datacollector.get_model_vars_dataframe()
    s_pull = pulled.datacollector.get_model_vars_dataframe()
    # far more price impact from the same kind of selling
    assert s_pull["impact_ETH/USDC"].min() < 3 * s_calm["impact_ETH/USDC"].min()
    gap = (s_pull["pool_ETH/USDC"] / s_pull["price_ETH"]).min()
    assert gap < (s_calm["pool_ETH/USDC"] / s_calm["price_ETH"]).min() - 0.05
    assert s_pull["oracle_ETH-twap"].min() < s_calm["oracle_ETH-twap"].min()
    risk = {name: m.venue_frame().groupby("venue")["at_risk"].max()
            for name, m in (("calm", calm), ("pulled", pulled))}
    assert risk["pulled"]["LendA"] > risk["calm"]["LendA"]
    assert risk["pulled"]["LendB"] > risk["calm"]["LendB"]
    ev_calm, ev = calm.events_frame, pulled.events_frame
    liqs = [int(((e["kind"] == "liquidation") & (e["asset"] == "ETH")).sum())
            for e in (ev_calm, ev)]
    assert liqs[1] < liqs[0]
    # the withdrawals: typed fields, 30% a step, the starting depth shrinking as 0.7^n
    w = ev[ev["kind"] == "liquidity_withdrawal"]
    assert (ev_calm["kind"] == "liquidity_withdrawal").sum() == 0
    assert len(w) >= 10
    assert (w["agent"] == "ETH/USDC").all() and (w["asset"] == "ETH").all()
    assert w["liquidity_frac"].to_numpy() == pytest.approx(0.3, abs=1e-6)
    assert (w["drawdown_frac"] > 0.05).all()
    left = w["liquidity_left_frac"].to_numpy()
    assert np.all(np.diff(left) < 0)
    assert (w["base_units"] > 0).all() and (w["quote_usd"] > 0).all()
    assert w["value_usd"].to_numpy() == pytest.approx(
        (w["base_units"] * w["price"] + w["quote_usd"]).to_numpy(), rel=1e-12)
    pool = pulled.pools["ETH/USDC"]
    assert isinstance(pool, ConcentratedPool)
    assert pool.withdrawn_base == pytest.approx(w["base_units"].sum(), rel=1e-12)
    step = int(w["step"].iloc[0])
    told = " ".join(step_narrative(ev, s_pull, step))
    assert "LPs pulled 30% of ETH/USDC's in-range liquidity" in told


def test_v3_pool_params_are_checked() -> None:
    with pytest.raises(ParameterError, match=r"pools\[P\]\.v3_ranges"):
        PoolParams(name="P", base="X", reserve_base=1.0, kind="v3",
                   v3_ranges=((0.1, 0.5), (math.inf, 0.4)))
    with pytest.raises(ParameterError, match=r"v3_ranges\[0\]\.half_width_frac"):
        PoolParams(name="P", base="X", reserve_base=1.0, kind="v3", v3_ranges=((0.0, 1.0),))
    with pytest.raises(ParameterError, match=r"pools\[X/USDC\]\.lp_withdraw_frac_per_step"):
        _scenario(lp_withdraw_frac_per_step=0.1)  # a V2 pool does not model withdrawals
    _, pool = _pool(kind="v3", fee_frac=0.0030004)
    assert pool.fee_pips == 3000  # whole pips
    with pytest.raises(ParameterError, match=r"pools\[P\]\.kind"):
        PoolParams(name="P", base="X", reserve_base=1.0, kind="v4")


def test_v3_pool_round_trips_through_a_scenario_file() -> None:
    sc = _scenario(kind="v3", v3_ranges=CONCENTRATED, tick_spacing=10, fee_frac=0.0005,
                   lp_withdraw_below_frac=0.1, lp_withdraw_frac_per_step=0.25)
    text = dumps(sc)
    assert 'kind = "v3"' in text
    back = loads(text)
    assert back.pools == sc.pools


def test_manipulating_a_v3_pool_moves_its_spot_oracle_and_stops_at_the_floor() -> None:
    """Mango-style dump into a thin concentrated EXT pool: its spot oracle follows, the sale
    stops at 1 / PATH_RANGE of the first spot, and every unit is accounted for."""
    from contagion.mechanics.price_path import PATH_RANGE
    from contagion.params import PoolManipulationParams

    sc = get_scenario("default", n_traders=200, steps=12, shock_frac=0.0)
    pools = tuple(dataclasses.replace(p, kind="v3", v3_ranges=((0.1, 1.0),))
                  if p.name == "EXT/USDC" else p for p in sc.pools)
    dump = PoolManipulationParams(pool="EXT/USDC", start_step=5, duration_steps=3,
                                  notional_usd_per_step=3e7, direction="dump")
    model = ContagionModel(dataclasses.replace(sc, pools=pools, manipulations=(dump,)), seed=2,
                           check_conservation=True)
    pool = model.pools["EXT/USDC"]
    first = pool.spot
    model.run()
    s = model.datacollector.get_model_vars_dataframe()
    floor = first / PATH_RANGE
    assert s["pool_EXT/USDC"].min() == pytest.approx(floor, rel=1e-9)  # out of range: floor
    assert s["oracle_EXT-spot"].min() < 0.5 * s["price_EXT"].min()
    ev = model.events_frame
    assert (ev["kind"] == "pool_manipulation").sum() == 3
