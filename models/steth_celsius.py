"""June 2022: the stETH discount, Celsius and Three Arrows Capital (3AC).

A week from about 10 June 2022, an hour a step. ETH falls; stETH, which could not be
redeemed for ETH until withdrawals were enabled in 2023, trades at a widening discount to
it; a leveraged firm (3AC) that borrowed from a CeFi lender (Celsius) and holds stETH goes
under; Celsius's published reserves fall, its depositors run, and it sells its stETH into
the thin stETH pool; the discount widens beyond the market's own path and leveraged stETH
loops at an Aave-like lender are liquidated, selling more stETH into the same pool.
"""

from __future__ import annotations

from contagion.params import (
    AssetParams,
    CollateralParams,
    CreditLinkParams,
    CustodialParams,
    FirmParams,
    LendingParams,
    LiquidatorParams,
    MarketParams,
    OracleParams,
    PoolParams,
    PricePathParams,
    TraderParams,
)
from contagion.scenario import Scenario
from contagion.validation import check_bool, check_int, check_real

__all__ = ["steth_celsius"]

ETH_USD = 1800.0  # ETH around 9-10 June 2022, before the fall to the $1,304 low
MAY_RATIO = 0.97  # stETH/ETH in May 2022
CELSIUS_STETH_UNITS = 416_000.0  # Celsius's stETH (CoinDesk, 13 Jul 2022)
LOOP_COLLATERAL_USD = 8e8  # stETH posted by the loop cluster (stylised)
LOOP_SHARE = 0.5  # share of traders in the loop cluster
SHOCK_START_STEP = 12


