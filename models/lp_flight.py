"""LPs leave a concentrated pool in a crash: liquidators sell into liquidity that is gone.

One lender (LendV) takes ETH against USDC loans; its liquidators sell the ETH they seize
into the ETH/USDC pool, a Uniswap V3 pool (:mod:`contagion.agents.pool_v3`) whose LPs hold
80% of its value within -33%/+50% of the start price (a range the whole crash stays in) and
20% over the full range: near the price about 4.5 times the depth of a V2 pool holding
the same dollars. ETH falls 30% over three hours. Once the pool is 5% below its start, its
LPs pull 30% of their in-range liquidity each step (``liquidity_withdrawal`` events): in
ten steps less than 3% of the starting depth is left. The liquidators' sales then move the
pool several times as far as before, it trades well below the market, and liquidations
that would sell at a loss stop: seizing ETH nobody will buy does not pay, and hundreds of
accounts are left under a health factor of 1 with nobody to liquidate them. With the LPs
staying (``lp_withdraw_frac_per_step=0``) the same crash is liquidated step by step;
a V2 pool of the same value (``pool_kind="v2"``) is thinner at the start but keeps its
depth, so its liquidations go on too, at a discount.

A stylised scenario: the date in the menu is the August 2024 drawdown, when Dexosphere
counted $3.12B of liquidity removed from Uniswap V3 on Ethereum in the 24 hours from
14:00 UTC on 4 August 2024 (and $2.99B added: most of it LPs moving their ranges, only
$133M leaving the protocol; Dexosphere Research, "Uniswap Liquidity Flows in the August
2024 Drawdown", 8 August 2024, https://dexosphere.xyz/research/uniswap-liquidity-flows-20240804).
The preset keeps only the removal side, from the range the price is falling through: a
lesson on what a crash does to depth that is concentrated, not a calibration to that day.
``pool_kind="v2"`` or ``lp_withdraw_frac_per_step=0`` give the comparisons.
"""

from __future__ import annotations

import math

from contagion.params import (
    AssetParams,
    CollateralParams,
    InsuranceFundParams,
    LendingParams,
    LiquidatorParams,
    MarketParams,
    OracleParams,
    PoolParams,
    PricePathParams,
    TraderParams,
)
from contagion.scenario import Scenario
from contagion.validation import check_choice, check_int, check_real

__all__ = ["CONCENTRATED_RANGES", "lp_flight"]

ETH_USD = 2500.0
#: 80% of the pool's value within -33%/+50% of the start price, 20% over the full range.
CONCENTRATED_RANGES = ((0.5, 0.8), (math.inf, 0.2))


def lp_flight(*, n_traders: int = 1000, steps: int = 144, pool_kind: str = "v3",
              lp_withdraw_below_frac: float = 0.05, lp_withdraw_frac_per_step: float = 0.3,
              pool_eth: float = 8000.0, shock_frac: float = 0.3, shock_start_step: int = 12,
              shock_duration_steps: int = 36) -> Scenario:
    """ETH falls 30% while the LPs of a concentrated ETH/USDC pool withdraw.

    Parameters
    ----------
    n_traders : int
        Trader accounts (1 to 50,000,000); the market's size in dollars does not change.
    steps : int
        Five-minute steps (1 to 1,000,000).
    pool_kind : str
        ``"v3"`` (concentrated, the default) or ``"v2"`` (constant product holding the same
        dollars; its LPs do not withdraw).
    lp_withdraw_below_frac : float
        How far below its start the pool's spot must be before its LPs pull (0 to 1).
    lp_withdraw_frac_per_step : float
        Share of the in-range liquidity they pull each step (0 to 1; 0: they stay).
    pool_eth : float
        ETH in the pool at the start (1 to 1e7; as much USDC at the start price).
    shock_frac : float
        ETH's fall, 0 <= x < 0.9.
    shock_start_step, shock_duration_steps : int
        When the fall starts and how many steps it takes.
    """
    check_int("n_traders", n_traders, low=1, high=50_000_000)
    check_int("steps", steps, low=1, high=1_000_000)
    check_choice("pool_kind", pool_kind, ("v2", "v3"))
    check_real("lp_withdraw_below_frac", lp_withdraw_below_frac, low=0, high=1)
    check_real("lp_withdraw_frac_per_step", lp_withdraw_frac_per_step, low=0, high=1)
    check_real("pool_eth", pool_eth, low=1, high=1e7)
    check_real("shock_frac", shock_frac, low=0, high=0.9, high_open=True)
    check_int("shock_start_step", shock_start_step, low=0)
    check_int("shock_duration_steps", shock_duration_steps, low=1)
    v3 = pool_kind == "v3"
    pool = PoolParams(name="ETH/USDC", base="ETH", reserve_base=pool_eth, fee_frac=0.003,
                      arb_capacity_usd_per_step=1e6, kind=pool_kind,
                      v3_ranges=CONCENTRATED_RANGES if v3 else ((math.inf, 1.0),),
                      lp_withdraw_below_frac=lp_withdraw_below_frac if v3 else 1.0,
                      lp_withdraw_frac_per_step=lp_withdraw_frac_per_step if v3 else 0.0)
    what = ("a V3 pool whose LPs pull "
            f"{lp_withdraw_frac_per_step:.0%} of their in-range liquidity a step"
            if v3 and lp_withdraw_frac_per_step > 0 else
            "a V3 pool whose LPs stay" if v3 else "a V2 pool of the same value")
    return Scenario(
        name="lp_flight",
        description=f"ETH falls {shock_frac:.0%}; LendV's liquidators sell into {what}.",
        market=MarketParams(steps=steps, step_minutes=5.0),
        assets=(AssetParams(name="USDC", kind="stable", initial_price_usd=1.0),
                AssetParams(name="ETH", kind="volatile", initial_price_usd=ETH_USD,
                            external_depth_usd=3e9)),
        paths=(PricePathParams(asset="ETH", kind="crash", shock_frac=shock_frac,
                               shock_start_step=shock_start_step,
                               shock_duration_steps=shock_duration_steps,
                               vol_per_step=0.002),),
        pools=(pool,),
        oracles=(OracleParams(name="ETH-feed", asset="ETH", source="external",
                              heartbeat_steps=12, deviation_threshold_frac=0.005),),
        lending=(LendingParams(name="LendV", insurance_fund="LendV-Fund",
                               collateral=(CollateralParams(
                                   asset="ETH", oracle="ETH-feed", ltv=0.8,
                                   liquidation_threshold=0.825, liquidation_bonus=0.05,
                                   pool="ETH/USDC"),),
                               reserve_usd=1e6, retail_supply_usd=3e8, share_of_traders=1.0,
                               mean_health_factor=1.3),),
        funds=(InsuranceFundParams(name="LendV-Fund", balance_usd=2e6),),
        liquidators=(LiquidatorParams(name="Liquidators", capital_usd=3e7,
                                      max_liquidations_per_step=200, gas_cost_usd=20.0),),
        traders=TraderParams(n_traders=n_traders, mean_wealth_usd=1e5 * 1000 / n_traders,
                             agent_limit=5000),
    )
