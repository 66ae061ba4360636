"""A run on a lending pool: bad debt sends suppliers out until every dollar is lent.

Stylised on the Stream Finance / xUSD episode of November 2025. Stream, a leveraged "delta
neutral" fund, disclosed a $93M loss on 3 November and froze withdrawals; its synthetic
dollar xUSD fell to a low of $0.26 (PeckShield, via the Asksurf report on followin.io,
https://followin.io/trendingTopic/2647). xUSD had been looped through isolated lending
markets (Morpho, Euler, Silo): deposited as collateral, USDC borrowed against it. Those
markets went to 100% utilisation: MEV Capital's xUSD/USDC market on Morpho (Arbitrum) sat
at 100% with an 88% borrow rate (same report), and suppliers could not withdraw until
borrowers repaid or were liquidated (Lista DAO asked the curators to "handle these 100%
utilization markets"; a developer wrote a script to snipe withdrawals from fully utilised
markets as liquidity became available: https://michigan-post.com/stream-finance-meltdown-
winners-and-losers-in-defi-risk-curator-reckoning). Morpho's co-founder explained the rate:
markets target 90% utilisation, and at 100% the rate is four times the target's, so that
borrowers repay and new suppliers come (Merlin Egalite, quoted at
https://www.binance.bh/cs/square/post/32429013538073). The curators later realised the
bad debt: 3.6% of MEV Capital's Ethereum USDC vault (the sdeUSD/USDC market, 12 Nov) and
~$600k of a ~$5M allocation (12%) on Arbitrum (xUSD, 13 Nov) (the vault's incident notes,
https://www.notion.so/Elixir-deUSD-Morpho-Vault-Incident-Postmortem-November-2025-
2b0725fcbcb080b79a44c27b1b3935a3; all the above are secondary reports).

The run (preset ``lender_run``): one USDC lending pool, ``LendX``, lends against ETH (70% of
its borrowers) and xUSD (30%: a loop at a 91.5% liquidation threshold). It starts about 90%
lent out, on a kinked curve shaped like Morpho's (optimal 90%; 22% a year at the kink, the
yield a loop of an 18%-yielding dollar pays for; 88% at 100%, four times the kink's). xUSD
falls 74% over two hours; its borrowers are liquidated into a thin pool and the pool books
bad debt; the outside suppliers (``LendingParams.supplier_run``, ten cohorts) start to
leave once bad debt reaches 0.1% of their claims, later ones as utilisation climbs; at 100%
utilisation withdrawals freeze (one ``withdrawal_freeze``), the queue of withdrawals grows,
the borrow rate jumps up the kink to 88%, and from then on withdrawals resume only as far
as liquidations and repayments bring cash back, a step at a time. ``supplier_run=False``
is the same market whose suppliers stay.

Stylised, not a replay: the sizes are round numbers, xUSD falls in two hours rather than
over a day, the oracle reads the market (Stream's markets read a hard-coded price, which
delayed liquidations further) and the curve is Aave's kinked one with Morpho's shape (not
Morpho's adaptive curve, whose kink rate moves with time).
"""

from __future__ import annotations

from contagion.params import (
    AssetParams,
    CollateralParams,
    InsuranceFundParams,
    InterestRateParams,
    LendingParams,
    LiquidatorParams,
    MarketParams,
    OracleParams,
    PoolParams,
    PricePathParams,
    SupplierRunParams,
    TraderParams,
)
from contagion.scenario import Scenario
from contagion.validation import check_bool, check_int, check_real

__all__ = ["LENDER_RUN_RATES", "lender_run"]

#: The pool's curve: Morpho's shape (target 90%, rate at 100% four times the target's) with
#: the MEV Capital xUSD/USDC market's 88% at 100% utilisation.
LENDER_RUN_RATES = InterestRateParams(optimal_utilisation=0.9, base_rate=0.0, slope1=0.22,
                                      slope2=0.66, reserve_factor=0.1)


