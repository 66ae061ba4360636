"""Crowded longs: funding bleeds the most leveraged before the price falls (stylised).

One perpetual-futures venue (PerpF, ETH, hourly steps) whose traders are mostly long and
highly leveraged: ``long_share`` 0.85, mean leverage 8 (up to 19x at a 5% initial margin,
2.5% maintenance). The crowded side's net demand lifts the perp above its index
(:func:`contagion.mechanics.funding.imbalance_premium`), so the funding rate is positive
and longs pay shorts every hour, dYdX v4 style (an 8-hour rate paid pro rata each hour,
capped at dYdX's ``6 (IMF - MMF)``). ETH's own path only wanders for four days, but the
most leveraged longs, whose margin above maintenance is a couple of percent of their
notional, are bled towards it by funding; the first ones liquidated are sold into ETH's
outside depth, which pushes ETH down and takes the next ones (a long squeeze: ETH falls
about 11% with no shock at all). Each liquidation thins the crowd, the premium falls and
funding drops to its interest floor. Then ETH drops 15% over six hours, and the longs that
are left are far fewer than the book the same fall meets with ``funding=False``.

A stylised scenario, not a history: crowded longs paying a high funding rate before a long
squeeze is the pattern traders describe, but no episode's funding path and book were found
in a citable source, so the figures are round numbers chosen so the run shows the mechanism
(a 0.26% 8-hour rate at the start, about 290% a year, is extreme but within the cap).
Switching ``funding`` off gives the same market without the bleed.
"""

from __future__ import annotations

from contagion.mechanics.funding import funding_cap_from_margins
from contagion.params import (
    AssetParams,
    InsuranceFundParams,
    LiquidatorParams,
    MarketParams,
    OracleParams,
    PerpParams,
    PricePathParams,
    TraderParams,
)
from contagion.scenario import Scenario
from contagion.validation import check_bool, check_int, check_real

__all__ = ["crowded_longs"]

ETH_USD = 2500.0
INITIAL_MARGIN = 0.05
MAINTENANCE_MARGIN = 0.025
VOL_PER_STEP = 0.0015  # hourly: about 0.7% a day, a quiet market


def crowded_longs(*, n_traders: int = 1000, steps: int = 120, funding: bool = True,
                  long_share: float = 0.85, mean_leverage: float = 8.0,
                  premium_sensitivity: float = 0.02, shock_frac: float = 0.15,
                  shock_start_step: int = 96, shock_duration_steps: int = 6) -> Scenario:
    """A crowded long book that pays funding for four days, then a 15% fall.

    Parameters
    ----------
    n_traders : int
        Trader accounts (1 to 50,000,000); the market's size in dollars does not change.
    steps : int
        Hourly steps (1 to 1,000,000).
    funding : bool
        Whether PerpF's longs and shorts pay each other funding (off: the same book, no bleed).
    long_share : float
        Share of PerpF's accounts that are long (0 to 1): the crowding.
    mean_leverage : float
        Mean leverage of PerpF's accounts (1 to 20; each ``1 + Exponential(mean - 1)``, at
        most 19x).
    premium_sensitivity : float
        How far the crowd's net demand lifts the perp above its index (0 to 1,000; the
        premium is this times net long notional over the order-book depth).
    shock_frac : float
        ETH's fall, 0 <= x < 0.9.
    shock_start_step, shock_duration_steps : int
        When the fall starts and how many hourly steps it takes.
    """
    check_int("n_traders", n_traders, low=1, high=50_000_000)
    check_int("steps", steps, low=1, high=1_000_000)
    check_bool("funding", funding)
    check_real("long_share", long_share, low=0, high=1)
    check_real("mean_leverage", mean_leverage, low=1, high=1 / INITIAL_MARGIN)
    check_real("premium_sensitivity", premium_sensitivity, low=0, high=1000)
    check_real("shock_frac", shock_frac, low=0, high=0.9, high_open=True)
    check_int("shock_start_step", shock_start_step, low=0)
    check_int("shock_duration_steps", shock_duration_steps, low=1)
    return Scenario(
        name="crowded_longs",
        description=f"{long_share:.0%} of PerpF's accounts are long at up to 19x; "
                    + ("funding bleeds them for four days" if funding else "no funding")
                    + f", then ETH falls {shock_frac:.0%}.",
        market=MarketParams(steps=steps, step_minutes=60.0),
        assets=(AssetParams(name="USDC", kind="stable", initial_price_usd=1.0),
                AssetParams(name="ETH", kind="volatile", initial_price_usd=ETH_USD,
                            external_depth_usd=2e9)),
        paths=(PricePathParams(asset="ETH", kind="crash", shock_frac=shock_frac,
                               shock_start_step=shock_start_step,
                               shock_duration_steps=shock_duration_steps,
                               vol_per_step=VOL_PER_STEP),),
        oracles=(OracleParams(name="ETH-index", asset="ETH", source="external",
                              heartbeat_steps=1, deviation_threshold_frac=0.0),),
        perps=(PerpParams(name="PerpF", asset="ETH", oracle="ETH-index",
                          insurance_fund="PerpF-Insurance",
                          initial_margin_frac=INITIAL_MARGIN,
                          maintenance_margin_frac=MAINTENANCE_MARGIN,
                          liquidation_fee_frac=0.01, share_of_traders=1.0,
                          mean_leverage=mean_leverage, long_share=long_share,
                          funding=funding, funding_interval_steps=1,
                          funding_cap_frac=float(funding_cap_from_margins(
                              INITIAL_MARGIN, MAINTENANCE_MARGIN)),
                          premium_sensitivity=premium_sensitivity),),
        funds=(InsuranceFundParams(name="PerpF-Insurance", balance_usd=1e6),),
        liquidators=(LiquidatorParams(name="Liquidators", capital_usd=2e7,
                                      max_liquidations_per_step=200, gas_cost_usd=5.0),),
        traders=TraderParams(n_traders=n_traders, mean_wealth_usd=2e5 * 1000 / n_traders,
                             agent_limit=5000),
    )
