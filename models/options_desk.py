"""An options desk under portfolio margin: vol sellers are cut leg by leg in a crash (stylised).

One venue (OptX, ETH, hourly steps) lists four option series beside its ETH perp and margins
every account Deribit-style (``margin_model = "portfolio"``: the worst loss over ETH moves of
up to +-16% in 9 buckets x implied vol up/same/down, plus 1% of ETH per net short option).
Most of its traders hold options instead of perps: ``option_long_share`` 0.25, so three in
four option holders are *short* (vol sellers collecting premium), and ``hedged_share`` of
them hold the perp delta hedge of their option. Positions are sized so that every account's
initial portfolio margin (2x maintenance) is at most 95% of its collateral: a hedged book
needs far less margin than a naked one, so the same collateral carries a larger hedged book.

ETH then falls 30% over six hours, nearly twice the grid's 16%. Naked short puts lose most:
their accounts are liquidated first and riskiest leg first (the short put, the position
with the largest share of the worst scenario loss), each closed against the outside market
makers at its value plus a 2% spread; hedged books lose only their gamma over the part of
the fall beyond the hedge and mostly survive, and the short calls gain. Setting
``hedged_share = 0`` (nobody hedged) or 1 (everyone hedged) shows how much of the damage the
hedge prevents.

A stylised scenario, not a history: ETH has fallen a third or more within a day (12 March
2020, 19 May 2021) while Deribit ran portfolio margin, but no citable account of its option
books and their liquidations in those crashes was found, so the books here are drawn, not
replayed. The implied-vol surface is held fixed through the fall (the engine does not yet
move it with realised volatility), which understates the loss of the vol sellers: in a real
crash implied vols jump. Standard per-position margin of options is not modelled by the
engine (options need ``margin_model = "portfolio"``); lesson 15 compares the drawn books'
portfolio margin with the sum of their legs' standalone margins instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from contagion.params import (
    AssetParams,
    InsuranceFundParams,
    MarketParams,
    OptionSeriesParams,
    OracleParams,
    PerpParams,
    PricePathParams,
    TraderParams,
    VolSurfaceParams,
)
from contagion.scenario import Scenario
from contagion.validation import check_int, check_real

__all__ = ["BOOKS", "BookOutcome", "book_outcomes", "options_desk"]

ETH_USD = 2000.0
VOL_PER_STEP = 0.002  # hourly: about 1% a day before the fall


def options_desk(*, n_traders: int = 1000, steps: int = 48, hedged_share: float = 0.5,
                 option_share: float = 0.7, long_share: float = 0.25,
                 mean_leverage: float = 2.0,
                 price_range_frac: float = 0.16, shock_frac: float = 0.3,
                 shock_start_step: int = 6, shock_duration_steps: int = 6) -> Scenario:
    """Vol sellers and hedged option books at a portfolio-margin venue; ETH falls 30%.

    Parameters
    ----------
    n_traders : int
        Trader accounts (1 to 50,000,000); the market's size in dollars does not change.
    steps : int
        Hourly steps (1 to 1,000,000).
    hedged_share : float
        Share of option holders who hold the perp delta hedge of their option (0 to 1).
    option_share : float
        Share of OptX's traders who hold an option (one series each) instead of a perp
        (0 to 1).
    long_share : float
        Share of option holders who are long their option (0 to 1); the others sell it.
    mean_leverage : float
        Mean leverage of OptX's accounts (1 to 10; each ``1 + Exponential(mean - 1)``, at
        most 10x): an option holder's notional is its collateral times its leverage.
    price_range_frac : float
        The portfolio-margin grid's largest ETH move (0 < x < 1; Deribit: 0.16).
    shock_frac : float
        ETH's fall, 0 <= x < 0.9.
    shock_start_step, shock_duration_steps : int
        When the fall starts and how many hourly steps it takes.
    """
    check_int("n_traders", n_traders, low=1, high=50_000_000)
    check_int("steps", steps, low=1, high=1_000_000)
    check_real("hedged_share", hedged_share, low=0, high=1)
    check_real("option_share", option_share, low=0, high=1)
    check_real("long_share", long_share, low=0, high=1)
    check_real("mean_leverage", mean_leverage, low=1, high=10)
    check_real("price_range_frac", price_range_frac, low=0, high=1, low_open=True,
               high_open=True)
    check_real("shock_frac", shock_frac, low=0, high=0.9, high_open=True)
    check_int("shock_start_step", shock_start_step, low=0)
    check_int("shock_duration_steps", shock_duration_steps, low=1)
    series = (OptionSeriesParams(asset="ETH", kind="put", strike_frac=0.9, expiry_days=7.0),
              OptionSeriesParams(asset="ETH", kind="put", strike_frac=1.0, expiry_days=7.0),
              OptionSeriesParams(asset="ETH", kind="call", strike_frac=1.0, expiry_days=7.0),
              OptionSeriesParams(asset="ETH", kind="call", strike_frac=1.1, expiry_days=30.0))
    return Scenario(
        name="options_desk",
        description=f"OptX lists ETH puts and calls under portfolio margin; "
                    f"{option_share:.0%} of its traders hold options, {1 - long_share:.0%} of "
                    f"them short and {hedged_share:.0%} delta-hedged; ETH falls "
                    f"{shock_frac:.0%} in {shock_duration_steps} hours.",
        market=MarketParams(steps=steps, step_minutes=60.0),
        assets=(AssetParams(name="USDC", kind="stable", initial_price_usd=1.0),
                AssetParams(name="ETH", kind="volatile", initial_price_usd=ETH_USD,
                            external_depth_usd=3e9)),
        paths=(PricePathParams(asset="ETH", kind="crash", shock_frac=shock_frac,
                               shock_start_step=shock_start_step,
                               shock_duration_steps=shock_duration_steps,
                               vol_per_step=VOL_PER_STEP),),
        oracles=(OracleParams(name="ETH-feed", asset="ETH", source="external",
                              heartbeat_steps=1, deviation_threshold_frac=0.0),),
        perps=(PerpParams(name="OptX", asset="ETH", oracle="ETH-feed",
                          insurance_fund="OptX-fund", initial_margin_frac=0.1,
                          maintenance_margin_frac=0.05, share_of_traders=1.0,
                          mean_leverage=mean_leverage, margin_model="portfolio",
                          pm_price_range_frac=price_range_frac,
                          option_share_of_traders=option_share,
                          option_long_share=long_share, option_hedge_frac=hedged_share,
                          options=series),),
        funds=(InsuranceFundParams(name="OptX-fund", balance_usd=2e6),),
        vol_surfaces=(VolSurfaceParams(asset="ETH", expiries_days=(1.0, 7.0, 30.0),
                                       moneyness=(0.8, 1.0, 1.2),
                                       vols=((0.9, 0.7, 0.8), (0.8, 0.6, 0.7),
                                             (0.75, 0.55, 0.65))),),
        traders=TraderParams(n_traders=n_traders, mean_wealth_usd=1e5 * 1000 / n_traders,
                             agent_limit=5000),
    )


#: The kinds of book :func:`book_outcomes` counts, in its order.
BOOKS = ("perp only", "naked short put", "hedged short put", "naked short call",
         "hedged short call", "long option")


@dataclass(frozen=True)
class BookOutcome:
    """Accounts of one kind of book at the start, how many were liquidated in the run, and
    their portfolio margin at the start against the sum of their legs' standalone margins
    (each leg margined alone on the same grid: what per-position margin would charge)."""

    accounts: int
    liquidated: int
    margin_usd: float
    legs_margin_usd: float


def book_outcomes(seed: int = 0, **params: Any) -> dict[str, BookOutcome]:
    """Run :func:`options_desk` (``params`` its keywords) and count, per kind of book in
    :data:`BOOKS`, the accounts drawn with it and those liquidated (any
    ``perp_liquidation`` or ``option_liquidation`` of the account)."""
    from contagion.mechanics.portfolio_margin import portfolio_margin
    from contagion.model import ContagionModel

    m = ContagionModel(options_desk(**params), seed=seed)
    (pv,) = m.perps
    b = pv.book
    perp, opt = b.size[1:, 0].copy(), b.opt_size[1:].copy()
    owner = b.owner[1:].copy()
    marks = pv.marks()
    sizes = pv._pm_sizes(slice(1, None))
    margin = pv.maintenance(marks=marks)[1:]
    st = pv._pm_state(marks)
    legs = np.zeros(len(owner))
    for j in range(sizes.shape[1]):  # each instrument alone: one pass per column
        alone = np.zeros_like(sizes)
        alone[:, j] = sizes[:, j]
        legs += portfolio_margin(alone, st.instruments, marks, st.vols, pv.pm,
                                 pnl_per_unit=st.unit).maintenance_usd
    m.run()
    ev = m.events.to_frame()
    hit = ev[ev["kind"].isin(["perp_liquidation", "option_liquidation"])]
    liquidated = np.isin(owner, hit["account"].to_numpy())
    is_put = np.array([o.kind == "put" for o in pv.params.options])
    held = (opt != 0).any(axis=1)
    short = (opt < 0).any(axis=1)
    short_put = (opt[:, is_put] < 0).any(axis=1)
    hedged = held & (perp != 0)
    masks = {"perp only": ~held, "naked short put": short_put & ~hedged,
             "hedged short put": short_put & hedged,
             "naked short call": short & ~short_put & ~hedged,
             "hedged short call": short & ~short_put & hedged, "long option": held & ~short}
    return {k: BookOutcome(int(v.sum()), int((v & liquidated).sum()),
                           float(margin[v].sum()), float(legs[v].sum()))
            for k, v in masks.items()}
