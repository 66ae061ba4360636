"""Bridge exploit: a bridged claim loses its backing, and cross-chain margin freezes.

A stylised scenario (hourly steps) shaped on Wormhole (2 February 2022: 120,000 wETH minted
on Solana with nothing locked behind them; the bridge halted; Jump Crypto put 120,000 ETH
back the next day) and Multichain (July 2023: its Fantom bridge drained, bridged assets
at about a fifth of their value, Geist Finance on Fantom closed with bad debt). The balance
sheets are round numbers chosen so the run shows the mechanism; it is not a history.

Two chains. On the home chain ETH trades deep, EthLend lends against it and CEX holds the
traders' deposits. The bridge Portal locks 200,000 ETH there and mints as many ``wETH`` on
the far chain, where SolLend lends USDC against wETH (priced by its own feed of wETH's
market) and SolPerp lists an ETH perpetual whose cross-margined accounts count their CEX
deposit as margin: a margin call on that deposit crosses Portal (``finality_steps`` hours).

1. ETH falls 20% over four hours from hour 8: liquidations at both lenders and SolPerp;
   SolPerp's cross-margined accounts closed below zero call their CEX deposits, which cross
   Portal and are in flight for two hours.
2. Hour 12: an attacker drains ``exploit_frac`` (60%) of Portal's ETH; Portal halts for
   ``halt_steps`` (24) hours. wETH is repriced to its backing (40% of ETH): SolLend's
   borrowers are liquidated into a thin wETH pool and leave bad debt; EthLend, which does
   not take wETH, feels nothing of it. The transfers in flight are frozen until Portal
   resumes, and SolPerp counts no credit for CEX deposits that cannot cross meanwhile.
3. ``recapitalise_step`` (off by default; 24 for a Jump-style refill the next day) puts the
   stolen ETH back and wETH is whole again.

Counterfactuals: ``exploit_frac=0`` (no exploit: SolLend sees only the ETH fall),
``halt_steps=0`` (the transfers arrive after the finality), ``bridged_margin=False`` (SolPerp's
cross margin does not cross the bridge: the plain delay, and a halt does not reach it).
"""

from __future__ import annotations

