"""Caccioli et al. (2014) fire sales as an engine preset: overlapping portfolios on the engine.

The pure Monte Carlo of :mod:`models.classic.fire_sales` on the engine's custodial
institutions: ``n_banks`` banks hold ``diversification`` of ``n_assets`` assets each, in
equal dollar amounts (:class:`~contagion.params.CustodialParams` ``asset_holdings_usd``,
marked to market), funded by deposits at leverage ``lambda``. One bank fails at step 2; a
bank that defaults sells all its holdings into the external market
(``liquidate_on_default``), whose impact ``exp(-q p / depth)`` with
``depth = Q p0 / alpha`` is the paper's ``p = exp(-alpha x)`` for the first sale of an
asset (later sales of the same asset move it a little less: see :func:`fire_sales_demo`);
the other holders mark the lower prices on their books the next step and default when
their assets fall below their deposits (``freeze_when_insolvent``), so the dashboard plays
the cascade round by round.

* :func:`fire_sales_demo`: the preset ``classic_fire_sales``.
* :func:`fire_sale_portfolios`: its holdings, the same draw as
  :func:`~models.classic.fire_sales.draw_portfolios` from ``seed_graph``, so the engine can
  be compared bank by bank with :func:`~models.classic.fire_sales.fire_sale_cascade`.
* :func:`no_spread_leverage`: below this leverage one failure topples nobody.

A textbook model, not a history: no figure in it comes from ``scenario-facts.md``; the
numbers are the paper's (``alpha = 1.0536``: selling 10% of an asset's shares lowers its
price by 10%) or chosen for a 20-bank classroom network.

References
----------
Caccioli, F., Shrestha, M., Moore, C. and Farmer, J. D. (2014). Stability analysis of
financial contagion due to overlapping portfolios. Journal of Banking & Finance 46, 233-245.
https://arxiv.org/abs/1210.5987
"""

from __future__ import annotations

import math

import numpy as np
from scipy import sparse

from contagion.params import AssetParams, CustodialParams, MarketParams, TraderParams
from contagion.scenario import Scenario
from contagion.validation import check_int, check_real
from models.classic.fire_sales import ALPHA_10PCT, draw_portfolios

__all__ = [
    "BANK_SIZE_USD",
    "SHOCK_STEP",
    "bank_names",
    "fire_sale_portfolios",
    "fire_sales_demo",
    "no_spread_leverage",
]

BANK_SIZE_USD = 1e9  # every bank's portfolio at the start
SHOCK_STEP = 2  # the step at which the shocked bank fails
EXTERNAL_PER_PORTFOLIO = 2.0  # the shocked bank's written-off external assets / its portfolio
DEPOSITORS_PER_BANK = 20  # expected depositors per bank (each bank needs at least one)


def fire_sale_portfolios(n_banks: int, n_assets: int, diversification: int,
                         seed_graph: int) -> sparse.csr_matrix:
    """The preset's holdings ``Q[i, j]`` (a share of bank ``i``'s portfolio in asset ``j``):
    :func:`~models.classic.fire_sales.draw_portfolios` with ``default_rng(seed_graph)``.

    Examples
    --------
    >>> fire_sale_portfolios(3, 5, 2, 0).getnnz(axis=1).tolist()
    [2, 2, 2]
    """
    return draw_portfolios(n_banks, n_assets, diversification, np.random.default_rng(seed_graph))


def bank_names(n_banks: int) -> list[str]:
    """``B00``, ``B01``, ... (the preset's bank ``i`` is ``bank_names(n)[i]``)."""
    return [f"B{i:02d}" for i in range(n_banks)]


def no_spread_leverage(alpha: float = ALPHA_10PCT) -> float:
    """The leverage below which one failed bank topples nobody: ``1 / (1 - exp(-alpha/2))``.

    Every bank's portfolio is the same size and split equally, so the failed bank holds at
    most half of the shares of an asset that another bank also holds (``x <= 1/2``); the
    other bank then loses at most ``1 - exp(-alpha / 2)`` of its portfolio, less than its
    equity share ``1 / lambda`` below this leverage. (The pure model's
    :func:`~models.classic.fire_sales.critical_leverage`, 1.54, is for several failures and
    lies below the preset's minimum leverage of 2.)

    Examples
    --------
    >>> round(no_spread_leverage(), 3)
    2.442
    """
    alpha = check_real("alpha", alpha, low=0.0, low_open=True)
    return 1.0 / -math.expm1(-alpha / 2.0)


