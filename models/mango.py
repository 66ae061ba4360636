"""11 October 2022: the Mango Markets oracle manipulation.

Five-minute steps. An attacker opens a large MNGO-PERP long at Mango with $5M of
collateral, then buys MNGO in the thin spot pool that Mango's oracle reads. The mark rises
many-fold; Mango counts the long's unrealised profit as collateral, so the attacker
borrows and withdraws everything the venue holds. When the pump stops, arbitrage pulls the
pool (and the oracle) back, the attacker's account is deeply negative, the insurance fund
is wiped and the rest of the loss falls on Mango's depositors.
"""

from __future__ import annotations

from contagion.params import (
    AssetParams,
    ExploitParams,
    InsuranceFundParams,
    LiquidatorParams,
    MarketParams,
    OracleParams,
    PerpParams,
    PoolManipulationParams,
    PoolParams,
    PricePathParams,
    TraderParams,
)
from contagion.scenario import Scenario
from contagion.validation import check_bool, check_choice, check_int, check_real

__all__ = ["mango_markets"]

MNGO_USD = 0.038  # the price of the attackers' 483M MNGO-PERP trade (Solidus Labs)
ATTACK_UNITS = 483e6  # MNGO-PERP bought by the attacker's account
ATTACK_COLLATERAL_USD = 5e6  # USDC funding each of the two attacker wallets
# stylised: with the traders' ~$10M of margin, about what was borrowed out ($116M). Fitted
# (experiments/validation/calibration/mango.json: 9.54e7, the attacker's withdrawals' median
# over seeds 1-3 inside the $104.4-127.6M band; 1.1e8 left it at $129.9M).
LENDER_DEPOSITS_USD = 9.5e7
PUMP_START_STEP = 4
PUMP_STEPS = 8  # ~40 minutes of spot buying
POOL_QUOTE_USD = 6.5e5  # the thin MNGO spot book the oracle reads (stylised)
ARB_USD_PER_STEP = 2e5  # arbitrage capacity into that book per step (stylised)