from contagion.params import (
    AssetParams,
    BridgeParams,
    CollateralParams,
    CustodialParams,
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
from contagion.validation import check_bool, check_int, check_real

__all__ = ["bridge_exploit"]

EXPLOIT_STEP = 12
LOCKED_ETH = 200_000.0


def bridge_exploit(*, n_traders: int = 1000, steps: int = 48, exploit_frac: float = 0.6,
                   halt_steps: int = 24, halt_discount_frac: float = 0.0,
                   recapitalise_step: int = -1, finality_steps: int = 2,
                   bridged_margin: bool = True, shock_frac: float = 0.2) -> Scenario:
    """A bridge drained while cross-chain margin is in flight across it.

    Parameters
    ----------
    n_traders : int
        Trader accounts (1 to 50,000,000); the market's size in dollars does not change.
    steps : int
        Hourly steps (13 to 1,000,000: the exploit is at hour 12).
    exploit_frac : float
        Share of Portal's locked ETH drained at hour 12 (0 <= x < 1; 0: no exploit).
    halt_steps : int
        Hours Portal is halted from hour 12 (0: no halt).
    halt_discount_frac : float
        wETH's further discount while Portal is halted (0 <= x < 1).
    recapitalise_step : int
        Hour a backer refills Portal (-1: never; > 12, and an exploit to make good).
    finality_steps : int
        Hours a transfer across Portal takes (0 to 10,000).
    bridged_margin : bool
        Whether SolPerp's cross-margin transfers cross Portal.
    shock_frac : float
        ETH's fall from hour 8 over four hours (0 <= x < 0.9).
    """
    check_int("n_traders", n_traders, low=1, high=50_000_000)
    check_int("steps", steps, low=EXPLOIT_STEP + 1, high=1_000_000)
    check_real("exploit_frac", exploit_frac, low=0, high=1, high_open=True)
    check_int("halt_steps", halt_steps, low=0, high=1_000_000)
    check_real("halt_discount_frac", halt_discount_frac, low=0, high=1, high_open=True)
    check_int("recapitalise_step", recapitalise_step, low=-1, high=steps)
    check_int("finality_steps", finality_steps, low=0, high=10_000)
    check_bool("bridged_margin", bridged_margin)
    check_real("shock_frac", shock_frac, low=0, high=0.9, high_open=True)
    exploit_on = exploit_frac > 0
    if recapitalise_step >= 0 and (not exploit_on or recapitalise_step <= EXPLOIT_STEP):
        raise_what = ("-1 (there is no exploit to make good)" if not exploit_on
                      else f"-1 or {EXPLOIT_STEP + 1}..{steps}")
        from contagion.errors import ParameterError
        raise ParameterError("recapitalise_step", recapitalise_step, raise_what)
    return Scenario(
        name="bridge_exploit",
        description=f"Portal is drained of {exploit_frac:.0%} of its ETH at hour {EXPLOIT_STEP} "
                    f"and halts for {halt_steps} hours while ETH falls {shock_frac:.0%}.",
        market=MarketParams(steps=steps, step_minutes=60.0),
        assets=(
            AssetParams(name="USDC", kind="stable", initial_price_usd=1.0),
            AssetParams(name="ETH", kind="volatile", initial_price_usd=2000.0,
                        external_depth_usd=3e9),
            AssetParams(name="wETH", kind="volatile", initial_price_usd=2000.0,
                        underlying="ETH", external_depth_usd=1.5e8),
        ),
        paths=(
            PricePathParams(asset="ETH", kind="crash", shock_frac=shock_frac,
                            shock_start_step=8, shock_duration_steps=4, vol_per_step=0.002),
        ),
        pools=(
            PoolParams(name="ETH/USDC", base="ETH", reserve_base=25_000,
                       arb_capacity_usd_per_step=5e6),
            PoolParams(name="wETH/USDC", base="wETH", reserve_base=10_000,
                       arb_capacity_usd_per_step=1e6),
        ),
        oracles=(
            OracleParams(name="ETH-feed", asset="ETH", source="external", heartbeat_steps=1,
                         deviation_threshold_frac=0.0),
            OracleParams(name="wETH-feed", asset="wETH", source="external",
                         heartbeat_steps=1, deviation_threshold_frac=0.0),
        ),
        lending=(
            LendingParams(
                name="EthLend", insurance_fund="EthLend-Fund",
                collateral=(CollateralParams(asset="ETH", oracle="ETH-feed", ltv=0.8,
                                             liquidation_threshold=0.825,
                                             liquidation_bonus=0.05, pool="ETH/USDC"),),
                reserve_usd=1e6, retail_supply_usd=2e8, share_of_traders=0.3,
                mean_health_factor=1.5),
            LendingParams(
                name="SolLend", insurance_fund="SolLend-Fund",
                collateral=(CollateralParams(asset="wETH", oracle="wETH-feed", ltv=0.75,
                                             liquidation_threshold=0.8,
                                             liquidation_bonus=0.05, pool="wETH/USDC"),),
                reserve_usd=5e5, retail_supply_usd=2e8, share_of_traders=0.3,
                mean_health_factor=1.5),
        ),
        perps=(
            PerpParams(name="SolPerp", asset="ETH", oracle="ETH-feed",
                       insurance_fund="SolPerp-Insurance", initial_margin_frac=0.1,
                       maintenance_margin_frac=0.05, liquidation_fee_frac=0.01,
                       share_of_traders=0.4, mean_leverage=6.0, long_share=0.75),
        ),
        custodial=(
            CustodialParams(name="CEX", deposits_usd=2e8, liquid_reserve_frac=0.3,
                            supply_to_lending_frac=0.0, token_holdings_usd=0.0,
                            equity_buffer_frac=0.05, run_stress_threshold=1.0,
                            solvency_proofs=False, share_of_traders=0.5),
        ),
        funds=(
            InsuranceFundParams(name="EthLend-Fund", balance_usd=2e6),
            InsuranceFundParams(name="SolLend-Fund", balance_usd=1e6),
            InsuranceFundParams(name="SolPerp-Insurance", balance_usd=1e6),
        ),
        liquidators=(LiquidatorParams(name="Liquidators", capital_usd=2e7,
                                      max_liquidations_per_step=200, gas_cost_usd=20.0),),
        traders=TraderParams(n_traders=n_traders, mean_wealth_usd=2e5 * 1000 / n_traders,
                             cross_margin=True, cross_margin_share=0.35, agent_limit=5000),
        bridges=(
            BridgeParams(name="Portal", asset="wETH", locked_units=LOCKED_ETH,
                         finality_steps=finality_steps,
                         halt_step=EXPLOIT_STEP if halt_steps > 0 else -1,
                         halt_steps=halt_steps, halt_discount_frac=halt_discount_frac,
                         exploit_step=EXPLOIT_STEP if exploit_on else -1,
                         exploit_frac=exploit_frac, recapitalise_step=recapitalise_step,
                         margin_venues=("SolPerp",) if bridged_margin else ()),
        ),
    )
