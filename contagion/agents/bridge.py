"""A lock-and-mint bridge: collateral locked on one chain, claims on it minted on another.

The bridge owns its locked units of the underlying (counted in the model's conservation
check: an exploit hands them to the outside world, a recapitalisation takes them back), the
claims it has minted (a number: most of them circulate outside the model), and its halted
flag. Each step, in the market stage (after the external market moves, before pools
arbitrage toward it):

1. at ``exploit_step`` an attacker drains ``exploit_frac`` of the locked collateral
   (``bridge_exploit``); at ``recapitalise_step`` a backer refills it (``bridge_recapitalised``);
2. the bridge halts or resumes (``bridge_halt``, phase ``start``/``end``); while halted, the
   cross-margin transfers in flight to the perp venues it carries (its ``bridge_route``
   edges) are postponed a step at a time, so they settle in the first step after the halt;
3. the market reprices every claim it issues (its ``issues`` edges) to
   :func:`~contagion.mechanics.bridge.claim_price_factor` of the underlying
   (``claim_repriced``, caused by the bridge's event of the step): oracles, pools and every
   lender that takes the claim as collateral see it from there.

What a halt does to cross-chain margin, and what it does not: a transfer's amount left the
depositors when it was promised (``CustodialExchange.seize``) and the custodian still owes
it, so a transfer frozen by a halt arrives on resume if the custodian can still pay, and is
lost with everything else it owes if the custodian defaults first (the settlement window,
lengthened by the halt). The perp venues count no cross-margin credit for deposits that cannot
cross while the bridge is halted, so their cross-margined traders are liquidated on their own
collateral meanwhile. An exploit takes the claim's locked collateral, not margin in flight:
the transfers are the custodian's promises, not claims on the bridge.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

from contagion.mechanics.bridge import (
    backing_ratio,
    claim_price_factor,
    refill_units,
    stolen_units,
)

if TYPE_CHECKING:
    from contagion.model import ContagionModel
    from contagion.params import BridgeParams
    from contagion.settlement import Settlement

__all__ = ["Bridge"]


class Bridge(mesa.Agent):
    """Holds ``locked_units`` of the claim's underlying against as many claims minted.

    Examples
    --------
    >>> from models import get_scenario
    >>> from contagion.model import ContagionModel
    >>> m = ContagionModel(get_scenario("bridge_exploit", n_traders=200), seed=0)
    >>> b = m.bridges[0]
    >>> b.name, b.backing_ratio()
    ('Portal', 1.0)
    """

    kind = "bridge"

    def __init__(self, model: ContagionModel, params: BridgeParams) -> None:
        super().__init__(model)
        self.params = params
        self.name = params.name
        market = model.market
        spec = next(a for a in model.scenario.assets if a.name == params.asset)
        self.underlying = market.index[str(spec.underlying)]
        self.locked_units = float(params.locked_units)
        self.minted_units = float(params.locked_units)  # fully backed at the start
        self.stolen_units = 0.0
        self.refilled_units = 0.0
        self.halted = False
        self.defaulted = False  # the model never declares a bridge's default: see state()
        self.default_step = -1
        self.last_event = -1  # the bridge's latest event: the cause of the claim's reprice
        self.frozen_usd = 0.0  # transfers in flight when the current (or last) halt began
        self.released_usd = 0.0  # transfers released when the last halt ended
        # channels, from the world graph (``issues`` and ``bridge_route`` edges)
        self.claims: list[int] = []
        self.routes: list[str] = []

    def wire(self, claims: list[str], routes: list[str]) -> None:
        """Point the bridge at the claims it reprices and the perp venues it carries."""
        market = self.model.market
        self.claims = [market.index[c] for c in claims]
        self.routes = list(routes)

    # ------------------------------------------------------------------ views
    def backing_ratio(self) -> float:
        """Locked units per claim minted."""
        return backing_ratio(locked_units=self.locked_units, minted_units=self.minted_units)

    def price_factor(self) -> float:
        """The claim's price as a fraction of its underlying's, now."""
        return claim_price_factor(self.backing_ratio(), halted=self.halted,
                                  halt_discount_frac=self.params.halt_discount_frac)

    def in_flight(self) -> list[Settlement]:
        """The cross-margin transfers in flight to the venues it carries (those of a
        positive amount: a call on an account with no deposit left opens an empty one)."""
        routes = set(self.routes)
        return [r for r in self.model.settlements.of(kind="margin_transfer")
                if r.payee in routes and r.amount_usd > 0]

    def in_flight_usd(self) -> float:
        return float(sum(r.amount_usd for r in self.in_flight()))

    def holdings(self) -> dict[int, float]:
        """The locked collateral (the claims are not units the model counts: they are the
        assets of the holders that hold them)."""
        return {self.underlying: self.locked_units}

    def claims_usd(self) -> float:
        """The claims outstanding at the underlying's price (what they would be worth whole)."""
        return self.minted_units * float(self.model.market.price[self.underlying])

    def locked_usd(self) -> float:
        return self.locked_units * float(self.model.market.price[self.underlying])

    def state(self) -> str:
        """``defaulted`` while claims are under-backed (it failed its claim holders),
        ``at_risk`` while halted, else ``healthy``."""
        if self.backing_ratio() < 1.0 - 1e-12:
            return "defaulted"
        return "at_risk" if self.halted else "healthy"

    # ------------------------------------------------------------------ step
    def step(self) -> None:
        p, now = self.params, int(self.model.steps)
        cause = self.last_event
        if now == p.exploit_step and p.exploit_frac > 0:
            self._exploit()
        if now == p.recapitalise_step:
            self._recapitalise()
        backing_event = self.last_event if self.last_event != cause else -1
        halted = p.halted_at(now)
        if halted != self.halted:
            self._halt(halted)
        # the claim moves for its backing's news first (an exploit, a refill), else the halt's
        cause = backing_event if backing_event >= 0 else self.last_event
        if self.halted:
            routes = set(self.routes)
            frozen = [r.sid for r in self.model.settlements.of(kind="margin_transfer")
                      if r.payee in routes and r.due_step <= now]
            self.model.settlements.postpone(frozen, now + 1)
        factor = self.price_factor()
        for claim in self.claims:
            self.model.market.reprice_claim(claim, factor, bridge=self.name,
                                            backing_ratio=self.backing_ratio(),
                                            halted=self.halted, cause_id=cause)

    def _exploit(self) -> None:
        market, price = self.model.market, float(self.model.market.price[self.underlying])
        before, ratio0 = self.locked_units, self.backing_ratio()
        taken = stolen_units(locked_units=before, exploit_frac=self.params.exploit_frac)
        self.locked_units -= taken
        self.stolen_units += taken
        market.outside_receives(self.underlying, taken)  # the attacker's
        name = market.assets[self.underlying]
        self.last_event = self.model.events.add(
            "bridge_exploit", step=self.model.steps, venue=self.name, agent="attacker",
            asset=name, amount=taken, value_usd=taken * price, price=price,
            locked_before_units=before, locked_units=self.locked_units,
            minted_units=self.minted_units, backing_before=ratio0,
            backing_ratio=self.backing_ratio(),
            detail=f"an attacker drained {taken:,.0f} {name} (${taken * price:,.0f}) from "
                   f"{self.name}: its claims are backed {self.backing_ratio():.0%} "
                   f"(from {ratio0:.0%})")

    def _recapitalise(self) -> None:
        market, price = self.model.market, float(self.model.market.price[self.underlying])
        ratio0 = self.backing_ratio()
        refill = refill_units(locked_units=self.locked_units, minted_units=self.minted_units)
        if refill <= 0:
            return
        self.locked_units += refill
        self.refilled_units += refill
        market.outside_receives(self.underlying, -refill)  # the backer's
        name = market.assets[self.underlying]
        self.last_event = self.model.events.add(
            "bridge_recapitalised", step=self.model.steps, venue=self.name, agent="backer",
            asset=name, amount=refill, value_usd=refill * price, price=price,
            cause_id=self.last_event, locked_units=self.locked_units,
            minted_units=self.minted_units, backing_before=ratio0,
            backing_ratio=self.backing_ratio(),
            detail=f"a backer put {refill:,.0f} {name} (${refill * price:,.0f}) back into "
                   f"{self.name}: its claims are fully backed again")

    def _halt(self, halted: bool) -> None:
        now = int(self.model.steps)
        self.halted = halted
        records = self.in_flight()
        if halted:
            amount = float(sum(r.amount_usd for r in records))
            self.frozen_usd = amount
            what = (f"{len(records)} cross-margin transfers (${amount:,.0f}) in flight are "
                    "frozen" if records else "no transfer in flight")
            detail = (f"{self.name} halted for {self.params.halt_steps} steps: {what}; its "
                      "venues stop counting deposits that cannot cross")
        else:
            released = [r for r in records if r.due_step <= now]
            amount = float(sum(r.amount_usd for r in released))
            records = released
            self.released_usd = amount
            detail = (f"{self.name} resumed: {len(records)} transfers (${amount:,.0f}) held "
                      "by the halt settle now" if records else f"{self.name} resumed")
        self.last_event = self.model.events.add(
            "bridge_halt", step=now, venue=self.name, value_usd=amount,
            cause_id=self.last_event if halted else -1, phase="start" if halted else "end",
            halt_steps=self.params.halt_steps, in_flight_usd=amount, transfers=len(records),
            detail=detail)