def steth_celsius(
    *,
    n_traders: int = 1000,
    steps: int = 168,
    shock_frac: float = 0.28,
    discount_frac: float = 0.05,
    celsius_forced_selling: bool = True,
    threeac_loan_usd: float = 4e8,
    loop_health_factor: float = 1.5,
    amm_depth_scale: float = 1.0,
    oracle_delay_steps: int = 0,
    liquidator_capital_usd: float = 5e7,
) -> Scenario:
    """Build the June 2022 stETH / Celsius / 3AC scenario.

    The cascade: ETH falls ``shock_frac`` over 60 hours while the stETH/ETH ratio slides
    from 0.97 to ``1 - discount_frac`` (the exogenous basis path). 3AC, financed by a
    ``threeac_loan_usd`` loan from Celsius, becomes insolvent and defaults; Celsius marks
    the loan at 3AC's recovery rate and its stETH to market, its published reserve ratio
    falls below 1, and depositors run. Celsius pays from cash, then (with
    ``celsius_forced_selling``) fire-sells its 416,000 stETH into the stETH pool, whose
    arbitrageurs cannot keep up: the pool's stETH/ETH ratio falls well below the exogenous
    path, the lender's oracle (a pool TWAP) follows, and more stETH loops are liquidated,
    their seized stETH sold into the same pool. Celsius freezes withdrawals and defaults.

    Calibrated on (``shared/research/scenario-facts.md``, section 3 and section 2's
    spillover):

    - stETH/ETH ~0.97 in May, 0.95 on 10 June, just above 0.93 on 13 June (Dune via
      https://www.cryptosty.com/ethereum-bulls-see-opportunity-in-celsius-collapse-steth-de-peg.html,
      secondary); ~6% discount on 17 June
      (https://tokenist.com/lidos-staked-ether-steth-trading-at-6-discount-as-eth-down-77-from-ath/);
      the all-time-high discount was 8%, "the week when Celsius suspended withdrawals and
      ... Three Arrows Capital blew up"
      (https://www.coindesk.com/markets/2022/07/13/wobble-in-steth-price-shows-fear-celsius-might-dump-435m-stake/).
      The exogenous basis path goes 0.97 -> 0.95 (``discount_frac=0.05``); the rest of
      the widening is endogenous.
    - Curve pool ~78-80% stETH by 10 June; Alameda sold ~50,000 stETH on 9 June; ETH low
      $1,304.36
      (https://gate.io/blog_detail/1134/Depeg-Returns---stETH-has-a-Liquidity-Crisis-and-Ethereum-is-Implicated):
      ETH starts at $1,800 and falls 28% (to ~$1,296).
    - Celsius held 416,000 stETH ($435M), ~10% of the 4.2M supply (CoinDesk, above).
    - Aave: stETH LTV 69%, liquidation threshold 81%; $250M of liquidations at risk at a
      15% depeg (facts file, section 3, "Aave response"): the loop cluster is sized so
      that a run liquidates debt of the same order ($140-260M).
    - 3AC and Celsius withdrew ~$800M from the Curve pool on 12 May
      (https://nansen.ai/research/on-chain-forensics-demystifying-steth-depeg): the pool
      was already thin; ``amm_depth_scale`` thins or deepens it.

    What is stylised:

    - The engine's pools are X/USDC and its lenders lend only the stablecoin, so the Curve
      stETH/ETH pool is a constant-product stETH/USDC pool (3M stETH a side, standing for
      Curve's amplified depth near balance) and a loop (stETH collateral against ETH debt)
      is stETH collateral against USDC debt, whose health factor also falls with ETH
      (ETH fell ~40% in June 2022, from ~$1,800 to ~$1,000-1,300). The loop cluster's
      health factors are ``1 + Exponential(loop_health_factor - 1)``, at least
      LT / LTV = 1.174 (a loop borrowed to its LTV), so many sit close to 1 after the fall.
    - The external stETH market has unlimited depth: its price is ETH's price times the
      exogenous ratio path; sales into the pool move only the pool, and arbitrageurs
      ($20M an hour) repair it slowly: there was no redemption at par in 2022. The
      lender's stETH oracle reads the pool's 3-hour TWAP, standing for Chainlink's
      stETH/ETH market rate, whose main source was the Curve pool.
    - Celsius ($3B of deposits, 5% cash, a 2% equity buffer, the rest illiquid at face
      value) and 3AC ($600M of stETH at the lender at health factor 2, $50M cash)
      are stylised balance sheets; Celsius's loan to 3AC is not in the facts file.
      Depositors run on the published reserve shortfall (``solvency_proofs``). The order
      of events is simplified: Celsius froze on 12-13 June before 3AC formally defaulted.
    - Historically Celsius froze rather than dump its stETH; the market priced the fear
      that it would (CoinDesk, above). With ``celsius_forced_selling`` the preset plays
      out that fire sale, and the discount overshoots the 8% record (~9-15% at the pool);
      without it, Celsius freezes earlier and holds its stETH.
    - The liquidation bonus (7.5%) and Aave V2's 50% close factor are assumptions, not
      from the facts file.

    Parameters
    ----------
    n_traders : int
        Number of trader accounts (1 to 50,000,000); balances scale with it so that the
        market's size in dollars is the same at any ``n_traders``. Half of them are the
        loop cluster, half hold deposits at Celsius.
    steps : int
        Hours simulated (168: a week).
    shock_frac : float
        ETH's fall, 0 <= x < 1, linear in log from step 12 over 60 steps.
    discount_frac : float
        stETH's discount to ETH at the end of the exogenous basis path, 0.03 <= x <= 0.5
        (0.03: the May discount, no exogenous widening).
    celsius_forced_selling : bool
        Whether Celsius fire-sells its stETH into the pool when it must pay withdrawals
        (the named cause; off: it freezes with its stETH).
    threeac_loan_usd : float
        Celsius's unsecured loan to 3AC, 0 <= x <= 5e9 (0: no loan, 3AC cannot hit Celsius).
    loop_health_factor : float
        Mean health factor of the loop cluster at the start, 1 < x <= 5.
    amm_depth_scale : float
        Multiplier of the stETH pool's reserves and its arbitrage capacity.
    oracle_delay_steps : int
        Steps the lender's stETH oracle lags the pool.
    liquidator_capital_usd : float
        Debt the liquidators can repay per step.
    """
    check_int("n_traders", n_traders, low=1, high=50_000_000)
    check_int("steps", steps, low=1, high=1_000_000)
    check_real("shock_frac", shock_frac, low=0, high=1, high_open=True)
    check_real("discount_frac", discount_frac, low=round(1 - MAY_RATIO, 10), high=0.5)
    check_real("threeac_loan_usd", threeac_loan_usd, low=0, high=5e9)
    check_real("loop_health_factor", loop_health_factor, low=1, high=5, low_open=True)
    check_real("amm_depth_scale", amm_depth_scale, low=0, high=1e6, low_open=True)
    check_int("oracle_delay_steps", oracle_delay_steps, low=0, high=10_000)
    check_real("liquidator_capital_usd", liquidator_capital_usd, low=0, allow_inf=True)
    check_bool("celsius_forced_selling", celsius_forced_selling)
    d = amm_depth_scale
    steth_usd = MAY_RATIO * ETH_USD
    ratio_shock = max(0.0, 1.0 - (1.0 - discount_frac) / MAY_RATIO)
    mean_wealth = LOOP_COLLATERAL_USD / (0.5 * LOOP_SHARE * n_traders)  # members post half
    credit = ((CreditLinkParams(lender="Celsius", borrower="3AC", amount_usd=threeac_loan_usd),)
              if threeac_loan_usd > 0 else ())
    return Scenario(
        name="steth_celsius",
        description="June 2022: ETH falls, stETH's discount widens, 3AC defaults on Celsius, "
                    "Celsius fire-sells stETH and leveraged stETH loops are liquidated.",
        market=MarketParams(steps=steps, step_minutes=60.0),
        assets=(
            AssetParams(name="USDC", kind="stable", initial_price_usd=1.0),
            AssetParams(name="ETH", kind="volatile", initial_price_usd=ETH_USD,
                        external_depth_usd=2e10),
            AssetParams(name="stETH", kind="volatile", initial_price_usd=steth_usd,
                        underlying="ETH", external_depth_usd=float("inf")),
        ),
        paths=(
            PricePathParams(asset="ETH", kind="crash", shock_frac=shock_frac,
                            shock_start_step=SHOCK_START_STEP, shock_duration_steps=60,
                            vol_per_step=0.001),
            PricePathParams(asset="stETH", kind="crash", shock_frac=ratio_shock,
                            shock_start_step=SHOCK_START_STEP, shock_duration_steps=60,
                            vol_per_step=0.0002),
        ),
        pools=(
            PoolParams(name="stETH/USDC", base="stETH", reserve_base=3e6 * d, fee_frac=0.0004,
                       arb_capacity_usd_per_step=2e7 * d),
        ),
        oracles=(
            OracleParams(name="stETH-twap", asset="stETH", source="pool_twap", pool="stETH/USDC",
                         twap_window_steps=3, heartbeat_steps=1, deviation_threshold_frac=0.0,
                         delay_steps=oracle_delay_steps),
        ),
        lending=(
            LendingParams(
                name="Aave",
                collateral=(CollateralParams(asset="stETH", oracle="stETH-twap", ltv=0.69,
                                             liquidation_threshold=0.81,
                                             liquidation_bonus=0.075, pool="stETH/USDC"),),
                reserve_usd=2e7, retail_supply_usd=3e9, close_factor=0.5,
                full_close_below_hf=0.0, share_of_traders=LOOP_SHARE,
                mean_health_factor=loop_health_factor),
        ),
        custodial=(
            CustodialParams(name="Celsius", deposits_usd=3e9, liquid_reserve_frac=0.05,
                            supply_to_lending_frac=0.0, token_holdings_usd=0.0,
                            asset_holdings_usd=(("stETH", CELSIUS_STETH_UNITS * steth_usd),),
                            sell_assets_in_run=celsius_forced_selling,
                            equity_buffer_frac=0.02, run_speed_frac=0.15,
                            run_stress_threshold=0.03, solvency_proofs=True,
                            settlement_delay_steps=12, share_of_traders=0.5),
        ),
        firms=(
            FirmParams(name="3AC", lending="Aave", collateral_usd=(("stETH", 6e8),),
                       health_factor=2.0, cash_usd=5e7),
        ),
        credit_links=credit,
        liquidators=(LiquidatorParams(name="Liquidators", capital_usd=liquidator_capital_usd,
                                      max_liquidations_per_step=200, gas_cost_usd=50.0),),
        traders=TraderParams(n_traders=n_traders, mean_wealth_usd=mean_wealth,
                             cross_margin=False, topup_share=0.2, agent_limit=5000),
    )
