"""Collateral quality at a lending venue: thresholds that follow liquidity, supply and borrow
caps, isolation mode, and the LTV that bounds new borrowing.

:class:`CollateralRules` is a mixin of :class:`~contagion.agents.lending.LendingProtocol`
(kept apart so the venue's valuation and liquidation code stays as it was); everything
here is off unless :class:`~contagion.params.CollateralParams` or
:class:`~contagion.params.LendingParams` switches it on. The maths is
:mod:`contagion.mechanics.collateral`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from contagion.mechanics.collateral import (
    liquidity_adjusted_threshold,
    market_sale_slippage,
    split_sale_slippage,
)

if TYPE_CHECKING:
    from contagion.params import CollateralParams

__all__ = ["CollateralRules", "derived_risk_parameters", "route_slippage", "setup_deriver",
           "units_value"]

#: the bounds that can hold back new borrowing, in the order they are applied
BORROW_BOUNDS = ("ltv", "debt_ceiling", "borrow_cap", "supply_cap", "cash")


def units_value(units: NDArray[np.float64], prices: NDArray[np.float64]) -> NDArray[np.float64]:
    """``units @ prices`` for an ``(n, k)`` block, the same bits: with one column, the
    product ``units[:, 0] * prices[0]`` plus ``0.0`` (a matrix-vector product starts its
    sum at zero, so a negative zero comes out as ``+0.0``), ~7x faster than the BLAS call
    on a narrow array; else the BLAS call itself."""
    if units.ndim == 2 and units.shape[1] == 1 and prices.shape == (1,):
        out = units[:, 0] * prices[0]
        out += 0.0
        return out
    return np.asarray(units @ prices)


def _floor_bps(x: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.floor(x * 1e4 + 1e-9) / 1e4


def derived_risk_parameters(collateral: tuple[CollateralParams, ...],
                            slippage: NDArray[np.float64]
                            ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Each asset's (LT, LTV) when its threshold follows liquidity (``slippage`` of its
    stress sale; ignored for the others, which keep their hand-set values).

    ``LT = min(liquidation_threshold, (1 - v)(1 - s) / (1 + bonus))`` in whole basis points
    (at least one), the LTV its hand-set distance below (at least 0), both exactly the
    hand-set values while the ceiling binds.
    """
    lt0 = np.array([c.liquidation_threshold for c in collateral])
    ltv0 = np.array([c.ltv for c in collateral])
    on = np.array([c.threshold_from_liquidity for c in collateral])
    bonus = np.array([c.liquidation_bonus for c in collateral])
    vol = np.array([c.volatility_margin_frac for c in collateral])
    s = np.where(on, np.clip(slippage, 0.0, 1.0), 0.0)
    raw = np.asarray(liquidity_adjusted_threshold(s, bonus, vol), dtype=np.float64)
    binds = ~on | (raw >= lt0)
    lt = np.where(binds, lt0, np.maximum(_floor_bps(raw), 1e-4))
    ltv = np.where(binds, ltv0, _floor_bps(np.maximum(lt - (lt0 - ltv0), 0.0)))
    return lt, ltv


def route_slippage(model: Any, pool: Any, asset: int, units: float) -> float:
    """Average slippage of a stress sale of ``units`` of ``asset`` through the liquidity a
    venue's liquidators reach: split between its ``pool`` (V2, or a V3 pool's current
    range through its virtual reserves) and the external market at its current depth
    (:func:`~contagion.mechanics.collateral.split_sale_slippage`), or the market alone
    (:func:`~contagion.mechanics.collateral.market_sale_slippage`). A depth collapse of the
    market (``LiquidityShockParams``) thus tightens a threshold even behind a pool."""
    if units <= 0.0:
        return 0.0
    m = model.market
    ref = float(m.initial_price[asset] if m.per_unit[asset] else m.price[asset])
    depth = float(m.depth_usd[asset])
    if pool is not None:
        return split_sale_slippage(units, float(pool.reserve_base), float(pool.params.fee_frac),
                                   depth, ref)
    return float(market_sale_slippage(units * ref, depth))


