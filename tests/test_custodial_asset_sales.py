"""A CeFi lender holding a non-stable asset marks it to market and fire-sells it in a run."""

from __future__ import annotations

import dataclasses

import pytest

from contagion.credit import credit_matrix
from contagion.errors import ParameterError
from contagion.model import ContagionModel
from contagion.params import (
    AssetParams,
    CustodialParams,
    MarketParams,
    PoolParams,
    PricePathParams,
    TraderParams,
)
from contagion.scenario import Scenario

LENDER = CustodialParams(name="Lender", deposits_usd=1e8, liquid_reserve_frac=0.05,
                         supply_to_lending_frac=0.0, token_holdings_usd=0.0,
                         asset_holdings_usd=(("ETH", 4e7),), equity_buffer_frac=-0.1,
                         run_speed_frac=0.2, run_stress_threshold=0.01, share_of_traders=1.0)


def _scenario(lender: CustodialParams = LENDER, *, pool: bool = True,
              eth_shock: float = 0.0) -> Scenario:
    return Scenario(
        name="cefi", market=MarketParams(steps=30),
        assets=(AssetParams(name="USDC", kind="stable", initial_price_usd=1.0),
                AssetParams(name="ETH", kind="volatile", initial_price_usd=2000.0,
                            external_depth_usd=1e9)),
        paths=(PricePathParams(asset="ETH", kind="crash", shock_frac=eth_shock,
                               shock_start_step=1, shock_duration_steps=5, vol_per_step=0.0),),
        pools=(PoolParams(name="ETH/USDC", base="ETH", reserve_base=50_000.0,
                          arb_capacity_usd_per_step=1e6),) if pool else (),
        custodial=(lender,), traders=TraderParams(n_traders=50))


def test_held_assets_are_marked_to_market_in_assets_and_clearing() -> None:
    model = ContagionModel(_scenario(eth_shock=0.5), seed=1)
    ex = model.custodial[0]
    eth = model.market.index["ETH"]
    assert ex.asset_units == {eth: pytest.approx(20_000.0)}
    assert ex.held_assets_usd() == pytest.approx(4e7)
    # assets = (1 + equity buffer) x deposits: holdings replace illiquid assets one for one
    assert ex.assets_usd() == pytest.approx(0.9e8)
    assert ex.holdings()[eth] == pytest.approx(20_000.0)
    names, _, external = credit_matrix(model)
    assert external[names.index("Lender")] == pytest.approx(0.9e8)
    model.market.price[eth] = 1000.0  # ETH halves: the holding is worth $20M less
    assert ex.assets_usd() == pytest.approx(0.7e8)
    assert credit_matrix(model)[2][names.index("Lender")] == pytest.approx(0.7e8)


def test_a_run_fire_sells_held_assets_into_their_pool() -> None:
    model = ContagionModel(_scenario(), seed=1, check_conservation=True)
    ex = model.custodial[0]
    pool = model.pools["ETH/USDC"]
    eth = model.market.index["ETH"]
    reserve0 = pool.reserve_base
    model.run()
    ev = model.events_frame
    sales = ev[ev["kind"] == "asset_sale"]
    assert len(sales) > 0
    assert (sales["venue"] == "Lender").all() and (sales["asset"] == "ETH").all()
    assert (sales["agent"] == "ETH/USDC").all()
    sold = float(sales["amount"].sum())
    assert ex.asset_units[eth] == pytest.approx(20_000.0 - sold, abs=1e-6)
    assert sold > 0 and (sales["value_usd"] > 0).all()
    # sold below the $2,000 mark: the pool's price impact
    assert (sales["value_usd"] / sales["amount"] < 2000.0).all()
    # the pool took the ETH (minus what arbitrageurs bought back and sold outside)
    assert pool.reserve_base + model.market.outside_units[eth] == pytest.approx(reserve0 + sold)
    # the first sale is after the cash ran out: the first withdrawals were paid from cash
    assert ev[ev["kind"] == "withdrawal"]["step"].min() < sales["step"].min()


def test_without_forced_selling_the_lender_freezes_with_its_assets() -> None:
    selling = ContagionModel(_scenario(), seed=1)
    selling.run()
    holding = ContagionModel(_scenario(dataclasses.replace(LENDER, sell_assets_in_run=False)),
                             seed=1, check_conservation=True)
    holding.run()
    eth = holding.market.index["ETH"]
    ev = holding.events_frame
    assert (ev["kind"] == "asset_sale").sum() == 0
    assert holding.custodial[0].asset_units[eth] == pytest.approx(20_000.0)
    assert holding.custodial[0].defaulted
    # it freezes earlier than the lender that could sell
    def default_step(m: ContagionModel) -> int:
        return m.custodial[0].default_step if m.custodial[0].defaulted else 10_000
    assert default_step(holding) < default_step(selling)
    assert holding.pools["ETH/USDC"].spot > selling.pools["ETH/USDC"].spot * 0.999


def test_an_asset_without_a_pool_is_sold_to_the_external_market() -> None:
    model = ContagionModel(_scenario(pool=False), seed=1, check_conservation=True)
    model.run()
    ev = model.events_frame
    sales = ev[ev["kind"] == "asset_sale"]
    eth = model.market.index["ETH"]
    assert (sales["agent"] == "the external market").all()
    assert model.market.outside_units[eth] == pytest.approx(float(sales["amount"].sum()))
    assert model.market.price[eth] < 2000.0  # the sale's permanent impact


def test_asset_holdings_are_validated() -> None:
    with pytest.raises(ParameterError, match=r"custodial\[Lender\].asset_holdings_usd\[ETH\]"):
        dataclasses.replace(LENDER, asset_holdings_usd=(("ETH", -1.0),))
    with pytest.raises(ParameterError, match=r"asset_holdings_usd.*each asset at most once"):
        dataclasses.replace(LENDER, asset_holdings_usd=(("ETH", 1.0), ("ETH", 2.0)))
    with pytest.raises(ParameterError, match=r"sell_assets_in_run"):
        dataclasses.replace(LENDER, sell_assets_in_run="yes")  # type: ignore[arg-type]
    for asset in ("BTC", "USDC"):
        with pytest.raises(ParameterError, match=r"custodial\[Lender\].asset_holdings_usd"):
            _scenario(dataclasses.replace(LENDER, asset_holdings_usd=((asset, 1e6),)))


def test_holdings_larger_than_the_balance_sheet_are_rejected() -> None:
    too_big = dataclasses.replace(LENDER, asset_holdings_usd=(("ETH", 2e8),))
    with pytest.raises(ParameterError, match=r"custodial\[Lender\].equity_buffer_frac"):
        ContagionModel(_scenario(too_big), seed=1)
