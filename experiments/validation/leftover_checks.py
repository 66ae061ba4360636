"""Issue 13's Aave v3.3 leftover rule in the engine against the contract's own test.

One check on the preset ``liquidation_dust`` (a keeper short of capital covers part of a
debt every step): every liquidation of the run must pass the test ``LiquidationLogic``
applies before it lets a v3.3 liquidation through: it repays the whole reserve debt, takes
all the collateral it seizes, or leaves both worth at least ``MIN_LEFTOVER_BASE`` ($1,000).
The leftovers are the account's debt and collateral before the step (taken from the books
before each step; borrowers do not top up in this preset, so the keeper is the only one to
change them) less what the liquidation event says it repaid and seized, valued at the
event's oracle price, and the test is :func:`contagion.mechanics.aave.aave_leaves_dust` on
them in the contract's units (USDC 6 decimals, ETH 18, prices 8), with leftovers within
$1e-6 of the floor counted at it (the engine sizes liquidations in floating point). The band
is exact: a share of 1.0. The same keeper without the rule is shown beside it: the share of
its liquidations that would have reverted.
"""

from __future__ import annotations

from typing import Any

from experiments.validation.checks import Band, Check, Scale, Section, verdict

__all__ = ["LEFTOVER_SOURCE", "leftover_section"]

LEFTOVER_SOURCE = ("aave-dao/aave-v3-origin v3.3.0 (5431379f) LiquidationLogic."
                   "executeLiquidationCall: a liquidation that leaves debt and collateral must "
                   "leave more than MIN_LEFTOVER_BASE (1,000 USD in base units) of both, else "
                   "it reverts MUST_NOT_LEAVE_DUST (contagion.mechanics.aave.aave_leaves_dust)")

_TOL_USD = 1e-6


def _passes(debt_left: float, coll_units_left: float, price: float) -> bool:
    from contagion.mechanics.aave import MIN_LEFTOVER_BASE, aave_leaves_dust

    floor_usd = MIN_LEFTOVER_BASE / 1e8
    debt_left = floor_usd if abs(debt_left - floor_usd) <= _TOL_USD else debt_left
    if abs(coll_units_left * price - floor_usd) <= _TOL_USD:
        coll_units_left = floor_usd / price
    price_int = round(price * 1e8)
    debt_int = max(0, round(debt_left * 1e6))
    coll_int = max(0, round(coll_units_left * 1e18))
    if debt_left <= _TOL_USD:
        debt_int = 0
    if coll_units_left * price <= _TOL_USD:
        coll_int = 0
    return not aave_leaves_dust(debt_int, 10**8, 6, coll_int, price_int, 18)


def _liquidations_passing(rule: bool, seed: int, n_traders: int) -> tuple[int, int]:
    """(liquidations that pass v3.3's leftover test, liquidations) in one run."""
    from contagion.model import ContagionModel
    from models import get_scenario

    model = ContagionModel(get_scenario("liquidation_dust", n_traders=n_traders,
                                        leftover_rule=rule), seed=seed)
    v = model.lending[0]
    row_of = {int(o): i for i, o in enumerate(v.book.owner)}
    before: dict[int, tuple[Any, Any]] = {}  # step -> the books before it
    for _ in range(model.scenario.market.steps):
        before[int(model.steps) + 1] = (v.book.debt.copy(), v.book.collateral[:, 0].copy())
        model.step()
    ev = model.events_frame
    ok = total = 0
    for r in ev[ev["kind"] == "liquidation"].itertuples():
        debt, coll = before[int(r.step)]
        i = row_of[int(r.account)]
        ok += _passes(float(debt[i] - r.debt_repaid_usd),
                      float(coll[i] - r.collateral_seized_units), float(r.price))
        total += 1
    return ok, total


def _leftover_check(scale: Scale) -> Check:
    seeds = (0, *scale.preset_seeds)
    n = scale.preset_traders
    on = [_liquidations_passing(True, s, n) for s in seeds]
    off = [_liquidations_passing(False, s, n) for s in seeds]
    shares = [ok / total for ok, total in on]
    failed_off = sum(t - ok for ok, t in off)
    return Check.banded(
        "Under Aave v3.3's leftover rule no liquidation leaves a position with debt and "
        "collateral but less than $1,000 of either (`liquidation_dust`, a keeper short of "
        "capital covering part of a debt every step)", LEFTOVER_SOURCE,
        [verdict("share of liquidations the contract would let through", shares, Band(
            1.0, 1.0, "the contract's test, exactly", "{:.2f}"))],
        f"{sum(ok for ok, _ in on)} of {sum(t for _, t in on)} liquidations over seeds "
        f"{', '.join(map(str, seeds))} at {n:,} borrowers; the same keeper without the rule: "
        f"{failed_off} of {sum(t for _, t in off)} would have reverted MUST_NOT_LEAVE_DUST")


def leftover_section(scale: Scale) -> Section:
    """Issue 13's leftover rule against the contract's test."""
    return Section(
        "Aave v3.3 liquidation rules (issue 13)",
        "Liquidations under v3.3's close factor and leftover rule, against the test the "
        "contract applies (the amounts themselves are checked against aave-v3-origin's "
        "integer arithmetic in the test suite: tests/mechanics/test_aave_v33_leftover.py).",
        [_leftover_check(scale)], {})
