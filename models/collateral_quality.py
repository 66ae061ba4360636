"""Collateral quality: a thin collateral whose threshold follows the depth that liquidates it.

One lending venue, ``LendT``, lends USDC against ALT (a mid-cap token: $10, a thin pool and
a $20M order book) and ETH. By hand it would list ALT as if it were a major (LTV 70%,
liquidation threshold 75%, bonus 7.5%). Instead those numbers are ceilings and the
threshold follows the liquidity that would liquidate ALT
(:class:`contagion.params.CollateralParams` ``threshold_from_liquidity``): a stress sale of
half the ALT it holds, split between the ALT/USDC pool and the order book, slips by ``s``,
so the threshold is ``(1 - 15%)(1 - s) / (1 + 7.5%)`` in whole basis points
(:mod:`contagion.mechanics.collateral`; the rule risk teams state: the collateral must be
sellable within what the liquidation bonus pays, Chaos Labs' and Notional's cap
methodologies). Its borrowers therefore start with less debt against the same ALT (55.17%
instead of 75% at seed 0).

Traders manage their loans: while their health factor is above 1.5 they loop (borrow USDC,
buy ALT or ETH and supply it) back towards 1.1, as far as the LTV allows. Then ALT falls 45%
over three hours while its order book loses 90% of its depth (as books emptied on 10
October 2025): the venue cuts ALT's threshold as the depth goes (``risk_parameter_update``
events, at least 0.5 points at a time), and the keepers, paid 7.5%, liquidate slowly into
the broken market. The loss (bad debt plus debt under water, ``insolvent_LendT``) is about a
quarter of the same venue's with the threshold set by hand (``derive_thresholds=False``),
whose keepers hardly liquidate at all.

Exercises: ``derive_thresholds=False`` (the hand-set listing); ``isolate_alt=True`` lists
ALT in isolation mode (Aave v3) with a ``debt_ceiling_usd`` debt ceiling, which bounds what
its borrowers can owe and so what the crash can cost.

Stylised, not a replay: the sizes are round numbers and ALT is no particular token.
"""

from __future__ import annotations

from contagion.params import (
    AssetParams,
    CollateralParams,
    InsuranceFundParams,
    LendingParams,
    LiquidatorParams,
    LiquidityShockParams,
    MarketParams,
    OracleParams,
    PoolParams,
    PricePathParams,
    TraderParams,
)
from contagion.scenario import Scenario
from contagion.validation import check_bool, check_int, check_real

__all__ = ["collateral_quality"]


