"""Settlement window: the same default costs an exchange only when its recall settles late.

A stylised scenario (hourly steps) of the settlement risk the source article names: "the
time between trade and final clearing, the window for default". Two custodial lenders
finance one leveraged firm (AlphaFund, an ETH position at LendB) with unsecured loans: CEX
lends $60M of its customers' deposits and an OTC desk (Desk) another $60M. AlphaFund keeps
$60M in cash.

1. CEX's own token EXT falls 30% over two hours from hour 4: its depositors run. CEX pays
   from its reserve, sells EXT into its pool, then recalls its loan to AlphaFund, due after
   ``settlement_delay_steps`` hours. With ``await_settlement`` it freezes withdrawals until
   then instead of defaulting (FTX paused withdrawals on 8 November 2022, three days before
   it filed for bankruptcy).
2. ETH falls 30% over six hours from hour 20. AlphaFund's ETH position loses its value and
   the firm defaults at hour 21, whatever the window: its assets fall below its $120M of loans
   either way (repaying a recall moves cash and debt alike).
3. With a short window (3 hours) the recall settles at hour 8, before the crash: AlphaFund
   repays CEX in full, CEX reopens withdrawals and pays its depositors; AlphaFund's default
   later falls on Desk alone. With the default 24-hour window the recall is due at hour 30,
   after AlphaFund's default: CEX gets nothing back, books the loss and defaults.

A stylised scenario, not a history: the balance sheets are round numbers chosen so the run
shows the mechanism. ``await_settlement=False`` gives the engine's older reading, in which
the run brings CEX down the hour it recalls the loan, so the window never matters.
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
    PoolParams,
    PricePathParams,
    TraderParams,
)
from contagion.scenario import Scenario
from contagion.validation import check_bool, check_int, check_real

__all__ = ["settlement_window"]

LOAN_USD = 6e7  # CEX's and Desk's loans to AlphaFund, each


def settlement_window(*, n_traders: int = 1000, steps: int = 48,
                      settlement_delay_steps: int = 24, await_settlement: bool = True,
                      token_drop_frac: float = 0.3, shock_frac: float = 0.3,
                      shock_start_step: int = 20) -> Scenario:
    """An exchange's recall of a loan in flight while its borrower's collateral crashes.

    Parameters
    ----------
    n_traders : int
        Trader accounts (1 to 50,000,000); the market's size in dollars does not change.
    steps : int
        Hourly steps (1 to 1,000,000).
    settlement_delay_steps : int
        Hours from CEX's recall of its loan to its settlement (0 to 10,000): the window.
    await_settlement : bool
        Whether CEX freezes withdrawals until its recall settles instead of defaulting in
        the hour it cannot pay.
    token_drop_frac : float
        EXT's fall from hour 4 (0 <= x < 0.9): what starts the run on CEX.
    shock_frac : float
        ETH's fall, 0 <= x < 0.9, over six hours.
    shock_start_step : int
        The hour ETH starts falling.
    """
    check_int("n_traders", n_traders, low=1, high=50_000_000)
    check_int("steps", steps, low=1, high=1_000_000)
    check_int("settlement_delay_steps", settlement_delay_steps, low=0, high=10_000)
    check_bool("await_settlement", await_settlement)
    check_real("token_drop_frac", token_drop_frac, low=0, high=0.9, high_open=True)
    check_real("shock_frac", shock_frac, low=0, high=0.9, high_open=True)
    check_int("shock_start_step", shock_start_step, low=0)
    return Scenario(
        name="settlement_window",
        description=f"CEX recalls a loan with a {settlement_delay_steps}-hour settlement window "
                    f"as its borrower's ETH falls {shock_frac:.0%}.",
        market=MarketParams(steps=steps, step_minutes=60.0),
        assets=(
            AssetParams(name="USDC", kind="stable", initial_price_usd=1.0),
            AssetParams(name="ETH", kind="volatile", initial_price_usd=2000.0,
                        external_depth_usd=3e9),
            AssetParams(name="EXT", kind="venue_token", initial_price_usd=20.0, issuer="CEX",
                        external_depth_usd=1e8, crash_on_issuer_default_frac=0.9),
        ),
        paths=(
            PricePathParams(asset="ETH", kind="crash", shock_frac=shock_frac,
                            shock_start_step=shock_start_step, shock_duration_steps=6,
                            vol_per_step=0.002),
            PricePathParams(asset="EXT", kind="crash", shock_frac=token_drop_frac,
                            shock_start_step=4, shock_duration_steps=2, vol_per_step=0.002),
        ),
        pools=(
            PoolParams(name="ETH/USDC", base="ETH", reserve_base=25_000,
                       arb_capacity_usd_per_step=2e6),
            PoolParams(name="EXT/USDC", base="EXT", reserve_base=400_000,
                       arb_capacity_usd_per_step=2e5),
        ),
        oracles=(
            OracleParams(name="ETH-feed", asset="ETH", source="external", heartbeat_steps=1,
                         deviation_threshold_frac=0.0),
        ),
        lending=(
            LendingParams(
                name="LendB", insurance_fund="LendB-Fund",
                collateral=(CollateralParams(asset="ETH", oracle="ETH-feed", ltv=0.75,
                                             liquidation_threshold=0.8,
                                             liquidation_bonus=0.05, pool="ETH/USDC"),),
                reserve_usd=1e6, retail_supply_usd=3e8, share_of_traders=0.3,
                mean_health_factor=1.6),
        ),
        custodial=(
            CustodialParams(name="CEX", token="EXT", deposits_usd=2e8, liquid_reserve_frac=0.08,
                            supply_to_lending_frac=0.0, token_holdings_usd=5e6,
                            equity_buffer_frac=0.03, run_speed_frac=0.2,
                            run_stress_threshold=0.05, solvency_proofs=False,
                            settlement_delay_steps=settlement_delay_steps,
                            share_of_traders=0.5, await_settlement=await_settlement),
            CustodialParams(name="Desk", deposits_usd=1e8, liquid_reserve_frac=0.3,
                            supply_to_lending_frac=0.0, token_holdings_usd=0.0,
                            equity_buffer_frac=0.05, run_stress_threshold=1.0,
                            solvency_proofs=False, share_of_traders=0.2),
        ),
        firms=(
            FirmParams(name="AlphaFund", lending="LendB", collateral_usd=(("ETH", 2e8),),
                       health_factor=1.3, cash_usd=LOAN_USD),
        ),
        credit_links=(CreditLinkParams(lender="CEX", borrower="AlphaFund", amount_usd=LOAN_USD),
                      CreditLinkParams(lender="Desk", borrower="AlphaFund", amount_usd=LOAN_USD)),
        funds=(InsuranceFundParams(name="LendB-Fund", balance_usd=1e6),),
        liquidators=(LiquidatorParams(name="Liquidators", capital_usd=2e7,
                                      max_liquidations_per_step=200, gas_cost_usd=20.0),),
        traders=TraderParams(n_traders=n_traders, mean_wealth_usd=2e5 * 1000 / n_traders,
                             cross_margin=False, agent_limit=5000),
    )
