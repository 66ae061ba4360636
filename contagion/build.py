"""Draw a scenario's initial books: who holds what, where, with what leverage.

Everything random comes from the model's generator, so the same seed draws the same
market. Balances are set so that every venue's balance sheet balances at the start.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from contagion.book import DepositBook, LendingBook, PerpBook
from contagion.errors import ParameterError

if TYPE_CHECKING:
    from contagion.params import PerpParams
    from contagion.scenario import Scenario

__all__ = ["draw_deposit_book", "draw_lending_book", "draw_perp_book", "draw_wealth",
           "option_series"]


def draw_wealth(scenario: Scenario, rng: np.random.Generator) -> NDArray[np.float64]:
    """Log-normal trader wealth with the scenario's mean."""
    t = scenario.traders
    w = rng.lognormal(0.0, t.wealth_sigma, size=t.n_traders)
    return w * (t.mean_wealth_usd / w.mean())


def _counted(usd: NDArray[np.float64], isolated: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Which of one account's holdings (USD per collateral) count as collateral under Aave
    v3's isolation mode, as the venue counts them (``CollateralRules._init_isolation``): all
    when it holds no isolated asset; an isolated asset held beside other collateral does not
    count; of two or more isolated assets held alone, the one worth most does."""
    held = usd > 0
    out = held.copy()
    if not (held & isolated).any():
        return out
    if (held & ~isolated).any():
        return held & ~isolated
    out[:] = False
    out[int(np.argmax(np.where(held & isolated, usd, -1.0)))] = True
    return out


def draw_lending_book(scenario: Scenario, v_index: int, wealth: NDArray[np.float64],
                      prices: dict[str, float], firm_rows: list[tuple[int, dict[str, float], float]],
                      rng: np.random.Generator, *,
                      risk_parameters: Callable[[NDArray[np.float64]],
                                                tuple[NDArray[np.float64], NDArray[np.float64]]]
                      | None = None) -> LendingBook:
    """Borrowers at one lending protocol, then the firms' rows.

    Each member posts a share of their wealth as one main collateral asset (the first
    listed asset with probability 0.7) and borrows to a health factor drawn from
    ``1 + Exponential(mean_health_factor - 1)``, never above the asset's LTV.
    ``firm_rows``: (holder id, collateral USD by asset, health factor) for each firm.
    A member's debt is split across the venue's borrowed assets by their ``debt_share``
    (valued at the initial prices), the rest in the numeraire.

    ``risk_parameters``: maps the venue's collateral units per asset to the (LT, LTV) in
    force (thresholds derived from liquidity, :func:`contagion.agents.collateral_quality.
    setup_deriver`); default the hand-set values. An isolated collateral's members owe
    the numeraire only, scaled down together (with the firms holding it) to its debt
    ceiling.
    """
    v = scenario.lending[v_index]
    n = scenario.traders.n_traders
    k = len(v.collateral)
    members = np.flatnonzero(rng.random(n) < v.share_of_traders)
    m = members.size
    if k == 1:
        main = np.zeros(m, dtype=np.int64)
    else:
        probs = np.full(k, 0.3 / (k - 1))
        probs[0] = 0.7
        main = rng.choice(k, size=m, p=probs)
    price = np.array([prices[c.asset] for c in v.collateral])
    lt = np.array([c.liquidation_threshold for c in v.collateral])
    ltv = np.array([c.ltv for c in v.collateral])
    value_usd = wealth[members] * 0.5
    collateral = np.zeros((m + len(firm_rows), k))
    collateral[np.arange(m), main] = value_usd / price[main]
    for r, (_, coll_usd, _) in enumerate(firm_rows, start=m):
        for j, c in enumerate(v.collateral):
            collateral[r, j] = coll_usd.get(c.asset, 0.0) / price[j]
    if risk_parameters is not None:
        lt, ltv = risk_parameters(collateral.sum(axis=0))
    hf = 1.0 + rng.exponential(v.mean_health_factor - 1.0, size=m)
    if np.all(ltv > 0):  # a tiny ltv floors HF at +inf (overflow): such a member owes 0
        with np.errstate(over="ignore"):
            hf = np.maximum(hf, lt[main] / ltv[main])
    debt = np.zeros(m + len(firm_rows))
    debt[:m] = value_usd * lt[main] / hf
    iso_flags = np.array([c.isolated for c in v.collateral], dtype=bool)
    owner = np.concatenate([members, np.array([h for h, _, _ in firm_rows], dtype=np.int64)])
    for r, (_, coll_usd, firm_hf) in enumerate(firm_rows, start=m):
        usd = np.array([coll_usd.get(c.asset, 0.0) for c in v.collateral])
        debt[r] = float((usd * lt)[_counted(usd, iso_flags)].sum()) / firm_hf
    isolated = np.zeros(m, dtype=bool)
    for j, c in enumerate(v.collateral):
        if not c.isolated:
            continue
        mine = main == j
        isolated |= mine
        # firms in isolation mode with it: it counts for them (_counted)
        alone = np.array([bool(collateral[r, j] > 0 and _counted(collateral[r] * price,
                                                                 iso_flags)[j])
                          for r in range(m, m + len(firm_rows))], dtype=bool)
        room = max(c.debt_ceiling_usd - float(debt[m:][alone].sum()), 0.0)
        owed = float(debt[:m][mine].sum())
        if owed > room:
            debt[:m][mine] *= room / owed
    # members owe each borrowed asset's debt_share of their debt in its units; the firms
    # borrow the numeraire only (their scenario sets a health factor, not a currency mix),
    # and so do members in isolation mode
    debt_units = np.zeros((m + len(firm_rows), len(v.borrow)))
    for d, b in enumerate(v.borrow):
        if b.debt_share > 0:
            debt_units[:m, d] = np.where(isolated, 0.0,
                                         debt[:m] * b.debt_share / prices[b.asset])
    shares = sum(b.debt_share for b in v.borrow)
    if shares > 0:
        debt[:m] *= np.where(isolated, 1.0, 1.0 - shares)
    return LendingBook(collateral=collateral, debt=debt, owner=owner.astype(np.int64),
                       debt_units=debt_units)


def draw_perp_book(scenario: Scenario, p_index: int, wealth: NDArray[np.float64],
                   price: float | Sequence[float] | NDArray[np.float64],
                   cross_ok: NDArray[np.bool_], rng: np.random.Generator) -> PerpBook:
    """Perp accounts; row 0 is the outside market makers holding the net opposite position
    in each market.

    ``price``: each market's price (the venue's ``market_assets`` order; a number for a
    one-market venue). Each member trades one market: at a venue with several, drawn
    uniformly (at a one-market venue nothing is drawn for it, so its book is what it always
    was). Leverage is ``1 + Exponential(mean_leverage - 1)`` capped at 95% of that market's
    maximum; entries scatter 2% around its current price. ``cross_ok`` marks traders whose
    account is cross-margined with their custodial deposit.
    """
    v = scenario.perps[p_index]
    prices = np.atleast_1d(np.asarray(price, dtype=np.float64))
    k = len(v.market_assets)
    if prices.shape != (k,):
        raise ValueError(f"perps[{v.name}]: {k} market price(s) needed, got {prices.shape}")
    n = scenario.traders.n_traders
    members = np.flatnonzero(rng.random(n) < v.share_of_traders)
    m = members.size
    margin = wealth[members] * 0.3
    if k == 1:
        market = np.zeros(m, dtype=np.int64)
        cap: float | NDArray[np.float64] = 0.95 / v.initial_margin_frac
        at: float | NDArray[np.float64] = float(prices[0])
    else:
        market = rng.integers(0, k, size=m)
        cap = 0.95 / np.asarray(v.market_initial_margin_fracs)[market]
        at = prices[market]
    lev = np.minimum(1.0 + rng.exponential(v.mean_leverage - 1.0, size=m), cap)
    side = np.where(rng.random(m) < v.long_share, 1.0, -1.0)
    entry = at * (1.0 + rng.normal(0.0, 0.02, size=m))
    units = side * margin * lev / entry
    size = np.zeros((m + 1, k))
    entries = np.tile(prices, (m + 1, 1))
    size[np.arange(1, m + 1), market] = units
    entries[np.arange(1, m + 1), market] = entry
    opt: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None
    if v.options:  # draws only at a venue listing options: other books draw as they did
        opt = _draw_options(scenario, v, prices, margin, lev, size, entries, rng)
    if v.margin_model == "portfolio":
        _fit_initial_margin(scenario, v, prices, margin, size, opt)
    oi = 0.0
    for j in range(k):
        net = float(size[1:, j].sum())
        size[0, j] = -net
        entries[0, j] = float((size[1:, j] * entries[1:, j]).sum() / net) if net != 0 \
            else float(prices[j])
        oi += float(np.abs(size[1:, j]).sum() * prices[j])
    extra: dict[str, NDArray[np.float64]] = {}
    if opt is not None:
        opt_size, opt_entry = opt
        cols = np.array([v.market_assets.index(o.asset) for o in v.options], dtype=np.int64)
        oi += float((np.abs(opt_size[1:]) * prices[cols]).sum())
        extra = {"opt_size": opt_size, "opt_entry": opt_entry}
    return PerpBook(
        collateral=np.concatenate([[10.0 * oi + 1.0], margin]),
        size=size,
        entry=entries,
        owner=np.concatenate([[-1], members]).astype(np.int64),
        cross=np.concatenate([[False], cross_ok[members]]),
        **extra,
    )


def option_series(scenario: Scenario, v: PerpParams, prices: NDArray[np.float64]
                  ) -> tuple[NDArray[np.int64], NDArray[np.bool_], NDArray[np.float64],
                             NDArray[np.float64], NDArray[np.float64]]:
    """The venue's option series at the start: each one's market column, whether it is a
    call, its strike (``strike_frac`` x the start price), years to expiry and implied vol
    (its asset's surface at that strike and expiry)."""
    surfaces = {vs.asset: vs.surface() for vs in scenario.vol_surfaces}
    cols = np.array([v.market_assets.index(o.asset) for o in v.options], dtype=np.int64)
    is_call = np.array([o.kind == "call" for o in v.options], dtype=bool)
    spot = np.asarray(prices, dtype=np.float64)[cols]
    strike = np.array([o.strike_frac for o in v.options], dtype=np.float64) * spot
    expiry = np.array([o.expiry_days / 365.0 for o in v.options], dtype=np.float64)
    vol = np.array([float(surfaces[o.asset].vol(strike[j], expiry[j], forward=spot[j]))
                    for j, o in enumerate(v.options)], dtype=np.float64)
    return cols, is_call, strike, expiry, vol


def _fit_initial_margin(scenario: Scenario, v: PerpParams, prices: NDArray[np.float64],
                        margin: NDArray[np.float64], size: NDArray[np.float64],
                        opt: tuple[NDArray[np.float64], NDArray[np.float64]] | None) -> None:
    """At a portfolio-margin venue, scale down each member's positions (perps and options
    alike, in place) so that its initial portfolio margin is at most 95% of its margin,
    as the leverage cap does at a standard venue. Portfolio margin is positively
    homogeneous in the sizes, so the scale is ``min(1, 0.95 margin / IM)`` exactly."""
    from contagion.mechanics.portfolio_margin import InstrumentTable, portfolio_margin

    n_markets = prices.size
    if opt is not None:
        cols, is_call, strike, expiry, vol = option_series(scenario, v, prices)
        opt_size = opt[0]
    else:
        cols, is_call = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
        strike = expiry = vol = np.zeros(0)
        opt_size = np.zeros((size.shape[0], 0))
    inst = InstrumentTable(
        kind=tuple(["perp"] * n_markets + ["call" if c else "put" for c in is_call]),
        asset=np.concatenate([np.arange(n_markets), cols]).astype(np.intp),
        strike=np.concatenate([np.zeros(n_markets), strike]),
        expiry_yrs=np.concatenate([np.zeros(n_markets), expiry]))
    q = np.hstack([size[1:], opt_size[1:]])
    im = portfolio_margin(q, inst, prices, np.concatenate([np.zeros(n_markets), vol]),
                          v.pm_params()).initial_usd
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(im > 0.95 * margin, 0.95 * margin / im, 1.0)
    size[1:] *= scale[:, None]
    opt_size[1:] *= scale[:, None]
    if opt is not None:
        opt_size[0] = -opt_size[1:].sum(axis=0)


def _draw_options(scenario: Scenario, v: PerpParams, prices: NDArray[np.float64],
                  margin: NDArray[np.float64], lev: NDArray[np.float64],
                  size: NDArray[np.float64], entries: NDArray[np.float64],
                  rng: np.random.Generator) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Option positions: ``option_share_of_traders`` of the members hold one series each
    (uniform), long with probability ``option_long_share``, of the notional their perp
    position had (``margin x leverage`` at the start price); their perp position becomes
    the delta hedge (``option_hedge_frac`` of them: ``-delta x units`` in the series'
    market at the start price) or nothing. Every series opens at its Black-76 value; row 0
    holds the other side. ``size``/``entries`` (perps) are changed in place."""
    from contagion.mechanics.options import bsm_greeks, bsm_price

    m, k = margin.size, len(v.options)
    holders = np.flatnonzero(rng.random(m) < v.option_share_of_traders)
    series = rng.integers(0, k, size=holders.size)
    side = np.where(rng.random(holders.size) < v.option_long_share, 1.0, -1.0)
    hedged = rng.random(holders.size) < v.option_hedge_frac
    cols, is_call, strike, expiry, vol = option_series(scenario, v, prices)
    spot = prices[cols]
    value = bsm_price(is_call, spot, strike, expiry, vol)
    delta = bsm_greeks(is_call, spot, strike, expiry, vol).delta
    units = side * margin[holders] * lev[holders] / spot[series]
    rows = holders + 1
    opt_size = np.zeros((m + 1, k))
    opt_size[rows, series] = units
    opt_size[0] = -opt_size[1:].sum(axis=0)
    opt_entry = np.tile(value, (m + 1, 1))
    size[rows, :] = 0.0  # option holders trade options (and their hedge) only
    entries[rows, :] = prices
    h = rows[hedged]
    size[h, cols[series[hedged]]] = -delta[series[hedged]] * units[hedged]
    return opt_size, opt_entry


def draw_deposit_book(scenario: Scenario, c_index: int, wealth: NDArray[np.float64],
                      rng: np.random.Generator) -> DepositBook:
    """Deposits at a custodial exchange, one row per depositor.

    Members' balances are proportional to their wealth and sum to ``deposits_usd``; each
    depositor's run threshold is drawn uniformly above ``run_stress_threshold``, larger
    depositors nearer to it (they leave first).
    """
    c = scenario.custodial[c_index]
    n = scenario.traders.n_traders
    member = rng.random(n) < c.share_of_traders
    if not member.any():
        raise ParameterError(f"custodial[{c.name}].share_of_traders", c.share_of_traders,
                             "a share that gives the exchange at least one depositor")
    members = np.flatnonzero(member)
    m = members.size
    balance = wealth[members] * (c.deposits_usd / wealth[members].sum())
    rank = np.argsort(np.argsort(-balance)) / max(m - 1, 1)
    spread = (1.0 - c.run_stress_threshold) * 0.8
    threshold = c.run_stress_threshold + spread * (0.5 * rank + 0.5 * rng.random(m))
    row_of = np.full(n, -1, dtype=np.int32)
    row_of[members] = np.arange(m, dtype=np.int32)
    return DepositBook(balance=balance, owner=members.astype(np.int64), run_threshold=threshold,
                       row_of=row_of)
