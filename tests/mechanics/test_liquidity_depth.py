"""Order-book depth collapse: the multiplier's shape, its parameters, and how the model
applies it to the external market's depth and to pools' arbitrage capacity."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from contagion.errors import ParameterError
from contagion.mechanics.liquidity import depth_multiplier, depth_multipliers
from contagion.model import ContagionModel
from contagion.params import LiquidityShockParams, PoolManipulationParams
from contagion.scenario import Scenario, override
from models import get_scenario


def test_depth_is_cut_during_the_collapse_and_recovers_linearly() -> None:
    m = depth_multiplier(np.arange(10), start_step=2, duration_steps=3, depth_drop_frac=0.98,
                         recovery_steps=4)
    # 2% of normal depth for steps 2-4, then 1/5, 2/5, 3/5, 4/5 of the way back, then full
    expected = [1, 1, 0.02, 0.02, 0.02, 0.216, 0.412, 0.608, 0.804, 1]
    assert m.tolist() == pytest.approx(expected)


def test_without_recovery_depth_returns_at_once() -> None:
    m = depth_multiplier(np.arange(6), start_step=1, duration_steps=2, depth_drop_frac=0.5)
    assert m.tolist() == [1.0, 0.5, 0.5, 1.0, 1.0, 1.0]


def test_a_zero_drop_leaves_depth_untouched() -> None:
    m = depth_multiplier(np.arange(50), start_step=3, duration_steps=10, depth_drop_frac=0.0,
                         recovery_steps=5)
    assert np.all(m == 1.0)


@given(start=st.integers(0, 50), duration=st.integers(1, 50), recovery=st.integers(0, 50),
       drop=st.floats(0.0, 0.999))
def test_multiplier_stays_between_the_floor_and_one_and_never_falls_during_recovery(
        start: int, duration: int, recovery: int, drop: float) -> None:
    t = np.arange(0, start + duration + recovery + 5)
    m = depth_multiplier(t, start_step=start, duration_steps=duration, depth_drop_frac=drop,
                         recovery_steps=recovery)
    assert np.all(m >= 1 - drop - 1e-12) and np.all(m <= 1.0)
    assert np.all(m[:start] == 1.0) and np.all(m[start + duration + recovery:] == 1.0)
    assert np.allclose(m[start:start + duration], 1 - drop)
    assert np.all(np.diff(m[start + duration - 1:]) >= -1e-12)


def test_overlapping_shocks_compound_and_other_assets_keep_their_depth() -> None:
    a = LiquidityShockParams(name="a", assets=("BTC", "ETH"), start_step=0, duration_steps=5,
                             depth_drop_frac=0.5)
    b = LiquidityShockParams(name="b", assets=("ETH",), start_step=2, duration_steps=5,
                             depth_drop_frac=0.9)
    assets = ["USDC", "BTC", "ETH", "ATOM"]
    assert depth_multipliers([a, b], assets, 1).tolist() == pytest.approx([1, 0.5, 0.5, 1])
    assert depth_multipliers([a, b], assets, 3).tolist() == pytest.approx([1, 0.5, 0.05, 1])
    assert depth_multipliers([a, b], assets, 6).tolist() == pytest.approx([1, 1, 0.1, 1])


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"depth_drop_frac": 1.0}, r"liquidity_shocks\[depth-collapse\]\.depth_drop_frac.*0 <= x < 1"),
    ({"depth_drop_frac": -0.1}, r"depth_drop_frac"),
    ({"duration_steps": 0}, r"liquidity_shocks\[depth-collapse\]\.duration_steps.*1 <= x"),
    ({"recovery_steps": -1}, r"recovery_steps.*0 <= x"),
    ({"assets": ()}, r"liquidity_shocks\[depth-collapse\]\.assets"),
    ({"assets": ("BTC", "BTC")}, r"each asset at most once"),
    ({"name": "bad name"}, r"liquidity_shocks\[bad name\]\.name"),
])
def test_bad_liquidity_shock_parameters_are_rejected(kwargs: dict, match: str) -> None:
    base = {"assets": ("BTC",), "start_step": 1, "duration_steps": 2}
    with pytest.raises(ParameterError, match=match):
        LiquidityShockParams(**{**base, **kwargs})


def test_depth_multiplier_rejects_a_total_collapse() -> None:
    with pytest.raises(ParameterError, match=r"depth_drop_frac.*0 <= x < 1"):
        depth_multiplier(3, start_step=1, duration_steps=2, depth_drop_frac=1.0)


def _default_with(shocks: tuple[LiquidityShockParams, ...], **kw: object) -> Scenario:
    sc = get_scenario("default", n_traders=200, steps=30, **kw)  # type: ignore[arg-type]
    return dataclasses.replace(sc, liquidity_shocks=shocks)


@pytest.mark.parametrize("asset", ["USDC", "DOGE"])
def test_scenario_rejects_a_shock_on_the_numeraire_or_an_unknown_asset(asset: str) -> None:
    shock = LiquidityShockParams(assets=(asset,), start_step=1, duration_steps=2)
    with pytest.raises(ParameterError, match=r"liquidity_shocks\[depth-collapse\]\.assets"):
        _default_with((shock,))


def test_scenario_rejects_two_shocks_with_one_name() -> None:
    s = LiquidityShockParams(assets=("ETH",), start_step=1, duration_steps=2)
    with pytest.raises(ParameterError, match="used twice"):
        _default_with((s, s))


def test_a_shock_can_be_overridden_by_its_dotted_name() -> None:
    sc = _default_with((LiquidityShockParams(assets=("ETH",), start_step=1, duration_steps=2),))
    sc = override(sc, "liquidity_shocks.depth-collapse.depth_drop_frac", "0.5")
    assert sc.liquidity_shocks[0].depth_drop_frac == 0.5


def test_model_scales_market_depth_and_pool_arbitrage_while_the_shock_lasts() -> None:
    shock = LiquidityShockParams(assets=("ETH", "EXT"), start_step=3, duration_steps=2,
                                 depth_drop_frac=0.9, recovery_steps=2)
    model = ContagionModel(_default_with((shock,), shock_frac=0.0), seed=1,
                           check_conservation=True)
    eth, ext = model.market.index["ETH"], model.market.index["EXT"]
    lnd = model.market.index["LND"]
    normal = model.market.normal_depth_usd.copy()
    pool = model.pools["ETH/USDC"]
    seen = []
    for _ in range(8):
        model.step()
        d = model.market.depth_usd
        seen.append(round(float(d[eth] / normal[eth]), 6))
        assert d[ext] / normal[ext] == pytest.approx(d[eth] / normal[eth])
        assert d[lnd] == normal[lnd]  # not named by the shock
        assert pool.arb_capacity_usd_per_step == pytest.approx(
            pool.params.arb_capacity_usd_per_step * d[eth] / normal[eth])
    assert seen == pytest.approx([1, 1, 0.1, 0.1, 0.4, 0.7, 1, 1])
    assert np.isinf(model.market.depth_usd[model.market.numeraire])
    ev = model.events_frame
    logged = ev[ev["kind"] == "liquidity_shock"]
    assert sorted(logged["asset"]) == ["ETH", "EXT"]
    assert set(logged["step"]) == {3}
    assert (logged["cause_id"] == -1).all()  # exogenous, like a price shock
    assert (logged["amount"] == -0.9).all()
    assert np.allclose(logged["depth_after_usd"], 0.1 * logged["depth_before_usd"])  # fell 90%
    assert (logged["duration_steps"] == 2).all() and (logged["recovery_steps"] == 2).all()


def test_thinner_depth_means_more_impact_for_the_same_sale() -> None:
    def sale_impact(drop: float) -> float:
        shock = LiquidityShockParams(assets=("ETH",), start_step=1, duration_steps=5,
                                     depth_drop_frac=drop)
        model = ContagionModel(_default_with((shock,), shock_frac=0.0), seed=1)
        model.step()
        i = model.market.index["ETH"]
        before = float(model.market.price[i])
        model.market.sell(i, 1000.0)
        return float(model.market.price[i]) / before - 1.0

    shallow, deep = sale_impact(0.98), sale_impact(0.0)
    assert deep < 0 and shallow < 0
    assert shallow / deep == pytest.approx(50.0, rel=0.02)  # log impact scales with 1/depth


def test_a_manipulation_names_its_actor_in_the_log() -> None:
    sc = get_scenario("default", n_traders=200, steps=6, shock_frac=0.0)
    mp = PoolManipulationParams(pool="EXT/USDC", start_step=2, duration_steps=1,
                                notional_usd_per_step=1e5, direction="dump", actor="panic sellers")
    model = ContagionModel(dataclasses.replace(sc, manipulations=(mp,)), seed=1)
    model.run()
    ev = model.events_frame
    manip = ev[ev["kind"] == "pool_manipulation"].iloc[0]
    assert (manip["actor"], manip["direction"]) == ("panic sellers", "dump")  # they sold
    assert (manip["value_usd"], manip["asset"]) == (100_000.0, "EXT")
    with pytest.raises(ParameterError, match=r"manipulations\[EXT/USDC\]\.actor"):
        dataclasses.replace(mp, actor=" ")