def setup_deriver(model: Any, venue: Any) -> Any:
    """For drawing ``venue``'s book (:func:`contagion.build.draw_lending_book`): a function
    from the venue's collateral units per asset to the (LT, LTV) its thresholds derive from
    liquidity at set-up; None when no threshold of the venue follows liquidity."""
    cs = venue.collateral
    if not any(c.threshold_from_liquidity for c in cs):
        return None
    pools = [model.pools[p] if (p := model.wiring.routes.get((venue.name, c.asset))) else None
             for c in cs]
    ids = [model.market.index[c.asset] for c in cs]

    def derive(units: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        slip = np.array([route_slippage(model, pools[j], ids[j], float(units[j]) * c.stress_sale_frac)
                         if c.threshold_from_liquidity else 0.0 for j, c in enumerate(cs)])
        return derived_risk_parameters(cs, slip)
    return derive


class CollateralRules:
    """Collateral-quality rules of a lending venue (a mixin of ``LendingProtocol``).

    State: ``ceiling_lt`` / ``ceiling_ltv`` (the hand-set values, ceilings when derived),
    ``lt`` / ``ltv`` (in force), ``supply_cap_units``, ``isolated``, ``debt_ceiling_usd``,
    ``borrow_cap_usd``, ``borrowed_usd`` (new borrowing so far) and ``held_back_usd`` (what
    each bound in :data:`BORROW_BOUNDS` refused so far).
    """

    # provided by LendingProtocol
    model: Any
    params: Any
    book: Any
    name: str
    lt: NDArray[np.float64]
    ltv: NDArray[np.float64]
    asset_ids: NDArray[np.int64]
    asset_names: list[str]
    pools: list[Any]
    cash_usd: float
    _collateral_version: int

    def _init_collateral_rules(self) -> None:
        cs = self.params.collateral
        self.ceiling_lt = self.lt.copy()
        self.ceiling_ltv = self.ltv.copy()
        self.derived = np.array([c.threshold_from_liquidity for c in cs])
        self.supply_cap_units = np.array([c.supply_cap_units for c in cs])
        self.isolated = np.array([c.isolated for c in cs])
        self.debt_ceiling_usd = np.array([c.debt_ceiling_usd for c in cs])
        self.borrow_cap_usd = float(self.params.borrow_cap_usd)
        self.releverage_on = math.isfinite(self.params.releverage_above_hf)
        self.borrowed_usd = 0.0
        self.held_back_usd = dict.fromkeys(BORROW_BOUNDS, 0.0)
        self.stress_slippage = np.zeros(len(cs))
        self._refusing = False  # new borrowing wanted and all held back (logged once)
        self._init_isolation()
        self._init_emode()
        if self.derived.any():  # the set-up's values (the book was drawn with the same)
            m = self.model
            pools = [m.pools[p] if (p := m.wiring.routes.get((self.name, a))) else None
                     for a in self.asset_names]
            self.lt, self.ltv, self.stress_slippage = self._derive(pools)

    def _init_isolation(self) -> None:
        """Which collateral each account has enabled (Aave v3's isolation mode; fixed at
        set-up). An isolated asset counts only for an account that holds nothing else as
        collateral (it is then in isolation mode); held beside other collateral it is
        supplied but not collateral, as Aave leaves an isolated asset supplied by a user who
        already has collateral (``ValidationLogic.validateAutomaticUseAsCollateral``). An
        account holding two isolated assets and nothing else uses the one worth most at the
        start. ``disabled`` is None when every holding counts (no isolated asset held with
        another: every preset), else an ``(n, k)`` mask of holdings that do not count."""
        self.disabled: NDArray[np.bool_] | None = None
        if not self.isolated.any():
            return
        held = self.book.collateral > 0
        iso = self.isolated
        others = held[:, ~iso].any(axis=1)
        n_iso = held[:, iso].sum(axis=1)
        mixed = held[:, iso].any(axis=1) & others
        several = (n_iso > 1) & ~others
        if not (mixed.any() or several.any()):
            return
        off = np.zeros(held.shape, dtype=bool)
        off[np.ix_(mixed, iso)] = held[np.ix_(mixed, iso)]
        if several.any():
            prices = self.model.market.price[self.asset_ids]  # at the start
            value = np.where(iso[None, :], self.book.collateral[several] * prices, -1.0)
            keep = np.argmax(value, axis=1)
            off[several] = held[several] & iso[None, :]
            off[np.flatnonzero(several), keep] = False
        self.disabled = off

    def enabled_collateral(self, rows: NDArray[np.int64] | None = None
                           ) -> NDArray[np.float64]:
        """The collateral units that count (of ``rows``, default all): the book's, with the
        holdings isolation mode leaves out (:meth:`_init_isolation`) at zero. The book
        itself when every holding counts."""
        if rows is not None and np.asarray(rows).dtype == bool:
            rows = np.flatnonzero(rows)
        # np.take gathers whole rows several times faster than fancy indexing (same array)
        coll = self.book.collateral if rows is None else np.take(self.book.collateral, rows,
                                                                 axis=0)
        if self.disabled is None:
            return np.asarray(coll)
        off = self.disabled if rows is None else np.take(self.disabled, rows, axis=0)
        return np.where(off, 0.0, coll)

    def _init_emode(self) -> None:
        """E-mode: which collateral is in the category, and which accounts are in e-mode
        (every debt they owe is in the category; fixed at set-up)."""
        e = self.params.emode
        self.emode_on = e is not None
        k, b = len(self.asset_ids), self.book
        self.emode_assets = np.zeros(k, dtype=bool)
        self.in_emode = np.zeros(len(b), dtype=bool)
        if e is None:
            return
        self.emode_assets = np.array([a in e.assets for a in self.asset_names])
        self.emode_borrows_numeraire = self.model.scenario.market.numeraire in e.assets
        ok = (b.debt <= 0) | self.emode_borrows_numeraire
        for d, name in enumerate(self.debt_asset_names):  # type: ignore[attr-defined]
            ok &= (b.debt_units[:, d] <= 0) | (name in e.assets)
        self.in_emode = ok & (b.collateral[:, self.emode_assets] > 0).any(axis=1)

    def weighted_collateral(self, rows: NDArray[np.int64] | None = None
                            ) -> NDArray[np.float64]:
        """Each account's collateral times its liquidation threshold at the oracles (of
        ``rows``, default all): ``collateral @ (prices * LT)``, with e-mode's threshold for
        the category's assets on e-mode accounts."""
        prices = np.asarray(self.prices())  # type: ignore[attr-defined]
        coll = self.enabled_collateral(rows)
        weighted = units_value(coll, prices * self.lt)
        if self.emode_on:
            e = self.params.emode
            extra = prices * np.where(self.emode_assets, e.liquidation_threshold - self.lt, 0.0)
            mine = np.flatnonzero(self.in_emode if rows is None else self.in_emode[rows])
            weighted[mine] += coll[mine] @ extra
        return np.asarray(weighted)

    def max_lt(self) -> float:
        """The highest threshold any account's collateral counts at (bounds for filters)."""
        top = float(self.lt.max())
        return max(top, self.params.emode.liquidation_threshold) if self.emode_on else top

    def row_bonus(self, rows: NDArray[np.int64], j: NDArray[np.int64]) -> NDArray[np.float64]:
        """The liquidation bonus of seizing collateral ``j`` from each of ``rows``: the
        asset's, or e-mode's for a category asset of an e-mode account."""
        bonus = self.bonus[j]  # type: ignore[attr-defined]
        if not self.emode_on:
            return np.asarray(bonus)
        inside = self.in_emode[rows] & self.emode_assets[j]
        return np.where(inside, self.params.emode.liquidation_bonus, bonus)

    def isolation_debt_usd(self) -> NDArray[np.float64]:
        """Aave's ``isolationModeTotalDebt`` of each collateral: the stablecoin owed by the
        accounts in isolation mode with it (0 for assets not isolated). One pass per isolated
        asset."""
        out = np.zeros(len(self.asset_ids))
        for a in np.flatnonzero(self.isolated):
            out[a] = float(self.book.debt[self._isolation_members(int(a))].sum())
        return out

    def _isolation_members(self, a: int) -> NDArray[np.bool_]:
        """Accounts in isolation mode with isolated collateral ``a`` (it counts for them)."""
        mine = self.book.collateral[:, a] > 0
        return mine if self.disabled is None else mine & ~self.disabled[:, a]

    def _derive(self, pools: list[Any]) -> tuple[NDArray[np.float64], NDArray[np.float64],
                                                 NDArray[np.float64]]:
        cs = self.params.collateral
        slip = np.zeros(len(cs))
        for a in np.flatnonzero(self.derived):
            units = float(self.book.collateral[:, a].sum()) * cs[a].stress_sale_frac
            slip[a] = route_slippage(self.model, pools[a], int(self.asset_ids[a]), units)
        lt, ltv = derived_risk_parameters(cs, slip)
        return lt, ltv, slip

    def update_risk_parameters(self) -> None:
        """Re-derive the thresholds that follow liquidity (stage 3, before traders act): a
        changed value is a ``risk_parameter_update`` event and refreshes health factors."""
        if not self.derived.any():
            return
        lt, ltv, slip = self._derive(self.pools)
        self.stress_slippage = slip
        cs = self.params.collateral
        most = np.array([c.update_max_bps for c in cs]) / 1e4
        capped = np.abs(lt - self.lt) > most + 1e-12
        if capped.any():  # the steward's largest change: move part of the way, LTV follows
            lt = np.where(capped, np.round((self.lt + np.clip(lt - self.lt, -most, most)) * 1e4)
                          / 1e4, lt)
            spread = self.ceiling_lt - self.ceiling_ltv
            ltv = np.where(capped, np.round(np.maximum(lt - spread, 0.0) * 1e4) / 1e4, ltv)
        step = np.array([c.update_min_bps for c in cs]) / 1e4
        changed = np.flatnonzero(self.derived & (np.abs(lt - self.lt) >= step - 1e-12)
                                 & ((lt != self.lt) | (ltv != self.ltv)))
        if changed.size == 0:
            return
        m, prices = self.model, np.asarray(self.prices())  # type: ignore[attr-defined]
        for a in changed:
            units = float(self.book.collateral[:, a].sum()) * cs[a].stress_sale_frac
            pool = self.pools[a]
            route = pool.name if pool is not None else "the external market"
            before, after = float(self.lt[a]), float(lt[a])
            m.events.add(
                "risk_parameter_update", step=m.steps, venue=self.name, agent="risk steward",
                asset=self.asset_names[a], amount=after, value_usd=units * float(prices[a]),
                price=float(prices[a]),
                cause_id=self._depth_cause(int(self.asset_ids[a])),
                threshold_before=before, threshold_after=after,
                ltv_before=float(self.ltv[a]), ltv_after=float(ltv[a]),
                slippage_frac=float(slip[a]), stress_units=units, route=route,
                detail=f"{self.name} {'cut' if after < before else 'raised'} "
                       f"{self.asset_names[a]}'s liquidation threshold {before:.2%} -> "
                       f"{after:.2%} (LTV {self.ltv[a]:.2%} -> {ltv[a]:.2%}): selling "
                       f"{cs[a].stress_sale_frac:.0%} of its {self.asset_names[a]} into "
                       f"{route} would slip {slip[a]:.1%}")
        self.lt[changed] = lt[changed]
        self.ltv[changed] = ltv[changed]
        self.invalidate()  # type: ignore[attr-defined]

    def _depth_cause(self, asset: int) -> int:
        """What moved a threshold: the liquidity shock while the market's depth is below
        normal, else the asset's latest price move."""
        m = self.model.market
        if m.depth_usd[asset] < m.normal_depth_usd[asset] and asset in self.model.depth_events:
            return int(self.model.depth_events[asset])
        return int(m.last_move_event[asset])

    def borrow_against(self, rows: NDArray[np.int64], want_usd: NDArray[np.float64]
                       ) -> NDArray[np.float64]:
        """Borrowers on ``rows`` borrow up to ``want_usd`` of the stablecoin and loop it into
        their main collateral (bought through the venue's route and supplied), within the
        LTV, the isolated collaterals' debt ceilings, the borrow cap, the supply caps and
        the cash; return what each borrowed. One ``borrow`` event per asset bought."""
        b = self.book
        if self.emode_on and not self.emode_borrows_numeraire:  # they would leave e-mode
            keep = ~self.in_emode[rows]
            rows, want_usd = rows[keep], want_usd[keep]
        prices = np.asarray(self.prices())  # type: ignore[attr-defined]
        coll = self.enabled_collateral(rows)
        main = np.argmax(coll * prices, axis=1)
        want = np.maximum(want_usd, 0.0)
        held = dict.fromkeys(BORROW_BOUNDS, 0.0)
        # Aave's borrow check: the debt after the borrow within sum(collateral * price * LTV)
        power = coll @ (prices * self.ltv)
        if self.emode_on:  # e-mode's LTV for the category's collateral
            e = self.params.emode
            mine = np.flatnonzero(self.in_emode[rows])
            power[mine] += coll[mine] @ (prices * np.where(self.emode_assets,
                                                           e.ltv - self.ltv, 0.0))
        power = np.maximum(power - self.debt_usd(rows), 0.0)  # type: ignore[attr-defined]
        grant = np.minimum(want, power)
        held["ltv"] = float((want - grant).sum())
        for a in np.flatnonzero(self.isolated):  # isolation mode: the debt ceiling
            members = coll[:, a] > 0
            owed = float(b.debt[self._isolation_members(int(a))].sum())
            room = max(self.debt_ceiling_usd[a] - owed, 0.0)
            grant[members], cut = _fit(grant[members], room)
            held["debt_ceiling"] += cut
        grant, held["borrow_cap"] = _fit(grant, max(self.borrow_cap_usd - float(b.debt.sum()),
                                                    0.0))
        for a in np.unique(main):  # the supply cap of what they buy (at the route's spot)
            if not math.isfinite(self.supply_cap_units[a]):
                continue
            mine = main == a
            room = max(self.supply_cap_units[a] - float(b.collateral[:, a].sum()), 0.0)
            grant[mine], cut = _fit(grant[mine], room * self._spot(int(a)))  # type: ignore
            held["supply_cap"] += cut
        grant, held["cash"] = _fit(grant, max(self.cash_usd, 0.0))
        for k, v in held.items():
            self.held_back_usd[k] += v
        out = np.zeros(rows.size)
        if not (grant > 0).any():
            if float(want.sum()) > 0 and not self._refusing:  # bounds hold it all back
                self._refusing = True
                top = int(np.bincount(main).argmax())
                self._log_borrow(top, 0, 0.0, 0.0, want, held, self.pools[top])
            return out
        self._refusing = False
        for a in np.unique(main[grant > 0]):
            mine = (main == a) & (grant > 0)
            out[mine] = self._loop_into(int(a), rows[mine], grant[mine], want[mine], held)
        return out

    def _loop_into(self, a: int, rows: NDArray[np.int64], grant: NDArray[np.float64],
                   want: NDArray[np.float64], held: dict[str, float]) -> NDArray[np.float64]:
        """Buy collateral ``a`` with ``grant`` (one order), supply it pro rata; book it."""
        m, b = self.model, self.book
        usd = float(grant.sum())
        pool = self.pools[a]
        asset = int(self.asset_ids[a])
        if pool is not None:
            units, cost = pool.buy_base(usd), usd
        else:
            units, cost = _buy_external(m.market, asset, usd)
        grant = grant * (cost / usd)
        b.debt[rows] += grant
        b.collateral[rows, a] += units * grant / cost
        self._collateral_version += 1
        self.cash_usd -= cost
        self.borrowed_usd += cost
        self._refresh_health(rows)  # type: ignore[attr-defined]
        eid = self._log_borrow(a, int(rows.size), units, cost, want, held, pool)
        m.market.moved(asset, eid, pool)
        return grant


    def _log_borrow(self, a: int, n: int, units: float, cost: float,
                    want: NDArray[np.float64], held: dict[str, float], pool: Any) -> int:
        m = self.model
        route = pool.name if pool is not None else "the external market"
        name = self.asset_names[a]
        if n:
            detail = (f"{n} borrowers on {self.name} above health factor "
                      f"{self.params.releverage_above_hf:g} borrowed ${cost:,.0f} and looped it "
                      f"into {units:,.4g} {name} bought on {route}")
        else:
            bound = max(held, key=lambda k: held[k])
            detail = (f"borrowers on {self.name} wanted ${float(want.sum()):,.0f} more but the "
                      f"{bound.replace('_', ' ')} held all of it back")
        return int(m.events.add(
            "borrow", step=m.steps, venue=self.name, agent="traders", asset=name,
            amount=units, value_usd=cost, price=cost / units if units > 0 else np.nan,
            cause_id=int(m.market.last_move_event[self.asset_ids[a]]), accounts=n,
            wanted_usd=float(want.sum()), bought_into=route,
            held_by_ltv_usd=held["ltv"], held_by_debt_ceiling_usd=held["debt_ceiling"],
            held_by_borrow_cap_usd=held["borrow_cap"], held_by_supply_cap_usd=held["supply_cap"],
            held_by_cash_usd=held["cash"], detail=detail))


def _fit(grant: NDArray[np.float64], room: float) -> tuple[NDArray[np.float64], float]:
    """Scale ``grant`` down pro rata to fit ``room``; return it and what was cut."""
    total = float(grant.sum())
    if total <= room:
        return grant, 0.0
    scale = room / total if total > 0 else 0.0
    return grant * scale, total - room


def _buy_external(market: Any, asset: int, usd: float) -> tuple[float, float]:
    """Buy ``usd`` worth of ``asset`` from the external market; return (units, USD paid).

    Buying ``q`` raises the price by ``exp(q r / depth)`` and costs ``depth (p / r)
    (exp(q r / depth) - 1)`` (:meth:`Market.sell` with negative units), so
    ``q = depth / r * log1p(usd r / (depth p))``."""
    p = float(market.price[asset])
    depth = float(market.depth_usd[asset])
    ref = float(market.initial_price[asset] if market.per_unit[asset] else p)
    units = usd / p if not math.isfinite(depth) else depth / ref * math.log1p(usd * ref / (depth * p))
    cost = -market.sell(asset, -units)
    return units, float(cost)