def mango_markets(
    *,
    n_traders: int = 1000,
    steps: int = 72,
    pump_usd: float = 4e6,
    upnl_collateral: bool = True,
    oracle_source: str = "pool_spot",
    insurance_fund_scale: float = 1.0,
) -> Scenario:
    """Build the Mango Markets exploit of 11 October 2022.

    Calibration (``../shared/research/scenario-facts.md``, section 5):

    - Wallets A and B were funded with $5M USDC each; A offered and B bought 483M
      MNGO-PERP at $0.038 (Solidus Labs, https://www.soliduslabs.com/post/mango-hack): the
      attacker's account here is B's long (``ExploitParams``: $18.4M notional on $5M).
    - About $4M of spot buys on thin venues (``pump_usd``) took MNGO up 2,300% in ~40 min
      (eight five-minute steps), to a peak of $0.91 and a paper PnL of ~$423M (sigvex,
      https://next.sigvex.io/blog/mango-markets-exploit-2022); the pool the oracle reads
      is sized so that the buys, net of arbitrage, multiply its price about 24 times.
    - $116M was borrowed against the unrealised PnL, draining the venue (Solidus Labs):
      Mango's lenders hold $95M (fitted to that figure:
      ``experiments/validation/calibration/mango.json``) and its traders about $10M of
      margin, all of it free cash the attacker can take.

    Stylised: Mango v3's lending side (USDC, SOL, BTC... deposits) is one account of
    lenders' USDC (``PerpParams.lender_deposits_usd``) and its many markets one MNGO
    perpetual; the attacker's short wallet (A) is left out, its long trades against the
    outside market makers. The spot buys are one pool (``PoolManipulationParams``); when
    they stop, arbitrage restores the pool within a few steps. Losses beyond the insurance
    fund are socialised to every account in profit, the lenders included. The DAO vote
    that let the attacker keep $47M (smartcontractaudit.com,
    https://smartcontractaudit.com/guides/mango-markets-2022-oracle-governance-exploit)
    is not modelled.

    Parameters
    ----------
    n_traders : int
        Number of trader accounts (1 to 50,000,000); balances scale with it so that the
        market's size in dollars is the same at any ``n_traders``.
    steps : int
        Five-minute steps (72: six hours).
    pump_usd : float
        The attacker's spot buys in the oracle's pool over 40 minutes, 0 <= x <= 1e8
        (0: no pump).
    upnl_collateral : bool
        Whether Mango counts unrealised profit as collateral one can borrow against (the
        named cause: off, the attacker can withdraw nothing beyond its margin).
    oracle_source : {"pool_spot", "external"}
        What Mango's MNGO oracle reads: the thin pool's spot price, or the external market
        (a robust feed the pump does not move).
    insurance_fund_scale : float
        Multiplier of Mango's $5M insurance fund (stylised size), 0 <= x <= 1e6.

    Examples
    --------
    >>> sc = mango_markets(n_traders=200)
    >>> sc.perps[0].upnl_collateral, sc.oracles[0].source, sc.exploits[0].venue
    (True, 'pool_spot', 'Mango')
    >>> mango_markets(oracle_source="twap")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    contagion.errors.ParameterError: parameter 'oracle_source' = 'twap' is invalid: ...
    """
    check_int("n_traders", n_traders, low=1, high=50_000_000)
    check_int("steps", steps, low=1, high=1_000_000)
    check_real("pump_usd", pump_usd, low=0, high=1e8)
    check_choice("oracle_source", oracle_source, ("pool_spot", "external"))
    check_real("insurance_fund_scale", insurance_fund_scale, low=0, high=1e6)
    check_bool("upnl_collateral", upnl_collateral)
    wealth_scale = 1000 / n_traders
    pump = ((PoolManipulationParams(pool="MNGO/USDC", start_step=PUMP_START_STEP,
                                    duration_steps=PUMP_STEPS,
                                    notional_usd_per_step=pump_usd / PUMP_STEPS,
                                    direction="pump", actor="the attacker"),)
            if pump_usd > 0 else ())
    return Scenario(
        name="mango",
        description="An attacker pumps the thin pool Mango's oracle reads and borrows the "
                    "venue's cash against the unrealised profit of a large MNGO long.",
        market=MarketParams(steps=steps, step_minutes=5.0),
        assets=(
            AssetParams(name="USDC", kind="stable", initial_price_usd=1.0),
            AssetParams(name="MNGO", kind="volatile", initial_price_usd=MNGO_USD,
                        external_depth_usd=3e7),
        ),
        paths=(PricePathParams(asset="MNGO", kind="flat", vol_per_step=0.0),),
        pools=(PoolParams(name="MNGO/USDC", base="MNGO", reserve_base=POOL_QUOTE_USD / MNGO_USD,
                          arb_capacity_usd_per_step=ARB_USD_PER_STEP),),
        manipulations=pump,
        oracles=(OracleParams(name="MNGO-oracle", asset="MNGO", source=oracle_source,
                              pool="MNGO/USDC", heartbeat_steps=1,
                              deviation_threshold_frac=0.0),),
        perps=(
            PerpParams(name="Mango", asset="MNGO", oracle="MNGO-oracle",
                       insurance_fund="Mango-Insurance", initial_margin_frac=0.2,
                       maintenance_margin_frac=0.1, liquidation_fee_frac=0.01,
                       shortfall_policy="socialise", share_of_traders=0.5, mean_leverage=1.2,
                       long_share=0.8, max_liquidation_slippage_frac=0.5,
                       upnl_collateral=upnl_collateral,
                       lender_deposits_usd=LENDER_DEPOSITS_USD),
        ),
        exploits=(ExploitParams(venue="Mango", notional_usd=ATTACK_UNITS * MNGO_USD,
                                collateral_usd=ATTACK_COLLATERAL_USD,
                                start_step=PUMP_START_STEP),),
        funds=(InsuranceFundParams(name="Mango-Insurance",
                                   balance_usd=5e6 * insurance_fund_scale),),
        liquidators=(LiquidatorParams(name="Liquidators"),),
        traders=TraderParams(n_traders=n_traders, mean_wealth_usd=6.7e4 * wealth_scale,
                             cross_margin=False, topup_share=0.0, agent_limit=5000),
    )