def lender_run(*, n_traders: int = 1000, steps: int = 144, supplier_run: bool = True,
               depeg_frac: float = 0.74, depeg_start_step: int = 12,
               depeg_duration_steps: int = 24, supply_usd: float = 4e7,
               withdraw_frac_per_step: float = 0.1,
               liquidations_per_step: int = 20) -> Scenario:
    """A USDC lending pool whose xUSD collateral collapses: a supplier run to 100%.

    Parameters
    ----------
    n_traders : int
        Trader accounts (1 to 50,000,000); the market's size in dollars does not change.
    steps : int
        Five-minute steps (1 to 1,000,000).
    supplier_run : bool
        Whether the outside suppliers run (``LendingParams.supplier_run``); off, they stay.
    depeg_frac : float
        xUSD's fall below $1, 0 <= x < 1 (0.74: the $0.26 low).
    depeg_start_step, depeg_duration_steps : int
        When the fall starts and how many steps it takes.
    supply_usd : float
        The outside suppliers' USDC (1e6 to 1e10); the default leaves the pool about 90%
        lent out at the start (its borrowers owe ~$36M).
    withdraw_frac_per_step : float
        The share of its starting claim a leaving cohort asks for each step (0 < x <= 1).
    liquidations_per_step : int
        The liquidators' throughput: accounts a step (1 to 100,000).
    """
    check_int("n_traders", n_traders, low=1, high=50_000_000)
    check_int("steps", steps, low=1, high=1_000_000)
    check_bool("supplier_run", supplier_run)
    check_real("depeg_frac", depeg_frac, low=0, high=1, high_open=True)
    check_int("depeg_start_step", depeg_start_step, low=0)
    check_int("depeg_duration_steps", depeg_duration_steps, low=1)
    check_real("supply_usd", supply_usd, low=1e6, high=1e10)
    check_real("withdraw_frac_per_step", withdraw_frac_per_step, low=0, high=1, low_open=True)
    check_int("liquidations_per_step", liquidations_per_step, low=1, high=100_000)
    wealth_scale = 1000 / n_traders
    run = SupplierRunParams(cohorts=10, min_utilisation=0.95, max_utilisation=1.0,
                            min_bad_debt_frac=0.001, max_bad_debt_frac=0.02,
                            withdraw_frac_per_step=withdraw_frac_per_step)
    collateral = (
        CollateralParams(asset="ETH", oracle="ETH-feed", ltv=0.8, liquidation_threshold=0.86,
                         liquidation_bonus=0.05, pool="ETH/USDC"),
        # the loop: a synthetic dollar lent against as near-cash
        CollateralParams(asset="xUSD", oracle="xUSD-feed", ltv=0.86,
                         liquidation_threshold=0.915, liquidation_bonus=0.04,
                         pool="xUSD/USDC"),
    )
    return Scenario(
        name="lender_run",
        description=f"xUSD loses {depeg_frac:.0%}: bad debt at LendX sends its USDC suppliers "
                    "out until all its cash is lent and withdrawals freeze"
                    + ("." if supplier_run else " (here the suppliers stay)."),
        market=MarketParams(steps=steps, step_minutes=5.0),
        assets=(AssetParams(name="USDC", kind="stable", initial_price_usd=1.0),
                AssetParams(name="ETH", kind="volatile", initial_price_usd=3500.0,
                            external_depth_usd=3e9),
                AssetParams(name="xUSD", kind="volatile", initial_price_usd=1.0,
                            external_depth_usd=5e7)),
        paths=(PricePathParams(asset="ETH", kind="flat", vol_per_step=0.003),
               PricePathParams(asset="xUSD", kind="crash", shock_frac=depeg_frac,
                               shock_start_step=depeg_start_step,
                               shock_duration_steps=depeg_duration_steps, vol_per_step=0.002)),
        pools=(PoolParams(name="ETH/USDC", base="ETH", reserve_base=20_000,
                          arb_capacity_usd_per_step=2e6),
               PoolParams(name="xUSD/USDC", base="xUSD", reserve_base=20_000_000,
                          arb_capacity_usd_per_step=2e5)),
        oracles=(OracleParams(name="ETH-feed", asset="ETH", source="external",
                              heartbeat_steps=12, deviation_threshold_frac=0.005),
                 OracleParams(name="xUSD-feed", asset="xUSD", source="external",
                              heartbeat_steps=12, deviation_threshold_frac=0.005)),
        lending=(LendingParams(name="LendX", insurance_fund="LendX-Fund", collateral=collateral,
                               reserve_usd=1e5, retail_supply_usd=supply_usd,
                               share_of_traders=1.0, mean_health_factor=1.25,
                               rates=LENDER_RUN_RATES,
                               supplier_run=run if supplier_run else None),),
        funds=(InsuranceFundParams(name="LendX-Fund", balance_usd=2e5),),
        liquidators=(LiquidatorParams(name="Liquidators", capital_usd=5e6,
                                      max_liquidations_per_step=liquidations_per_step,
                                      gas_cost_usd=20.0),),
        traders=TraderParams(n_traders=n_traders, mean_wealth_usd=1e5 * wealth_scale,
                             cross_margin=False, agent_limit=5000),
    )
