"""November 2022: FTX, Alameda and the lenders that froze after them.

Three days, half an hour a step. A hub exchange (FTX) with its own token (FTT) lent a large
share of its customers' deposits to its sister trading firm (Alameda), whose balance sheet
was mostly FTT. A large holder (Binance) dumps FTT; FTX's depositors run as the token
falls; FTX sells FTT, recalls its supply and its loan to Alameda, and freezes withdrawals:
it defaults, FTT crashes, and Alameda's FTT collateral is worth little. The edges out of the
hub carry the default on: BlockFi and Genesis had money at FTX, and Gemini Earn had lent
its users' money to Genesis. A DeFi lending venue on ETH sees only a mild sell-off.
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
    PoolManipulationParams,
    PoolParams,
    PricePathParams,
    TraderParams,
)
from contagion.scenario import Scenario
from contagion.validation import check_bool, check_int, check_real

__all__ = ["ftx_collapse"]

FTX_DEPOSITS_USD = 16e9  # customer assets (Livemint / Bloomberg Opinion)
ALAMEDA_ASSETS_USD = 14.6e9  # of which FTT below (kunjiresearch)
ALAMEDA_FTT_USD = 5.8e9
ALAMEDA_CASH_USD = 3e8  # stylised: little of Alameda's book was cash
FTT_USD = 22.0  # before Binance's announcement; ~$17 after it, ~$2 after the collapse
ETH_USD = 1500.0  # stylised level, early November 2022
FTX_OTHER_FRAC = 0.15  # FTX's own FTT, DeFi supply and venture stakes, share of deposits
BLOCKFI_AT_FTX_USD = 4e8  # stylised: of the order of its $400M facility from FTX US (ForkLog)
GENESIS_AT_FTX_USD = 1.75e8  # "~$175M locked on FTX" (securities.io)
GENESIS_LOANS_USD = 2.8e9  # active loans, Q3 2022 (CNN via gqak)
GEMINI_EARN_USD = 1e9  # ">$1B" frozen, 232,000 users (CoinDesk)
DUMP_STEPS = 24  # Binance's sale, spread over 12 hours


def ftx_collapse(
    *,
    n_traders: int = 1000,
    steps: int = 144,
    rehypothecation_frac: float = 0.625,
    ftt_dump_usd: float = 5.3e8,
    solvency_proofs: bool = False,
    shock_frac: float = 0.1,
    run_speed_frac: float = 0.3,
) -> Scenario:
    """Build the FTX collapse of November 2022 (a graph-contagion teaching preset).

    Calibration (``../shared/research/scenario-facts.md``, section 4):

    - FTX held $16B of customer assets and lent $10B of them to Alameda
      (``rehypothecation_frac`` = 10/16 = 0.625); $5B of withdrawal requests left an $8B
      shortfall (Livemint / Bloomberg Opinion,
      https://www.livemint.com/opinion/online-views/the-crypto-party-isn-t-over-it-will-just-move-next-door/amp-11669008163738.html).
    - Alameda had $14.6B of assets, $5.8B of them FTT; FTT went $22 -> ~$17 -> ~$2
      (kunjiresearch, secondary,
      https://kunjiresearch.com/experts-desk/While-CPI-data-provided-temporary-relief-crypto-ecosystem-has-suffered-severe-permanent-damages/).
      FTT's external depth is set so that Binance's ~$530M sale takes it from $22 to about
      $17; FTX's default takes 90% off what is left (~$2).
    - Binance sold ~$530M of FTT (``ftt_dump_usd``) and ~$6B of withdrawals hit FTX in 72 h
      (Business Insider JP mirror, secondary): ``run_speed_frac`` is set so that FTX pays
      out about $4B before it freezes.
    - BlockFi paused withdrawals on 11 Nov; it had a $400M facility from FTX US and
      exposure to FTX (ForkLog, https://forklog.com/en/news/blockfi-halts-withdrawals-amid-ftx-crisis).
      Genesis had ~$175M locked on FTX (securities.io,
      https://www.securities.io/ftx-collapse-blockfi-halts-platform-activity-ftx-files-for-bankruptcy-and-sam-bankman-fried-resigns/)
      and $2.8B of active loans, and paused on 16 Nov (CNN via gqak,
      https://www.gqak.com/articles/crypto-bank-genesis-halts-withdrawals-citing-fallout-from-ftx-failure/).
      Gemini Earn, Genesis's lender, froze >$1B of 232,000 users (CoinDesk,
      https://www.coindesk.com/business/2023/11/29/digital-asset-platform-coinchange-raises-10m-to-scale-api-yield-service/).
    - DeFi: Aave liquidated only ~$28.6M, with no large insolvency (facts, c.11).

    Stylised: dollar sizes are the reported ones, but balance sheets are reduced to the
    edges above. BlockFi's exposure to FTX is a $400M deposit (the size of its FTX US
    facility; the facility itself, a loan the other way, is left out); Genesis's capital
    is thin (2% of its deposits) and Gemini Earn is a pass-through lender with no capital
    of its own. BlockFi, Genesis and Gemini freeze as soon as a borrower's default leaves
    them insolvent (``CustodialParams.freeze_when_insolvent``; a default reaches its
    lenders' books the step after it), so the chain advances one link per half hour
    rather than over the eight days it took. Alameda's other $8.8B of assets are one
    token (ALT, standing for SOL, SRM and the rest) at a flat price, held with its FTT as
    collateral at OTC-Lenders, a lending book with Alameda as its only borrower (the
    desks that lent to it against its tokens). The DeFi venue (DeFiLend) lends against ETH,
    which falls ``shock_frac`` over the three days; FTX supplies 1% of its deposits there.

    Parameters
    ----------
    n_traders : int
        Number of trader accounts (1 to 50,000,000); balances scale with it so that the
        market's size in dollars is the same at any ``n_traders``.
    steps : int
        Half-hour steps (144: the 72 hours of the run).
    rehypothecation_frac : float
        Share of FTX's customer deposits lent to Alameda, 0 <= x <= 0.85 (the named cause:
        0 keeps them liquid, and FTX pays the run).
    ftt_dump_usd : float
        FTT sold by Binance into the FTT/USDC pool over 12 hours, 0 <= x <= 5e9 (0: no dump).
    solvency_proofs : bool
        Whether FTX publishes proofs of reserves (its depositors then also see its shortfall).
    shock_frac : float
        ETH's fall over the three days, 0 <= x < 1.
    run_speed_frac : float
        Share of a running depositor's balance withdrawn per step at full stress, 0 < x <= 1.

    Examples
    --------
    >>> sc = ftx_collapse(n_traders=200)
    >>> [c.name for c in sc.custodial], [f.name for f in sc.firms]
    (['FTX', 'BlockFi', 'Genesis', 'Gemini'], ['Alameda'])
    >>> ftx_collapse(rehypothecation_frac=0.95)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    contagion.errors.ParameterError: parameter 'rehypothecation_frac' = 0.95 ... 0 <= x <= 0.85
    """
    check_int("n_traders", n_traders, low=1, high=50_000_000)
    check_int("steps", steps, low=1, high=1_000_000)
    check_real("rehypothecation_frac", rehypothecation_frac, low=0, high=1.0 - FTX_OTHER_FRAC)
    check_real("ftt_dump_usd", ftt_dump_usd, low=0, high=5e9)
    check_real("shock_frac", shock_frac, low=0, high=1, high_open=True)
    check_real("run_speed_frac", run_speed_frac, low=0, high=1, low_open=True)
    check_bool("solvency_proofs", solvency_proofs)
    wealth_scale = 1000 / n_traders
    lent_usd = rehypothecation_frac * FTX_DEPOSITS_USD
    credit = [
        CreditLinkParams(lender="BlockFi", borrower="FTX", amount_usd=BLOCKFI_AT_FTX_USD),
        CreditLinkParams(lender="Genesis", borrower="FTX", amount_usd=GENESIS_AT_FTX_USD),
        CreditLinkParams(lender="Gemini", borrower="Genesis", amount_usd=0.9 * GEMINI_EARN_USD),
    ]
    if lent_usd > 0:
        credit.insert(0, CreditLinkParams(lender="FTX", borrower="Alameda", amount_usd=lent_usd))
    dump = ((PoolManipulationParams(pool="FTT/USDC", start_step=4, duration_steps=DUMP_STEPS,
                                    notional_usd_per_step=ftt_dump_usd / DUMP_STEPS,
                                    direction="dump", actor="Binance"),)
            if ftt_dump_usd > 0 else ())
    ftx_token_usd = 3e8
    return Scenario(
        name="ftx",
        description="FTX lends customer deposits to Alameda; an FTT dump sets off a run; "
                    "FTX's default spreads to BlockFi, Genesis and Gemini Earn.",
        market=MarketParams(steps=steps, step_minutes=30.0),
        assets=(
            AssetParams(name="USDC", kind="stable", initial_price_usd=1.0),
            AssetParams(name="ETH", kind="volatile", initial_price_usd=ETH_USD,
                        external_depth_usd=5e9),
            AssetParams(name="FTT", kind="venue_token", initial_price_usd=FTT_USD, issuer="FTX",
                        external_depth_usd=2e9, crash_on_issuer_default_frac=0.9),
            AssetParams(name="ALT", kind="volatile", initial_price_usd=10.0,
                        external_depth_usd=5e9),
        ),
        paths=(
            PricePathParams(asset="ETH", kind="crash", shock_frac=shock_frac, shock_start_step=8,
                            shock_duration_steps=96, vol_per_step=0.002),
            PricePathParams(asset="FTT", kind="flat", vol_per_step=0.0),
            PricePathParams(asset="ALT", kind="flat", vol_per_step=0.0),
        ),
        pools=(
            PoolParams(name="ETH/USDC", base="ETH", reserve_base=400_000,
                       arb_capacity_usd_per_step=5e7),
            PoolParams(name="FTT/USDC", base="FTT", reserve_base=3e6,
                       arb_capacity_usd_per_step=3e7),
            PoolParams(name="ALT/USDC", base="ALT", reserve_base=5e6,
                       arb_capacity_usd_per_step=2e7),
        ),
        manipulations=dump,
        oracles=(
            OracleParams(name="ETH-feed", asset="ETH", source="external", heartbeat_steps=2,
                         deviation_threshold_frac=0.005),
            OracleParams(name="FTT-feed", asset="FTT", source="external", heartbeat_steps=1,
                         deviation_threshold_frac=0.0),
            OracleParams(name="ALT-feed", asset="ALT", source="external", heartbeat_steps=2,
                         deviation_threshold_frac=0.005),
        ),
        lending=(
            LendingParams(
                name="DeFiLend", insurance_fund="DeFiLend-Safety",
                collateral=(CollateralParams(asset="ETH", oracle="ETH-feed", ltv=0.8,
                                             liquidation_threshold=0.825,
                                             liquidation_bonus=0.05, pool="ETH/USDC"),),
                reserve_usd=2e7, retail_supply_usd=3e9, share_of_traders=0.4,
                mean_health_factor=1.8),
            LendingParams(
                name="OTC-Lenders",
                collateral=(
                    CollateralParams(asset="FTT", oracle="FTT-feed", ltv=0.4,
                                     liquidation_threshold=0.5, liquidation_bonus=0.1,
                                     pool="FTT/USDC"),
                    CollateralParams(asset="ALT", oracle="ALT-feed", ltv=0.5,
                                     liquidation_threshold=0.6, liquidation_bonus=0.1,
                                     pool="ALT/USDC"),
                ),
                reserve_usd=5e7, retail_supply_usd=4e9, share_of_traders=0.0,
                mean_health_factor=2.0),
        ),
        custodial=(
            CustodialParams(
                name="FTX", token="FTT", deposits_usd=FTX_DEPOSITS_USD,
                liquid_reserve_frac=1.0 - rehypothecation_frac - FTX_OTHER_FRAC,
                supply_to="DeFiLend", supply_to_lending_frac=0.01,
                token_holdings_usd=ftx_token_usd, equity_buffer_frac=0.02,
                run_speed_frac=run_speed_frac, run_stress_threshold=0.0,
                solvency_proofs=solvency_proofs, settlement_delay_steps=24,
                share_of_traders=0.6),
            CustodialParams(
                name="BlockFi", deposits_usd=2e9, liquid_reserve_frac=0.2,
                supply_to_lending_frac=0.0, token_holdings_usd=0.0, equity_buffer_frac=0.05,
                solvency_proofs=False, freeze_when_insolvent=True, share_of_traders=0.2),
            CustodialParams(
                name="Genesis", deposits_usd=GENESIS_LOANS_USD - 0.9 * GEMINI_EARN_USD,
                liquid_reserve_frac=0.1, supply_to_lending_frac=0.0, token_holdings_usd=0.0,
                equity_buffer_frac=0.02, solvency_proofs=False, freeze_when_insolvent=True,
                share_of_traders=0.1),
            CustodialParams(
                name="Gemini", deposits_usd=GEMINI_EARN_USD, liquid_reserve_frac=0.05,
                supply_to_lending_frac=0.0, token_holdings_usd=0.0, equity_buffer_frac=0.0,
                solvency_proofs=False, freeze_when_insolvent=True, share_of_traders=0.25),
        ),
        firms=(
            FirmParams(name="Alameda", lending="OTC-Lenders",
                       collateral_usd=(("FTT", ALAMEDA_FTT_USD),
                                       ("ALT", ALAMEDA_ASSETS_USD - ALAMEDA_FTT_USD
                                        - ALAMEDA_CASH_USD)),
                       health_factor=2.5, cash_usd=ALAMEDA_CASH_USD),
        ),
        credit_links=tuple(credit),
        funds=(InsuranceFundParams(name="DeFiLend-Safety", balance_usd=5e7),),
        liquidators=(LiquidatorParams(name="Liquidators", capital_usd=5e7,
                                      max_liquidations_per_step=200, gas_cost_usd=20.0),),
        traders=TraderParams(n_traders=n_traders, mean_wealth_usd=4e6 * wealth_scale,
                             cross_margin=False, agent_limit=5000),
    )
