"""A perpetual-futures venue: margin checks, liquidations, insurance fund, ADL or socialisation,
and withdrawals against unrealised PnL (the Mango Markets exploit)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from contagion.agents.venue import MarginVenue
from contagion.book import PerpBook
from contagion.institution import BalanceSheet
from contagion.mechanics.adl import adl_ranking, allocate_adl, effective_leverage
from contagion.mechanics.perp import account_equity, bankruptcy_price, maintenance_margin
from contagion.mechanics.risk import dynamic_margin_frac

if TYPE_CHECKING:
    from contagion.agents.custodial import CustodialExchange
    from contagion.agents.fund import InsuranceFund
    from contagion.model import ContagionModel
    from contagion.params import ExploitParams, PerpParams

__all__ = ["PerpVenue", "apply_trades", "withdrawable_usd"]

ATTACKER = "attacker"


def apply_trades(book: PerpBook, rows: NDArray[np.int64], delta: NDArray[np.float64],
                 price: NDArray[np.float64] | float) -> None:
    """Change the positions of ``rows`` by ``delta`` units at ``price`` (rows unique).

    Notes
    -----
    The part of ``delta`` that reduces the position realises ``-c (p - entry)`` into
    collateral; the part that opens moves the average entry. The venue's cash
    ``sum(collateral - size * entry)`` changes by ``-delta * price``: the buyer pays the
    seller, so matched trades conserve it exactly.
    """
    s = book.size[rows]
    entry = book.entry[rows]
    p = np.broadcast_to(np.asarray(price, dtype=np.float64), s.shape)
    closing = np.where(s * delta < 0, np.sign(delta) * np.minimum(np.abs(delta), np.abs(s)), 0.0)
    opening = delta - closing
    new_size = s + delta
    kept = s + closing
    with np.errstate(invalid="ignore", divide="ignore"):
        new_entry = np.where(new_size != 0, (kept * entry + opening * p) / new_size, p)
    book.collateral[rows] += -closing * (p - entry)
    book.size[rows] = new_size
    book.entry[rows] = new_entry


def withdrawable_usd(collateral: NDArray[np.float64] | float, size: NDArray[np.float64] | float,
                     entry: NDArray[np.float64] | float, mark: float, initial_margin_frac: float,
                     *, upnl_collateral: bool) -> NDArray[np.float64]:
    """Stablecoin each account may withdraw (or borrow) now.

    Notes
    -----
    ``max(0, c + u - |s| p m_i)`` with ``u = s (p - e)`` the unrealised PnL when it counts as
    collateral (Mango Markets v3 account health), else ``u = min(s (p - e), 0)``: losses
    always count, gains only once realised. What is withdrawn beyond ``c`` is a borrow: the
    collateral goes negative and the account's equity rests on the mark.

    Examples
    --------
    A $5M account long 483M units entered at $0.038, marked at $0.91 (Mango, October 2022):

    >>> round(float(withdrawable_usd(5e6, 483e6, 0.038, 0.91, 0.1, upnl_collateral=True)) / 1e6, 3)
    382.223
    >>> float(withdrawable_usd(5e6, 483e6, 0.038, 0.91, 0.1, upnl_collateral=False))
    0.0
    """
    s = np.asarray(size, dtype=np.float64)
    upnl = s * (mark - np.asarray(entry, dtype=np.float64))
    counted = upnl if upnl_collateral else np.minimum(upnl, 0.0)
    free = np.asarray(collateral, dtype=np.float64) + counted - np.abs(s) * mark * initial_margin_frac
    return np.maximum(free, 0.0)


def _add_outside_account(book: PerpBook, collateral_usd: float, mark: float) -> int:
    """Append a flat account of the outside world (owner -1) holding ``collateral_usd``."""
    row = len(book)
    book.collateral = np.append(book.collateral, collateral_usd)
    book.size = np.append(book.size, 0.0)
    book.entry = np.append(book.entry, mark)
    book.owner = np.append(book.owner, -1).astype(np.int64)
    book.cross = np.append(book.cross, False)
    return row


def _open_attacker_account(book: PerpBook, exploit: ExploitParams, mark: float) -> int:
    """Append the attacker's account, long ``notional_usd`` at ``mark`` against the outside
    market makers (row 0); return its row."""
    row = _add_outside_account(book, exploit.collateral_usd, mark)
    q = exploit.notional_usd / mark
    apply_trades(book, np.array([row]), np.array([q]), mark)
    apply_trades(book, np.array([0]), np.array([-q]), mark)
    return row


class PerpVenue(MarginVenue):
    """Perpetual futures on one asset, marked to an oracle.

    An account is liquidated when its equity (plus, if cross-margined, its haircut deposit
    at the custodial exchange) is below maintenance margin. The whole position is closed
    into the external book at the mark price less slippage; a fee from what is left goes to
    the insurance fund. A bankrupt account's shortfall is covered from its cross-margined
    deposit, then by the insurance fund, then by auto-deleveraging (profitable opposite
    positions closed at the bankruptcy price, BitMEX ranking) or by a pro-rata haircut of
    every account in profit (``shortfall_policy``).

    Lenders' deposits (``lender_deposits_usd``) are one flat account of the outside world
    (owner -1). An attacker (``Scenario.exploits``, Mango Markets) holds another, and
    withdraws what :func:`withdrawable_usd` allows each step (:meth:`attacker_withdraws`), up
    to the venue's free cash: every stablecoin it holds except the outside market makers'
    margin (row 0).
    """

    kind = "perp"

    def __init__(self, model: ContagionModel, params: PerpParams, book: PerpBook) -> None:
        super().__init__(model, params.name)
        self.params = params
        self.book = book
        self.asset = model.market.index[params.asset]
        self.oracle = model.oracles[params.oracle]
        self.exploit = next((x for x in model.scenario.exploits if x.venue == self.name), None)
        self.attacker_row = -1
        self.attacker_withdrawn_usd = 0.0
        market = model.market
        self.lender_row = -1  # the lenders' deposits and the attacker's come from outside
        if params.lender_deposits_usd > 0:
            self.lender_row = _add_outside_account(book, params.lender_deposits_usd,
                                                   self.oracle.price)
            market.outside_receives(market.numeraire, -params.lender_deposits_usd)
        if self.exploit is not None:
            self.attacker_row = _open_attacker_account(book, self.exploit, self.oracle.price)
            market.outside_receives(market.numeraire, -self.exploit.collateral_usd)
        # channels (fund, custodian; the oracle after set-up): set from the world graph's
        # edges by the model (ContagionModel._wire)
        self.fund: InsuranceFund | None = None
        self.custodian: CustodialExchange | None = None
        self.haircut = model.scenario.traders.cross_margin_haircut_frac
        self.mmr = params.maintenance_margin_frac
        self._var = 0.0
        self._last_mark = self.oracle.price
        self.adl_usd = 0.0
        self.seized_cross_usd = 0.0
        self.unresolved_usd = 0.0
        self.adl_covered_usd = 0.0
        self._cross_rows = np.flatnonzero(book.cross)
        self._credit = np.empty(0)
        self._credit_key: tuple[int, int] = (-1, -1)
        self.unfunded_usd = 0.0  # cross-margin transfers credited to accounts, cash not yet in
        self.transfer_loss_usd = 0.0
        self.settle_steps = model.scenario.traders.cross_margin_settlement_steps
        self._ratio = np.empty(0)
        self._ratio_step = -1
        self._eq = np.empty(0)
        self._mm = np.empty(0)
        self._state_step = -1

    def invalidate(self) -> None:
        """Forget the step's cached margin state and cross-margin credit (channels changed)."""
        self._state_step = -1
        self._ratio_step = -1
        self._credit_key = (-1, -1)

    # ------------------------------------------------------------------ institution
    def balance_sheet(self) -> BalanceSheet:
        """Its cash against what it owes accounts in profit (the outside market makers'
        row 0 aside); accounts under 1.5x maintenance margin at risk."""
        return BalanceSheet(assets_usd=self.book.cash(),
                            liabilities_usd=float(np.maximum(self.margin_state()[0][1:], 0).sum()),
                            at_risk=int(np.sum(self.margin_ratio() < 1.5)))

    def network_state(self) -> str:
        return "at_risk" if self.bad_debt_usd > 0 else "healthy"

    def on_default(self, event_id: int) -> None:
        """Nothing before the clearing."""

    def after_default(self, event_id: int) -> None:
        """Nothing more: its losses are already allocated (fund, ADL or clawback)."""

    # ------------------------------------------------------------------ views
    def mark(self) -> float:
        return float(self.oracle.price)

    def cross_credit(self) -> NDArray[np.float64]:
        """Haircut value of each cross-margined account's deposit at the custodian."""
        key = (self.model.steps, self.custodian.version if self.custodian is not None else 0)
        if self._credit_key == key and self._credit.shape[0] == len(self.book):
            return self._credit  # unchanged since the custodian last touched its deposits
        credit = np.zeros(len(self.book))
        if self.custodian is not None:
            rows = self._cross_rows
            credit[rows] = self.custodian.deposit_value(self.book.owner[rows]) * (1 - self.haircut)
        self._credit, self._credit_key = credit, key
        return credit

    def equity(self, mark: float | None = None) -> NDArray[np.float64]:
        b = self.book
        return np.asarray(account_equity(b.collateral, b.size, b.entry,
                                         self.mark() if mark is None else mark, validate=False))

    def margin_state(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """This step's equity (without cross credit) and maintenance margin of every account.

        Computed once per step at the oracle's mark, then kept current: top-ups add to
        ``equity`` row by row, and a liquidation round recomputes it.
        """
        if self._state_step != self.model.steps or self._eq.shape[0] != len(self.book):
            mark = self.mark()
            self._eq = self.equity(mark)
            self._mm = np.asarray(maintenance_margin(self.book.size, mark, self.mmr,
                                                     validate=False))
            self._state_step = self.model.steps
        return self._eq, self._mm

    def add_collateral(self, rows: NDArray[np.int64], amounts: NDArray[np.float64]) -> None:
        """Owners of ``rows`` deposit ``amounts`` of stablecoin margin."""
        self.book.collateral[rows] += amounts
        if self._state_step == self.model.steps:
            self._eq[rows] += amounts

    def margin_ratio(self) -> NDArray[np.float64]:
        """(equity + cross credit) / maintenance margin; inf for flat accounts.

        After this step's liquidations it returns the ratios the margin check computed
        (liquidated accounts, now flat, as inf) instead of another pass over the book.
        """
        if self._ratio_step == self.model.steps and self._ratio.shape[0] == len(self.book):
            return self._ratio
        eq, mm = self.margin_state()
        with np.errstate(divide="ignore", invalid="ignore"):
            r = (eq + self.cross_credit()) / mm
        return np.where(mm > 0, r, np.inf)

    def open_interest_usd(self) -> float:
        return float(np.abs(self.book.size[1:]).sum() * self.mark())

    def holdings(self) -> dict[int, float]:
        return {self.model.market.numeraire: self.book.cash() - self.unfunded_usd}

    def free_cash_usd(self) -> float:
        """Stablecoin the venue holds beyond the outside market makers' margin (row 0)."""
        return max(self.holdings()[self.model.market.numeraire]
                   - max(float(self.book.collateral[0]), 0.0), 0.0)

    def attacker_withdraws(self) -> float:
        """The attacker takes what its account allows, up to the free cash; return USD taken.

        Runs after the oracles publish and before margin checks, from the exploit's
        ``start_step``. With ``upnl_collateral`` a pumped mark lets it borrow the venue's
        cash against paper profit: its collateral goes negative, and when the mark falls
        back its account is bankrupt.
        """
        x, row = self.exploit, self.attacker_row
        if x is None or not x.withdraw or self.model.steps < x.start_step or self.defaulted:
            return 0.0
        b, mark = self.book, self.mark()
        allowed = float(withdrawable_usd(b.collateral[row], b.size[row], b.entry[row], mark,
                                         self.params.initial_margin_frac,
                                         upnl_collateral=self.params.upnl_collateral)[()])
        free = self.free_cash_usd()
        paid = min(allowed, free)
        if paid < 1.0:
            return 0.0
        upnl = float(b.size[row] * (mark - b.entry[row]))
        self.add_collateral(np.array([row]), np.array([-paid]))
        market = self.model.market
        market.outside_receives(market.numeraire, paid)
        self.attacker_withdrawn_usd += paid
        self.model.events.add(
            "withdrawal", step=self.model.steps, venue=self.name, agent=ATTACKER, account=-1,
            value_usd=paid, price=mark, amount=upnl, cause_id=self.oracle.last_event,
            reason="exploit", upnl_usd=upnl, free_cash_after_usd=free - paid,
            detail=f"the {ATTACKER} withdrew ${paid:,.0f} from {self.name}, its account "
                   f"holding an unrealised PnL of ${upnl:,.0f} at mark {mark:,.4g}; "
                   f"${free - paid:,.0f} of the venue's free cash left")
        return paid

    def settle_transfer(self, paid_usd: float, owed_usd: float, *, cause_id: int) -> None:
        """A cross-margin transfer settles: ``paid_usd`` of the ``owed_usd`` arrives.

        What does not arrive is a loss: the insurance fund covers it, then accounts in
        profit are clawed back pro rata; what is still left stays unresolved.
        """
        self.unfunded_usd -= paid_usd
        loss = owed_usd - paid_usd
        if loss <= 1e-9:
            return
        self.transfer_loss_usd += loss
        eid = self.model.events.add(
            "bad_debt", step=self.model.steps, venue=self.name, value_usd=loss, cause_id=cause_id,
            reason="unsettled_transfers", accounts=0,
            detail=f"${loss:,.0f} of cross-margin transfers to {self.name} never settled")
        self.bad_debt_usd += loss
        if self.fund is not None:
            paid = self.fund.draw(loss, venue=self.name, cause_id=eid)
            self.fund_paid_usd += paid
            self.unfunded_usd -= paid
            loss -= paid
        if loss > 1e-9:
            taken = self._clawback(loss, eid)
            self.unfunded_usd -= taken
            if loss - taken > 1e-6:
                self.unresolved_usd += loss - taken
                if not self.defaulted:
                    self.model.report_default(
                        self, eid, "lost_transfers",
                        f"{self.name} could not cover ${loss - taken:,.0f} of lost transfers",
                        shortfall_usd=loss - taken)

    def _clawback(self, amount: float, cause_id: int, exclude: NDArray[np.int64] | None = None
                  ) -> float:
        """Take up to ``amount`` pro rata from accounts in profit; return what was taken."""
        eq = self.equity()
        eq[0] = 0.0
        if exclude is not None:
            eq[exclude] = 0.0
        pos = np.maximum(eq, 0.0)
        avail = float(pos.sum())
        take = min(amount, avail)
        if take > 0:
            self.book.collateral -= pos * (take / avail)
            self._state_step = -1  # every account in profit changed
            self.socialised_usd += take
            self.model.events.add(
                "socialised_loss", step=self.model.steps, venue=self.name, value_usd=take,
                cause_id=cause_id, policy="clawback", bearers="accounts in profit",
                haircut_frac=take / avail, detail=f"{self.name} clawed back ${take:,.0f} pro rata from "
                                          f"accounts in profit (haircut {take / avail:.2%})")
        return take

    # ------------------------------------------------------------------ step
    def update_margin(self) -> None:
        """Dynamic margin: maintenance margin follows the EWMA volatility of the mark."""
        mark = self.mark()
        r = float(np.log(mark / self._last_mark)) if self._last_mark > 0 else 0.0
        self._last_mark = mark
        lam = 0.5 ** (1.0 / self.params.dynamic_margin_halflife_steps)
        self._var = lam * self._var + (1 - lam) * r * r
        if self.params.dynamic_margin:
            self.mmr = float(dynamic_margin_frac(
                np.sqrt(self._var), base_frac=self.params.maintenance_margin_frac,
                horizon_steps=self.params.dynamic_margin_horizon_steps, confidence=0.99,
                floor_frac=self.params.maintenance_margin_frac,
                cap_frac=self.params.initial_margin_frac))

    def liquidate(self) -> None:
        """Close every account below maintenance margin and cover the shortfalls."""
        self.begin_liquidation_round()
        b, p = self.book, self.params
        mark = self.mark()
        eq_local, mm = self.margin_state()
        eq = eq_local + self.cross_credit()
        rows = np.flatnonzero(eq < mm)
        rows = rows[(mm[rows] > 0) & (rows != 0)]  # open positions; never the outside row
        with np.errstate(divide="ignore", invalid="ignore"):
            self._ratio = np.where(mm > 0, eq / mm, np.inf)
        self._ratio[rows] = np.inf
        self._ratio_step = self.model.steps
        if rows.size == 0:
            return
        self._state_step = -1  # trades, ADL and clawbacks below change many accounts
        size = b.size[rows].copy()
        long = size > 0
        market = self.model.market
        depth = float(market.depth_usd[self.asset])
        slip_l = min(p.max_liquidation_slippage_frac, size[long].sum() * mark / depth)
        slip_s = min(p.max_liquidation_slippage_frac, -size[~long].sum() * mark / depth)
        fill = np.where(long, mark * (1 - slip_l), mark * (1 + slip_s))
        e_fill = b.collateral[rows] + size * (fill - b.entry[rows])
        p_bank = np.asarray(bankruptcy_price(b.collateral[rows], size, b.entry[rows]))
        shortfall = np.maximum(-e_fill, 0.0)
        # 1. a cross-margined account's deposit at the custodian pays first
        seized = np.zeros(rows.size)
        cross = b.cross[rows] & (shortfall > 0)
        if self.custodian is not None and cross.any():
            seized[cross] = self.custodian.seize(b.owner[rows[cross]], shortfall[cross],
                                                 to=self.name, delay_steps=self.settle_steps)
            if self.settle_steps > 0:
                self.unfunded_usd += float(seized.sum())
            self.seized_cross_usd += float(seized.sum())
        # 2. the insurance fund
        need = shortfall - seized
        total_need = float(need.sum())
        causes = self._causes(rows)
        fund_paid = 0.0
        if total_need > 0:
            first = int(causes[np.argmax(need)])
            bd = self.model.events.add(
                "bad_debt", step=self.model.steps, venue=self.name, value_usd=total_need,
                cause_id=first, reason="below_bankruptcy", accounts=int((need > 0).sum()),
                detail=f"{int((need > 0).sum())} accounts on {self.name} closed "
                                       "below their bankruptcy price")
            self.bad_debt_usd += total_need
            if self.fund is not None:
                fund_paid = self.fund.draw(total_need, venue=self.name, cause_id=bd)
                self.fund_paid_usd += fund_paid
        else:
            bd = -1
        theta = fund_paid / total_need if total_need > 0 else 1.0
        uncovered = (1 - theta) * need
        # 3. auto-deleveraging: the uncovered part of each position closes at its bankruptcy price
        with np.errstate(divide="ignore", invalid="ignore"):
            phi = np.where(shortfall > 0, uncovered / shortfall, 0.0)
        if p.shortfall_policy == "adl" and uncovered.sum() > 0:
            phi = self._auto_deleverage(rows, size, phi, p_bank, mark, bd)
            self.adl_covered_usd += float((phi * shortfall).sum())
        else:
            phi = np.zeros(rows.size)
        # 4. the rest of each position goes to the outside market makers at the fill price
        q_out = (1 - phi) * size
        apply_trades(b, rows, -q_out, fill)
        for side in (long, ~long):
            q = float(q_out[side].sum())
            if q != 0:
                vwap = float((q_out[side] * fill[side]).sum() / q)
                apply_trades(b, np.array([0]), np.array([q]), vwap)
        market.impact(self.asset, float(q_out.sum()))
        # 5. fees from what is left, shortfalls paid in
        left = b.collateral[rows]
        fee = np.where(left > 0, np.minimum(p.liquidation_fee_frac * np.abs(size) * fill, left), 0)
        b.collateral[rows] -= fee
        if self.fund is not None:
            self.fund.deposit(float(fee.sum()))
        else:
            market.outside_receives(market.numeraire, float(fee.sum()))
        b.collateral[rows] += seized + theta * need
        residual = np.maximum(-b.collateral[rows], 0.0)
        if residual.sum() > 1e-6:
            self._socialise(rows, residual, bd)
        notional = np.abs(size) * fill
        self.model.population.mark_liquidated(b.owner[rows])
        self.record_liquidations(int(rows.size), float(notional.sum()))
        ids = self.model.events.add_many(
            "perp_liquidation", step=self.model.steps, n=rows.size, venue=self.name,
            agent=self.name, account=b.owner[rows], asset=market.assets[self.asset],
            amount=size, value_usd=notional, price=fill, cause_id=causes, mmr_frac=self.mmr,
            slippage_frac=max(slip_l, slip_s), shortfall_usd=shortfall,
            detail=f"equity below maintenance margin ({self.mmr:.2%}) at {self.name}; "
                   f"position closed into the book (slippage {max(slip_l, slip_s):.2%})")
        market.attribute(self.asset, int(ids[0]))  # the closes moved the external price

    def _causes(self, rows: NDArray[np.int64]) -> NDArray[np.int64]:
        causes = np.full(rows.size, self.oracle.last_event, dtype=np.int64)
        if self.custodian is not None and self.custodian.loss_event >= 0:
            causes[self.book.cross[rows]] = self.custodian.loss_event
        return causes

    def _auto_deleverage(self, rows: NDArray[np.int64], size: NDArray[np.float64],
                         phi: NDArray[np.float64], p_bank: NDArray[np.float64], mark: float,
                         cause_id: int) -> NDArray[np.float64]:
        b = self.book
        eligible = np.ones(len(b), dtype=bool)
        eligible[0] = False
        eligible[rows] = False
        for side in (1.0, -1.0):  # bankrupt longs are matched with shorts, and vice versa
            m = (np.sign(size) == side) & (phi > 0)
            q_need = float(np.abs(phi[m] * size[m]).sum())
            if q_need <= 0:
                continue
            cand = np.flatnonzero(eligible & (np.sign(b.size) == -side))
            pnl = b.size[cand] * (mark - b.entry[cand])
            cand, pnl = cand[pnl > 0], pnl[pnl > 0]
            if cand.size == 0:
                phi[m] = 0.0
                continue
            entry_value = np.abs(b.size[cand] * b.entry[cand])
            mark_value = b.size[cand] * mark
            bank_value = b.size[cand] * bankruptcy_price(b.collateral[cand], b.size[cand],
                                                          b.entry[cand])
            rank = adl_ranking(pnl / entry_value, effective_leverage(mark_value, bank_value))
            fills = allocate_adl(np.abs(b.size[cand]), rank, q_need)
            got = float(fills.sum())
            phi[m] *= got / q_need
            q_adl = phi[m] * size[m]
            apply_trades(b, rows[m], -q_adl, p_bank[m])
            vwap = float((q_adl * p_bank[m]).sum() / q_adl.sum())
            hit = fills > 0
            apply_trades(b, cand[hit], side * fills[hit], vwap)
            usd = float(fills.sum() * vwap)
            self.adl_usd += usd
            self.model.events.add_many(
                "adl", step=self.model.steps, n=int(hit.sum()), venue=self.name,
                account=b.owner[cand[hit]], amount=side * fills[hit],
                value_usd=fills[hit] * vwap, price=vwap, cause_id=cause_id,
                side="short" if side < 0 else "long",
                detail=f"insurance fund exhausted: auto-deleveraged at the bankruptcy price "
                       f"{vwap:,.4g} (BitMEX ranking)")
        return phi

    def _socialise(self, rows: NDArray[np.int64], residual: NDArray[np.float64],
                   cause_id: int) -> None:
        total = float(residual.sum())
        take = self._clawback(total, cause_id, exclude=rows)
        if take > 0:
            self.book.collateral[rows] += residual * (take / total)
        if total - take > 1e-6:
            self.unresolved_usd += total - take
            if not self.defaulted:
                self.model.report_default(
                    self, cause_id, "uncovered_shortfall",
                    f"{self.name} could not cover ${total - take:,.0f} of shortfall",
                    shortfall_usd=total - take)