def _equity_buffer(assets_usd: float, deposits_usd: float) -> float:
    """``assets / deposits - 1``, rounded up so the engine finds no negative external assets."""
    buffer = assets_usd / deposits_usd - 1.0
    while (1.0 + buffer) * deposits_usd < assets_usd:
        buffer = float(np.nextafter(buffer, np.inf))
    return buffer


def fire_sales_demo(*, n_traders: int = 200, steps: int = 20, n_banks: int = 20,
                    n_assets: int = 20, diversification: int = 2, leverage: float = 10.0,
                    alpha: float = ALPHA_10PCT, shocked_bank: int = 0,
                    seed_graph: int = 0) -> Scenario:
    """Caccioli, Shrestha, Moore & Farmer (2014): fire sales on overlapping portfolios.

    ``n_banks`` banks ("B00", "B01", ...) each hold $1B of ``diversification`` assets out of
    ``n_assets`` ("A00", "A01", ..., price $1, no exogenous path), drawn uniformly at
    random from ``seed_graph`` (:func:`fire_sale_portfolios`, the pure model's
    ``draw_portfolios``), an equal dollar amount of each; deposits are
    ``$1B * (1 - 1 / leverage)``. Selling an asset into the external market moves its price
    by ``exp(-q p / depth)``; its depth is ``Q p0 / alpha`` (``Q`` the shares all banks
    hold), so a first sale of a fraction ``x`` of the shares gives the paper's
    ``p = exp(-alpha x)``.

    At step 2 the shocked bank, which also holds $2B of external assets and the deposits to
    match, writes them off (``asset_writedown``), defaults and sells its whole portfolio
    (``CustodialParams.liquidate_on_default``: ``asset_sale`` events caused by its
    ``default``). Each bank's books mark its holdings at the step's opening prices: the
    next step the banks whose portfolios have lost more than their equity ``1 / lambda``
    freeze withdrawals, default and sell in turn (``freeze_when_insolvent``), one round a
    step: a bank's default step minus 2 is its round in the pure
    :func:`~models.classic.fire_sales.fire_sale_cascade` on the same holdings, and the
    defaulted set is its fixed point (``tests/classic/test_fire_sales_preset.py``; see the
    one exception below).

    On the defaults (20 banks, 20 assets, ``diversification`` 2, ``leverage`` 10,
    ``seed_graph`` 0) 17 of the 20 banks fail in four rounds; with ``alpha = 0`` (no price
    impact) or ``leverage`` below :func:`no_spread_leverage` (2.44) only the shocked bank
    does; at ``leverage`` 5 the cascade mostly stops at a few banks (the contagion window
    opens with leverage).

    Stylised: no cash, no runs, no interbank loans; the failed bank's depositors recover
    what its fire sale raises. The exception: the engine's impact is per dollar at the
    current price, the paper's per share, so when a second bank sells an asset that has
    already fallen to ``p`` its sale moves the log price ``p / p0`` times the paper's.
    Prices on the engine are therefore never below the paper's for the same failures: its
    defaulted set is always within the pure cascade's and no bank fails earlier. Over 720
    draws (20 banks and assets, ``diversification`` 2-5, ``leverage`` 5-30, ``seed_graph``
    0-29, bank 0 shocked) the sets are equal in 717 and the rounds too in 674; in 43 some
    banks fail a round or more later, in 3 the engine's cascade stops short.

    Parameters
    ----------
    n_traders : int
        Depositors drawn from this many traders (1 to 2,000; about 20 per bank); they only
        hold deposits.
    steps : int
        Length of the run (2 to 1,000): the shock is at step 2, one round a step after.
    n_banks : int
        Number of banks, 2 to 200.
    n_assets : int
        Number of assets, 1 to 200.
    diversification : int
        Assets per bank (``mu``), 1 to ``n_assets``.
    leverage : float
        Assets over equity of every bank (``lambda``), 2 to 1,000 (2: equity equals
        deposits, the most the engine's ``equity_buffer_frac`` allows).
    alpha : float
        Market impact, 0 to 10: selling a fraction ``x`` of an asset's shares at once lowers
        its price by ``exp(-alpha x)``; 0: no price impact, no fire-sale losses (the cause
        switched off). The default, ``10 ln(10/9) = 1.0536``, is the paper's.
    shocked_bank : int
        Index of the bank that fails at step 2 (0 to ``n_banks - 1``).
    seed_graph : int
        Seed of the portfolio draw (``>= 0``).
    """
    n_traders = check_int("n_traders", n_traders, low=1, high=2000)
    steps = check_int("steps", steps, low=SHOCK_STEP, high=1000)
    n = check_int("n_banks", n_banks, low=2, high=200)
    m = check_int("n_assets", n_assets, low=1, high=200)
    mu = check_int("diversification", diversification, low=1, high=m)
    lam = check_real("leverage", leverage, low=2.0, high=1000.0)
    alpha = check_real("alpha", alpha, low=0.0, high=10.0)
    shocked_bank = check_int("shocked_bank", shocked_bank, low=0, high=n - 1)
    seed = check_int("seed_graph", seed_graph, low=0, high=2**32 - 1)
    Q = fire_sale_portfolios(n, m, mu, seed)
    width = max(2, len(str(m - 1)))
    asset_names = [f"A{j:0{width}d}" for j in range(m)]
    shares_usd = np.asarray(Q.sum(axis=0)).ravel() * BANK_SIZE_USD
    assets = (AssetParams(name="USDC", kind="stable", initial_price_usd=1.0),
              *(AssetParams(name=name, kind="volatile", initial_price_usd=1.0,
                            external_depth_usd=_depth_usd(float(q), alpha))
                for name, q in zip(asset_names, shares_usd, strict=True)))
    share = min(1.0, DEPOSITORS_PER_BANK / n_traders)
    names = bank_names(n)
    custodial = []
    for i in range(n):
        row = Q.getrow(i)
        holdings = tuple((asset_names[j], float(v) * BANK_SIZE_USD)
                         for j, v in zip(row.indices, row.data, strict=True))
        held = sum(usd for _, usd in holdings)
        external = EXTERNAL_PER_PORTFOLIO * held if i == shocked_bank else 0.0
        deposits = (held + external) * (1.0 - 1.0 / lam)
        custodial.append(CustodialParams(
            name=names[i], token=None, deposits_usd=deposits, liquid_reserve_frac=0.0,
            supply_to=None, supply_to_lending_frac=0.0, token_holdings_usd=0.0,
            equity_buffer_frac=_equity_buffer(held + external, deposits), run_speed_frac=0.0,
            solvency_proofs=False, share_of_traders=share, asset_holdings_usd=holdings,
            sell_assets_in_run=False, freeze_when_insolvent=True, liquidate_on_default=True,
            writedown_frac=1.0 if i == shocked_bank else 0.0, writedown_step=SHOCK_STEP))
    return Scenario(
        name="classic_fire_sales",
        description=(f"Caccioli et al. fire sales: {n} banks hold {mu} of {m} assets each at "
                     f"leverage {lam:g}; {names[shocked_bank]} fails at step {SHOCK_STEP} and "
                     f"sells its portfolio (impact alpha = {alpha:.4g}); a round of failures "
                     "a step."),
        market=MarketParams(steps=steps, step_minutes=24 * 60.0),
        assets=assets,
        custodial=tuple(custodial),
        traders=TraderParams(n_traders=n_traders, mean_wealth_usd=1e5 * 1000 / n_traders,
                             cross_margin=False, cross_margin_share=0.0, topup_share=0.0),
    )


def _depth_usd(shares_usd: float, alpha: float) -> float:
    """``Q p0 / alpha``: selling a fraction ``x`` of the shares at once costs ``exp(-alpha x)``
    (an asset nobody holds gets one portfolio's worth; ``alpha = 0``: infinitely deep)."""
    if alpha == 0.0:
        return math.inf
    return (shares_usd if shares_usd > 0 else BANK_SIZE_USD) / alpha
