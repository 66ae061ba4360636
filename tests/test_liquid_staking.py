"""A liquid-staking token (stETH) is priced as its underlying (ETH) times a ratio path."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from contagion.errors import ParameterError
from contagion.model import ContagionModel
from contagion.params import AssetParams, MarketParams, PricePathParams, TraderParams
from contagion.scenario import Scenario

USDC = AssetParams(name="USDC", kind="stable", initial_price_usd=1.0)
ETH = AssetParams(name="ETH", kind="volatile", initial_price_usd=2000.0, external_depth_usd=1e9)
STETH = AssetParams(name="stETH", kind="volatile", initial_price_usd=1940.0, underlying="ETH",
                    external_depth_usd=1e8)


def _market(steps: int = 10, eth_shock: float = 0.2, ratio_shock: float = 0.05) -> Scenario:
    return Scenario(
        name="lst", market=MarketParams(steps=steps), assets=(USDC, ETH, STETH),
        paths=(PricePathParams(asset="ETH", kind="crash", shock_frac=eth_shock,
                               shock_start_step=2, shock_duration_steps=4, vol_per_step=0.0),
               PricePathParams(asset="stETH", kind="crash", shock_frac=ratio_shock,
                               shock_start_step=0, shock_duration_steps=10, vol_per_step=0.0)),
        traders=TraderParams(n_traders=5))


def test_lst_price_is_the_underlying_price_times_the_ratio_path() -> None:
    model = ContagionModel(_market(), seed=1, check_conservation=True)
    m = model.market
    e, s = m.index["ETH"], m.index["stETH"]
    assert m.price[s] == pytest.approx(1940.0)  # the declared USD price at the start
    assert m.path[s, 0] == pytest.approx(0.97)  # its path is the ratio 1940 / 2000
    for t in range(1, 11):
        model.run(1)
        assert m.price[s] == pytest.approx(m.price[e] * m.path[s, t], rel=1e-12)
    # ETH fell 20%, the ratio 5%: stETH fell 24%
    assert m.price[e] == pytest.approx(1600.0)
    assert m.price[s] == pytest.approx(2000.0 * 0.8 * 0.97 * 0.95)


def test_a_flat_ratio_moves_the_lst_with_its_underlying_only() -> None:
    model = ContagionModel(_market(ratio_shock=0.0), seed=1)
    model.run()
    m = model.market
    assert m.price[m.index["stETH"]] / m.price[m.index["ETH"]] == pytest.approx(0.97)


def test_selling_the_lst_widens_its_discount_and_leaves_the_underlying_alone() -> None:
    model = ContagionModel(_market(), seed=1)  # the seller below is not a model holder
    model.run(3)
    m = model.market
    e, s = m.index["ETH"], m.index["stETH"]
    eth_before, ratio_before = m.price[e], m.price[s] / m.price[e]
    proceeds = m.sell(s, 10_000.0)  # $19M into a $100M-per-log-unit market
    assert m.price[e] == eth_before
    ratio = m.price[s] / m.price[e]
    assert ratio == pytest.approx(ratio_before * np.exp(-10_000.0 * 1940.0 * 0.97 * 0.94 / 1e8),
                                  rel=0.02)
    assert 0 < proceeds < 10_000.0 * ratio_before * eth_before
    # the impact is permanent: the next step reprices from the path and keeps it
    model.run(1)
    assert m.price[s] / m.price[e] < m.path[s, 4] * 0.9


def test_selling_the_underlying_carries_the_lst_at_an_unchanged_ratio() -> None:
    model = ContagionModel(_market(), seed=1)
    model.run(2)
    m = model.market
    e, s = m.index["ETH"], m.index["stETH"]
    ratio = m.price[s] / m.price[e]
    m.sell(e, 50_000.0)
    assert m.price[s] / m.price[e] == pytest.approx(ratio, rel=1e-12)
    m.impact(e, -20_000.0)  # an arbitrageur's external leg buying ETH
    assert m.price[s] / m.price[e] == pytest.approx(ratio, rel=1e-12)


def test_a_basis_move_is_logged_as_the_ratio_path() -> None:
    model = ContagionModel(_market(), seed=1)
    model.run()
    ev = model.events_frame
    shocks = ev[(ev["kind"] == "price_shock") & (ev["asset"] == "stETH")]
    assert len(shocks) == 10  # -0.51% a step
    assert (shocks["path"] == "basis").all() and (shocks["underlying"] == "ETH").all()
    assert np.allclose(shocks["ratio_after"] / shocks["ratio_before"] - 1, shocks["amount"])
    assert np.allclose(shocks["amount"], 0.95 ** 0.1 - 1)


def test_an_underlying_must_be_another_non_stable_asset() -> None:
    with pytest.raises(ParameterError, match=r"assets\[stETH\].underlying"):
        dataclasses.replace(STETH, underlying="stETH")
    with pytest.raises(ParameterError, match=r"assets\[USDX\].underlying"):
        AssetParams(name="USDX", kind="stable", initial_price_usd=1.0, underlying="ETH")
    sc = _market()
    with pytest.raises(ParameterError, match=r"assets\[stETH\].underlying.*declared non-stable"):
        dataclasses.replace(sc, assets=(USDC, ETH, dataclasses.replace(STETH, underlying="BTC")))
    with pytest.raises(ParameterError, match=r"assets\[stETH\].underlying"):
        dataclasses.replace(sc, assets=(USDC, ETH, dataclasses.replace(STETH, underlying="USDC")))


def test_liquid_staking_tokens_do_not_chain() -> None:
    wsteth = AssetParams(name="wstETH", kind="volatile", initial_price_usd=2100.0,
                         underlying="stETH")
    with pytest.raises(ParameterError, match=r"assets\[wstETH\].underlying.*do not chain"):
        dataclasses.replace(_market(), assets=(USDC, ETH, STETH, wsteth))
