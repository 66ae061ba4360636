"""Issue 13's collateral quality in the engine against the rule it states.

Two checks. The ``collateral_quality`` preset's liquidity-derived thresholds (seed 0) against
the pure formula of :mod:`contagion.mechanics.collateral`. At set-up the threshold must be
``min(hand-set, floor_bps((1 - v)(1 - s) / (1 + bonus)))`` with ``s`` the split stress
sale's slippage recomputed from the pool's reserves and the order book's depth; every
``risk_parameter_update`` event's new threshold must be that formula of the slippage it
reports, and the series ``lt_<venue>_<asset>`` must be the threshold of the latest update.
The band is exact: a share of 1.0 of the figures checked.

And e-mode (the ``emode_depeg`` preset, seed 0 and the scale's seeds): at every step every
borrower's health factor must be Aave's with the category's threshold for the category's
collateral (``GenericLogic.calculateUserAccountData``: an e-mode user's asset of its
category counts at the category's threshold), recomputed here from the books and the oracle
prices, to 1e-12; and every liquidation of an e-mode account must pay the category's bonus
(``LiquidationLogic``: the category's bonus when the seized collateral is in the user's
category).
"""

from __future__ import annotations

import math

from experiments.validation.checks import Band, Check, Scale, Section, verdict

__all__ = ["COLLATERAL_SOURCE", "EMODE_SOURCE", "collateral_section"]

COLLATERAL_SOURCE = ("The liquidation-covers-debt-and-bonus rule LT = (1 - v)(1 - s) / (1 + bonus) "
                     "with s the slippage of the stress sale (Chaos Labs' Aave v3 supply-cap "
                     "methodology: liquidations within the slippage the penalty pays; "
                     "contagion.mechanics.collateral), thresholds in whole bps as Aave stores them")


EMODE_SOURCE = ("aave-dao/aave-v3-origin GenericLogic.calculateUserAccountData and "
                "LiquidationLogic.executeLiquidationCall: an e-mode user's collateral in its "
                "category counts at the category's liquidation threshold and is seized with "
                "the category's bonus")


def _bps_floor(x: float) -> float:
    return math.floor(x * 1e4 + 1e-9) / 1e4


def _threshold_check(scale: Scale) -> Check:
    from contagion.mechanics.collateral import liquidity_adjusted_threshold, split_sale_slippage
    from contagion.model import ContagionModel
    from models import get_scenario

    sc = get_scenario("collateral_quality")
    m = ContagionModel(sc, seed=0)
    v = m.lending[0]
    ok, total = 0, 0
    for a, c in enumerate(sc.lending[0].collateral):
        i = m.market.index[c.asset]
        pool = m.pools[c.pool] if c.pool else None
        units = float(v.book.collateral[:, a].sum()) * c.stress_sale_frac
        s = split_sale_slippage(units, pool.reserve_base, pool.params.fee_frac,
                                float(m.market.depth_usd[i]), float(m.market.price[i])) \
            if pool is not None else math.nan
        raw = float(liquidity_adjusted_threshold(s, c.liquidation_bonus,
                                                 c.volatility_margin_frac))
        want = c.liquidation_threshold if raw >= c.liquidation_threshold else _bps_floor(raw)
        ok += bool(v.lt[a] == want)
        total += 1
    m.run()
    ev = m.events_frame
    upd = ev[ev["kind"] == "risk_parameter_update"]
    by_asset = {c.asset: c for c in sc.lending[0].collateral}
    for r in upd.itertuples():
        c = by_asset[str(r.asset)]
        raw = float(liquidity_adjusted_threshold(float(r.slippage_frac), c.liquidation_bonus,
                                                 c.volatility_margin_frac))
        want = c.liquidation_threshold if raw >= c.liquidation_threshold else _bps_floor(raw)
        ok += bool(float(r.threshold_after) == want)
        total += 1
    series = m.datacollector.get_model_vars_dataframe()
    for c in sc.lending[0].collateral:
        col = f"lt_{sc.lending[0].name}_{c.asset}"
        mine = upd[upd["asset"] == c.asset]
        if mine.empty or col not in series:
            continue
        ok += bool(float(series[col].iloc[-1]) == float(mine["threshold_after"].iloc[-1]))
        total += 1
    share = ok / total
    return Check.banded(
        "The engine's liquidity-derived thresholds are the pure formula's: at set-up from the "
        "pool and order book, at every update from the slippage it reports, and in force "
        "after the last update (`collateral_quality`, seed 0)", COLLATERAL_SOURCE,
        [verdict("share of thresholds exact", [share], Band(
            1.0, 1.0, "the formula, exactly (whole bps)", "{:.2f}"))],
        f"{ok} of {total} figures ({len(upd)} updates; ALT's threshold from "
        f"{float(upd['threshold_before'].iloc[0]):.2%} to a low of "
        f"{float(upd['threshold_after'].min()):.2%} as its book emptied)")


def _emode_run(seed: int, n_traders: int) -> tuple[float, int, int, int]:
    """(largest relative error of a health factor, health factors checked, liquidations
    with the category's bonus, liquidations) over one run of ``emode_depeg``."""
    import numpy as np

    from contagion.model import ContagionModel
    from models import get_scenario
    from models.emode_depeg import EMODE

    model = ContagionModel(get_scenario("emode_depeg", n_traders=n_traders), seed=seed)
    v = model.lending[0]
    worst, checked = 0.0, 0
    for _ in range(model.scenario.market.steps):
        model.step()
        debt = v.debt_usd()
        owes = np.flatnonzero(debt > 0)
        lt = np.where(v.in_emode[owes, None] & v.emode_assets[None, :],
                      EMODE.liquidation_threshold, v.lt[None, :])
        mine = (v.book.collateral[owes] * v.prices()[None, :] * lt).sum(axis=1) / debt[owes]
        engine = v.health()[owes]
        worst = max(worst, float(np.max(np.abs(engine / mine - 1.0), initial=0.0)))
        checked += owes.size
    ev = model.events_frame
    liq = ev[ev["kind"] == "liquidation"]
    return worst, checked, int((liq["bonus_frac"] == EMODE.liquidation_bonus).sum()), len(liq)


def _emode_check(scale: Scale) -> Check:
    seeds = (0, *scale.preset_seeds)
    runs = [_emode_run(s, scale.preset_traders) for s in seeds]
    return Check.banded(
        "E-mode accounts count their category's collateral at the category's threshold and "
        "are liquidated with its bonus (`emode_depeg`: loops at a 90% LTV through a 5% depeg)",
        EMODE_SOURCE,
        [verdict("largest relative error of a health factor", [r[0] for r in runs], Band(
            0.0, 1e-12, "Aave's formula, to rounding", "{:.1e}")),
         verdict("share of liquidations with the category's bonus",
                 [r[2] / r[3] for r in runs], Band(1.0, 1.0, "exactly", "{:.2f}"))],
        f"{sum(r[1] for r in runs):,} health factors and {sum(r[3] for r in runs):,} "
        f"liquidations over seeds {', '.join(map(str, seeds))} at "
        f"{scale.preset_traders:,} borrowers")


def collateral_section(scale: Scale) -> Section:
    """Issue 13's collateral quality against the rule it states."""
    return Section(
        "Collateral quality (issue 13)",
        "A threshold that follows the liquidity that liquidates the asset, against the "
        "formula (the maths is also checked against Uniswap V2's getAmountOut, the engine's "
        "market and Aave v3's launch table in the test suite).",
        [_threshold_check(scale), _emode_check(scale)], {})
