"""A clearing house (a CCP): variation margin every step, a default waterfall on a default.

Its members are institutions of the scenario (custodial exchanges, trading firms): each
clears a position in the house's asset, posts initial margin (IM) and a default-fund (DF)
contribution out of its cash at set-up (both stay on its books as a claim on the house,
``house_claims_usd``), and pays or receives variation margin (VM) in cash every step at the
house's oracle price. The other side of the members' net position is the outside market
(clients who are not members), which always pays.

A member that cannot pay its VM call, or that has defaulted elsewhere, is in default at the
house: the house closes its position (the outside market takes it over, at a cost of
``closeout_cost_frac`` of its notional) and covers the loss, the unpaid VM plus that cost,
with :func:`contagion.mechanics.waterfall.default_waterfall`: the defaulter's IM, its DF,
the house's skin in the game, the survivors' DF pro rata, then assessments paid from the
survivors' cash. Survivors' losses are real: their claim on the house falls and their cash
pays the assessments, so a thin survivor can then fail at its own venue or at the house
(the cascade crosses the graph). Anything still uncovered haircuts the VM gains the house
pays that step (a ``gains_haircut`` waterfall event: the recovery tool of last resort); only
a loss larger than all those gains puts the house itself in default.

Membership and the amounts posted come from the world graph's ``clears`` and
``default_fund`` edges (:mod:`contagion.world`): a member whose ``clears`` edge is cut is
not a member.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import mesa
import numpy as np

from contagion.errors import ParameterError
from contagion.institution import BalanceSheet
from contagion.mechanics.waterfall import WaterfallResult, default_waterfall

if TYPE_CHECKING:
    from contagion.model import ContagionModel
    from contagion.params import ClearingHouseParams

__all__ = ["ClearingHouse"]

PAY_TOL_USD = 1e-6  # a payment short by less than this is paid (rounding)


class ClearingHouse(mesa.Agent):
    """Marks members' positions, collects and pays variation margin, runs the waterfall."""

    kind = "clearing_house"

    def __init__(self, model: ContagionModel, params: ClearingHouseParams) -> None:
        super().__init__(model)
        self.params = params
        self.name = params.name
        self.defaulted = False
        self.default_step = -1
        market = model.market
        self.asset = market.index[params.asset]
        w = model.wiring
        price0 = float(market.price[self.asset])
        listed = [m for m in params.members if (m.name, self.name) in w.clears]
        self.members: list[Any] = [model.institutions[m.name] for m in listed]
        n = len(self.members)
        self.units = np.array([m.notional_usd / price0 for m in listed])
        self.margin_usd = np.array([w.clears[(m.name, self.name)] for m in listed])
        self.fund_usd = np.array([w.default_fund.get((m.name, self.name), 0.0) for m in listed])
        self.fund0_usd = self.fund_usd.copy()
        self.open = np.ones(n, dtype=bool)
        self.sitg_usd = float(params.skin_in_the_game_usd)
        self.outside_units = -float(self.units.sum())  # non-member clients: the other side
        for i, (m, agent) in enumerate(zip(listed, self.members, strict=True)):
            need = float(self.margin_usd[i] + self.fund_usd[i])
            if need > agent.cash_usd + PAY_TOL_USD:
                raise ParameterError(
                    f"clearing_houses[{self.name}].members[{m.name}].notional_usd",
                    m.notional_usd, f"a position whose margin and fund contribution "
                    f"(${need:,.0f}) {m.name}'s cash (${agent.cash_usd:,.0f}) can pay",
                    "members post initial margin and default-fund contributions in cash")
            agent.cash_usd -= need
            agent.house_claims_usd = getattr(agent, "house_claims_usd", 0.0) + need
        self.cash_usd = float(self.margin_usd.sum() + self.fund_usd.sum()) + self.sitg_usd
        self.last_price = price0  # the oracle's, once wired (see wire)
        self.oracle: Any = None  # set from the world graph's price_feed edge (model._wire)
        self.vm_collected_usd = 0.0
        self.vm_paid_usd = 0.0
        self.waterfall_usd = {"defaulter_margin": 0.0, "defaulter_fund": 0.0,
                              "skin_in_the_game": 0.0, "survivors_fund": 0.0,
                              "assessments": 0.0, "gains_haircut": 0.0, "residual": 0.0}
        self.waterfalls: list[dict[str, Any]] = []  # inputs and results, for validation
        self.mutualised = False
        self._last_waterfall_event = -1  # the cause a haircut or the house's default cites

    # ------------------------------------------------------------------ institution
    def liabilities_usd(self) -> float:
        """Members' margin and fund contributions held (their claims on the house)."""
        return float(self.margin_usd[self.open].sum() + self.fund_usd.sum())

    def balance_sheet(self) -> BalanceSheet:
        """Cash against members' claims; at risk once survivors' contributions are used."""
        return BalanceSheet(assets_usd=self.cash_usd, liabilities_usd=self.liabilities_usd(),
                            at_risk=int(self.mutualised))

    def network_state(self) -> str:
        return "at_risk" if self.mutualised else "healthy"

    def on_default(self, event_id: int) -> None:
        """Nothing before the clearing: it keeps marking and haircutting gains."""

    def after_default(self, event_id: int) -> None:
        """Nothing after it."""

    def holdings(self) -> dict[int, float]:
        return {self.model.market.numeraire: self.cash_usd}

    def account_owners(self) -> np.ndarray:
        """It keeps no trader accounts."""
        return np.zeros(0, dtype=np.int64)

    def wire(self, oracle: Any) -> None:
        """Mark to ``oracle`` (the world graph's price feed); before the first step, its
        price is the mark the first variation margin is measured from."""
        self.oracle = oracle
        if self.model.steps == 0:
            self.last_price = float(oracle.price)

    def member_names(self) -> list[str]:
        return [m.name for m in self.members]

    # ------------------------------------------------------------------ the step
    def step(self) -> None:
        """Mark to the oracle, collect variation margin, close out defaulters through the
        waterfall, pay the gains (haircut by any uncovered residual)."""
        model, ev, step = self.model, self.model.events, int(self.model.steps)
        price = float(self.oracle.price)
        move = price - self.last_price
        self.last_price = price
        vm = np.where(self.open, self.units * move, 0.0)  # members' gains (+) and losses (-)
        outside_vm = self.outside_units * move
        cause = int(getattr(self.oracle, "last_event", -1))
        defaulters: list[tuple[int, float, int]] = []  # (member, unpaid VM, cause event)
        for i in np.flatnonzero(self.open):
            member = self.members[i]
            if member.defaulted:  # in default elsewhere: frozen, pays nothing
                owed = max(-float(vm[i]), 0.0)
                defaulters.append((int(i), owed, int(getattr(member, "default_event", -1))))
                continue
            if vm[i] >= 0:
                continue
            owed = -float(vm[i])
            paid = min(owed, max(float(member.cash_usd), 0.0))
            member.cash_usd -= paid
            self.cash_usd += paid
            self.vm_collected_usd += paid
            missed = paid < owed - PAY_TOL_USD
            eid = ev.add("variation_margin_call", step=step, venue=self.name, agent=member.name,
                         asset=model.market.assets[self.asset], price=price, value_usd=owed,
                         amount=float(self.units[i]), cause_id=cause,
                         outcome="missed" if missed else "paid", called_usd=owed, paid_usd=paid,
                         unpaid_usd=owed - paid, member_cash_usd=float(member.cash_usd),
                         detail=f"{self.name} called ${owed:,.0f} of variation margin from "
                                f"{member.name}" + (f", which paid only ${paid:,.0f}"
                                                    if missed else ", which paid"))
            if missed:
                defaulters.append((int(i), owed - paid, eid))
                model.report_default(member, eid, "missed_margin_call",
                                     f"{member.name} could not pay ${owed:,.0f} of variation "
                                     f"margin to {self.name}", shortfall_usd=owed - paid)
        if outside_vm < 0:  # non-member clients pay their losses in full
            model.market.outside_receives(model.market.numeraire, float(outside_vm))
            self.cash_usd -= float(outside_vm)
        residual = 0.0
        for k, unpaid, why in defaulters:
            residual += self._close_out(k, unpaid, price, why)
        gains = np.where(vm > 0, vm, 0.0)
        owed_gains = float(gains.sum()) + max(float(outside_vm), 0.0)
        pay_frac = 1.0 - min(residual / owed_gains, 1.0) if owed_gains > 0 else 1.0
        if residual > PAY_TOL_USD:  # the last resort: haircut the gains it owes this step
            cut = owed_gains * (1.0 - pay_frac)
            self._last_waterfall_event = ev.add(
                "waterfall", step=step, venue=self.name, agent=self.members[defaulters[-1][0]].name,
                value_usd=cut, cause_id=self._last_waterfall_event, layer="gains_haircut",
                loss_usd=residual, residual_usd=max(residual - cut, 0.0),
                haircut_frac=1.0 - pay_frac,
                detail=f"{self.name} haircut the ${owed_gains:,.0f} of variation-margin gains it "
                       f"owed by {1.0 - pay_frac:.1%} to cover ${residual:,.0f} its waterfall "
                       "left uncovered")
            self.waterfall_usd["gains_haircut"] += cut
        for i in np.flatnonzero(gains > 0):
            got = float(gains[i]) * pay_frac
            self.members[i].cash_usd += got
            self.cash_usd -= got
            self.vm_paid_usd += got
        if outside_vm > 0:
            got = float(outside_vm) * pay_frac
            model.market.outside_receives(model.market.numeraire, got)
            self.cash_usd -= got
        if residual - owed_gains > PAY_TOL_USD and not self.defaulted:
            model.report_default(self, self._last_waterfall_event, "uncovered_shortfall",
                                 f"{self.name}'s waterfall and all the gains it owed could not "
                                 f"cover ${residual:,.0f}", shortfall_usd=residual - owed_gains)

    def _close_out(self, i: int, unpaid_usd: float, price: float, cause: int) -> float:
        """Close member ``i``'s position (the outside market takes it over) and cover its
        loss through the waterfall; return what the waterfall left uncovered."""
        model, ev, step = self.model, self.model.events, int(self.model.steps)
        member = self.members[i]
        cost = self.params.closeout_cost_frac * abs(float(self.units[i])) * price
        self.outside_units += float(self.units[i])
        self.units[i] = 0.0
        self.open[i] = False
        model.market.outside_receives(model.market.numeraire, cost)
        self.cash_usd -= cost
        loss = unpaid_usd + cost
        survivors = np.flatnonzero(self.open & np.array([not m.defaulted for m in self.members],
                                                        dtype=bool))
        r: WaterfallResult = default_waterfall(
            loss, margin_usd=float(self.margin_usd[i]), fund_usd=float(self.fund_usd[i]),
            sitg_usd=self.sitg_usd, survivor_fund_usd=self.fund_usd[survivors],
            assessment_multiple=self.params.assessment_multiple)
        self.waterfalls.append({"step": step, "member": member.name, "loss_usd": loss,
                                "margin_usd": float(self.margin_usd[i]),
                                "fund_usd": float(self.fund_usd[i]), "sitg_usd": self.sitg_usd,
                                "survivor_fund_usd": self.fund_usd[survivors].copy(),
                                "assessment_multiple": self.params.assessment_multiple,
                                "result": r})
        # the defaulter's own layers; what is left of them goes back to its estate
        returned = float(self.margin_usd[i] + self.fund_usd[i]) - (
            r.defaulter_margin_usd + r.defaulter_fund_usd)
        member.house_claims_usd -= float(self.margin_usd[i] + self.fund_usd[i])
        member.cash_usd += returned
        self.cash_usd -= returned
        self.margin_usd[i] = 0.0
        self.fund_usd[i] = 0.0
        self.sitg_usd -= r.skin_in_the_game_usd
        unpaid_calls = 0.0
        left = loss
        layer_events: dict[str, int] = {}
        for layer, paid in r.layers():
            if paid <= 0:
                continue
            left -= paid
            layer_events[layer] = ev.add(
                "waterfall", step=step, venue=self.name, agent=member.name, value_usd=paid,
                cause_id=cause, layer=layer, loss_usd=loss, residual_usd=max(left, 0.0),
                detail=f"{self.name}'s waterfall for {member.name}: {layer.replace('_', ' ')} "
                       f"paid ${paid:,.0f} of its ${loss:,.0f} loss (${max(left, 0.0):,.0f} left)")
        for k, j in enumerate(survivors):
            surv = self.members[j]
            fund_loss = float(r.survivors_fund_usd[k])
            call = float(r.assessments_usd[k])
            if fund_loss <= 0 and call <= 0:
                continue
            self.mutualised = True
            self.fund_usd[j] -= fund_loss
            surv.house_claims_usd -= fund_loss
            paid = min(call, max(float(surv.cash_usd), 0.0))
            surv.cash_usd -= paid
            self.cash_usd += paid
            unpaid_calls += call - paid
            eid = ev.add(
                "default_fund_loss", step=step, venue=surv.name, agent=self.name,
                value_usd=fund_loss + paid, cause_id=layer_events.get(
                    "assessments" if call > 0 else "survivors_fund", cause),
                defaulter=member.name, fund_loss_usd=fund_loss, assessment_usd=call,
                assessment_paid_usd=paid, fund_left_usd=float(self.fund_usd[j]),
                detail=f"{surv.name} lost ${fund_loss:,.0f} of its default-fund contribution to "
                       f"{self.name}" + (f" and paid ${paid:,.0f} of a ${call:,.0f} assessment"
                                         if call > 0 else "") + f" for {member.name}'s default")
            if hasattr(surv, "last_loss_event"):  # an exchange's books see it next step
                surv.last_loss_event = eid
            surv.house_losses_usd = getattr(surv, "house_losses_usd", 0.0) + fund_loss + paid
            surv.house_loss_event = eid
            if paid < call - PAY_TOL_USD:
                model.report_default(surv, eid, "missed_assessment",
                                     f"{surv.name} could not pay its ${call:,.0f} assessment "
                                     f"to {self.name}", shortfall_usd=call - paid)
        for layer, paid in r.layers():
            self.waterfall_usd[layer] += paid
        residual = r.residual_usd + unpaid_calls
        self.waterfall_usd["residual"] += residual
        if layer_events:
            self._last_waterfall_event = max(layer_events.values())
        return residual
