"""The default scenario: a small market where a 35% ETH crash crosses venues.

Two lending protocols, one perp venue, one custodial exchange, four oracles with different
sources and delays, three AMM pools, a leveraged trading firm financed by the exchange,
and ``n_traders`` traders, some cross-margined. The cascade the shock sets off:

1. ETH falls 35% over three hours. Borrowers at LendA and LendB and leveraged longs at
   PerpX are liquidated; seized ETH is sold into the ETH/USDC pool, whose TWAP LendB's
   oracle reads, so LendB sees the impact late but in full.
2. The firm (AlphaFund) borrowed from CEX to run a leveraged ETH and EXT position at
   LendB. Liquidated at a loss, it becomes insolvent and defaults on the CEX loan.
3. CEX publishes solvency proofs: the loan loss shows, depositors run, it sells its own
   token EXT into a thin pool, recalls its LendA supply, and freezes: it defaults.
4. EXT crashes. LendB accepts EXT as collateral: EXT-backed accounts go underwater and
   leave bad debt. Traders whose PerpX accounts were cross-margined with their CEX deposit
   lose that collateral and are liquidated; PerpX's insurance fund pays and, on some seeds,
   runs dry, and ADL fires.
"""

from __future__ import annotations

from contagion.params import (
    AssetParams,
    CollateralParams,
    CreditLinkParams,
    CustodialParams,
    FirmParams,
    InsuranceFundParams,
    LendingParams,
    LiquidatorParams,
    MarketParams,
    OracleParams,
    PerpParams,
    PoolParams,
    PricePathParams,
    TraderParams,
)
from contagion.scenario import Scenario
from contagion.validation import check_bool, check_choice, check_int, check_real

__all__ = ["default_market"]


