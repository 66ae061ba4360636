"""Terra LUNA/UST, May 2022: a run on a reflexive stablecoin and its death spiral."""

from __future__ import annotations

from contagion.params import (
    AssetParams,
    CollateralParams,
    InsuranceFundParams,
    LendingParams,
    LiquidatorParams,
    MarketParams,
    OracleParams,
    PegParams,
    PoolManipulationParams,
    PoolParams,
    PricePathParams,
    TraderParams,
    YieldVenueParams,
)
from contagion.scenario import Scenario
from contagion.validation import check_bool, check_int, check_real

__all__ = ["terra_ust"]

SCALE = 1e-3  # every dollar size is the historical one divided by 1,000
UST_SUPPLY = 18.6e9  # UST market cap on 7 May 2022 (YaaS Analytics)
LUNA_PRICE = 86.0  # LUNA on 7 May 2022 (YaaS Analytics)
LUNA_SUPPLY = 3.5e8  # stylised: about 350M LUNA circulating before the crash
BTC_PRICE = 36_000.0  # stylised: BTC around 7 May 2022
LFG_BTC = 80_394.0  # LFG's bitcoin reserve (YaaS Analytics)
CURVE_SALE = 85e6  # UST -> USDC swapped on Curve on 7-8 May


def terra_ust(
    *,
    n_traders: int = 1000,
    steps: int = 168,
    initial_sell_usd: float = CURVE_SALE * SCALE,
    mint_capacity_usd_per_step: float = 4e4,
    reserve_usd: float = LFG_BTC * BTC_PRICE * SCALE,
    sophistication_ordered: bool = True,
    oracle_delay_steps: int = 0,
    amm_depth_scale: float = 1.0,
) -> Scenario:
    """Terra's collapse: a UST sale on Curve, a run on Anchor, and LUNA minted to nothing.

    One step is an hour; the default 168 steps are the week of 7-14 May 2022.

    What happened (``../shared/research/scenario-facts.md``, section 2):

    - On 7 May LUNA traded at $86 and UST's market cap was $18.6B; the Luna Foundation
      Guard (LFG) held 80,394 BTC (plus BNB, USDT, AVAX) to defend the peg
      (YaaS Analytics, https://medium.com/stablecorp/the-collapse-of-ust-classic-52db50e73a92).
      Anchor paid 19.5% on UST deposits (Liu, Makarov and Schoar,
      https://corpgov.law.harvard.edu/2023/05/22/anatomy-of-a-run-the-terra-luna-crash/).
    - About $85M of UST was swapped for USDC on Curve on 7-8 May (techplanet, secondary,
      https://techplanet.today/post/what-happened-to-terra-luna-ust-depeg-terra-luna-collapse-anchor-protocol-crypto-news);
      UST traded at $0.9857 on 8 May and "$0.6x" on 10 May (bestcryptoexchange, secondary,
      https://bestcryptoexchange.com/a-panoramic-view-of-terra-luna-and-ust-after-the-terrible-crash-causing-the-market-to-shake-violently/),
      and at $0.15 on 14 May, when LUNA was $0.0001, down from $80 a week earlier
      (newsbreak, secondary,
      https://www.newsbreak.com/news/2603398698913/security-concerns-prompt-cancellation-of-terra-dapp-expo).
    - About $50B of value was wiped out in 3 days; "wealthier and more sophisticated
      investors were the first to run and experienced much smaller losses" (NBER w31160,
      https://ideas.repec.org/p/nbr/nberwo/31160.html).
    - Lenders that accepted UST were hit: Aave froze UST for "oracle unreliability" (Aave
      proposal 75, https://demo-arc.aave.com/governance/proposal/75).
    - The mechanism: Terra's market module always swapped 1 UST for $1 of newly minted LUNA
      at the oracle price, less a spread (``MinSpread`` 0.5%), within a per-block capacity
      (its virtual pools), https://github.com/terra-money/docs
      (``docs/develop/module-specifications/spec-market.md``).

    The model: UST (an ``algo_stable`` asset) trades in a Curve-like UST/USDC pool and LUNA
    in a LUNA/USDC pool, both linked by arbitrage to outside markets. The ``Terra`` peg
    lets arbitrageurs burn UST bought below $1 for $1 of new LUNA, sold into the LUNA pool
    (at most ``mint_capacity_usd_per_step`` a step); LFG's reserve, in BTC, buys UST
    below $0.99 until it is spent. Anchor holds most of the UST supply for a population of
    depositors with Pareto-sized deposits; each leaves once the depeg reaches a threshold
    that is lower for larger holders, selling into the Curve-like pool. A lending venue,
    LendT, lends USDC against LUNA and UST; as both fall it liquidates into the same pools
    and writes off bad debt. The cascade: the Curve sale breaks the peg, the large Anchor
    depositors leave first, arbitrage burns UST and mints LUNA, LUNA's price falls so each
    dollar of UST mints more LUNA, the run outpaces what the LUNA market can absorb and the
    reserve, UST stays off its peg and LUNA goes to nearly nothing.

    Simplified or stylised: every dollar size is the historical one divided by 1,000
    (UST supply $18.6M, the Curve sale $85k, LFG's 80.394 BTC), prices are not scaled;
    the LUNA supply (350M) and the BTC price ($36k) are stylised, not from the facts file.
    The Curve pool is a constant-product pool; with the outside UST market (a log-impact
    order book) it is sized so that the $85k sale moves UST's market price by about the
    1.4% seen on 8 May (Curve's stableswap is flatter near the peg and steeper once
    imbalanced). Anchor's deposits (70% of UST) and its exit thresholds (0.5% to 60%
    depeg) are stylised, and its 19.5% rate is not accrued over one week. Arbitrageurs
    convert at the LUNA pool's spot (Terra's oracle votes are left out) and the widening
    spread of Terra's virtual pools is a hard capacity per step. LFG's other reserves,
    the chain halts and the Aave freeze itself are left out. LendT writes off accounts
    whose collateral is worth under $10 (scaled $10k). The outcome is qualitative: UST
    is ~0.98 after the sale and ~0.5 by day 3 but ends near $0.43 rather than $0.15;
    LUNA falls by more than 99.9% while its supply grows about 30-fold, far short of the
    historical hyperinflation (the modelled LUNA market absorbs minted LUNA better).

    Parameters
    ----------
    n_traders : int
        Number of traders (1 to 50,000,000); Anchor depositors and LendT borrowers are
        drawn among them. Dollar sizes do not depend on it.
    steps : int
        Hours simulated (1 to 1,000,000; 168 is the week of 7-14 May).
    initial_sell_usd : float
        The first UST sale into the Curve-like pool, over steps 2-3 (scaled $85M;
        0: no initial run, the peg is never tested).
    mint_capacity_usd_per_step : float
        UST the market module burns (or mints) at most per hour; 0 switches the mint/burn
        reflexivity off (LUNA is then never minted).
    reserve_usd : float
        LFG's BTC reserve in USD (default: 80,394 BTC scaled; 0: no reserve).
    sophistication_ordered : bool
        Whether larger Anchor depositors leave at a smaller depeg (False: random order).
    oracle_delay_steps : int
        Delay of LendT's LUNA and UST price feeds, in hours.
    amm_depth_scale : float
        Multiplier of the liquidity of UST and LUNA: both pools' depth and arbitrage
        capacity and both outside markets' depth (more liquidity absorbs more of the run).

    Examples
    --------
    >>> sc = terra_ust(n_traders=200)
    >>> sc.pegs[0].stable, sc.pegs[0].token, sc.yield_venues[0].name
    ('UST', 'LUNA', 'Anchor')
    """
    check_int("n_traders", n_traders, low=1, high=50_000_000)
    check_int("steps", steps, low=1, high=1_000_000)
    check_real("initial_sell_usd", initial_sell_usd, low=0, high=1e9)
    check_real("mint_capacity_usd_per_step", mint_capacity_usd_per_step, low=0, allow_inf=True)
    check_real("reserve_usd", reserve_usd, low=0, high=1e12)
    check_int("oracle_delay_steps", oracle_delay_steps, low=0, high=10_000)
    check_real("amm_depth_scale", amm_depth_scale, low=0, high=1e6, low_open=True)
    check_bool("sophistication_ordered", sophistication_ordered)
    d = amm_depth_scale
    wealth_scale = 1000 / n_traders
    sale = ((PoolManipulationParams(pool="UST/USDC", start_step=2, duration_steps=2,
                                    notional_usd_per_step=initial_sell_usd / 2, direction="dump",
                                    actor="large UST holders"),)
            if initial_sell_usd > 0 else ())
    return Scenario(
        name="terra",
        description="Terra, May 2022: a UST sale on Curve starts a run on Anchor; mint/burn "
                    "arbitrage turns it into LUNA's death spiral.",
        market=MarketParams(steps=steps, step_minutes=60.0),
        assets=(
            AssetParams(name="USDC", kind="stable", initial_price_usd=1.0),
            AssetParams(name="UST", kind="algo_stable", initial_price_usd=1.0,
                        external_depth_usd=4e6 * d),
            AssetParams(name="LUNA", kind="volatile", initial_price_usd=LUNA_PRICE,
                        external_depth_usd=1.5e5 * d),
            AssetParams(name="BTC", kind="volatile", initial_price_usd=BTC_PRICE,
                        external_depth_usd=2e8),
        ),
        paths=(
            PricePathParams(asset="LUNA", kind="flat", vol_per_step=0.005),
            PricePathParams(asset="BTC", kind="flat", vol_per_step=0.004),
        ),
        pools=(
            PoolParams(name="UST/USDC", base="UST", reserve_base=3e6 * d, fee_frac=0.0004,
                       arb_capacity_usd_per_step=4e5 * d),
            PoolParams(name="LUNA/USDC", base="LUNA", reserve_base=4e3 * d, fee_frac=0.003,
                       arb_capacity_usd_per_step=2e4 * d),
        ),
        manipulations=sale,
        oracles=(
            OracleParams(name="LUNA-feed", asset="LUNA", source="external", heartbeat_steps=1,
                         deviation_threshold_frac=0.005, delay_steps=oracle_delay_steps),
            OracleParams(name="UST-feed", asset="UST", source="external", heartbeat_steps=24,
                         deviation_threshold_frac=0.005, delay_steps=oracle_delay_steps),
        ),
        lending=(
            LendingParams(
                name="LendT", insurance_fund="LendT-Fund",
                collateral=(
                    CollateralParams(asset="LUNA", oracle="LUNA-feed", ltv=0.4,
                                     liquidation_threshold=0.6, liquidation_bonus=0.1,
                                     pool="LUNA/USDC"),
                    CollateralParams(asset="UST", oracle="UST-feed", ltv=0.75,
                                     liquidation_threshold=0.8, liquidation_bonus=0.05,
                                     pool="UST/USDC"),
                ),
                reserve_usd=2e4, retail_supply_usd=2e6, bad_debt_dust_usd=10.0,
                share_of_traders=0.15, mean_health_factor=2.0),
        ),
        funds=(InsuranceFundParams(name="LendT-Fund", balance_usd=5e4),),
        liquidators=(LiquidatorParams(name="Liquidators", capital_usd=1e6,
                                      max_liquidations_per_step=100, gas_cost_usd=0.05),),
        traders=TraderParams(n_traders=n_traders, mean_wealth_usd=1e4 * wealth_scale,
                             cross_margin=False, agent_limit=5000),
        pegs=(
            PegParams(name="Terra", stable="UST", token="LUNA", stable_pool="UST/USDC",
                      token_pool="LUNA/USDC", stable_supply_units=UST_SUPPLY * SCALE,
                      token_supply_units=LUNA_SUPPLY * SCALE,
                      mint_capacity_usd_per_step=mint_capacity_usd_per_step,
                      swap_spread_frac=0.005, reserve_usd=reserve_usd, reserve_asset="BTC",
                      defend_below_price=0.99, reserve_spend_usd_per_step=4e4),
        ),
        yield_venues=(
            YieldVenueParams(name="Anchor", asset="UST", pool="UST/USDC",
                             deposits_usd=0.7 * UST_SUPPLY * SCALE, share_of_traders=0.5,
                             size_tail_alpha=1.2, min_exit_depeg_frac=0.005,
                             max_exit_depeg_frac=0.6, exit_frac_per_step=0.015,
                             sophistication_ordered=sophistication_ordered),
        ),
    )
