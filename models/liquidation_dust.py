"""Liquidation dust: Aave v3.3's leftover rule against positions too small to liquidate.

A stylised scenario (five-minute steps) of the rule Aave v3.3 added to liquidations
(aave-dao/aave-v3-origin v3.3.0, ``LiquidationLogic``): a liquidation must either clear the
position's debt (or the collateral it seizes) or leave at least ``MIN_LEFTOVER_BASE`` ($1,000)
of both. Before it, a keeper repaying part of a debt could leave a position with, say, $300
of debt: worth less than the gas and bonus a keeper needs, such a position stays open under
water and no one closes it (Aave's governance called these positions "dust" when it proposed
v3.3, and the rule the "dust prevention" part of the upgrade).

1. A lender, **Aave**, under v3.3's close factor (positions under ``min_close_base_usd`` =
   $2,000 of debt or collateral close in full; others half, or in full below health factor
   0.95) lends USDC against ETH to 1,000 borrowers holding $20M between them.
2. ETH falls 35% over three hours from step 12. One keeper with $30,000 a step works
   through the accounts under water: its capital runs out in the middle of an account every
   step, so it covers part of a debt (Aave lets a liquidator choose ``debtToCover``).
3. With ``leftover_rule`` (the default) each such partial liquidation is shrunk so the
   account keeps at least $1,000 of debt and collateral (``leftover_shrunk_usd`` on the
   liquidation event); without it the keeper covers what its capital allows and the
   position may be left as dust (series ``dust_positions_Aave`` and ``dust_debt_Aave``).

Borrowers do not top up (``topup_share = 0``): every change to a liquidated position is a
keeper's. A stylised scenario, not a history: round numbers chosen so the run shows the rule.
The dollar size of the market does not change with ``n_traders``: with more traders the same
$20M is split into smaller positions, and more of them fall under the floor.
"""

from __future__ import annotations

from contagion.params import (
    AssetParams,
    CollateralParams,
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

__all__ = ["liquidation_dust"]


def liquidation_dust(*, n_traders: int = 1000, steps: int = 144, leftover_rule: bool = True,
                     keeper_capital_usd: float = 3e4, gas_cost_usd: float = 20.0,
                     shock_frac: float = 0.35) -> Scenario:
    """Partial liquidations by a keeper short of capital, with or without v3.3's leftover rule.

    Parameters
    ----------
    n_traders : int
        Borrowers (1 to 50,000,000); they hold $20M between them whatever their number.
    steps : int
        Five-minute steps (1 to 1,000,000).
    leftover_rule : bool
        Whether Aave applies v3.3's minimum leftover (``LendingParams.leftover_rule``).
    keeper_capital_usd : float
        Debt the keeper can repay per step (0 to 1e15): small, so it covers part of a debt.
    gas_cost_usd : float
        What one liquidation costs the keeper in gas (0 to 1e15).
    shock_frac : float
        ETH's fall over three hours from step 12, 0 <= x < 0.9.
    """
    check_int("n_traders", n_traders, low=1, high=50_000_000)
    check_int("steps", steps, low=1, high=1_000_000)
    check_bool("leftover_rule", leftover_rule)
    check_real("keeper_capital_usd", keeper_capital_usd, low=0, high=1e15)
    check_real("gas_cost_usd", gas_cost_usd, low=0, high=1e15)
    check_real("shock_frac", shock_frac, low=0, high=0.9, high_open=True)
    return Scenario(
        name="liquidation_dust",
        description=f"ETH falls {shock_frac:.0%}; a keeper with ${keeper_capital_usd:,.0f} a step "
                    f"liquidates under Aave v3.3's rules, leftover rule "
                    f"{'on' if leftover_rule else 'off'}.",
        market=MarketParams(steps=steps, step_minutes=5.0),
        assets=(
            AssetParams(name="USDC", kind="stable", initial_price_usd=1.0),
            AssetParams(name="ETH", kind="volatile", initial_price_usd=2000.0,
                        external_depth_usd=3e9),
        ),
        paths=(PricePathParams(asset="ETH", kind="crash", shock_frac=shock_frac,
                               shock_start_step=12, shock_duration_steps=36,
                               vol_per_step=0.002),),
        pools=(PoolParams(name="ETH/USDC", base="ETH", reserve_base=25_000,
                          arb_capacity_usd_per_step=2e6),),
        oracles=(OracleParams(name="ETH-feed", asset="ETH", source="external",
                              heartbeat_steps=1, deviation_threshold_frac=0.0),),
        lending=(
            LendingParams(
                name="Aave", insurance_fund="Aave-Umbrella",
                collateral=(CollateralParams(asset="ETH", oracle="ETH-feed", ltv=0.8,
                                             liquidation_threshold=0.825,
                                             liquidation_bonus=0.05, pool="ETH/USDC"),),
                reserve_usd=1e6, retail_supply_usd=1.5e8, share_of_traders=1.0,
                mean_health_factor=1.5, close_factor_rule="v3.3",
                leftover_rule=leftover_rule),
        ),
        funds=(InsuranceFundParams(name="Aave-Umbrella", balance_usd=2e6),),
        liquidators=(LiquidatorParams(name="Keeper", capital_usd=keeper_capital_usd,
                                      max_liquidations_per_step=200,
                                      gas_cost_usd=gas_cost_usd),),
        traders=TraderParams(n_traders=n_traders, mean_wealth_usd=2e7 / n_traders,
                             cross_margin=False, topup_share=0.0, agent_limit=5000),
    )
