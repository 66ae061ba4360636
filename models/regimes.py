"""Price regimes as risk teams stress them: a broad market downturn, a broken correlation.

One stylised DeFi market (a multi-collateral lender taking ETH, BTC and SOL, a perp venue
listing all three, their pools and oracles) under the two regimes a risk team runs beside
its historical scenarios:

* :func:`broad_downturn` (preset ``broad_downturn``): all the majors fall together. Each
  keeps its own crash (ETH -30%, BTC -25%, SOL -40% over three hours), and their noise is
  joint (:class:`~contagion.params.PriceModelParams`): correlation 0.85 to 0.9, Student-t
  innovations with 4 degrees of freedom (fat tails that come together) and GARCH(1,1)
  volatility clustering. Diversifying collateral across the majors buys nothing when they
  fall as one.
* :func:`broken_correlation` (preset ``broken_correlation``): the USDC day, 11 March 2023.
  The majors hold in dollars (correlated noise, no crash) while USDC, the unit every venue
  keeps its books in, loses 12% of its peg over an hour and DAI, backed largely by USDC,
  follows it down 10%. The venues value USDC at their oracle of it
  (``market.numeraire_oracle``): USDC debts are worth less in dollars (borrowers' health
  rises) and so is USDC margin (perp accounts near maintenance are liquidated although no
  mark moved). A book hedged or diversified on the majors is still exposed: the loss comes
  from the asset that was assumed to be cash.

Both are stylised, not histories: the figures are round numbers of the size of 2022-2024
DeFi venues, chosen so the run shows the mechanism. The date in the menu is a day the
regime happened (13 June 2022: the majors fell together; 11 March 2023: after Circle said
$3.3 billion of USDC's reserves were stuck at Silicon Valley Bank, USDC and DAI fell as low
as $0.88 and $0.897 before rebounding (The Block, https://www.theblock.co/post/218993;
CoinMarketCap's lows as reported by coinspaidmedia.com) while BTC and ETH held), not a
calibration to it: here the depeg lasts the run (12 hours; the real one about two days).
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
    PerpMarketParams,
    PerpParams,
    PoolParams,
    PriceModelParams,
    PricePathParams,
    TraderParams,
)
from contagion.scenario import Scenario
from contagion.validation import check_bool, check_int, check_real

__all__ = ["MAJORS", "broad_downturn", "broken_correlation"]

MAJORS = ("ETH", "BTC", "SOL")
_PRICE = {"ETH": 2000.0, "BTC": 30000.0, "SOL": 40.0, "DAI": 1.0}
_DEPTH = {"ETH": 3e9, "BTC": 5e9, "SOL": 4e8, "DAI": 2e8}
_VOL = {"ETH": 0.004, "BTC": 0.003, "SOL": 0.006}  # per 5-minute step, calm
_POOL_UNITS = {"ETH": 25_000, "BTC": 2_000, "SOL": 1_000_000, "DAI": 40_000_000}
#: DAI's fall as a share of USDC's on the day: $0.897 against $0.88 (CoinMarketCap's lows)
DAI_FOLLOWS = 0.103 / 0.12


def _check(n_traders: int, steps: int, correlation: float) -> None:
    check_int("n_traders", n_traders, low=1, high=50_000_000)
    check_int("steps", steps, low=1, high=1_000_000)
    check_real("correlation", correlation, low=-0.5, high=1)


def _majors_correlation(rho: float) -> tuple[tuple[float, ...], ...]:
    """The majors' correlation matrix: ``rho`` between SOL and each of ETH and BTC, and
    ``rho + 0.05`` (at most 1) between ETH and BTC, the pair that moves most alike."""
    eth_btc = min(1.0, rho + 0.05)
    return ((1.0, eth_btc, rho), (eth_btc, 1.0, rho), (rho, rho, 1.0))


def _world(*, name: str, description: str, n_traders: int, steps: int,
           paths: tuple[PricePathParams, ...], price_model: PriceModelParams | None,
           dai: bool) -> Scenario:
    wealth_scale = 1000 / n_traders
    assets = [AssetParams(name="USDC", kind="stable", initial_price_usd=1.0)]
    assets += [AssetParams(name=a, kind="volatile", initial_price_usd=_PRICE[a],
                           external_depth_usd=_DEPTH[a]) for a in MAJORS]
    collat = [CollateralParams(asset="ETH", oracle="ETH-feed", ltv=0.8,
                               liquidation_threshold=0.825, liquidation_bonus=0.05,
                               pool="ETH/USDC"),
              CollateralParams(asset="BTC", oracle="BTC-feed", ltv=0.75,
                               liquidation_threshold=0.8, liquidation_bonus=0.05,
                               pool="BTC/USDC"),
              CollateralParams(asset="SOL", oracle="SOL-feed", ltv=0.65,
                               liquidation_threshold=0.7, liquidation_bonus=0.08,
                               pool="SOL/USDC")]
    tokens = list(MAJORS)
    oracles = [OracleParams(name=f"{a}-feed", asset=a, source="external", heartbeat_steps=12,
                            deviation_threshold_frac=0.005) for a in MAJORS]
    if dai:
        assets.append(AssetParams(name="DAI", kind="volatile", initial_price_usd=1.0,
                                  external_depth_usd=_DEPTH["DAI"]))
        # a stablecoin lent against as near-cash: a high LTV, a thin liquidation bonus
        collat.append(CollateralParams(asset="DAI", oracle="DAI-feed", ltv=0.9,
                                       liquidation_threshold=0.93, liquidation_bonus=0.03,
                                       pool="DAI/USDC"))
        tokens.append("DAI")
        # the stablecoins' feeds publish on a 0.25% move (Chainlink's stablecoin feeds)
        oracles += [OracleParams(name=f"{a}-feed", asset=a, source="external",
                                 heartbeat_steps=12, deviation_threshold_frac=0.0025)
                    for a in ("DAI", "USDC")]
    return Scenario(
        name=name,
        description=description,
        market=MarketParams(steps=steps, step_minutes=5.0,
                            numeraire_oracle="USDC-feed" if dai else None),
        assets=tuple(assets),
        paths=paths,
        price_model=price_model,
        pools=tuple(PoolParams(name=f"{a}/USDC", base=a, reserve_base=_POOL_UNITS[a],
                               arb_capacity_usd_per_step=2e6) for a in tokens),
        oracles=tuple(oracles),
        lending=(
            LendingParams(name="LendM", insurance_fund="LendM-Fund", collateral=tuple(collat),
                          reserve_usd=1e6, retail_supply_usd=3e8, share_of_traders=0.5,
                          mean_health_factor=1.35),
        ),
        perps=(
            PerpParams(name="PerpM", asset="ETH", oracle="ETH-feed",
                       markets=(PerpMarketParams(asset="BTC", oracle="BTC-feed"),
                                PerpMarketParams(asset="SOL", oracle="SOL-feed")),
                       insurance_fund="PerpM-Insurance", initial_margin_frac=0.1,
                       maintenance_margin_frac=0.05, liquidation_fee_frac=0.01,
                       share_of_traders=0.4, mean_leverage=5.0, long_share=0.7),
        ),
        funds=(
            InsuranceFundParams(name="LendM-Fund", balance_usd=2e6),
            InsuranceFundParams(name="PerpM-Insurance", balance_usd=1.5e6),
        ),
        liquidators=(LiquidatorParams(name="Liquidators", capital_usd=3e7,
                                      max_liquidations_per_step=200, gas_cost_usd=20.0),),
        traders=TraderParams(n_traders=n_traders, mean_wealth_usd=2e5 * wealth_scale,
                             agent_limit=5000),
    )


def broad_downturn(*, n_traders: int = 1000, steps: int = 144, correlation: float = 0.85,
                   fat_tails: bool = True, joint_tails: bool = True, shock_frac: float = 0.3,
                   shock_start_step: int = 12, shock_duration_steps: int = 36) -> Scenario:
    """All the majors fall together: correlated, fat-tailed, clustered noise around a crash.

    Parameters
    ----------
    n_traders : int
        Trader accounts (1 to 50,000,000); the market's size in dollars does not change.
    correlation : float
        Correlation of the majors' noise (-0.5 to 1; ETH/BTC 0.05 more, at most 1).
    fat_tails : bool
        Student-t innovations (4 degrees of freedom) and GARCH(1,1) volatility (alpha 0.1,
        beta 0.85); off: Gaussian noise of the same variance.
    joint_tails : bool
        Whether the Student-t tails come to the three at once (a multivariate t); off, with
        ``correlation=0``, the three paths are independent with the same marginals.
    shock_frac : float
        ETH's fall (BTC falls 5 points less, SOL 10 points more), 0 <= x < 0.9.
    shock_start_step, shock_duration_steps : int
        When the fall starts and how many steps it takes.
    """
    _check(n_traders, steps, correlation)
    check_bool("fat_tails", fat_tails)
    check_bool("joint_tails", joint_tails)
    check_real("shock_frac", shock_frac, low=0, high=0.9, high_open=True)
    check_int("shock_start_step", shock_start_step, low=0)
    check_int("shock_duration_steps", shock_duration_steps, low=1)
    fall = {"ETH": shock_frac, "BTC": max(0.0, shock_frac - 0.05), "SOL": shock_frac + 0.1}
    paths = tuple(PricePathParams(asset=a, kind="crash", shock_frac=fall[a],
                                  shock_start_step=shock_start_step,
                                  shock_duration_steps=shock_duration_steps,
                                  vol_per_step=2 * _VOL[a]) for a in MAJORS)
    pm = PriceModelParams(assets=MAJORS, correlation=_majors_correlation(correlation),
                          innovations="student_t" if fat_tails else "normal", dof=4.0,
                          garch_alpha=0.1 if fat_tails else 0.0,
                          garch_beta=0.85 if fat_tails else 0.0, joint_tails=joint_tails)
    return _world(name="broad_downturn",
                  description=f"ETH, BTC and SOL fall together ({shock_frac:.0%}, "
                              f"{fall['BTC']:.0%}, {fall['SOL']:.0%}) with correlated, "
                              "fat-tailed noise: diversified collateral does not help.",
                  n_traders=n_traders, steps=steps, paths=paths, price_model=pm, dai=False)


def broken_correlation(*, n_traders: int = 1000, steps: int = 144, correlation: float = 0.85,
                       depeg_frac: float = 0.12, depeg_start_step: int = 24,
                       depeg_duration_steps: int = 12) -> Scenario:
    """USDC, the venues' unit of account, depegs and DAI follows it, while the majors hold.

    Parameters
    ----------
    n_traders : int
        Trader accounts (1 to 50,000,000); the market's size in dollars does not change.
    correlation : float
        Correlation of the majors' noise (-0.5 to 1; ETH/BTC 0.05 more, at most 1): the
        majors move together and do not fall.
    depeg_frac : float
        USDC's fall below $1, 0 <= x < 1 (DAI falls ``DAI_FOLLOWS`` = 86% as far).
    depeg_start_step, depeg_duration_steps : int
        When the depeg starts and how many steps it takes.
    """
    _check(n_traders, steps, correlation)
    check_real("depeg_frac", depeg_frac, low=0, high=1, high_open=True)
    check_int("depeg_start_step", depeg_start_step, low=0)
    check_int("depeg_duration_steps", depeg_duration_steps, low=1)
    paths = (*(PricePathParams(asset=a, kind="flat", vol_per_step=_VOL[a]) for a in MAJORS),
             *(PricePathParams(asset=a, kind="crash", shock_frac=frac,
                               shock_start_step=depeg_start_step,
                               shock_duration_steps=depeg_duration_steps, vol_per_step=vol)
               for a, frac, vol in (("USDC", depeg_frac, 0.0),
                                    ("DAI", depeg_frac * DAI_FOLLOWS, 0.0005))))
    pm = PriceModelParams(assets=MAJORS, correlation=_majors_correlation(correlation))
    return _world(name="broken_correlation",
                  description=f"USDC, the unit every venue keeps its books in, loses "
                              f"{depeg_frac:.0%} of its peg and DAI follows it, while ETH, "
                              "BTC and SOL hold in dollars.",
                  n_traders=n_traders, steps=steps, paths=paths, price_model=pm, dai=True)
