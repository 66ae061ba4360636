"""Draw a scenario's initial books: who holds what, where, with what leverage.

Everything random comes from the model's generator, so the same seed draws the same
market. Balances are set so that every venue's balance sheet balances at the start.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from contagion.book import DepositBook, LendingBook, PerpBook
from contagion.errors import ParameterError

if TYPE_CHECKING:
    from contagion.scenario import Scenario

__all__ = ["draw_deposit_book", "draw_lending_book", "draw_perp_book", "draw_wealth"]


def draw_wealth(scenario: Scenario, rng: np.random.Generator) -> NDArray[np.float64]:
    """Log-normal trader wealth with the scenario's mean."""
    t = scenario.traders
    w = rng.lognormal(0.0, t.wealth_sigma, size=t.n_traders)
    return w * (t.mean_wealth_usd / w.mean())


def draw_lending_book(scenario: Scenario, v_index: int, wealth: NDArray[np.float64],
                      prices: dict[str, float], firm_rows: list[tuple[int, dict[str, float], float]],
                      rng: np.random.Generator) -> LendingBook:
    """Borrowers at one lending protocol, then the firms' rows.

    Each member posts a share of their wealth as one main collateral asset (the first
    listed asset with probability 0.7) and borrows to a health factor drawn from
    ``1 + Exponential(mean_health_factor - 1)``, never above the asset's LTV.
    ``firm_rows``: (holder id, collateral USD by asset, health factor) for each firm.
    A member's debt is split across the venue's borrowed assets by their ``debt_share``
    (valued at the initial prices), the rest in the numeraire.
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
    hf = 1.0 + rng.exponential(v.mean_health_factor - 1.0, size=m)
    if np.all(ltv > 0):  # a tiny ltv floors HF at +inf (overflow): such a member owes 0
        with np.errstate(over="ignore"):
            hf = np.maximum(hf, lt[main] / ltv[main])
    debt = np.zeros(m + len(firm_rows))
    debt[:m] = value_usd * lt[main] / hf
    owner = np.concatenate([members, np.array([h for h, _, _ in firm_rows], dtype=np.int64)])
    for r, (_, coll_usd, firm_hf) in enumerate(firm_rows, start=m):
        weighted = 0.0
        for j, c in enumerate(v.collateral):
            usd = coll_usd.get(c.asset, 0.0)
            collateral[r, j] = usd / price[j]
            weighted += usd * c.liquidation_threshold
        debt[r] = weighted / firm_hf
    # members owe each borrowed asset's debt_share of their debt in its units; the firms
    # borrow the numeraire only (their scenario sets a health factor, not a currency mix)
    debt_units = np.zeros((m + len(firm_rows), len(v.borrow)))
    for d, b in enumerate(v.borrow):
        if b.debt_share > 0:
            debt_units[:m, d] = debt[:m] * b.debt_share / prices[b.asset]
    shares = sum(b.debt_share for b in v.borrow)
    if shares > 0:
        debt[:m] *= 1.0 - shares
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
    oi = 0.0
    for j in range(k):
        net = float(size[1:, j].sum())
        size[0, j] = -net
        entries[0, j] = float((size[1:, j] * entries[1:, j]).sum() / net) if net != 0 \
            else float(prices[j])
        oi += float(np.abs(size[1:, j]).sum() * prices[j])
    return PerpBook(
        collateral=np.concatenate([[10.0 * oi + 1.0], margin]),
        size=size,
        entry=entries,
        owner=np.concatenate([[-1], members]).astype(np.int64),
        cross=np.concatenate([[False], cross_ok[members]]),
    )


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
