"""10-11 October 2025: the largest liquidation day, stylised.

A shared macro shock (the 100%-tariff post) hits BTC, ETH and a thin alt (ATOM) at once
while market makers pull their quotes: order-book depth collapses by ~98%. Leveraged
longs are liquidated into books that are no longer there, so the liquidations close below
their bankruptcy prices; the insurance funds run dry and the perp venues auto-deleverage
profitable shorts. On the exchange's unified-margin venue, USDe collateral is priced off
the exchange's own thin USDe book: a sell-off dumps it to ~$0.65 while USDe trades at ~$1
everywhere else, and the forced sales of USDe collateral go into the same book (a loop).
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
    PerpParams,
    PoolManipulationParams,
    PoolParams,
    PricePathParams,
    TraderParams,
)
from contagion.scenario import Scenario
from contagion.validation import check_choice, check_int, check_real

__all__ = ["october_2025"]

BTC_USD = 122_574.46  # BTC before the post (yellow.com, Coinglass)
ETH_USD = 3_436.29 / (1 - 0.122)  # ETH fell 12.2% to $3,436.29
ATOM_USD = 4.0  # ATOM went $4 -> $0.001 on Binance
ETH_SHOCK_PER_BTC = 0.122 / 0.14  # ETH's fall relative to BTC's
ALT_SHOCK_PER_BTC = 1.5  # the alt's exogenous fall relative to BTC's (before its book gaps)
CRASH_START_STEP = 66  # 20:30 UTC when step 0 is 15:00 UTC


def october_2025(
    *,
    n_traders: int = 1000,
    steps: int = 144,
    shock_frac: float = 0.14,
    shock_duration_steps: int = 6,
    depth_drop_frac: float = 0.98,
    depth_collapse_steps: int = 12,
    usde_oracle: str = "internal",
    # fitted (experiments/validation/calibration/october_2025.json: 9.92e5; 8e5 left the USDe
    # low at the venue's oracle at $0.704, above the $0.60-0.70 band)
    usde_selloff_usd: float = 1e6,
    insurance_fund_scale: float = 1.0,
    mean_leverage: float = 6.0,  # the fit's 4.78 is not kept: the USDe low barely depends
    # on it (0.651 at 6, 0.653 at 4.8) and at 4.8 the perp funds no longer all run dry
    shortfall_policy: str = "adl",
) -> Scenario:
    """Build the 10-11 October 2025 crash.

    Facts it is calibrated on (``scenario-facts.md`` section 6)
    -----------------------------------------------------------
    - Trigger: the 100%-tariff-on-China post, 14:57 UTC (followin, secondary:
      https://followin.io/feed/22111099).
    - $19B+ liquidated, 1.6M+ accounts in under 12 h, a peak of $3.21B in 60 s, order-book
      depth down ~98% (Coinglass via https://yellow.com/research/trump-100-china-tariff-how-
      one-announcement-liquidated-dollar19-billion-in-crypto; followin, secondary).
    - BTC $122,574 -> $104,783 (-14%+), ETH -12.2% to $3,436, ATOM $4 -> $0.001 on Binance
      (CoinShares: https://coinshares.com/it/insights/knowledge/billions-in-liquidations-
      what-happened).
    - On Binance USDe was priced ~$0.65 inside its systems while ~$1 on Curve, forcing
      liquidations of accounts using it as collateral; Binance compensated users and moved
      to external price references (followin, secondary).
    - Hyperliquid ran its first cross-margin ADL in more than two years, closing $2.1B of
      positions in 12 minutes, with "zero bad debt" (Hyperliquid statement:
      https://web3.ouchyi.blue/nl/discover/post/57484884932608); insurance funds exhausted.

    Stylised and simplified
    -----------------------
    - Dollars are scaled down about 200-fold: the traders hold $100M in all and the perp
      venues carry ~$130M of open interest, so a run liquidates ~$60-100M, not $19B.
      Balances scale with ``1000 / n_traders``: the market's size does not depend on
      ``n_traders``.
    - 5-minute steps over 12 h (144 steps from 15:00 UTC, just after the post). The crash
      starts at step 66 (20:30 UTC) and takes ``shock_duration_steps``; depth collapses a
      step later for ``depth_collapse_steps`` and recovers linearly over 3 h.
    - The crash is three correlated (correlation -> 1) linear paths: BTC falls
      ``shock_frac``, ETH ``0.87 * shock_frac`` (12.2% against 14%), ATOM
      ``1.5 * shock_frac``; the rest of each fall is the impact of liquidations on the
      books. ATOM's book is 100 times thinner than BTC's, so it gaps far more (to about
      half its price, not to $0.001: the model has no empty book, only a thin one).
    - Binance's unified margin is a lending venue ("UnifiedCEX") that lends USDC against
      USDe (70% of its borrowers) and BTC; its USDe oracle reads the exchange's own
      USDe/USDC book (a pool, where its liquidators also sell the seized USDe). USDe is a
      non-numeraire asset at $1 with a flat path and a very deep external market (Curve and
      mint/redeem). The sell-off is "panic sellers" dumping ``usde_selloff_usd`` a step
      into that book for 12 steps from 20:50 UTC; withdrawals blocked for ~100 min are
      folded into that book's arbitrage capacity collapsing with the depth.
    - Perp venues: a CEX's BTC and ATOM perps sharing one small insurance fund
      ("CEX-Insurance") and a Hyperliquid-like ETH perp ("HyperPerp") whose backstop
      ("HLP-Backstop") is smaller still; 70% of BTC and ETH accounts are long (crowded
      longs: pre-crash funding ~40% annualised, followin, unverified), 60% on ATOM.
      Liquidations fill at the mark less slippage (the liquidated notional over the depth,
      capped at 10%, 15% on ATOM) and move the external price by the same impact.
    - No custodial exchange, firm or cross-venue margin: the contagion here runs through
      shared prices and books, not through credit links.

    Parameters
    ----------
    n_traders : int
        Trader accounts (1 to 50,000,000); the market's dollar size does not depend on it.
    steps : int
        Steps of 5 minutes, 90 to 100,000 (the crash starts at step 66).
    shock_frac : float
        BTC's exogenous fall, 0 <= x <= 0.45 (0: no crash).
    shock_duration_steps : int
        Steps the fall takes (1 to 24).
    depth_drop_frac : float
        Order-book depth lost in the collapse, 0 <= x < 1 (0: books stay deep).
    depth_collapse_steps : int
        Steps the collapse lasts before depth recovers (1 to 48).
    usde_oracle : {"internal", "external"}
        What UnifiedCEX prices USDe collateral at: its own USDe book (the named cause) or
        the external market (what Binance moved to afterwards).
    usde_selloff_usd : float
        USDe sold into UnifiedCEX's USDe book each step of the sell-off (0: none).
    insurance_fund_scale : float
        Multiplier of every insurance fund's balance (0 to 1e6).
    mean_leverage : float
        Mean leverage of BTC and ETH perp accounts (1 to 19; ATOM's is capped at 9).
    shortfall_policy : {"adl", "socialise"}
        What the perp venues do once their insurance fund is empty.
    """
    check_int("n_traders", n_traders, low=1, high=50_000_000)
    check_int("steps", steps, low=90, high=100_000)
    check_real("shock_frac", shock_frac, low=0, high=0.45)
    check_int("shock_duration_steps", shock_duration_steps, low=1, high=24)
    check_real("depth_drop_frac", depth_drop_frac, low=0, high=1, high_open=True)
    check_int("depth_collapse_steps", depth_collapse_steps, low=1, high=48)
    check_choice("usde_oracle", usde_oracle, ("internal", "external"))
    check_real("usde_selloff_usd", usde_selloff_usd, low=0, high=1e9)
    check_real("insurance_fund_scale", insurance_fund_scale, low=0, high=1e6)
    check_real("mean_leverage", mean_leverage, low=1, high=19)
    check_choice("shortfall_policy", shortfall_policy, ("adl", "socialise"))
    start = CRASH_START_STEP

    def crash(asset: str, frac: float, vol_per_step: float) -> PricePathParams:
        return PricePathParams(asset=asset, kind="crash", shock_frac=frac,
                               shock_start_step=start, shock_duration_steps=shock_duration_steps,
                               vol_per_step=vol_per_step)

    manipulations = () if usde_selloff_usd == 0 else (
        PoolManipulationParams(pool="USDe/USDC-book", start_step=start + 4, duration_steps=12,
                               notional_usd_per_step=usde_selloff_usd, direction="dump",
                               actor="panic sellers"),)
    usde_feed = (OracleParams(name="USDe-feed", asset="USDe", source="pool_spot",
                              pool="USDe/USDC-book", heartbeat_steps=1,
                              deviation_threshold_frac=0.0)
                 if usde_oracle == "internal" else
                 OracleParams(name="USDe-feed", asset="USDe", source="external",
                              heartbeat_steps=1, deviation_threshold_frac=0.0))
    fund = insurance_fund_scale
    return Scenario(
        name="october_2025",
        description="10-11 Oct 2025: BTC, ETH and ATOM fall together as order-book depth "
                    f"collapses {depth_drop_frac:.0%}; USDe priced off the exchange's own "
                    f"book ({usde_oracle} oracle); insurance funds run dry, then "
                    f"{shortfall_policy}.",
        market=MarketParams(steps=steps, step_minutes=5.0),
        assets=(
            AssetParams(name="USDC", kind="stable", initial_price_usd=1.0),
            AssetParams(name="BTC", kind="volatile", initial_price_usd=BTC_USD,
                        external_depth_usd=5e10),
            AssetParams(name="ETH", kind="volatile", initial_price_usd=ETH_USD,
                        external_depth_usd=2e10),
            AssetParams(name="ATOM", kind="volatile", initial_price_usd=ATOM_USD,
                        external_depth_usd=5e8),
            AssetParams(name="USDe", kind="volatile", initial_price_usd=1.0,
                        external_depth_usd=1e12),
        ),
        paths=(
            crash("BTC", shock_frac, 0.002),
            crash("ETH", shock_frac * ETH_SHOCK_PER_BTC, 0.0025),
            crash("ATOM", shock_frac * ALT_SHOCK_PER_BTC, 0.004),
            PricePathParams(asset="USDe", kind="flat", vol_per_step=0.0),
        ),
        pools=(
            PoolParams(name="BTC/USDC-book", base="BTC", reserve_base=400.0,
                       arb_capacity_usd_per_step=5e6),
            PoolParams(name="USDe/USDC-book", base="USDe", reserve_base=1e8,
                       arb_capacity_usd_per_step=1e6, fee_frac=0.0005),
        ),
        manipulations=manipulations,
        liquidity_shocks=() if depth_drop_frac == 0 else (
            LiquidityShockParams(assets=("BTC", "ETH", "ATOM", "USDe"), start_step=start + 1,
                                 duration_steps=depth_collapse_steps,
                                 depth_drop_frac=depth_drop_frac, recovery_steps=36),),
        oracles=(
            OracleParams(name="BTC-index", asset="BTC", source="external", heartbeat_steps=1,
                         deviation_threshold_frac=0.0),
            OracleParams(name="ETH-index", asset="ETH", source="external", heartbeat_steps=1,
                         deviation_threshold_frac=0.0),
            OracleParams(name="ATOM-index", asset="ATOM", source="external", heartbeat_steps=1,
                         deviation_threshold_frac=0.0),
            usde_feed,
        ),
        lending=(
            LendingParams(
                name="UnifiedCEX", insurance_fund="UnifiedCEX-Fund",
                collateral=(
                    CollateralParams(asset="USDe", oracle="USDe-feed", ltv=0.85,
                                     liquidation_threshold=0.9, liquidation_bonus=0.08,
                                     pool="USDe/USDC-book"),
                    CollateralParams(asset="BTC", oracle="BTC-index", ltv=0.75,
                                     liquidation_threshold=0.8, liquidation_bonus=0.05,
                                     pool="BTC/USDC-book"),
                ),
                reserve_usd=5e6, retail_supply_usd=2e8, share_of_traders=0.5,
                mean_health_factor=1.35),
        ),
        perps=(
            PerpParams(name="CEX-BTC", asset="BTC", oracle="BTC-index",
                       insurance_fund="CEX-Insurance", initial_margin_frac=0.05,
                       maintenance_margin_frac=0.025, liquidation_fee_frac=0.01,
                       shortfall_policy=shortfall_policy, share_of_traders=0.4,
                       mean_leverage=mean_leverage, long_share=0.7,
                       max_liquidation_slippage_frac=0.1),
            PerpParams(name="CEX-ATOM", asset="ATOM", oracle="ATOM-index",
                       insurance_fund="CEX-Insurance", initial_margin_frac=0.1,
                       maintenance_margin_frac=0.05, liquidation_fee_frac=0.01,
                       shortfall_policy=shortfall_policy, share_of_traders=0.1,
                       mean_leverage=min(mean_leverage, 9.0), long_share=0.6,
                       max_liquidation_slippage_frac=0.15),
            PerpParams(name="HyperPerp", asset="ETH", oracle="ETH-index",
                       insurance_fund="HLP-Backstop", initial_margin_frac=0.05,
                       maintenance_margin_frac=0.025, liquidation_fee_frac=0.005,
                       shortfall_policy=shortfall_policy, share_of_traders=0.3,
                       mean_leverage=mean_leverage, long_share=0.7,
                       max_liquidation_slippage_frac=0.1),
        ),
        funds=(
            InsuranceFundParams(name="UnifiedCEX-Fund", balance_usd=2e7 * fund),
            InsuranceFundParams(name="CEX-Insurance", balance_usd=3e5 * fund),
            InsuranceFundParams(name="HLP-Backstop", balance_usd=2.5e4 * fund),
        ),
        liquidators=(LiquidatorParams(name="Liquidators", capital_usd=2e7,
                                      max_liquidations_per_step=500, gas_cost_usd=1.0),),
        traders=TraderParams(n_traders=n_traders, mean_wealth_usd=1e5 * 1000 / n_traders,
                             cross_margin=False, topup_share=0.2, agent_limit=5000),
    )
