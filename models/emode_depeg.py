"""E-mode and a depeg: correlated collateral lent on better terms until the correlation breaks.

A stylised scenario (15-minute steps) of Aave v3's efficiency mode (e-mode). A lender,
**LendE**, lends USDC against USDx, a synthetic dollar that trades near $1. Listed on its own,
USDx borrows at most 75% of its value (liquidation threshold 80%, bonus 5%). With
``emode`` (the default) USDx and USDC form a category, "stablecoins", with an LTV of 90%, a
threshold of 93% and a bonus of 2% (:class:`contagion.params.EModeParams`): an account whose
every debt is in the category counts its USDx at those terms (Aave's ``GenericLogic`` and
``LiquidationLogic`` do the same for an asset of the user's category).

1. Its 1,000 borrowers hold $50M of USDx and manage their loans (``topup_share = 1``): while
   their health factor is above 1.04 they **loop**: borrow USDC, buy USDx with it through the
   USDx/USDC pool and supply it, as far as the LTV allows. In e-mode that is up to 90% of the
   collateral (a health factor of 1.033); on the plain listing 75% (1.067).
2. From hour 6 USDx loses 5% of its peg over two hours (``depeg_frac``).
3. In e-mode the loops stand about 3.5% from their threshold: every account is liquidated,
   and the keepers' sales of USDx into the pool push it further below the market. On the plain
   listing the loops stand 6% away and nobody is liquidated.

A stylised scenario, not a history: round numbers chosen so the run shows the mechanism. Real
e-mode categories group assets of one kind (ETH and its liquid-staking tokens; dollar
stablecoins), where a depeg of one member is exactly the risk the category's terms leave out.
"""

from __future__ import annotations

from contagion.params import (
    AssetParams,
    CollateralParams,
    EModeParams,
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

__all__ = ["EMODE", "emode_depeg"]

#: The category: Aave v3's stablecoin e-mode terms, rounded.
EMODE = EModeParams(name="stablecoins", assets=("USDx", "USDC"), ltv=0.9,
                    liquidation_threshold=0.93, liquidation_bonus=0.02)


def emode_depeg(*, n_traders: int = 1000, steps: int = 96, emode: bool = True,
                depeg_frac: float = 0.05, loop_above_hf: float = 1.04) -> Scenario:
    """Looped synthetic-dollar collateral in e-mode (or on its own listing) through a depeg.

    Parameters
    ----------
    n_traders : int
        Borrowers (1 to 50,000,000); they hold $50M of USDx between them whatever their number.
    steps : int
        15-minute steps (1 to 1,000,000).
    emode : bool
        Whether USDx and USDC form an e-mode category (LTV 90%, threshold 93%, bonus 2%).
    depeg_frac : float
        USDx's fall below $1 from hour 6, over two hours, 0 <= x < 0.9.
    loop_above_hf : float
        Borrowers loop while their health factor is above this (1.005 < x <= 100, or inf: no
        loops).
    """
    check_int("n_traders", n_traders, low=1, high=50_000_000)
    check_int("steps", steps, low=1, high=1_000_000)
    check_bool("emode", emode)
    check_real("depeg_frac", depeg_frac, low=0, high=0.9, high_open=True)
    check_real("loop_above_hf", loop_above_hf, low=1.005, high=100, low_open=True,
               allow_inf=True)
    return Scenario(
        name="emode_depeg",
        description=f"USDx loses {depeg_frac:.0%} of its peg; its borrowers loop it "
                    + ("in e-mode (LTV 90%)." if emode else "on its own listing (LTV 75%)."),
        market=MarketParams(steps=steps, step_minutes=15.0),
        assets=(AssetParams(name="USDC", kind="stable", initial_price_usd=1.0),
                AssetParams(name="USDx", kind="volatile", initial_price_usd=1.0,
                            external_depth_usd=5e10)),
        paths=(PricePathParams(asset="USDx", kind="crash", shock_frac=depeg_frac,
                               shock_start_step=24, shock_duration_steps=8,
                               vol_per_step=0.0005),),
        pools=(PoolParams(name="USDx/USDC", base="USDx", reserve_base=5e8,
                          arb_capacity_usd_per_step=5e7),),
        oracles=(OracleParams(name="USDx-feed", asset="USDx", source="external",
                              heartbeat_steps=1, deviation_threshold_frac=0.0),),
        lending=(LendingParams(
            name="LendE", insurance_fund="LendE-Fund",
            collateral=(CollateralParams(asset="USDx", oracle="USDx-feed", ltv=0.75,
                                         liquidation_threshold=0.8, liquidation_bonus=0.05,
                                         pool="USDx/USDC"),),
            reserve_usd=1e6, retail_supply_usd=5e8, share_of_traders=1.0,
            mean_health_factor=1.5, releverage_above_hf=loop_above_hf,
            releverage_to_hf=1.005, emode=EMODE if emode else None),),
        funds=(InsuranceFundParams(name="LendE-Fund", balance_usd=2e6),),
        liquidators=(LiquidatorParams(name="Liquidators", capital_usd=2e7,
                                      max_liquidations_per_step=200, gas_cost_usd=5.0),),
        traders=TraderParams(n_traders=n_traders, mean_wealth_usd=5e7 / n_traders,
                             cross_margin=False, topup_share=1.0, agent_limit=5000),
    )