def default_market(
    *,
    n_traders: int = 1000,
    steps: int = 144,
    shock_frac: float = 0.35,
    shock_start_step: int = 12,
    shock_duration_steps: int = 36,
    cross_margin: bool = True,
    cross_margin_settlement_steps: int = 0,
    oracle_delay_steps: int = 0,
    twap_window_steps: int = 6,
    oracle_heartbeat_steps: int = 12,
    liquidator_capital_usd: float = 2e7,
    liquidator_max_per_step: int = 200,
    insurance_fund_scale: float = 1.0,
    amm_depth_scale: float = 1.0,
    mean_leverage: float = 5.0,
    shortfall_policy: str = "adl",
    solvency_proofs: bool = True,
    dynamic_margin: bool = False,
) -> Scenario:
    """Build the default scenario.

    Parameters
    ----------
    n_traders : int
        Number of trader accounts (1 to 50,000,000); balances scale with it so that the
        market's size in dollars is the same at any ``n_traders``.
    shock_frac : float
        ETH's fall over the shock, 0 <= x < 1 (0: no shock, the calm baseline).
    cross_margin : bool
        Whether some PerpX accounts are cross-margined with their CEX deposit.
    cross_margin_settlement_steps : int
        Steps a margin call on a CEX deposit takes to reach PerpX (0: instant; a few steps
        for a cross-chain transfer). PerpX loses transfers in flight if CEX defaults.
    oracle_delay_steps, twap_window_steps, oracle_heartbeat_steps : int
        Latency of the ETH oracles.
    liquidator_capital_usd, liquidator_max_per_step
        Liquidators' debt repaid and accounts handled per step.
    insurance_fund_scale, amm_depth_scale : float
        Multipliers of every insurance fund's balance and every pool's depth.
    mean_leverage : float
        Mean leverage of PerpX accounts (1 to 10).
    shortfall_policy : {"adl", "socialise"}
        What PerpX does once its insurance fund is empty.
    solvency_proofs : bool
        Whether CEX publishes proofs of reserves (depositors see its shortfall).
    dynamic_margin : bool
        Whether PerpX's maintenance margin follows realised volatility.
    """
    check_int("n_traders", n_traders, low=1, high=50_000_000)
    check_int("steps", steps, low=1, high=1_000_000)
    check_real("shock_frac", shock_frac, low=0, high=1, high_open=True)
    check_int("shock_start_step", shock_start_step, low=0)
    check_int("shock_duration_steps", shock_duration_steps, low=1)
    check_int("oracle_delay_steps", oracle_delay_steps, low=0, high=10_000)
    check_int("cross_margin_settlement_steps", cross_margin_settlement_steps, low=0, high=10_000)
    check_int("twap_window_steps", twap_window_steps, low=1, high=10_000)
    check_int("oracle_heartbeat_steps", oracle_heartbeat_steps, low=1, high=100_000)
    check_real("liquidator_capital_usd", liquidator_capital_usd, low=0, allow_inf=True)
    check_int("liquidator_max_per_step", liquidator_max_per_step, low=0)
    check_real("insurance_fund_scale", insurance_fund_scale, low=0, high=1e6)
    check_real("amm_depth_scale", amm_depth_scale, low=0, high=1e6, low_open=True)
    check_real("mean_leverage", mean_leverage, low=1, high=10)
    check_choice("shortfall_policy", shortfall_policy, ("adl", "socialise"))
    for flag in ("cross_margin", "solvency_proofs", "dynamic_margin"):
        check_bool(flag, locals()[flag])
    wealth_scale = 1000 / n_traders
    d = amm_depth_scale
    eth_oracle_delay = oracle_delay_steps
    return Scenario(
        name="default",
        description="Two lenders, a perp venue, a custodial exchange and a leveraged firm; "
                    f"ETH falls {shock_frac:.0%} over {shock_duration_steps} steps.",
        market=MarketParams(steps=steps, step_minutes=5.0),
        assets=(
            AssetParams(name="USDC", kind="stable", initial_price_usd=1.0),
            AssetParams(name="ETH", kind="volatile", initial_price_usd=2000.0,
                        external_depth_usd=3e9),
            AssetParams(name="LND", kind="venue_token", initial_price_usd=10.0, issuer="LendA",
                        external_depth_usd=5e7),
            AssetParams(name="EXT", kind="venue_token", initial_price_usd=20.0, issuer="CEX",
                        external_depth_usd=1e8, crash_on_issuer_default_frac=0.9),
        ),
        paths=(
            PricePathParams(asset="ETH", kind="crash", shock_frac=shock_frac,
                            shock_start_step=shock_start_step,
                            shock_duration_steps=shock_duration_steps, vol_per_step=0.002),
            PricePathParams(asset="LND", kind="flat", vol_per_step=0.003),
            PricePathParams(asset="EXT", kind="flat", vol_per_step=0.003),
        ),
        pools=(
            PoolParams(name="ETH/USDC", base="ETH", reserve_base=25_000 * d,
                       arb_capacity_usd_per_step=2e6 * d),
            PoolParams(name="EXT/USDC", base="EXT", reserve_base=400_000 * d,
                       arb_capacity_usd_per_step=2e5 * d),
            PoolParams(name="LND/USDC", base="LND", reserve_base=400_000 * d,
                       arb_capacity_usd_per_step=1e5 * d),
        ),
        oracles=(
            OracleParams(name="ETH-feed", asset="ETH", source="external", heartbeat_steps=
                         oracle_heartbeat_steps, deviation_threshold_frac=0.005,
                         delay_steps=eth_oracle_delay),
            OracleParams(name="ETH-twap", asset="ETH", source="pool_twap", pool="ETH/USDC",
                         twap_window_steps=twap_window_steps, heartbeat_steps=1,
                         deviation_threshold_frac=0.0, delay_steps=eth_oracle_delay),
            OracleParams(name="EXT-spot", asset="EXT", source="pool_spot", pool="EXT/USDC",
                         heartbeat_steps=1, deviation_threshold_frac=0.0),
            OracleParams(name="LND-twap", asset="LND", source="pool_twap", pool="LND/USDC",
                         twap_window_steps=twap_window_steps, heartbeat_steps=1,
                         deviation_threshold_frac=0.0),
        ),
        lending=(
            LendingParams(
                name="LendA", token="LND", insurance_fund="LendA-SafetyModule",
                collateral=(CollateralParams(asset="ETH", oracle="ETH-feed", ltv=0.8,
                                             liquidation_threshold=0.825,
                                             liquidation_bonus=0.05, pool="ETH/USDC"),),
                reserve_usd=1e6, retail_supply_usd=1.5e8, share_of_traders=0.4,
                mean_health_factor=1.5),
            LendingParams(
                name="LendB", insurance_fund="LendB-Fund",
                collateral=(
                    CollateralParams(asset="ETH", oracle="ETH-twap", ltv=0.75,
                                     liquidation_threshold=0.8, liquidation_bonus=0.08,
                                     pool="ETH/USDC"),
                    CollateralParams(asset="EXT", oracle="EXT-spot", ltv=0.45,
                                     liquidation_threshold=0.5, liquidation_bonus=0.1,
                                     pool="EXT/USDC"),
                    CollateralParams(asset="LND", oracle="LND-twap", ltv=0.55,
                                     liquidation_threshold=0.6, liquidation_bonus=0.1,
                                     pool="LND/USDC"),
                ),
                reserve_usd=5e5, retail_supply_usd=1.6e8, share_of_traders=0.25,
                mean_health_factor=1.4),
        ),
        perps=(
            PerpParams(name="PerpX", asset="ETH", oracle="ETH-feed",
                       insurance_fund="PerpX-Insurance", initial_margin_frac=0.1,
                       maintenance_margin_frac=0.05, liquidation_fee_frac=0.01,
                       shortfall_policy=shortfall_policy, dynamic_margin=dynamic_margin,
                       share_of_traders=0.4, mean_leverage=mean_leverage, long_share=0.75),
        ),
        custodial=(
            CustodialParams(name="CEX", token="EXT", deposits_usd=2e8, liquid_reserve_frac=0.25,
                            supply_to="LendA", supply_to_lending_frac=0.1,
                            token_holdings_usd=3e7, equity_buffer_frac=0.03,
                            run_speed_frac=0.4, run_stress_threshold=0.03,
                            solvency_proofs=solvency_proofs, settlement_delay_steps=6,
                            share_of_traders=0.5),
        ),
        firms=(
            FirmParams(name="AlphaFund", lending="LendB",
                       collateral_usd=(("ETH", 1.2e8), ("EXT", 3e7)),
                       health_factor=1.3, cash_usd=3e7),
        ),
        credit_links=(CreditLinkParams(lender="CEX", borrower="AlphaFund", amount_usd=8e7),),
        funds=(
            InsuranceFundParams(name="LendA-SafetyModule", balance_usd=2e6 * insurance_fund_scale),
            InsuranceFundParams(name="LendB-Fund", balance_usd=5e5 * insurance_fund_scale),
            InsuranceFundParams(name="PerpX-Insurance", balance_usd=1e6 * insurance_fund_scale),
        ),
        liquidators=(LiquidatorParams(name="Liquidators", capital_usd=liquidator_capital_usd,
                                      max_liquidations_per_step=liquidator_max_per_step,
                                      gas_cost_usd=20.0),),
        traders=TraderParams(n_traders=n_traders, mean_wealth_usd=2e5 * wealth_scale,
                             cross_margin=cross_margin, cross_margin_share=0.35,
                             cross_margin_settlement_steps=cross_margin_settlement_steps,
                             agent_limit=5000),
    )
