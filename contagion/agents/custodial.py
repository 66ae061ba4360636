"""A custodial exchange: customer deposits, rehypothecation, a bank run, default."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import mesa
import numpy as np
from numpy.typing import NDArray

from contagion.book import DepositBook
from contagion.institution import OUTSIDE, BalanceSheet, CreditPosition
from contagion.mechanics.solvency_proof import due_snapshot, is_snapshot, publish, updated_thresholds
from contagion.settlement import Settlement, in_window, window_loss_usd

if TYPE_CHECKING:
    from contagion.agents.lending import LendingProtocol
    from contagion.agents.pool import AMMPool
    from contagion.model import ContagionModel
    from contagion.params import CustodialParams

__all__ = ["CustodialExchange"]

INSOLVENCY_TOL_FRAC = 1e-9  # equity within 1e-9 of liabilities of zero is solvent (rounding)


class CustodialExchange(mesa.Agent):
    """Holds customers' stablecoin and does other things with most of it.

    Assets: ``cash_usd``, its own token, other assets it holds (``asset_units``, e.g.
    Celsius's stETH, at market), a supply position at a lending protocol, loans to
    institutions (credit links) and ``illiquid_usd`` (venture stakes, at face value, not
    saleable). Liabilities: deposits and its own borrowings. Each step depositors withdraw
    according to its stress (its token's fall and, with ``solvency_proofs``, its published
    reserve shortfall). It raises cash by selling its token into its pool, then (with
    ``sell_assets_in_run``) its other assets into theirs (``asset_sale`` events), withdrawing
    its lending supply and recalling loans (repaid after ``settlement_delay_steps``). When it
    cannot pay, it freezes withdrawals and defaults; depositors then hold claims worth the
    clearing recovery rate. With ``freeze_when_insolvent`` it also freezes and defaults when
    a borrower's default, a write-down or a fall in its held assets (marked at the step's
    opening prices) leaves its assets below its liabilities, run or no run. With
    ``liquidate_on_default`` it fire-sells all its held assets when it defaults.
    """

    kind = "custodial"

    def __init__(self, model: ContagionModel, params: CustodialParams, book: DepositBook,
                 *, cash_usd: float, token_units: float, illiquid_usd: float,
                 asset_units: dict[int, float] | None = None) -> None:
        super().__init__(model)
        self.params = params
        self.name = params.name
        self.book = book
        self.cash_usd = cash_usd
        self.token = model.market.index[params.token] if params.token else None
        self.token_units = token_units
        self.illiquid_usd = illiquid_usd
        self.asset_units: dict[int, float] = dict(asset_units or {})  # asset index -> units
        # channels, set from the world graph's edges by the model (ContagionModel._wire):
        # the pool each held asset is sold into (none: the external market), its token's
        # pool, the lender it supplies
        self.routes: dict[str, AMMPool] = {}
        #: its oracle of a depegging numeraire (its ``price_feed`` edge): it converts
        #: USD-priced assets into numeraire units (its books' unit) at it; None: at $1
        self.num_feed: Any = None
        self.pool: AMMPool | None = None
        self.lending: LendingProtocol | None = None
        self.loans: dict[str, float] = {}  # borrower -> outstanding
        self.borrowings: dict[str, float] = {}  # lender -> outstanding
        # recalls it made and transfers it owes in flight live in model.settlements
        self.awaiting_settlement = False  # withdrawals frozen until its recalls settle
        self.recovery_rate = 1.0
        self.house_claims_usd = 0.0  # margin and fund contributions at clearing houses
        self.version = 0  # bumped whenever deposits or their recovery value change
        self.defaulted = False
        self.default_step = -1
        self.loss_event = -1
        self._default_sales: list[tuple[int, float, float, str]] = []
        self.last_loss_event = -1
        self.stress = 0.0
        self.withdrawn_usd = 0.0
        self.step_withdrawn_usd = 0.0
        self.unpaid_usd = 0.0
        self._initial_token_price = (float(model.market.price[self.token])
                                     if self.token is not None else 1.0)
        # the books mark held assets at the prices of the step's start (see _open_books)
        self._book_step = int(model.steps)
        self._book_price = model.market.price.copy()
        self._book_move_event = model.market.last_move_event.copy()
        self._held_usd0 = self.held_assets_usd()
        # solvency proofs of kind "reserves" / "liabilities" (see _prove)
        self._snapshots: dict[int, tuple[float, float, float, float]] = {}
        self.published_ratio = np.inf  # nothing published yet: no shortfall seen
        self._proof_event = -1
        self._proof_drives = False  # the published shortfall, not the token, drives stress
        self._base_threshold: NDArray[np.float64] | None = None
        self.hole_revealed = False

    # ------------------------------------------------------------------ views
    def deposits_usd(self) -> float:
        return float(self.book.balance.sum())

    def assets_usd(self) -> float:
        """Assets at market, loans marked at their borrowers' recovery rates."""
        market = self.model.market
        token = (self.token_units * float(market.price[self.token]) / self._numeraire_usd()
                 if self.token is not None else 0)
        supply = self.lending.claim_of(self.name) if self.lending is not None else 0.0
        loans = sum(amount * self.model.recovery.get(b, 1.0) for b, amount in self.loans.items())
        return (self.cash_usd + token + supply + loans + self.illiquid_usd + self.held_assets_usd()
                + self.house_claims_usd)

    def book_assets_usd(self) -> float:
        """Assets as its books carry them, the test of ``freeze_when_insolvent``.

        As :meth:`assets_usd`, except that a loan is written down to its borrower's
        recovery rate only once the borrower has defaulted, at an earlier step; until then
        it counts at face (no impairment before a default). A default therefore reaches its
        lenders' books one step later, whatever the order in which the exchanges act, and a
        cascade of insolvencies advances one round per step: the rounds of Eisenberg-Noe's
        fictitious default algorithm and of Gai & Kapadia's cascade
        (``models.classic.interbank``). Likewise held assets are marked at the prices of the
        step's start (:meth:`book_held_assets_usd`): another exchange's fire sale reaches its
        books one step later (the rounds of Caccioli et al.'s fire-sale cascade,
        ``models.classic.fire_sales_preset``).
        """
        now, inst, rec = self.model.steps, self.model.institutions, self.model.recovery
        not_yet = sum(amount * (1.0 - rec.get(b, 1.0)) for b, amount in self.loans.items()
                      if not (inst[b].defaulted and inst[b].default_step < now))
        held = self.book_held_assets_usd() - self.held_assets_usd() if self.asset_units else 0.0
        return self.assets_usd() + not_yet + held

    def book_held_assets_usd(self) -> float:
        """Its held assets at the prices of the step's start, before any exchange acted."""
        held = float(sum(units * self._book_price[a] for a, units in self.asset_units.items()))
        return held if self.num_feed is None else held / self._numeraire_usd()

    def held_assets_usd(self) -> float:
        """Its holdings of other assets at the external market price."""
        price = self.model.market.price
        held = float(sum(units * price[a] for a, units in self.asset_units.items()))
        return held if self.num_feed is None else held / self._numeraire_usd()

    def _numeraire_usd(self) -> float:
        """Its price of the numeraire (its oracle's; $1 without a feed of it)."""
        return float(self.num_feed.price) if self.num_feed is not None else 1.0

    def liabilities_usd(self) -> float:
        return self.deposits_usd() + sum(self.borrowings.values()) + self.payables_usd()

    def payables_usd(self) -> float:
        """Cross-margin transfers committed but not yet settled."""
        return self.model.settlements.total_usd(kind="margin_transfer", payer=self.name)

    def account_owners(self) -> NDArray[np.int64]:
        """The trader id of each deposit row."""
        return np.asarray(self.book.owner)

    # ------------------------------------------------------------------ institution
    def balance_sheet(self) -> BalanceSheet:
        """Assets at market (loans at recovery) against deposits, borrowings and payables;
        at risk while its depositors' stress exceeds its run threshold."""
        return BalanceSheet(assets_usd=self.assets_usd(), liabilities_usd=self.liabilities_usd(),
                            at_risk=int(self.stress > self.params.run_stress_threshold))

    def network_state(self) -> str:
        return "at_risk" if self.stress > self.params.run_stress_threshold else "healthy"

    def credit_position(self) -> CreditPosition:
        """Cash, token, illiquid and held assets outside the network; deposits and payables
        owed to the outside, borrowings to its lenders. Its supply to a lender and its loans
        are the network's own claims, cleared with them."""
        token = (self.token_units * float(self.model.market.price[self.token])
                 / self._numeraire_usd() if self.token is not None else 0)
        owed = ((OUTSIDE, self.deposits_usd() + self.payables_usd()), *self.borrowings.items())
        return CreditPosition(
            external_assets_usd=(self.cash_usd + token + self.illiquid_usd + self.held_assets_usd()
                                 + self.house_claims_usd),
            owed=owed)

    def on_default(self, event_id: int) -> None:
        """With ``liquidate_on_default``, fire-sell its held assets before the clearing, so
        the proceeds, not the marks, back its recovery rate."""
        if self.params.liquidate_on_default:
            self._default_sales = [(a, held, *self._sell_units(a, held))
                                   for a, held in self.asset_units.items() if held > 0]

    def after_default(self, event_id: int) -> None:
        """Its depositors learn what they can expect back (the clearing's recovery rate):
        in-flight transfers are dropped and a ``collateral_loss`` event tells the loss, which
        cross-margined accounts at perp venues share."""
        model = self.model
        self.recovery_rate = model.recovery.get(self.name, 0.0)
        self._log_default_sales(event_id)
        self.drop_payables(event_id)
        self.version += 1
        crossed = [pv.name for pv in model.perps
                   if pv.custodian is self and bool(pv.book.cross.any())]
        tail = (f"; cross-margined accounts at {', '.join(crossed)} count those balances as "
                "collateral and lose the same share" if crossed else "")
        deposits = self.deposits_usd()
        lost_usd = deposits * (1 - self.recovery_rate)
        self.loss_event = model.events.add(
            "collateral_loss", step=model.steps, venue=self.name, value_usd=lost_usd,
            cause_id=event_id, amount=self.recovery_rate, recovery_rate=self.recovery_rate,
            deposits_usd=deposits, cross_margined_at=", ".join(crossed),
            detail=f"depositors of {self.name} can expect {self.recovery_rate:.0%} of "
                   f"their balances back (${lost_usd:,.0f} lost){tail}")

    def reserve_ratio(self) -> float:
        """Assets / liabilities: what a solvency proof would publish."""
        li = self.liabilities_usd()
        return self.assets_usd() / li if li > 0 else np.inf

    def deposit_value(self, owners: NDArray[np.int64]) -> NDArray[np.float64]:
        """What each owner's deposit is worth now (face value, or the recovery if in default)."""
        rows, has = self.book.rows_of(owners)
        value = np.where(has, self.book.balance[rows], 0.0)
        return value * (self.recovery_rate if self.defaulted else 1.0)

    def holdings(self) -> dict[int, float]:
        m = self.model.market
        out = {m.numeraire: self.cash_usd}
        if self.token is not None:
            out[self.token] = self.token_units
        for a, units in self.asset_units.items():
            out[a] = out.get(a, 0.0) + units
        return out

    # ------------------------------------------------------------------ flows
    def seize(self, owners: NDArray[np.int64], amounts: NDArray[np.float64], *, to: str,
              delay_steps: int = 0) -> NDArray[np.float64]:
        """Pay a cross-margin call out of ``owners``' deposits to venue ``to``.

        With ``delay_steps`` the claims leave the depositors now but the cash moves only
        when the transfer settles (:meth:`step`); returns the amounts committed.
        """
        if self.defaulted:
            return np.zeros(owners.size)
        rows, has = self.book.rows_of(owners)
        want = np.where(has, np.minimum(amounts, self.book.balance[rows]), 0.0)
        self.version += 1
        if delay_steps > 0:
            self.book.balance[rows] -= want
            self.model.settlements.open("margin_transfer", payer=self.name, payee=to,
                                        amount_usd=float(want.sum()), step=self.model.steps,
                                        delay_steps=delay_steps, cause_id=self.last_loss_event)
            return want
        total = float(want.sum())
        scale = min(1.0, self.cash_usd / total) if total > 0 else 0.0
        paid = want * scale
        self.book.balance[rows] -= paid
        self.cash_usd -= float(paid.sum())
        return paid

    def step(self) -> None:
        """Depositors react to stress; the exchange raises cash and pays, or defaults."""
        self.step_withdrawn_usd = 0.0
        self._open_books()
        if self.defaulted:
            return
        if self.params.proof_kind != "exact":
            self._prove()
        self._write_down()
        failed = self._settle_recalls()
        self._settle_payables()
        if self.defaulted:
            return
        if self.awaiting_settlement and self._await_or_resume(failed):
            return
        if (self.params.freeze_when_insolvent
                and (self.last_loss_event >= 0 or self._held_assets_lost())
                and self.book_assets_usd() < self.liabilities_usd() * (1 - INSOLVENCY_TOL_FRAC)):
            self._freeze_insolvent()
            return
        p, market = self.params, self.model.market
        token_drop = 0.0
        if self.token is not None:
            token_drop = max(0.0, 1.0 - float(market.price[self.token]) / self._initial_token_price)
        if p.proof_kind == "exact":
            gap = max(0.0, 1.0 - self.reserve_ratio()) if p.solvency_proofs else 0.0
        else:
            gap = max(0.0, 1.0 - self.published_ratio)
            self._proof_drives = 3.0 * gap > token_drop
        self.stress = min(1.0, max(token_drop, 3.0 * gap))
        if self.stress <= p.run_stress_threshold:
            return  # below every depositor's trigger: nobody runs
        thr = self.book.run_threshold
        intensity = np.clip((self.stress - thr) / np.maximum(1.0 - thr, 1e-9), 0.0, 1.0)
        want = self.book.balance * (p.run_speed_frac * intensity)
        need = float(want.sum())
        if need <= 0:
            return
        if need > self.cash_usd:
            self._raise_cash(need - self.cash_usd)
        pay_frac = min(1.0, self.cash_usd / need)
        paid = want * pay_frac
        self.version += 1
        self.book.balance -= paid
        self.cash_usd -= float(paid.sum())
        self.model.population.receive(self.book.owner, paid)
        total = float(paid.sum())
        self.withdrawn_usd += total
        self.step_withdrawn_usd = total
        ev = self.model.events
        cause = self.last_loss_event
        if cause < 0 and self._proof_drives:
            cause = self._proof_event
        elif cause < 0 and self.token is not None:
            cause = int(market.last_move_event[self.token])
        paid_n = int((paid > 0).sum())
        eid = ev.add("withdrawal", step=self.model.steps, venue=self.name, value_usd=total,
                     amount=float(paid_n), cause_id=cause, reason="run", stress=self.stress,
                     reserve_ratio=self.reserve_ratio(), accounts=paid_n,
                     detail=f"depositors withdrew ${total:,.0f} from {self.name} "
                            f"(stress {self.stress:.0%}, reserve ratio {self.reserve_ratio():.2f})")
        if pay_frac < 1.0 - 1e-9:
            self.unpaid_usd = need - total
            if self.params.await_settlement and self._recalls_in_flight():
                self._freeze_awaiting(eid, need - total)
                return
            frz = ev.add("withdrawal_freeze", step=self.model.steps, venue=self.name,
                         value_usd=need - total, cause_id=eid, reason="run",
                         detail=f"{self.name} could not pay ${need - total:,.0f} of withdrawals "
                                "and froze them")
            self._default(frz, "run", f"{self.name} ran out of liquid assets in a run")

    def _open_books(self) -> None:
        """At the first exchange's turn in a step, mark every exchange's books to the prices
        as they stand before any exchange acts; held assets keep that mark all step."""
        now = int(self.model.steps)
        if self._book_step == now:
            return
        market = self.model.market
        prices, moves = market.price.copy(), market.last_move_event.copy()
        for ex in self.model.custodial:
            ex._book_step, ex._book_price, ex._book_move_event = now, prices, moves

    def _held_assets_lost(self) -> bool:
        """Whether its books show its held assets below their value at the start."""
        return bool(self.asset_units) and (
            self.book_held_assets_usd() < self._held_usd0 * (1 - INSOLVENCY_TOL_FRAC))

    def _loss_cause(self) -> int:
        """The latest loss on its books: a loan loss or write-down, or the last move (e.g. a
        fire sale) of an asset it holds, as of the step's start."""
        moves = [int(self._book_move_event[a]) for a, units in self.asset_units.items()
                 if units > 0]
        return max([self.last_loss_event, *moves])

    def _default(self, cause_id: int, reason: str, why: str) -> None:
        """Declare its default (``reason`` its code, ``why`` in words); with
        ``liquidate_on_default``, fire-sell its held assets."""
        self.model.report_default(self, cause_id, reason, why)

    def _log_default_sales(self, eid: int) -> None:
        """Log the default liquidation's sales, with the recovery their proceeds back."""
        sales, self._default_sales = self._default_sales, []
        if not sales:
            return
        tail = (f"in its default liquidation (with the proceeds its depositors recover "
                f"{self.recovery_rate:.0%})")
        fields = {"purpose": "default_liquidation", "recovery_rate": self.recovery_rate}
        for a, units, got, where in sales:
            self._log_sale(a, units, got, where, eid, tail, fields)

    def _raise_cash(self, shortfall: float) -> None:
        ev, step = self.model.events, self.model.steps
        if self.token is not None and self.token_units > 0 and self.pool is not None:
            spot = self.pool.spot
            units = min(self.token_units, 1.2 * shortfall / max(spot, 1e-12))
            got = self.pool.sell_base(units)
            self.token_units -= units
            self.cash_usd += got
            shortfall -= got
            eid = ev.add("token_sale", step=step, venue=self.name, agent=self.pool.name,
                         asset=self.model.market.assets[self.token], amount=units, value_usd=got,
                         cause_id=self._run_cause(), purpose="withdrawals",
                         detail=f"{self.name} sold {units:,.0f} of its own token into "
                                f"{self.pool.name} for ${got:,.0f}")
            self.model.market.moved(self.token, eid, self.pool)
        if shortfall > 0 and self.params.sell_assets_in_run:
            shortfall = self._sell_assets(shortfall)
        if shortfall > 0 and self.lending is not None:
            got = self.lending.withdraw_supply(self.name, shortfall)
            self.cash_usd += got
            shortfall -= got
        if shortfall > 0:
            self._recall_loans()

    def _recall_loans(self) -> None:
        """Recall every loan not already recalled, due ``settlement_delay_steps`` from now
        (a ``loan_recall`` event and a record in the model's settlement queue each)."""
        ev, step, queue = self.model.events, self.model.steps, self.model.settlements
        delay = self.params.settlement_delay_steps
        due = step + delay
        already = {r.payer for r in queue.of(kind="loan_recall", payee=self.name)}
        window = self.params.await_settlement
        for borrower, amount in self.loans.items():
            if amount > 0 and borrower not in already:
                if window and self.model.institutions[borrower].defaulted:
                    continue  # nothing to recall from a defaulter: its estate clears the loan
                rid = ev.add("loan_recall", step=step, venue=self.name, agent=borrower,
                             value_usd=amount, cause_id=self._run_cause(), due_step=due,
                             detail=f"{self.name} recalled its ${amount:,.0f} "
                                    f"loan to {borrower}, due at step {due}")
                queue.open("loan_recall", payer=borrower, payee=self.name, amount_usd=amount,
                           step=step, delay_steps=delay, cause_id=rid)
        if window and delay == 0:  # no window: the borrower pays at once
            failed = self._settle_recalls()
            if failed:
                self.last_loss_event = failed[-1]

    def _sell_assets(self, shortfall: float) -> float:
        """Fire-sell held assets, in the order listed, into their pools (or the external
        market when the asset has no pool); return the shortfall left."""
        market = self.model.market
        cause = self._run_cause()
        for a, held in self.asset_units.items():
            if shortfall <= 0:
                break
            if held <= 0:
                continue
            pool = self.routes.get(market.assets[a])
            spot = pool.spot if pool is not None else market.quote_price(a)
            units = min(held, 1.2 * shortfall / max(spot, 1e-12))
            shortfall -= self._sell_holding(a, units, cause, "to pay withdrawals")
        return shortfall

    def _sell_holding(self, a: int, units: float, cause: int, purpose: str) -> float:
        """Sell ``units`` of held asset ``a`` (an ``asset_sale`` event); return the proceeds."""
        got, where = self._sell_units(a, units)
        self._log_sale(a, units, got, where, cause, purpose, {"purpose": "withdrawals"})
        return got

    def _sell_units(self, a: int, units: float) -> tuple[float, str]:
        """Sell ``units`` of held asset ``a`` into its pool, or the external market when it
        has none; return the proceeds and where they were sold."""
        market = self.model.market
        pool = self.routes.get(market.assets[a])
        got = pool.sell_base(units) if pool is not None else market.sell(a, units)
        self.asset_units[a] -= units
        self.cash_usd += got
        return got, pool.name if pool is not None else "the external market"

    def _log_sale(self, a: int, units: float, got: float, where: str, cause: int,
                  purpose: str, fields: dict[str, Any]) -> None:
        market = self.model.market
        eid = self.model.events.add(
            "asset_sale", step=self.model.steps, venue=self.name, agent=where,
            asset=market.assets[a], amount=units, value_usd=got, cause_id=cause,
            price=got / units, **fields,
            detail=f"{self.name} fire-sold {units:,.0f} {market.assets[a]} into {where} for "
                   f"${got:,.0f} (${got / units:,.4g} each) {purpose}")
        market.moved(a, eid, self.routes.get(market.assets[a]))

    def _run_cause(self) -> int:
        """The event behind the run: its last loan loss, else its token's last move."""
        if self.last_loss_event < 0 and self._proof_drives:
            return self._proof_event
        if self.last_loss_event >= 0 or self.token is None:
            return self.last_loss_event
        return int(self.model.market.last_move_event[self.token])

    def _freeze_insolvent(self) -> None:
        """``freeze_when_insolvent``: a borrower's default (or a write-down) left assets
        below liabilities."""
        assets, liabilities = self.book_assets_usd(), self.liabilities_usd()
        eid = self.model.events.add(
            "withdrawal_freeze", step=self.model.steps, venue=self.name,
            value_usd=liabilities - assets, cause_id=self._loss_cause(), reason="insolvent",
            assets_usd=assets, liabilities_usd=liabilities,
            detail=f"{self.name} froze withdrawals: its losses left ${assets:,.0f} of assets "
                   f"against ${liabilities:,.0f} of liabilities")
        self._default(eid, "insolvent", f"{self.name} was insolvent after its losses")

    def _write_down(self) -> None:
        """Write off ``writedown_frac`` of the illiquid (external) assets at ``writedown_step``."""
        p = self.params
        if p.writedown_frac <= 0 or self.model.steps != p.writedown_step:
            return
        lost = self.illiquid_usd * p.writedown_frac
        self.illiquid_usd -= lost
        self.last_loss_event = self.model.events.add(
            "asset_writedown", step=self.model.steps, venue=self.name, agent=self.name,
            value_usd=lost, amount=p.writedown_frac, assets_usd=self.book_assets_usd(),
            liabilities_usd=self.liabilities_usd(),
            detail=f"{self.name} wrote off {p.writedown_frac:.0%} of its external assets "
                   f"(${lost:,.0f}): its books now show ${self.book_assets_usd():,.0f} of assets "
                   f"against ${self.liabilities_usd():,.0f} of liabilities")

    def repay_loan(self, lender: str, amount: float) -> float:
        """Repay a recalled credit-link loan from cash; freeze and default if it cannot."""
        if self.defaulted:
            return 0.0
        paid = min(amount, max(self.cash_usd, 0.0))
        self.cash_usd -= paid
        self.borrowings[lender] -= paid
        if paid < amount - 1e-6:
            eid = self.model.events.add(
                "withdrawal_freeze", step=self.model.steps, venue=self.name,
                value_usd=amount - paid, reason="missed_recall", lender=lender,
                detail=f"{self.name} could not repay ${amount - paid:,.0f} recalled by {lender}")
            self._default(eid, "missed_recall", f"{self.name} missed a loan recall")
        return paid

    def _settle_payables(self) -> None:
        now = self.model.steps
        due = self.model.settlements.take_due(kind="margin_transfer", payer=self.name, step=now)
        if not due:
            return
        owed = sum(r.amount_usd for r in due)
        for r in due:
            paid = min(r.amount_usd, self.cash_usd)
            self.cash_usd -= paid
            self._log_settlement(r, paid)
            self.model.venues[r.payee].settle_transfer(paid, r.amount_usd,
                                                       cause_id=self.last_loss_event)
        if self.cash_usd <= 0 and owed > 0 and any(
                self.model.venues[r.payee].unfunded_usd > 0 for r in due):
            eid = self.model.events.add(
                "withdrawal_freeze", step=now, venue=self.name, value_usd=owed,
                reason="unsettled_transfers",
                detail=f"{self.name} could not settle ${owed:,.0f} of cross-margin transfers")
            self._default(eid, "unsettled_transfers", f"{self.name} failed to settle transfers")

    def drop_payables(self, cause_id: int) -> None:
        """On default: transfers in flight are frozen with everything else."""
        dropped = self.model.settlements.cancel(kind="margin_transfer", payer=self.name)
        for r in dropped:
            self._log_settlement(r, 0.0, cause_id=cause_id)
            self.model.venues[r.payee].settle_transfer(0.0, r.amount_usd, cause_id=cause_id)
        # its own recalls in flight become plain claims of its estate, cleared with the rest
        self.model.settlements.cancel(kind="loan_recall", payee=self.name)
        self.awaiting_settlement = False

    # ------------------------------------------------------------------ solvency proofs
    def _prove(self) -> None:
        """Proofs of kind ``reserves`` / ``liabilities``: snapshot its true books every
        ``proof_every_steps`` steps and publish the snapshot ``proof_lag_steps`` later (a
        ``solvency_proof`` event); depositors then read the published ratio and move their
        run thresholds by it (:func:`~contagion.mechanics.solvency_proof.updated_thresholds`)."""
        p, now = self.params, int(self.model.steps)
        if is_snapshot(now, every=p.proof_every_steps):
            self._snapshots[now] = (self.assets_usd(), self.liabilities_usd(),
                                    self.deposits_usd(), self.reserve_ratio())
        snap = due_snapshot(now, every=p.proof_every_steps, lag=p.proof_lag_steps)
        if snap is None or snap not in self._snapshots:
            return
        assets, liabilities, deposits, true_ratio = self._snapshots.pop(snap)
        proof = publish(p.proof_kind, assets_usd=assets, liabilities_usd=liabilities,
                        hidden_frac=p.hidden_liabilities_frac, deposits_usd=deposits,
                        borrowed_usd=p.borrowed_reserves_usd)
        self.published_ratio = proof.ratio
        if self._base_threshold is None:
            self._base_threshold = self.book.run_threshold.copy()
        self.book.run_threshold[:] = updated_thresholds(
            self._base_threshold, proof.ratio, weight=p.proof_threshold_weight,
            floor=p.run_stress_threshold)
        hidden = p.hidden_liabilities_frac * deposits
        what = ("a reserves-only attestation" if p.proof_kind == "reserves"
                else "a proof of reserves and liabilities")
        self._proof_event = self.model.events.add(
            "solvency_proof", step=now, venue=self.name, value_usd=proof.reserves_usd,
            amount=proof.ratio, proof_kind=p.proof_kind, snapshot_step=snap,
            reserves_usd=proof.reserves_usd, liabilities_shown_usd=proof.liabilities_shown_usd,
            published_ratio=proof.ratio, true_ratio=true_ratio, hidden_usd=hidden,
            borrowed_usd=p.borrowed_reserves_usd,
            detail=f"{self.name} published {what} of step {snap}: ${proof.reserves_usd:,.0f} "
                   f"of reserves against ${proof.liabilities_shown_usd:,.0f} of liabilities "
                   f"shown, a ratio of {proof.ratio:.2f} (true ratio {true_ratio:.2f})")
        reserves_view = publish("reserves", assets_usd=assets, liabilities_usd=liabilities,
                                hidden_frac=p.hidden_liabilities_frac, deposits_usd=deposits,
                                borrowed_usd=p.borrowed_reserves_usd)
        if (p.proof_kind == "liabilities" and not self.hole_revealed and proof.ratio < 1.0
                and reserves_view.ratio >= 1.0):
            self.hole_revealed = True
            gap = proof.liabilities_shown_usd - proof.reserves_usd
            self.model.events.add(
                "hole_revealed", step=now, venue=self.name, value_usd=gap,
                cause_id=self._proof_event, amount=proof.ratio, snapshot_step=snap,
                published_ratio=proof.ratio, reserves_only_ratio=reserves_view.ratio,
                hidden_usd=hidden, borrowed_usd=p.borrowed_reserves_usd,
                detail=f"{self.name}'s proof of liabilities showed a ${gap:,.0f} hole "
                       f"(ratio {proof.ratio:.2f}) that a reserves-only attestation would have "
                       f"hidden (ratio {reserves_view.ratio:.2f})")

    # ------------------------------------------------------------------ settlement window
    def _recalls_in_flight(self) -> bool:
        """Whether loans it recalled are still in their settlement window."""
        return bool(self.model.settlements.of(kind="loan_recall", payee=self.name))

    def _settle_recalls(self) -> list[int]:
        """Collect the recalls due now; return the ``settlement_failed`` events of those a
        borrower did not pay in full."""
        now = self.model.steps
        due = self.model.settlements.take_due(kind="loan_recall", payee=self.name, step=now)
        failed = []
        for r in due:
            paid = self.model.institutions[r.payer].repay_loan(self.name, r.amount_usd)
            self.loans[r.payer] -= paid
            self.cash_usd += paid
            if self.params.await_settlement:
                eid = self._log_settlement(r, paid)
                if paid < r.amount_usd - 1e-6:
                    failed.append(eid)
        return failed

    def _freeze_awaiting(self, cause_id: int, unpaid_usd: float) -> None:
        """``await_settlement``: freeze withdrawals until the recalls in flight settle."""
        records = self.model.settlements.of(kind="loan_recall", payee=self.name)
        due = max(r.due_step for r in records)
        owed = sum(r.amount_usd for r in records)
        self.awaiting_settlement = True
        self.model.events.add(
            "withdrawal_freeze", step=self.model.steps, venue=self.name, value_usd=unpaid_usd,
            cause_id=cause_id, reason="awaiting_settlement", due_step=due, pending_usd=owed,
            detail=f"{self.name} could not pay ${unpaid_usd:,.0f} of withdrawals and froze "
                   f"them until its ${owed:,.0f} of recalled loans settle at step {due}")

    def _await_or_resume(self, failed: list[int]) -> bool:
        """While frozen awaiting settlement: stay frozen (True) while recalls are in flight
        (with ``freeze_when_insolvent``, default at once if a loss leaves it insolvent);
        once they have settled reopen, or default if a borrower's failure left it insolvent
        (True: its step is over)."""
        if self._recalls_in_flight():
            if (self.params.freeze_when_insolvent and self.last_loss_event >= 0
                    and self.book_assets_usd() < self.liabilities_usd() * (1 - INSOLVENCY_TOL_FRAC)):
                self._freeze_insolvent()
            return True
        self.awaiting_settlement = False
        if failed:
            self.last_loss_event = failed[-1]
            if self.book_assets_usd() < self.liabilities_usd() * (1 - INSOLVENCY_TOL_FRAC):
                self._freeze_insolvent()
                return True
        return False

    def _log_settlement(self, r: Settlement, paid_usd: float, *, cause_id: int | None = None
                        ) -> int:
        """Log a settlement at its due step (or when dropped): ``settlement_due`` when paid
        in full, else ``settlement_failed`` with the payee's loss."""
        model = self.model
        payer = model.institutions.get(r.payer, model.venues.get(r.payer))
        payer_default = int(payer.default_step) if payer is not None and payer.defaulted else -1
        fields = dict(settlement_kind=r.kind, payer=r.payer, payee=r.payee,
                      opened_step=r.opened_step, due_step=r.due_step, paid_usd=paid_usd,
                      amount=r.amount_usd)
        what = "recalled loan" if r.kind == "loan_recall" else "cross-margin transfer"
        lost = window_loss_usd(r, paid_usd)
        if lost <= 1e-6:
            return model.events.add(
                "settlement_due", step=model.steps, venue=r.payee, agent=r.payer,
                value_usd=paid_usd, cause_id=r.cause_id if cause_id is None else cause_id,
                **fields,
                detail=f"{r.payer} paid {r.payee} the ${paid_usd:,.0f} {what} promised at step "
                       f"{r.opened_step}")
        inside = in_window(r, payer_default)
        if inside and cause_id is None:  # the loss is the payer's default's doing
            cause_id = self._default_event_of(r.payer)
        # a loan's claim on a defaulted borrower's estate recovers what the clearing gives; a
        # transfer in flight is written off whole by the venue (PerpVenue.settle_transfer)
        recovery = (model.recovery.get(r.payer, 0.0)
                    if payer_default >= 0 and r.kind == "loan_recall" else 0.0)
        loss = lost * (1.0 - recovery)
        why = (f"{r.payer} defaulted at step {payer_default}, inside the window"
               if inside else f"{r.payer} could not pay")
        return model.events.add(
            "settlement_failed", step=model.steps, venue=r.payee, agent=r.payer,
            value_usd=loss, cause_id=r.cause_id if cause_id is None else cause_id,
            unpaid_usd=lost, recovery_rate=recovery, loss_usd=loss,
            payer_default_step=payer_default, in_window=int(inside), **fields,
            detail=f"{r.payee} did not receive ${lost:,.0f} of a ${r.amount_usd:,.0f} {what} "
                   f"promised at step {r.opened_step}, due at step {r.due_step}: {why}; at "
                   f"the payer's recovery rate of {recovery:.0%} it loses ${loss:,.0f}")

    def _default_event_of(self, name: str) -> int:
        """The id of ``name``'s ``default`` event (-1 if none): rare, so read off the log."""
        ev = self.model.events.to_frame()
        ids = ev["event_id"][(ev["kind"] == "default") & (ev["venue"] == name)]
        return int(ids.iloc[0]) if len(ids) else -1
