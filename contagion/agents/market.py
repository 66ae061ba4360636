"""The external market: exogenous price paths plus the permanent impact of flows.

The outside world (centralised order books, arbitrageurs, other traders) is one holder of
every asset. Selling ``q`` units into it moves its price by ``exp(-q p / depth)``: the
asset's ``external_depth_usd`` is the dollar flow that moves the price by one log unit.
With ``AssetParams.impact_model = "per_unit"`` the move is ``exp(-q p_init / depth)``
(``p_init`` the initial price), so any sequence of sales of ``x`` units in all moves it by
exactly ``exp(-a x)``, ``a = p_init / depth``, as in the fire-sale literature.

With a :class:`~contagion.params.PriceModelParams` the stochastic paths draw their noise
together (correlated, fat-tailed, GARCH); a ``replay`` path replays a recorded history.

A liquid-staking token (an asset with an ``underlying``, stETH on ETH) is priced as its
underlying's price times a ratio: its exogenous path is the path of that ratio, and flows
of the token itself move only the ratio (the discount), never the underlying.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import mesa
import numpy as np
from numpy.typing import NDArray

from contagion.ledger import market_source
from contagion.mechanics.price_model import (
    correlation_factor,
    factor_factor,
    garch_filter,
    joint_innovations,
)
from contagion.mechanics.price_path import PATH_RANGE, crash_path, gbm_jump_path, replay_path

if TYPE_CHECKING:
    from contagion.model import ContagionModel
    from contagion.scenario import Scenario

__all__ = ["Market"]

SHOCK_EVENT_MIN_MOVE = 0.0025  # exogenous moves smaller than 0.25% a step are not logged
#: A depegging numeraire is told (event ``numeraire_depeg``) when its market price leaves
#: (``phase="start"``) or comes back within (``phase="end"``) this distance of $1.
DEPEG_EVENT_FRAC = 0.005

#: Flows move an asset's price at most ``PATH_RANGE`` times (either way) from its path:
#: beyond that the book is flat (a trade fills at the boundary price). Only an order book a
#: flow exceeds by dozens of times its depth gets there (a depth of $1e-6); without the
#: bound ``exp`` of the impact overflows to an infinite price or underflows to 0.
MAX_LOG_IMPACT = float(np.log(PATH_RANGE))


def _joint_noise(scenario: Scenario, rng: np.random.Generator
                 ) -> dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]]:
    """Each price-model asset's innovations and conditional variances (GARCH ``h``, 1
    without), drawn together from ``rng`` before any path's own draws; empty without a
    price model, so the paths then draw exactly as before."""
    pm = scenario.price_model
    if pm is None:
        return {}
    steps = scenario.market.steps
    if pm.correlation:
        factor = correlation_factor(pm.correlation, name="price_model.correlation")
    elif pm.factor_loadings:
        factor = factor_factor(pm.factor_loadings, name="price_model.factor_loadings")
    else:
        factor = np.eye(len(pm.assets))
    z = joint_innovations(factor, steps, rng=rng, innovations=pm.innovations, dof=pm.dof,
                          joint_tails=pm.joint_tails)
    h = np.ones_like(z)
    if pm.garch_alpha > 0 or pm.garch_beta > 0:  # variance targeting: unconditional 1
        z, h = garch_filter(z, omega=1.0 - pm.garch_alpha - pm.garch_beta,
                            alpha=pm.garch_alpha, beta=pm.garch_beta)
    return {name: (z[:, k], h[:, k]) for k, name in enumerate(pm.assets)}


class Market(mesa.Agent):
    """Prices of every asset and the outside world's holdings.

    Attributes
    ----------
    assets : list of str
        Asset names; index ``i`` in every per-asset array.
    price : ndarray
        Current external market price of each asset, USD.
    outside_units : ndarray
        The outside world's net holdings of each asset (starts at 0, may go negative:
        it is the counterparty of every flow that leaves the model).
    """

    def __init__(self, model: ContagionModel, scenario: Scenario) -> None:
        super().__init__(model)
        self.assets = [a.name for a in scenario.assets]
        self.index = {a: i for i, a in enumerate(self.assets)}
        self.numeraire = self.index[scenario.market.numeraire]
        #: the numeraire may depeg (``market.numeraire_oracle`` set): its path moves its USD
        #: price, and flows to and from the outside are paid in numeraire units at that price
        self.numeraire_on = scenario.market.numeraire_oracle is not None
        self.depegged = False  # the numeraire's market price is off $1 (an event told it)
        n, steps = len(self.assets), scenario.market.steps
        self.path = np.empty((n, steps + 1))
        paths = {p.asset: p for p in scenario.paths}
        usd0 = {a.name: a.initial_price_usd for a in scenario.assets}
        joint = _joint_noise(scenario, model.rng)
        for i, a in enumerate(scenario.assets):
            p = paths.get(a.name)
            z, h = joint.get(a.name, (None, None))
            # a liquid-staking token's path is its ratio to the underlying (the basis)
            start = a.initial_price_usd / usd0[a.underlying] if a.underlying else a.initial_price_usd
            fixed = a.kind == "stable" and not self.numeraire_on  # the numeraire at $1
            if fixed or p is None or (p.kind == "flat" and p.vol_per_step == 0):
                self.path[i] = start
            elif p.kind == "replay":
                self.path[i] = replay_path(
                    str(p.file), steps, step_minutes=scenario.market.step_minutes,
                    column=str(p.column), time_column=p.time_column or "timestamp",
                    start=p.start, initial_price=start)
            elif p.kind == "gbm_jump":
                self.path[i] = gbm_jump_path(
                    start, steps, vol_per_step=p.vol_per_step,
                    drift_per_step=p.drift_per_step, jump_rate_per_step=p.jump_rate_per_step,
                    jump_mean=p.jump_mean, jump_std=p.jump_std, rng=model.rng,
                    innovations=z, variance=h)
            else:
                shock = p.shock_frac if p.kind == "crash" else 0.0
                self.path[i] = crash_path(
                    start, steps, shock_frac=shock,
                    start_step=p.shock_start_step, duration_steps=p.shock_duration_steps,
                    vol_per_step=p.vol_per_step, rng=model.rng, innovations=z, variance=h)
        self.depth_usd = np.array([a.external_depth_usd for a in scenario.assets])
        self.depth_usd[self.numeraire] = np.inf
        self.normal_depth_usd = self.depth_usd.copy()  # before any liquidity shock
        self.log_impact = np.zeros(n)
        self.crash_factor = np.ones(n)
        self.lst = np.array([i for i, a in enumerate(scenario.assets) if a.underlying],
                            dtype=np.int64)
        self.lst_underlying = np.array([self.index[a.underlying] for a in scenario.assets
                                        if a.underlying], dtype=np.int64)
        self.initial_price = self.path[:, 0].copy()
        self.initial_price[self.lst] *= self.initial_price[self.lst_underlying]
        self.price = self.initial_price.copy()
        # impact per unit at the initial price (exp(-a x) in all) rather than per dollar now
        self.per_unit = np.array([a.impact_model == "per_unit" for a in scenario.assets])
        self.outside_units = np.zeros(n)
        # the last event that moved anything about each asset (its market price or a pool);
        # the per-source record of moves, with sizes, is the model's PriceMoves ledger
        self.last_move_event = np.full(n, -1, dtype=np.int64)
        self.source = [market_source(a) for a in self.assets]
        self._mark = self.price.copy()  # prices when a move was last attributed
        self._lst_cause = self.last_move_event.copy()  # as Market.step left it
        # each liquid-staking token's underlying, as a dict (read every step, per asset)
        self._underlying_of: dict[int, int] = {}
        for k, u in zip(self.lst.tolist(), self.lst_underlying.tolist(), strict=True):
            self._underlying_of.setdefault(k, u)
        self.crash_pct = {a.name: a.crash_on_issuer_default_frac for a in scenario.assets}
        # issuer -> the tokens it issues: set from the world graph's ``issues`` edges
        self.issuer_of: dict[str, list[str]] = {}

    def quote_price(self, asset: int) -> float:
        """What the outside market pays for one unit of ``asset``, in numeraire units: its
        USD price divided by the numeraire's (just :attr:`price` unless it may depeg)."""
        if self.numeraire_on:
            return float(self.price[asset] / self.price[self.numeraire])
        return float(self.price[asset])

    def quote_prices(self, assets: NDArray[np.int64]) -> NDArray[np.float64]:
        """:meth:`quote_price` of each of ``assets``."""
        if self.numeraire_on:
            return np.asarray(self.price[assets] / self.price[self.numeraire])
        return np.asarray(self.price[assets])

    def quote_depth(self, asset: int) -> float:
        """``asset``'s external depth in numeraire units (USD depth / the numeraire's price):
        with :meth:`quote_price`, the same impact per unit sold as in USD."""
        if self.numeraire_on:
            return float(self.depth_usd[asset] / self.price[self.numeraire])
        return float(self.depth_usd[asset])

    def numeraire_depeg(self, oracle_price: float) -> None:
        """Tell a numeraire's depeg (``numeraire_depeg``) when its market price leaves, or
        comes back within, ``DEPEG_EVENT_FRAC`` of $1 (after the oracles publish)."""
        q = float(self.price[self.numeraire])
        off = abs(q - 1.0) >= DEPEG_EVENT_FRAC
        if off == self.depegged:
            return
        self.depegged = off
        name = self.assets[self.numeraire]
        phase = "start" if off else "end"
        what = (f"{name} depegged: ${q:.4f} on the market ({q - 1.0:+.2%})" if off else
                f"{name} back within {DEPEG_EVENT_FRAC:.1%} of its peg: ${q:.4f}")
        self.model.events.add(
            "numeraire_depeg", step=self.model.steps, asset=name, price=q,
            amount=q - 1.0, cause_id=int(self.last_move_event[self.numeraire]), phase=phase,
            oracle_price=float(oracle_price), deviation=q - 1.0,
            detail=f"{what}; venues value it at their oracle (${oracle_price:.4f})")

    # ------------------------------------------------------------------ step
    def step(self) -> None:
        """Advance the exogenous path to the model's current step and log big moves."""
        t = min(self.model.steps, self.path.shape[1] - 1)
        before = self.price.copy()
        self._reprice(t)
        move = self.path[:, t] / self.path[:, t - 1] - 1.0 if t > 0 else np.zeros_like(before)
        shocked = np.flatnonzero(np.abs(move) >= SHOCK_EVENT_MIN_MOVE)
        for i in shocked:
            self.last_move_event[i] = self.model.events.add(
                "price_shock", step=self.model.steps, asset=self.assets[i],
                price=float(self.price[i]), amount=float(move[i]), price_before=float(before[i]),
                **self._shock_fields(int(i), t),
                detail=self._shock_detail(int(i), before, float(move[i]), t))
        for i, u in zip(self.lst, self.lst_underlying, strict=True):
            # it moved with its underlying, unless its own flows (a fire sale, liquidations)
            # moved it since the last step: they then remain the cause its oracles cite
            flowed = self.last_move_event[i] != self._lst_cause[i]
            if abs(move[i]) < SHOCK_EVENT_MIN_MOVE <= abs(move[u]) and not flowed:
                self.last_move_event[i] = self.last_move_event[u]
        self._lst_cause = self.last_move_event.copy()
        logged = set(shocked.tolist())
        last = self.last_move_event.tolist()
        for k in range(len(self.assets)):  # the path's logged moves, with their sizes
            eid = last[k] if k in logged else -1
            under = self._underlying_of.get(k)
            if under is not None and k not in logged:
                eid = last[under] if under in logged else -1
            self._record(k, eid)

    def _shock_fields(self, i: int, t: int) -> dict[str, Any]:
        """A price shock's path, and for a liquid-staking token its ratio's move."""
        u = self._underlying_of.get(i)
        if u is None:
            return {"path": "exogenous"}
        return {"path": "basis", "underlying": self.assets[u],
                "ratio_before": float(self.path[i, t - 1]), "ratio_after": float(self.path[i, t])}

    def _shock_detail(self, i: int, before: NDArray[np.float64], move: float, t: int) -> str:
        u = self._underlying_of.get(i)
        if u is None:
            return (f"{self.assets[i]} external price {before[i]:,.4g} -> "
                    f"{self.price[i]:,.4g} ({move:+.2%}, exogenous path)")
        return (f"{self.assets[i]}/{self.assets[u]} ratio {self.path[i, t - 1]:.4f} -> "
                f"{self.path[i, t]:.4f} ({move:+.2%}, exogenous basis path): {self.assets[i]} "
                f"{before[i]:,.4g} -> {self.price[i]:,.4g}")

    def _record(self, i: int, event_id: int) -> None:
        now = float(self.price[i])
        self.model.moves.record(self.source[i], event_id, float(np.log(now / self._mark[i])))
        self._mark[i] = now

    def attribute(self, asset: int, event_id: int) -> None:
        """Record the external price's move since the last attribution (and the moves its
        liquid-staking tokens made with it) as ``event_id``'s doing."""
        self._record(asset, event_id)
        if self.lst.size:
            for j in self.lst[self.lst_underlying == asset]:
                self._record(int(j), event_id)

    def moved(self, asset: int, event_id: int, pool: Any = None) -> None:
        """Event ``event_id`` moved ``asset``: through ``pool`` (its spot), or the external
        price when ``pool`` is None. Every writer of :attr:`last_move_event` goes here."""
        self.last_move_event[asset] = event_id
        if pool is not None:
            pool.attribute(event_id)
        else:
            self.attribute(asset, event_id)

    def _reprice(self, t: int) -> None:
        self.price = self.path[:, t] * np.exp(self.log_impact) * self.crash_factor
        if self.lst.size:
            self.price[self.lst] *= self.price[self.lst_underlying]  # ratio x underlying

    def _carry_to_lsts(self, asset: int, factor: float) -> None:
        """Move the liquid-staking tokens on ``asset`` with it (their ratio is unchanged)."""
        if self.lst.size:
            self.price[self.lst[self.lst_underlying == asset]] *= factor

    # ------------------------------------------------------------------ flows
    def sell(self, asset: int, units: float) -> float:
        """Sell ``units`` of ``asset`` to the outside world (negative: buy); return USD received.

        Notes
        -----
        With price impact ``d ln p = -r dq / depth`` (``r`` the current price ``p0``, or the
        initial price with ``impact_model="per_unit"``), selling ``q`` units returns
        ``depth (p0 / r) (1 - exp(-q r / depth))`` and leaves the price at
        ``p0 exp(-q r / depth)``.
        """
        if units == 0.0 or asset == self.numeraire:
            return float(units) * (1.0 if asset == self.numeraire else 0.0)
        proceeds = self._sell_usd(asset, units)
        if self.numeraire_on:  # USD proceeds, paid in numeraire units at its price
            proceeds = proceeds / float(self.price[self.numeraire])
        self.outside_units[self.numeraire] -= proceeds
        return proceeds

    def _sell_usd(self, asset: int, units: float) -> float:
        """:meth:`sell`'s USD proceeds; moves the price and the outside's ``asset`` units."""
        p0 = self.price[asset]
        depth = self.depth_usd[asset]
        ref = self.initial_price[asset] if self.per_unit[asset] else p0
        x = units * ref / depth
        if np.isfinite(depth) and not self._within_bound(asset, x):
            proceeds = float(self._quote_sale_usd(asset, np.array(units)))
            x = self._bounded(asset, x)
        elif self.per_unit[asset]:
            proceeds = (float(depth * (p0 / ref) * -np.expm1(-x)) if np.isfinite(depth)
                        else float(units * p0))
        else:
            proceeds = float(depth * -np.expm1(-x)) if np.isfinite(depth) else float(units * p0)
        self.log_impact[asset] -= x if np.isfinite(depth) else 0.0
        self.price[asset] = p0 * np.exp(-x) if np.isfinite(depth) else p0
        self._carry_to_lsts(asset, float(self.price[asset] / p0))
        self.outside_units[asset] += units
        return proceeds

    def _within_bound(self, asset: int, x: float) -> bool:
        """Whether a flow of log impact ``x`` keeps the impact within ``MAX_LOG_IMPACT``."""
        return bool(abs(self.log_impact[asset] - x) <= MAX_LOG_IMPACT)

    def _bounded(self, asset: int, x: float) -> float:
        """The part of log impact ``x`` that the bound lets move the price."""
        li = float(self.log_impact[asset])
        return li - min(max(li - float(x), -MAX_LOG_IMPACT), MAX_LOG_IMPACT)

    def quote_sale(self, asset: int, units: NDArray[np.float64]) -> NDArray[np.float64]:
        """USD that selling ``units`` (each entry a separate sale; negative: a purchase, a
        negative amount) into the external book would fetch now, without selling.

        ``depth * (1 - exp(-q p / depth))`` (per unit: ``depth (p / p_init) (1 - exp(-q p_init
        / depth))``); past ``MAX_LOG_IMPACT`` the rest of the flow fills at the boundary price.
        """
        if self.numeraire_on:
            return self._quote_sale_usd(asset, units) / float(self.price[self.numeraire])
        return self._quote_sale_usd(asset, units)

    def _quote_sale_usd(self, asset: int, units: NDArray[np.float64]) -> NDArray[np.float64]:
        shape = np.shape(units)
        units = np.atleast_1d(np.asarray(units, dtype=np.float64))
        p0, depth = float(self.price[asset]), float(self.depth_usd[asset])
        if not np.isfinite(depth):
            return (units * p0).reshape(shape)
        per_unit = bool(self.per_unit[asset])
        ref = float(self.initial_price[asset]) if per_unit else p0
        x = units * ref / depth
        with np.errstate(over="ignore"):
            out = depth * -np.expm1(-x)
            if per_unit:
                out *= p0 / ref
        li = float(self.log_impact[asset])
        out_of_band = np.abs(li - x) > MAX_LOG_IMPACT
        if out_of_band.any():
            xo = x[out_of_band]
            xe = li - np.clip(li - xo, -MAX_LOG_IMPACT, MAX_LOG_IMPACT)  # within the band
            rest = units[out_of_band] - xe * depth / ref  # units filled at the boundary price
            head = depth * -np.expm1(-xe) * (p0 / ref if per_unit else 1.0)
            out[out_of_band] = head + rest * p0 * np.exp(-xe)
        return out.reshape(shape)

    def outside_receives(self, asset: int, units: float) -> None:
        """The outside world receives ``units`` of ``asset`` (negative: it pays them). The
        one way other agents change :attr:`outside_units`: the market owns that ledger."""
        self.outside_units[asset] += units

    def impact(self, asset: int, units_sold: float) -> None:
        """Move the price as if ``units_sold`` were sold, with no transfer (flows that stay
        inside the outside world, e.g. an arbitrageur's external leg)."""
        if asset == self.numeraire or not np.isfinite(self.depth_usd[asset]):
            return
        ref = self.initial_price[asset] if self.per_unit[asset] else self.price[asset]
        x = units_sold * ref / self.depth_usd[asset]
        if not self._within_bound(asset, x):
            x = self._bounded(asset, x)
        self.log_impact[asset] -= x
        self.price[asset] *= np.exp(-x)
        self._carry_to_lsts(asset, float(np.exp(-x)))

    def scale_depth(self, multiplier: NDArray[np.float64]) -> None:
        """Set each asset's depth to ``multiplier`` times its normal depth (a liquidity
        shock; see :mod:`contagion.mechanics.liquidity`). Prices do not move by themselves:
        only later flows feel the thinner book."""
        self.depth_usd = self.normal_depth_usd * multiplier

    def crash_token_of(self, issuer: str, cause_id: int) -> None:
        """Crash the tokens issued by ``issuer`` (it defaulted)."""
        for token in self.issuer_of.get(issuer, []):
            self._crash_token(issuer, token, cause_id)

    def _crash_token(self, issuer: str, token: str, cause_id: int) -> None:
        i = self.index[token]
        frac = self.crash_pct[token]
        before = float(self.price[i])
        self.crash_factor[i] *= 1.0 - frac
        self.price[i] *= 1.0 - frac
        self._carry_to_lsts(i, 1.0 - frac)
        eid = self.model.events.add(
            "token_crash", step=self.model.steps, venue=issuer, asset=token,
            price=float(self.price[i]), amount=-frac, cause_id=cause_id, price_before=before,
            detail=f"{token} crashed {before:,.4g} -> {self.price[i]:,.4g} (-{frac:.0%}) "
                   f"because its issuer {issuer} defaulted")
        self.moved(i, eid)

    def reprice_claim(self, asset: int, factor: float, *, bridge: str, backing_ratio: float,
                      halted: bool, cause_id: int) -> int:
        """A bridge's claim is worth ``factor`` of its underlying (its backing, less a discount
        while the bridge is halted; :func:`contagion.mechanics.bridge.claim_price_factor`):
        rescale its price so its standing factor is ``factor`` and log ``claim_repriced``
        (caused by ``cause_id``, the bridge's event), the move its oracles and pools then
        cite. Flows since (liquidation sales) keep their impact on top. Returns the event's
        id, or -1 when the factor did not change."""
        old = float(self.crash_factor[asset])
        if factor == old:
            return -1
        before = float(self.price[asset])
        self.crash_factor[asset] = factor
        self.price[asset] *= factor / old
        after = float(self.price[asset])
        name = self.assets[asset]
        eid = self.model.events.add(
            "claim_repriced", step=self.model.steps, venue=bridge, asset=name, price=after,
            amount=factor, cause_id=cause_id, price_before=before, bridge=bridge,
            backing_ratio=float(backing_ratio), halted=int(halted),
            detail=f"{name} repriced {before:,.4g} -> {after:,.4g}: {bridge} backs it "
                   f"{backing_ratio:.0%}{' and is halted' if halted else ''}, so it is worth "
                   f"{factor:.0%} of its underlying")
        self.moved(asset, eid)
        return eid

    def holdings(self) -> NDArray[np.float64]:
        """Units of each asset held by the outside world."""
        return self.outside_units.copy()