def collateral_quality(*, n_traders: int = 1000, steps: int = 144,
                       derive_thresholds: bool = True, isolate_alt: bool = False,
                       debt_ceiling_usd: float = 2e6, volatility_margin_frac: float = 0.15,
                       shock_frac: float = 0.45, depth_drop_frac: float = 0.9,
                       releverage_above_hf: float = 1.5) -> Scenario:
    """A thin collateral listed with a threshold that follows its depth, or set by hand.

    Parameters
    ----------
    n_traders : int
        Trader accounts (1 to 50,000,000); the market's size in dollars does not change.
    steps : int
        Five-minute steps (1 to 1,000,000).
    derive_thresholds : bool
        Whether ALT's and ETH's thresholds follow liquidity (off: set by hand).
    isolate_alt : bool
        List ALT in isolation mode, with ``debt_ceiling_usd``.
    debt_ceiling_usd : float
        The isolation debt ceiling (0 to 1e12), used with ``isolate_alt``.
    volatility_margin_frac : float
        The fall the derived thresholds allow for over a liquidation (0 <= x < 1).
    shock_frac : float
        ALT's fall, 0 <= x < 1.
    depth_drop_frac : float
        How much of ALT's order-book depth goes during the fall, 0 <= x < 1.
    releverage_above_hf : float
        Traders loop while their health factor is above this (1.1 < x <= 100, or inf: no
        loops).
    """
    check_int("n_traders", n_traders, low=1, high=50_000_000)
    check_int("steps", steps, low=1, high=1_000_000)
    check_bool("derive_thresholds", derive_thresholds)
    check_bool("isolate_alt", isolate_alt)
    check_real("debt_ceiling_usd", debt_ceiling_usd, low=0, high=1e12)
    check_real("volatility_margin_frac", volatility_margin_frac, low=0, high=1, high_open=True)
    check_real("shock_frac", shock_frac, low=0, high=1, high_open=True)
    check_real("depth_drop_frac", depth_drop_frac, low=0, high=1, high_open=True)
    check_real("releverage_above_hf", releverage_above_hf, low=1.1, high=100, low_open=True,
               allow_inf=True)
    wealth_scale = 1000 / n_traders

    def collateral(derived: bool, isolated: bool) -> tuple[CollateralParams, ...]:
        def listed(asset: str, ltv: float, lt: float, bonus: float,
                   isolated: bool = False) -> CollateralParams:
            return CollateralParams(
                asset=asset, oracle=f"{asset}-feed", ltv=ltv, liquidation_threshold=lt,
                liquidation_bonus=bonus, pool=f"{asset}/USDC", isolated=isolated,
                debt_ceiling_usd=debt_ceiling_usd if isolated else float("inf"),
                threshold_from_liquidity=derived, volatility_margin_frac=volatility_margin_frac,
                stress_sale_frac=0.5, update_min_bps=50)

        return (listed("ALT", 0.7, 0.75, 0.075, isolated), listed("ETH", 0.8, 0.825, 0.05))

    def venue(name: str, derived: bool, isolated: bool) -> LendingParams:
        return LendingParams(name=name, insurance_fund=f"{name}-Fund",
                             collateral=collateral(derived, isolated), reserve_usd=2e5,
                             retail_supply_usd=1.5e8, share_of_traders=1.0,
                             mean_health_factor=1.5, releverage_above_hf=releverage_above_hf,
                             releverage_to_hf=1.1)

    return Scenario(
        name="collateral_quality",
        description=f"ALT falls {shock_frac:.0%} as its order book empties: a liquidation "
                    "threshold that follows ALT's depth loses far less than one set by hand"
                    + (" (here it is set by hand)." if not derive_thresholds else ".")
                    + (" ALT is isolated under a debt ceiling." if isolate_alt else ""),
        market=MarketParams(steps=steps, step_minutes=5.0),
        assets=(AssetParams(name="USDC", kind="stable", initial_price_usd=1.0),
                AssetParams(name="ETH", kind="volatile", initial_price_usd=3000.0,
                            external_depth_usd=3e9),
                AssetParams(name="ALT", kind="volatile", initial_price_usd=10.0,
                            external_depth_usd=2e7)),
        paths=(PricePathParams(asset="ETH", kind="flat", vol_per_step=0.002),
               PricePathParams(asset="ALT", kind="crash", shock_frac=shock_frac,
                               shock_start_step=12, shock_duration_steps=36,
                               vol_per_step=0.004)),
        pools=(PoolParams(name="ETH/USDC", base="ETH", reserve_base=20_000,
                          arb_capacity_usd_per_step=2e6),
               PoolParams(name="ALT/USDC", base="ALT", reserve_base=300_000,
                          arb_capacity_usd_per_step=1e5)),
        liquidity_shocks=(LiquidityShockParams(name="ALT-book-empties", assets=("ALT",),
                                               start_step=14, duration_steps=48,
                                               depth_drop_frac=depth_drop_frac,
                                               recovery_steps=24),),
        oracles=(OracleParams(name="ETH-feed", asset="ETH", source="external"),
                 OracleParams(name="ALT-feed", asset="ALT", source="external")),
        lending=(venue("LendT", derive_thresholds, isolate_alt),),
        funds=(InsuranceFundParams(name="LendT-Fund", balance_usd=1e6),),
        liquidators=(LiquidatorParams(name="Liquidators", capital_usd=1e7,
                                      max_liquidations_per_step=40, gas_cost_usd=20.0),),
        traders=TraderParams(n_traders=n_traders, mean_wealth_usd=1e5 * wealth_scale,
                             cross_margin=False, agent_limit=5000),
    )
