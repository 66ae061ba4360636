"""A perpetual-futures venue: margin checks, liquidations, insurance fund, ADL or socialisation,
and withdrawals against unrealised PnL (the Mango Markets exploit)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from contagion.agents.market import DEPEG_EVENT_FRAC
from contagion.agents.venue import MarginVenue
from contagion.book import PerpBook
from contagion.institution import BalanceSheet
from contagion.mechanics.adl import adl_ranking, allocate_adl, effective_leverage
from contagion.mechanics.funding import (
    capped_funding_rate,
    funding_rate,
    imbalance_premium,
    prorated_rate,
)
from contagion.mechanics.options import VolSurface, bsm_price
from contagion.mechanics.perp import account_equity, bankruptcy_price, maintenance_margin
from contagion.mechanics.portfolio_margin import (
    InstrumentTable,
    account_greeks,
    instrument_vols,
    liquidation_order,
    portfolio_margin,
    risk_contributions,
    scenario_pnl_per_unit,
)
from contagion.mechanics.risk import dynamic_margin_frac

if TYPE_CHECKING:
    from contagion.agents.bridge import Bridge
    from contagion.agents.custodial import CustodialExchange
    from contagion.agents.fund import InsuranceFund
    from contagion.model import ContagionModel
    from contagion.params import ExploitParams, PerpParams

__all__ = ["PerpVenue", "apply_option_trades", "apply_trades", "withdrawable_usd"]

ATTACKER = "attacker"


def apply_trades(book: PerpBook, rows: NDArray[np.int64], delta: NDArray[np.float64],
                 price: NDArray[np.float64] | float, market: int = 0) -> None:
    """Change the positions of ``rows`` in ``market`` (a column of the book) by ``delta``
    units at ``price`` (rows unique).

    Notes
    -----
    The part of ``delta`` that reduces the position realises ``-c (p - entry)`` into
    collateral; the part that opens moves the average entry. The venue's cash
    ``sum(collateral - size * entry)`` changes by ``-delta * price``: the buyer pays the
    seller, so matched trades conserve it exactly.
    """
    _trade_into(book.collateral, book.size, book.entry, rows, market, delta, price)


def apply_option_trades(book: PerpBook, rows: NDArray[np.int64], delta: NDArray[np.float64],
                        price: NDArray[np.float64] | float, series: int) -> None:
    """Change the positions of ``rows`` in option ``series`` (a column of ``opt_size``) by
    ``delta`` units at the premium ``price`` per unit (rows unique): :func:`apply_trades`'
    arithmetic on ``opt_size/opt_entry``, so the venue's cash
    ``sum(collateral - size*entry - opt_size*opt_entry)`` changes by ``-delta * price``
    and matched trades conserve it."""
    _trade_into(book.collateral, book.opt_size, book.opt_entry, rows, series, delta, price)


def _trade_into(collateral: NDArray[np.float64], size: NDArray[np.float64],
                entry: NDArray[np.float64], rows: NDArray[np.int64], col: int,
                delta: NDArray[np.float64], price: NDArray[np.float64] | float) -> None:
    """The trade arithmetic of :func:`apply_trades` on column ``col`` of ``size``/``entry``
    (a perp market or an option series), in place."""
    s = size[rows, col]
    old = entry[rows, col]
    p = np.broadcast_to(np.asarray(price, dtype=np.float64), s.shape)
    closing = np.where(s * delta < 0, np.sign(delta) * np.minimum(np.abs(delta), np.abs(s)), 0.0)
    opening = delta - closing
    new_size = s + delta
    kept = s + closing
    with np.errstate(invalid="ignore", divide="ignore"):
        new_entry = np.where(new_size != 0, (kept * old + opening * p) / new_size, p)
    collateral[rows] += -closing * (p - old)
    size[rows, col] = new_size
    entry[rows, col] = new_entry


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


def _add_outside_account(book: PerpBook, collateral_usd: float,
                         marks: NDArray[np.float64]) -> int:
    """Append a flat account of the outside world (owner -1) holding ``collateral_usd``
    (its entries: each market's mark)."""
    row = len(book)
    book.collateral = np.append(book.collateral, collateral_usd)
    book.size = np.vstack([book.size, np.zeros((1, book.markets))])
    book.entry = np.vstack([book.entry, np.asarray(marks, dtype=np.float64).reshape(1, -1)])
    book.owner = np.append(book.owner, -1).astype(np.int64)
    book.cross = np.append(book.cross, False)
    book.opt_size = np.vstack([book.opt_size, np.zeros((1, book.series))])
    book.opt_entry = np.vstack([book.opt_entry, np.zeros((1, book.series))])
    return row


@dataclass(frozen=True)
class _PMState:
    """A portfolio-margin venue's instruments repriced at one set of marks (one step)."""

    instruments: InstrumentTable
    vols: NDArray[np.float64]  # (m + k,) 0 for perps
    unit: NDArray[np.float64]  # (m + k, S) scenario P&L per unit
    values: NDArray[np.float64]  # (k,) each option series' value per unit
    tte_yrs: NDArray[np.float64]  # (k,) years to expiry


def _open_attacker_account(book: PerpBook, exploit: ExploitParams,
                           marks: NDArray[np.float64]) -> int:
    """Append the attacker's account, long ``notional_usd`` of the venue's primary market at
    its mark against the outside market makers (row 0); return its row."""
    row = _add_outside_account(book, exploit.collateral_usd, marks)
    mark = marks[0]
    q = exploit.notional_usd / mark
    apply_trades(book, np.array([row]), np.array([q]), mark)
    apply_trades(book, np.array([0]), np.array([-q]), mark)
    return row


class PerpVenue(MarginVenue):
    """Perpetual futures on one or more assets (markets), each marked to its oracle.

    An account's positions in all the venue's markets share its collateral: its equity is
    collateral plus every market's unrealised PnL, its maintenance margin the sum of each
    market's ``|size| * mark * mmr``. It is liquidated when its equity (plus, if
    cross-margined, its haircut deposit at the custodial exchange) is below maintenance
    margin: every position it holds is closed into its market's external book at the mark
    less slippage (each market's own depth and impact); a fee from what is left goes to the
    insurance fund. A bankrupt account's shortfall is covered from its cross-margined
    deposit, then by the insurance fund, then by auto-deleveraging (profitable opposite
    positions in each market closed at the bankruptcy price, BitMEX ranking; the shortfall
    is split across the account's markets by notional) or by a pro-rata haircut of every
    account in profit (``shortfall_policy``).

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
        self.assets = [model.market.index[a] for a in params.market_assets]
        self.asset = self.assets[0]  # the primary market
        # one feed per market, the primary first; the model re-reads them from the world
        # graph's price_feed edges (ContagionModel._wire)
        self.oracles: list[Any] = [model.oracles[o] for o in params.market_oracles]
        self.exploit = next((x for x in model.scenario.exploits if x.venue == self.name), None)
        self.attacker_row = -1
        self.attacker_withdrawn_usd = 0.0
        market = model.market
        self.lender_row = -1  # the lenders' deposits and the attacker's come from outside
        if params.lender_deposits_usd > 0:
            self.lender_row = _add_outside_account(book, params.lender_deposits_usd,
                                                   self.marks())
            market.outside_receives(market.numeraire, -params.lender_deposits_usd)
        if self.exploit is not None:
            self.attacker_row = _open_attacker_account(book, self.exploit, self.marks())
            market.outside_receives(market.numeraire, -self.exploit.collateral_usd)
        # channels (fund, custodian; the oracle after set-up): set from the world graph's
        # edges by the model (ContagionModel._wire)
        self.fund: InsuranceFund | None = None
        self.custodian: CustodialExchange | None = None
        self.bridge: Bridge | None = None  # the bridge its cross-margin transfers cross
        self.num_feed: Any = None  # its oracle of a depegging numeraire (None: $1)
        self.haircut = model.scenario.traders.cross_margin_haircut_frac
        self.mmrs = np.array(params.market_maintenance_margin_fracs, dtype=np.float64)
        self._var = [0.0] * len(self.assets)
        self._last_mark = [o.price for o in self.oracles]
        self.adl_usd = 0.0
        self.seized_cross_usd = 0.0
        self.unresolved_usd = 0.0
        self.adl_covered_usd = 0.0
        self._cross_rows = np.flatnonzero(book.cross)
        self._credit = np.empty(0)
        self._credit_key: tuple[int, bool, float] = (-1, False, 0.0)
        self.unfunded_usd = 0.0  # cross-margin transfers credited to accounts, cash not yet in
        self.transfer_loss_usd = 0.0
        self.settle_steps = model.scenario.traders.cross_margin_settlement_steps
        self._ratio = np.empty(0)
        self._ratio_step = -1
        self._eq = np.empty(0)
        self._mm = np.empty(0)
        # generations of the margin state (a full pass) and of the cross credit (a new
        # array): the ratio margin_ratio() computed before the liquidation round is kept,
        # with add_collateral's rows recomputed, while both stand (``_pre_ratio_gens``),
        # so the round's margin check reuses it instead of another pass over the book
        self._state_gen = 0
        self._credit_gen = 0
        # Bumped by every write to the book (``_book_written``): a step that starts with the
        # book, the marks, the numeraire's price and the margin fractions of the last full
        # margin pass (``_state_full``) keeps that pass instead of another (after a crash
        # the book stands still for most steps). Writes from outside this class must call
        # ``_book_written()`` (or ``invalidate()``) as the venue's own methods do.
        self._book_version = 0
        self._state_full: tuple[Any, ...] | None = None
        self._sums_key: tuple[Any, ...] | None = None
        self._sums: tuple[float, float] = (0.0, 0.0)
        self._oi_key: tuple[Any, ...] | None = None
        self._oi = 0.0
        self._pre_ratio = np.empty(0)
        self._pre_ratio_gens = (-1, -1)
        self._state_step = -1
        self._state_inputs: tuple[bytes, float, bytes] = (b"", 0.0, b"")
        # rows add_collateral updated in place since the last full pass, and whether the
        # state was refreshed row by row after a liquidation round (not read since)
        self._topped_up: list[NDArray[np.int64]] = []
        self._refreshed = False
        # funding (PerpParams.funding): each market's premium this step, its sum since the
        # last funding time, the last rate per funding period, what longs paid in all
        m = len(self.assets)
        self.premium_frac = np.zeros(m)
        self.funding_rate_frac = np.zeros(m)
        self._premium_sum = np.zeros(m)
        self._premium_steps = 0
        self.funding_paid_usd = np.zeros(m)  # by longs, net (negative: shorts paid)
        # portfolio margin and options (PerpParams.margin_model = "portfolio")
        self.pm_on = params.margin_model == "portfolio"
        if self.pm_on:
            self._init_portfolio_margin()

    def _book_written(self) -> None:
        """The book changed: views kept across steps are stale (see ``_book_version``)."""
        self._book_version += 1

    def invalidate(self) -> None:
        """Forget the step's cached margin state and cross-margin credit (channels changed)."""
        self._book_version += 1
        self._state_step = -1
        self._ratio_step = -1
        self._credit_key = (-1, False, 0.0)

    # ------------------------------------------------------------------ institution
    def balance_sheet(self) -> BalanceSheet:
        """Its cash against what it owes accounts in profit (the outside market makers'
        row 0 aside); accounts under 1.5x maintenance margin at risk."""
        eq = self.margin_state()[0]
        # kept while the book and the margin pass stand (each a pass over every account)
        key = (self._book_version, len(self.book), self._state_gen, self.numeraire_usd())
        if key != self._sums_key:
            if self.num_feed is not None:  # it owes units: without the margin's valuation
                eq = eq - self.book.collateral * (self.numeraire_usd() - 1.0)
            self._sums = (self.book.cash(), float(np.maximum(eq[1:], 0).sum()))
            self._sums_key = key
        return BalanceSheet(assets_usd=self._sums[0], liabilities_usd=self._sums[1],
                            at_risk=int(np.sum(self.margin_ratio() < 1.5)))

    def network_state(self) -> str:
        return "at_risk" if self.bad_debt_usd > 0 else "healthy"

    def on_default(self, event_id: int) -> None:
        """Nothing before the clearing."""

    def after_default(self, event_id: int) -> None:
        """Nothing more: its losses are already allocated (fund, ADL or clawback)."""

    # ------------------------------------------------------------------ views
    @property
    def oracle(self) -> Any:
        """The primary market's feed."""
        return self.oracles[0]

    @property
    def mmr(self) -> float:
        """The primary market's maintenance margin fraction in force."""
        return float(self.mmrs[0])

    @property
    def market_names(self) -> list[str]:
        """Every market's asset, the primary first (the book's columns)."""
        return [self.model.market.assets[a] for a in self.assets]

    def mark(self) -> float:
        """The primary market's mark."""
        return float(self.oracles[0].price)

    def marks(self) -> NDArray[np.float64]:
        """Every market's mark, in the book's column order."""
        return np.array([float(o.price) for o in self.oracles], dtype=np.float64)

    def numeraire_usd(self) -> float:
        """The venue's price of the numeraire (its oracle's), when it may depeg.

        Convention (``docs/stablecoin-risk.md``): marks and PnL are in USD and settle one
        numeraire unit per dollar, as at USD-margined venues; the margin check values the
        collateral (and cross-margin deposits) at this price. Without a feed of the
        numeraire (``num_feed`` None) it is $1: the venue ignores the depeg."""
        return float(self.num_feed.price) if self.num_feed is not None else 1.0

    def cross_credit(self) -> NDArray[np.float64]:
        """Haircut value of each cross-margined account's deposit at the custodian."""
        halted = self.bridge is not None and self.bridge.halted  # deposits cannot cross
        # the custodian bumps ``version`` whenever deposits or their recovery value change,
        # so the credit holds across steps until then (or until the numeraire's price moves)
        key = (self.custodian.version if self.custodian is not None else 0, halted,
               self.numeraire_usd() if self.num_feed is not None else 1.0)
        if self._credit_key == key and self._credit.shape[0] == len(self.book):
            return self._credit  # unchanged since the custodian last touched its deposits
        credit = np.zeros(len(self.book))
        if self.custodian is not None and not halted:
            rows = self._cross_rows
            credit[rows] = self.custodian.deposit_value(self.book.owner[rows]) * (1 - self.haircut)
            if self.num_feed is not None:  # deposits are numeraire units: at its oracle
                credit[rows] *= self.numeraire_usd()
        self._credit, self._credit_key = credit, key
        self._credit_gen += 1
        return credit

    def equity(self, marks: NDArray[np.float64] | None = None) -> NDArray[np.float64]:
        """Collateral plus the unrealised PnL of every market (and option series), per
        account."""
        b = self.book
        marks = self.marks() if marks is None else marks
        eq = np.asarray(account_equity(b.collateral, b.size[:, 0], b.entry[:, 0],
                                       float(marks[0]), validate=False))
        for k in range(1, b.markets):
            eq = eq + b.size[:, k] * (float(marks[k]) - b.entry[:, k])
        if self.pm_on and b.series:
            eq = eq + self._option_pnl(slice(None), marks)
        return eq

    def maintenance(self, rows: NDArray[np.int64] | None = None,
                    marks: NDArray[np.float64] | None = None) -> NDArray[np.float64]:
        """Maintenance margin of ``rows`` (all accounts by default): the sum over markets of
        ``|size| * mark * mmr``, or under portfolio margin the worst scenario loss plus
        contingencies (:func:`~contagion.mechanics.portfolio_margin.portfolio_margin`)."""
        b = self.book
        marks = self.marks() if marks is None else marks
        if self.pm_on:
            return self._portfolio_maintenance(slice(None) if rows is None else rows, marks)
        size = b.size if rows is None else b.size[rows]
        mm = np.asarray(maintenance_margin(size[:, 0], float(marks[0]), float(self.mmrs[0]),
                                           validate=False))
        for k in range(1, b.markets):
            mm = mm + np.asarray(maintenance_margin(size[:, k], float(marks[k]),
                                                    float(self.mmrs[k]), validate=False))
        return mm

    def margin_state(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """This step's equity (without cross credit) and maintenance margin of every account.

        Computed once per step at the oracle's mark, then kept current: top-ups add to
        ``equity`` row by row, and a liquidation round recomputes it.
        """
        if self._state_step != self.model.steps or self._eq.shape[0] != len(self.book):
            marks = self.marks()
            key = (self._book_version, len(self.book), self._margin_inputs(marks))
            if (self._state_step >= 0 and key == self._state_full and not self.pm_on
                    and self._eq.shape[0] == len(self.book)):
                # nothing it reads moved since that full pass (no write, no invalidation):
                # a new pass would give the same bits (portfolio margin also reads time)
                self._state_step = self.model.steps
                self._topped_up = []
                self._refreshed = False
                return self._eq, self._mm
            self._eq = self.equity(marks)
            if self.num_feed is not None:  # margin counts collateral at its oracle in USD
                self._eq = self._eq + self.book.collateral * (self.numeraire_usd() - 1.0)
            self._mm = self.maintenance(marks=marks)
            self._state_step = self.model.steps
            self._state_gen += 1
            self._state_full = key
            self._state_inputs = self._margin_inputs(marks)
            self._topped_up = []
            self._refreshed = False
        elif self._refreshed:  # rows refreshed after a liquidation round: as a full pass?
            self._refreshed = False
            if self._margin_inputs(self.marks()) != self._state_inputs:
                self._state_step = -1
                return self.margin_state()
        return self._eq, self._mm

    def _margin_inputs(self, marks: NDArray[np.float64]) -> tuple[bytes, float, bytes]:
        """What the margin state was computed at besides the book: marks, the numeraire's
        price, the maintenance fractions."""
        return marks.tobytes(), self.numeraire_usd(), self.mmrs.tobytes()

    def _refresh_state(self, rows: NDArray[np.int64]) -> None:
        """Recompute the margin state of ``rows`` only (the accounts a liquidation round
        traded or paid), the same operations on the same values as :meth:`margin_state`'s
        full pass; a full recompute later when the marks, the numeraire's price or the
        margin fractions moved since that pass (a feed that reads the live market)."""
        if self._state_step != self.model.steps or self._eq.shape[0] != len(self.book):
            return  # stale already: the next margin_state() recomputes everything
        marks = self.marks()
        if self._margin_inputs(marks) != self._state_inputs:
            self._state_step = -1
            return
        if self._topped_up:  # a full pass would not carry add_collateral's sums either
            rows = np.concatenate([rows, *self._topped_up])
            self._topped_up = []
        self._refreshed = True
        self._recompute_rows(rows, marks)

    def _recompute_rows(self, rows: NDArray[np.int64], marks: NDArray[np.float64]) -> None:
        b = self.book
        eq = np.asarray(account_equity(b.collateral[rows], b.size[rows, 0], b.entry[rows, 0],
                                       float(marks[0]), validate=False))
        for k in range(1, b.markets):
            eq = eq + b.size[rows, k] * (float(marks[k]) - b.entry[rows, k])
        if self.num_feed is not None:
            eq = eq + b.collateral[rows] * (self.numeraire_usd() - 1.0)
        self._eq[rows] = eq
        self._mm[rows] = self.maintenance(rows, marks)
        self._refresh_pre_ratio(rows)

    def add_collateral(self, rows: NDArray[np.int64], amounts: NDArray[np.float64]) -> None:
        """Owners of ``rows`` deposit ``amounts`` of stablecoin margin."""
        self.book.collateral[rows] += amounts
        self._book_written()
        if self._state_step == self.model.steps:
            if self._refreshed:  # the state stands for a full pass not yet read: recompute
                self._recompute_rows(rows, self.marks())
                return
            self._eq[rows] += amounts if self.num_feed is None else amounts * self.numeraire_usd()
            self._topped_up.append(np.asarray(rows, dtype=np.int64))
            self._refresh_pre_ratio(rows)

    def margin_ratio(self) -> NDArray[np.float64]:
        """(equity + cross credit) / maintenance margin; inf for flat accounts.

        After this step's liquidations it returns the ratios the margin check computed
        (liquidated accounts, now flat, as inf) instead of another pass over the book.
        """
        if self._ratio_step == self.model.steps and self._ratio.shape[0] == len(self.book):
            return self._ratio
        pre = self._current_pre_ratio()
        if pre is not None:
            return pre
        eq, mm = self.margin_state()
        credit = self.cross_credit()
        self._pre_ratio = _ratio_of(eq, credit, mm)
        self._pre_ratio_gens = (self._state_gen, self._credit_gen)
        return self._pre_ratio

    def _current_pre_ratio(self) -> NDArray[np.float64] | None:
        """The ratio :meth:`margin_ratio` last computed, when the margin state and the cross
        credit it read still stand (the same full pass, rows updated since recomputed
        alike: the same bits as a new pass); None otherwise."""
        self.margin_state()
        self.cross_credit()
        if (self._pre_ratio_gens == (self._state_gen, self._credit_gen)
                and self._pre_ratio.shape[0] == len(self.book)):
            return self._pre_ratio
        return None

    def _refresh_pre_ratio(self, rows: NDArray[np.int64]) -> None:
        """Recompute the kept pre-liquidation ratio on ``rows`` (their margin state changed
        in place), when it stands for the current state."""
        if self._ratio is self._pre_ratio and self._ratio_step == self.model.steps:
            self._pre_ratio_gens = (-1, -1)  # it is this round's margin check now: keep it
        elif (self._pre_ratio_gens == (self._state_gen, self._credit_gen)
                and self._pre_ratio.shape[0] == len(self.book)):
            self._pre_ratio[rows] = _ratio_of(self._eq[rows], self._credit[rows], self._mm[rows])

    def open_interest_usd(self) -> float:
        """Notional of the traders' positions (row 0 aside), summed over markets at the marks."""
        marks, total = self.marks(), 0.0
        key = (self._book_version, len(self.book), marks.tobytes())
        if key == self._oi_key:  # the book and the marks stand: the same sums
            return self._oi
        for k in range(self.book.markets):
            total += float(np.abs(self.book.size[1:, k]).sum() * float(marks[k]))
        self._oi, self._oi_key = total, key
        return total

    def holdings(self) -> dict[int, float]:
        return {self.model.market.numeraire: self.book.cash() - self.unfunded_usd}

    def holdings_scale(self) -> dict[int, float]:
        """The scale of :meth:`holdings`' rounding: the terms its cash adds up
        (``PerpBook.cash_scale``), for the conservation check."""
        return {self.model.market.numeraire: self.book.cash_scale() + abs(self.unfunded_usd)}

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
        b, marks = self.book, self.marks()
        mark = float(marks[0])
        allowed = self._withdrawable(row, marks)
        free = self.free_cash_usd()
        paid = min(allowed, free)
        if paid < 1.0:
            return 0.0
        upnl = 0.0
        for k in range(b.markets):
            upnl += float(b.size[row, k] * (float(marks[k]) - b.entry[row, k]))
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

    def _withdrawable(self, row: int, marks: NDArray[np.float64]) -> float:
        """:func:`withdrawable_usd` of one account over all its markets: its collateral plus
        the PnL that counts, less each market's initial margin."""
        b, p = self.book, self.params
        if b.markets == 1:
            return float(withdrawable_usd(b.collateral[row], b.size[row, 0], b.entry[row, 0],
                                          float(marks[0]), p.initial_margin_frac,
                                          upnl_collateral=p.upnl_collateral)[()])
        free, margin = float(b.collateral[row]), 0.0
        for k, imf in enumerate(p.market_initial_margin_fracs):
            s, mark = float(b.size[row, k]), float(marks[k])
            upnl = s * (mark - float(b.entry[row, k]))
            free += upnl if p.upnl_collateral else min(upnl, 0.0)
            margin += abs(s) * mark * imf
        return max(free - margin, 0.0)

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
            self._book_written()
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
        """Dynamic margin: each market's maintenance margin follows the EWMA volatility of
        its mark."""
        p = self.params
        base = p.market_maintenance_margin_fracs
        cap = p.market_initial_margin_fracs
        for k, o in enumerate(self.oracles):
            mark = float(o.price)
            last = self._last_mark[k]
            r = float(np.log(mark / last)) if last > 0 else 0.0
            self._last_mark[k] = mark
            lam = 0.5 ** (1.0 / p.dynamic_margin_halflife_steps)
            self._var[k] = lam * self._var[k] + (1 - lam) * r * r
            if p.dynamic_margin:
                self.mmrs[k] = float(dynamic_margin_frac(
                    np.sqrt(self._var[k]), base_frac=base[k],
                    horizon_steps=p.dynamic_margin_horizon_steps, confidence=0.99,
                    floor_frac=base[k], cap_frac=cap[k]))
        if self.pm_on:
            self._settle_expiries()

    def perp_prices(self) -> NDArray[np.float64]:
        """Each market's perp price: its index (the oracle's mark) times ``1 + premium``.

        Margins and PnL stay marked to the index (as BitMEX's fair-price marking keeps
        liquidations off the traded price); the premium only drives funding.
        """
        return self.marks() * (1.0 + self.premium_frac)

    def pay_funding(self) -> None:
        """Sample each market's premium; at a funding time, move funding between longs and
        shorts.

        Notes
        -----
        Every step (with ``PerpParams.funding``) market k's premium is
        ``P_k = clip(premium_sensitivity * N_k / D_k, +-max_liquidation_slippage_frac)``
        (:func:`~contagion.mechanics.funding.imbalance_premium`), ``N_k`` the net long
        notional of every account but row 0 at the index, ``D_k`` the market's order-book
        depth now. Every ``funding_interval_steps`` steps the premiums since the last
        funding time are averaged (the exchanges' time-weighted premium index) into
        ``F = clamp(P + clamp(I - P, -c, c), -cap, cap)`` per ``funding_period_hours``,
        and each account pays ``size * index * F * minutes / (60 * period_hours)``
        (:func:`~contagion.mechanics.funding.prorated_rate`): longs pay shorts when
        ``F > 0``. Row 0, the outside market makers, holds the other side of the net open
        interest; it is credited exactly what the other accounts pay net, so the transfers
        add up to zero and the venue's cash is unchanged. Collateral falls on the paying
        side (equity and margin ratios with it): the liquidation stage sees it.
        """
        p = self.params
        if not p.funding or self.defaulted:
            return
        b, model = self.book, self.model
        marks = self.marks()
        depth = model.market.depth_usd[np.asarray(self.assets, dtype=np.int64)]
        net_usd = b.size[1:].sum(axis=0) * marks
        self.premium_frac = np.asarray(imbalance_premium(
            net_usd, depth, sensitivity=p.premium_sensitivity,
            max_frac=p.max_liquidation_slippage_frac), dtype=np.float64).reshape(-1)
        self._premium_sum += self.premium_frac
        self._premium_steps += 1
        if model.steps % p.funding_interval_steps != 0:
            return
        avg = self._premium_sum / self._premium_steps
        minutes = self._premium_steps * model.scenario.market.step_minutes
        self._premium_sum = np.zeros_like(self._premium_sum)
        self._premium_steps = 0
        uncapped = np.asarray(funding_rate(avg, p.interest_rate_frac, p.funding_clamp_frac),
                              dtype=np.float64).reshape(-1)
        period_rate = np.asarray(capped_funding_rate(uncapped, p.funding_cap_frac),
                                 dtype=np.float64).reshape(-1)
        rate = np.asarray(prorated_rate(period_rate, minutes, p.funding_period_hours),
                          dtype=np.float64).reshape(-1)
        self.funding_rate_frac = period_rate
        names = self.market_names
        for k in range(b.markets):
            mark = float(marks[k])
            pay = b.size[:, k] * (mark * float(rate[k]))  # > 0 pays (size * mark * rate)
            pay[0] = -float(pay[1:].sum())  # the outside market makers balance the ledger
            b.collateral -= pay
            self._book_written()
            paid = float(pay[pay > 0].sum())
            received = float(-pay[pay < 0].sum())
            longs_paid = float(pay[b.size[:, k] > 0].sum())
            self.funding_paid_usd[k] += longs_paid
            side = "longs" if longs_paid > 0 else "shorts" if longs_paid < 0 else "none"
            bound = ("cap" if abs(uncapped[k]) > p.funding_cap_frac else "")
            model.events.add(
                "funding", step=model.steps, venue=self.name, agent=self.name,
                asset=names[k], amount=float(rate[k]), value_usd=paid, price=mark,
                cause_id=int(self.oracles[k].last_event), paying_side=side,
                rate_frac=float(rate[k]), period_rate_frac=float(period_rate[k]),
                uncapped_rate_frac=float(uncapped[k]), premium_frac=float(avg[k]),
                perp_price=mark * (1.0 + float(avg[k])), paid_usd=paid,
                received_usd=received, payers=int((pay > 0).sum()),
                interval_minutes=float(minutes),
                detail=f"funding on {self.name} {names[k]}: {side} paid "
                       f"${paid:,.0f} ({float(period_rate[k]):+.4%} per "
                       f"{p.funding_period_hours:g}h{', capped' if bound else ''}; premium "
                       f"{float(avg[k]):+.3%})")
        self._state_step = -1  # every open account's collateral changed
        self._ratio_step = -1

    def liquidate(self) -> None:
        """Close every account below maintenance margin (all its markets) and cover the
        shortfalls (under portfolio margin: :meth:`_liquidate_portfolio`)."""
        if self.pm_on:
            self._liquidate_portfolio()
            return
        self.begin_liquidation_round()
        b, p = self.book, self.params
        marks = self.marks()
        eq_local, mm = self.margin_state()
        credit = self.cross_credit()
        ratio = self._current_pre_ratio()
        if ratio is not None:
            # the top-ups' ratio, kept: eq < mm with mm > 0 gives eq / mm <= 1 (rounding is
            # monotone and 1 is exact), so the accounts below maintenance are among those
            # with a ratio <= 1; the check itself is the same sum and comparison
            maybe = np.flatnonzero(ratio <= 1.0)
            rows = maybe[eq_local[maybe] + credit[maybe] < mm[maybe]]
            self._ratio = ratio  # handed over: the round writes to it (if any row is under)
        else:
            eq = eq_local + credit
            rows = np.flatnonzero(eq < mm)
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                self._ratio = np.where(mm > 0, eq / mm, np.inf)
        rows = rows[(mm[rows] > 0) & (rows != 0)]  # open positions; never the outside row
        if rows.size and self._ratio is self._pre_ratio:
            self._pre_ratio_gens = (-1, -1)  # no longer the top-ups' ratio
        self._ratio[rows] = np.inf
        self._ratio_step = self.model.steps
        if rows.size == 0:
            return
        self._book_written()  # the round below trades, seizes and pays these rows
        # the closes below change these rows and row 0; ADL and clawbacks change many more
        # accounts (a clawback invalidates the state itself, ADL below)
        n_markets = b.markets
        size = b.size[rows].copy()  # (accounts, markets)
        entry = b.entry[rows]
        market = self.model.market
        # each market's closes walk its own external book: slippage by side from its depth
        fill = np.empty_like(size)
        slips: list[tuple[float, float]] = []
        for k in range(n_markets):
            s_k, mark = size[:, k], float(marks[k])
            long = s_k > 0
            depth = float(market.depth_usd[self.assets[k]])
            slip_l = min(p.max_liquidation_slippage_frac, s_k[long].sum() * mark / depth)
            slip_s = min(p.max_liquidation_slippage_frac, -s_k[~long].sum() * mark / depth)
            fill[:, k] = np.where(long, mark * (1 - slip_l), mark * (1 + slip_s))
            slips.append((slip_l, slip_s))
        pnl = size * (fill - entry)  # each market's PnL at its fill
        collateral = b.collateral[rows]
        e_fill = collateral + pnl[:, 0]
        for k in range(1, n_markets):
            e_fill = e_fill + pnl[:, k]
        # market k's bankruptcy price: where the account's equity is zero with every other
        # market closed at its fill
        p_bank = np.empty_like(size)
        for k in range(n_markets):
            c_k = collateral
            for j in range(n_markets):
                if j != k:
                    c_k = c_k + pnl[:, j]
            p_bank[:, k] = np.asarray(bankruptcy_price(c_k, size[:, k], entry[:, k]))
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
        # each position's cause: its market's feed (or the custodian's loss); an account's:
        # that of its worst market
        caused = self._causes(rows)
        causes = caused[np.arange(rows.size), np.argmin(pnl, axis=1)]
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
        # 3. auto-deleveraging: the uncovered part of each position closes at its bankruptcy
        # price, the account's shortfall split across its markets by notional
        notional = np.abs(size) * fill
        total_notional = notional[:, 0]
        for k in range(1, n_markets):
            total_notional = total_notional + notional[:, k]
        weight = notional / total_notional[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            phi = np.where(shortfall > 0, uncovered / shortfall, 0.0)
        if p.shortfall_policy == "adl" and uncovered.sum() > 0:
            phis = self._auto_deleverage(rows, size, phi[:, None] * weight, p_bank, marks, bd)
            self._state_step = -1  # the counterparties' positions changed
            covered = phis[:, 0]
            for k in range(1, n_markets):
                covered = covered + phis[:, k]
            self.adl_covered_usd += float((covered * shortfall).sum())
        else:
            phis = np.zeros_like(size)
        # 4. the rest of each position goes to the outside market makers at the fill price
        q_out = (1 - phis) * size
        for k in range(n_markets):
            q_k, fill_k = q_out[:, k], fill[:, k]
            long = size[:, k] > 0
            apply_trades(b, rows, -q_k, fill_k, market=k)
            for side in (long, ~long):
                q = float(q_k[side].sum())
                if q != 0:
                    vwap = float((q_k[side] * fill_k[side]).sum() / q)
                    apply_trades(b, np.array([0]), np.array([q]), vwap, market=k)
            market.impact(self.assets[k], float(q_k.sum()))
        # 5. fees from what is left, shortfalls paid in
        left = b.collateral[rows]
        owed = p.liquidation_fee_frac * np.abs(size[:, 0]) * fill[:, 0]
        for k in range(1, n_markets):
            owed = owed + p.liquidation_fee_frac * np.abs(size[:, k]) * fill[:, k]
        fee = np.where(left > 0, np.minimum(owed, left), 0)
        b.collateral[rows] -= fee
        if self.fund is not None:
            self.fund.deposit(float(fee.sum()))
        else:
            market.outside_receives(market.numeraire, float(fee.sum()))
        b.collateral[rows] += seized + theta * need
        self._book_written()
        residual = np.maximum(-b.collateral[rows], 0.0)
        if residual.sum() > 1e-6:
            self._socialise(rows, residual, bd)
        self._refresh_state(np.concatenate([[0], rows]))
        self.model.population.mark_liquidated(b.owner[rows])
        self.record_liquidations(int(rows.size), sum(float(notional[:, k].sum())
                                                     for k in range(n_markets)))
        names = self.market_names
        for k in range(n_markets):  # one event per position closed, market by market
            held = size[:, k] != 0
            if not held.any():
                continue
            slip = max(slips[k])
            mmr = float(self.mmrs[k])
            ids = self.model.events.add_many(
                "perp_liquidation", step=self.model.steps, n=int(held.sum()), venue=self.name,
                agent=self.name, account=b.owner[rows[held]], asset=names[k],
                amount=size[held, k], value_usd=notional[held, k], price=fill[held, k],
                cause_id=caused[held, k],
                mmr_frac=mmr, slippage_frac=slip,
                shortfall_usd=shortfall[held] * weight[held, k],
                detail=f"equity below maintenance margin ({mmr:.2%}) at {self.name}; "
                       f"position closed into the book (slippage {slip:.2%})")
            market.attribute(self.assets[k], int(ids[0]))  # the closes moved its price

    def _causes(self, rows: NDArray[np.int64]) -> NDArray[np.int64]:
        """``(accounts, markets)``: the last event of each market's feed (or of the
        numeraire's feed, when it is later and the numeraire is off its peg), or the
        custodian's loss for a cross-margined account once the custodian lost deposits."""
        feeds = np.array([o.last_event for o in self.oracles], dtype=np.int64)
        if self.num_feed is not None and abs(self.numeraire_usd() - 1.0) >= DEPEG_EVENT_FRAC:
            # a depegged numeraire moved every account's margin: its publication, if later
            feeds = np.maximum(feeds, int(self.num_feed.last_event))
        causes = np.tile(feeds, (rows.size, 1))
        if self.custodian is not None and self.custodian.loss_event >= 0:
            causes[self.book.cross[rows]] = self.custodian.loss_event
        return causes

    def _auto_deleverage(self, rows: NDArray[np.int64], size: NDArray[np.float64],
                         phi: NDArray[np.float64], p_bank: NDArray[np.float64],
                         marks: NDArray[np.float64], cause_id: int) -> NDArray[np.float64]:
        """Close the fraction ``phi[i, k]`` of bankrupt account i's position in market k at
        its bankruptcy price against the most profitable, most leveraged opposite positions
        in that market; return the fractions actually closed."""
        b = self.book
        eligible = np.ones(len(b), dtype=bool)
        eligible[0] = False
        eligible[rows] = False
        names = self.market_names
        for k in range(b.markets):
            mark = float(marks[k])
            s_k, phi_k, bank_k = size[:, k], phi[:, k], p_bank[:, k]  # views: phi is updated
            for side in (1.0, -1.0):  # bankrupt longs are matched with shorts, and vice versa
                m = (np.sign(s_k) == side) & (phi_k > 0)
                q_need = float(np.abs(phi_k[m] * s_k[m]).sum())
                if q_need <= 0:
                    continue
                cand = np.flatnonzero(eligible & (np.sign(b.size[:, k]) == -side))
                pnl = b.size[cand, k] * (mark - b.entry[cand, k])
                cand, pnl = cand[pnl > 0], pnl[pnl > 0]
                if cand.size == 0:
                    phi_k[m] = 0.0
                    continue
                c_size, c_entry = b.size[cand, k], b.entry[cand, k]
                c_coll = b.collateral[cand]  # plus its PnL in the other markets, at the marks
                for j in range(b.markets):
                    if j != k:
                        c_coll = c_coll + b.size[cand, j] * (float(marks[j]) - b.entry[cand, j])
                entry_value = np.abs(c_size * c_entry)
                mark_value = c_size * mark
                bank_value = c_size * bankruptcy_price(c_coll, c_size, c_entry)
                rank = adl_ranking(pnl / entry_value, effective_leverage(mark_value, bank_value))
                fills = allocate_adl(np.abs(c_size), rank, q_need)
                got = float(fills.sum())
                phi_k[m] *= got / q_need
                q_adl = phi_k[m] * s_k[m]
                apply_trades(b, rows[m], -q_adl, bank_k[m], market=k)
                vwap = float((q_adl * bank_k[m]).sum() / q_adl.sum())
                hit = fills > 0
                apply_trades(b, cand[hit], side * fills[hit], vwap, market=k)
                usd = float(fills.sum() * vwap)
                self.adl_usd += usd
                # a one-market venue's events leave asset blank, as they always have
                where = {"asset": names[k]} if b.markets > 1 else {}
                self.model.events.add_many(
                    "adl", step=self.model.steps, n=int(hit.sum()), venue=self.name,
                    account=b.owner[cand[hit]], amount=side * fills[hit],
                    value_usd=fills[hit] * vwap, price=vwap, cause_id=cause_id,
                    side="short" if side > 0 else "long", **where,  # the side deleveraged
                    detail=f"insurance fund exhausted: auto-deleveraged at the bankruptcy price "
                           f"{vwap:,.4g} (BitMEX ranking)")
        return phi

    def _socialise(self, rows: NDArray[np.int64], residual: NDArray[np.float64],
                   cause_id: int) -> None:
        total = float(residual.sum())
        take = self._clawback(total, cause_id, exclude=rows)
        if take > 0:
            self.book.collateral[rows] += residual * (take / total)
            self._book_written()
        if total - take > 1e-6:
            self.unresolved_usd += total - take
            if not self.defaulted:
                self.model.report_default(
                    self, cause_id, "uncovered_shortfall",
                    f"{self.name} could not cover ${total - take:,.0f} of shortfall",
                    shortfall_usd=total - take)

    # ------------------------------------------------------------------ portfolio margin
    # margin_model = "portfolio" only (docs/portfolio-margin.md): nothing below runs at a
    # venue with standard margin.
    def _init_portfolio_margin(self) -> None:
        """The instruments (the markets' perps, then the option series) and the surfaces."""
        from contagion.build import option_series

        p, b, model = self.params, self.book, self.model
        self.pm = p.pm_params()
        k = len(p.options)
        start = np.asarray(model.market.price, dtype=np.float64)[np.asarray(self.assets)]
        if k:
            cols, is_call, strike, expiry, _ = option_series(model.scenario, p, start)
        else:
            cols, is_call = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
            strike, expiry = np.zeros(0), np.zeros(0)
        self._opt_col, self._opt_call, self._opt_strike = cols, is_call, strike
        self._opt_expiry0 = expiry
        self._opt_expired = np.zeros(k, dtype=bool)
        if b.series != k:  # a positions file holds no options: every series starts empty
            b.opt_size = np.zeros((len(b), k))
            b.opt_entry = np.zeros((len(b), k))
            self._book_written()
        names = self.market_names
        by_asset = {vs.asset: vs.surface() for vs in model.scenario.vol_surfaces}
        self._surfaces: list[VolSurface | None] = [by_asset.get(a) for a in names]
        self._pm: _PMState | None = None
        self._pm_key: tuple[int, bytes] = (-1, b"")
        self._greeks_step = -1
        self._greeks = np.zeros((4, len(self.assets)))
        self.option_expiry_paid_usd = 0.0

    def _tte_yrs(self) -> NDArray[np.float64]:
        """Years to each series' expiry now (0 once expired)."""
        elapsed = self.model.steps * self.model.scenario.market.step_minutes / 525_600.0
        return np.maximum(self._opt_expiry0 - elapsed, 0.0)

    def _pm_state(self, marks: NDArray[np.float64]) -> _PMState:
        """The instruments repriced at ``marks``: once per step (and per set of marks)."""
        key = (int(self.model.steps), np.asarray(marks, dtype=np.float64).tobytes())
        if self._pm is not None and self._pm_key == key:
            return self._pm
        m, k = len(self.assets), len(self._opt_col)
        tte = self._tte_yrs()
        kinds = ["perp"] * m + ["call" if c else "put" for c in self._opt_call]
        inst = InstrumentTable(kind=tuple(kinds),
                               asset=np.concatenate([np.arange(m), self._opt_col]).astype(np.intp),
                               strike=np.concatenate([np.zeros(m), self._opt_strike]),
                               expiry_yrs=np.concatenate([np.zeros(m), tte]))
        vols = instrument_vols(inst, marks, self._surfaces) if k else np.zeros(m)
        unit = scenario_pnl_per_unit(inst, marks, vols, self.pm)
        values = (bsm_price(self._opt_call, marks[self._opt_col], self._opt_strike, tte,
                            vols[m:], validate=False) if k else np.zeros(0))
        self._pm = _PMState(instruments=inst, vols=vols, unit=unit,
                            values=np.asarray(values, dtype=np.float64), tte_yrs=tte)
        self._pm_key = key
        return self._pm

    def _pm_sizes(self, rows: NDArray[np.int64] | slice) -> NDArray[np.float64]:
        """``(accounts, m + k)``: each account's perp sizes, then its option sizes."""
        b = self.book
        return np.hstack([b.size[rows], b.opt_size[rows]]) if b.series else b.size[rows].copy()

    def _option_pnl(self, rows: NDArray[np.int64] | slice,
                    marks: NDArray[np.float64]) -> NDArray[np.float64]:
        """Unrealised PnL of ``rows``' option positions at ``marks``."""
        b = self.book
        values = self._pm_state(marks).values
        return np.asarray(b.opt_size[rows] @ values
                          - (b.opt_size[rows] * b.opt_entry[rows]).sum(axis=1))

    def _row_equity(self, rows: NDArray[np.int64], marks: NDArray[np.float64]
                    ) -> NDArray[np.float64]:
        """:meth:`equity` of ``rows`` only."""
        b = self.book
        eq = b.collateral[rows].copy()
        for k in range(b.markets):
            eq += b.size[rows, k] * (float(marks[k]) - b.entry[rows, k])
        if b.series:
            eq += self._option_pnl(rows, marks)
        return eq

    def _portfolio_maintenance(self, rows: NDArray[np.int64] | slice,
                               marks: NDArray[np.float64]) -> NDArray[np.float64]:
        """Portfolio maintenance margin of ``rows``.

        Only accounts holding an option or more than one open perp position go through the
        scenario grid (:func:`~contagion.mechanics.portfolio_margin.portfolio_margin`). An
        account with at most one open perp position and no option has no contingency and its
        loss is monotone in the move, so its margin is the larger loss of the grid's two
        extreme scenarios, ``max(0, -q lo, -q hi)`` with ``lo, hi`` the smallest and largest
        P&L per unit of its market over the grid: the number the grid gives it, bit for bit
        (one product per scenario, rounding is monotone), at the cost of a gather.
        """
        st = self._pm_state(marks)
        b = self.book
        size = b.size[rows]
        open_ = size != 0
        grid = open_.sum(axis=1) > 1
        if b.series:
            grid |= (b.opt_size[rows] != 0).any(axis=1)
        unit = st.unit[:b.markets]
        lo, hi = unit.min(axis=1), unit.max(axis=1)
        col = np.argmax(open_, axis=1)  # the open market (0 when none is open)
        q = size[np.arange(size.shape[0]), col]
        # + 0.0: a flat account's margin is +0.0, as the grid's sum over assets gives
        mm = np.maximum(np.maximum(-(q * lo[col]), -(q * hi[col])), 0.0) + 0.0
        idx = np.flatnonzero(grid)
        if idx.size:
            on_grid = (np.arange(len(b))[rows] if isinstance(rows, slice) else rows)[idx]
            mm[idx] = portfolio_margin(self._pm_sizes(on_grid), st.instruments, marks, st.vols,
                                       self.pm, pnl_per_unit=st.unit).maintenance_usd
        return np.asarray(mm, dtype=np.float64)

    def portfolio_margin_usd(self) -> float:
        """The traders' (row 0 aside) total maintenance margin this step."""
        return float(self.margin_state()[1][1:].sum())

    def greeks(self) -> NDArray[np.float64]:
        """``(4, markets)``: the traders' (row 0 aside) net delta (units), gamma, vega (per
        1.00 of vol) and theta (per year) on each market's asset, this step."""
        if self._greeks_step != self.model.steps:
            marks = self.marks()
            st = self._pm_state(marks)
            q = self._pm_sizes(slice(1, None)).sum(axis=0, keepdims=True)
            g = account_greeks(q, st.instruments, marks, st.vols, self.pm.rate)
            self._greeks = np.vstack([g.delta, g.gamma, g.vega, g.theta])
            self._greeks_step = self.model.steps
        return self._greeks

    def _settle_expiries(self) -> None:
        """Series whose expiry has come settle at their intrinsic value at the mark.

        Every row's collateral gains ``opt_size * (intrinsic - opt_entry)`` and the position
        is gone; row 0 holds minus the others' net, so the intrinsic values add up to zero
        and the venue's cash is unchanged.
        """
        due = np.flatnonzero((self._tte_yrs() <= 1e-12) & ~self._opt_expired)
        if due.size == 0:
            return
        b, model = self.book, self.model
        marks = self.marks()
        for j in due:
            col, strike = int(self._opt_col[j]), float(self._opt_strike[j])
            spot = float(marks[col])
            call = bool(self._opt_call[j])
            intrinsic = max(spot - strike, 0.0) if call else max(strike - spot, 0.0)
            q = b.opt_size[:, j]
            b.collateral += q * (intrinsic - b.opt_entry[:, j])
            oi = float(np.maximum(q, 0.0).sum())
            holders = int(np.count_nonzero(q[1:]))
            paid = intrinsic * oi
            self.option_expiry_paid_usd += paid
            b.opt_size[:, j] = 0.0
            b.opt_entry[:, j] = 0.0
            self._book_written()
            self._opt_expired[j] = True
            kind = "call" if call else "put"
            asset = self.market_names[col]
            model.events.add(
                "option_expiry", step=model.steps, venue=self.name, agent=self.name,
                asset=asset, amount=intrinsic, value_usd=paid, price=spot,
                cause_id=int(self.oracles[col].last_event), option_kind=kind, strike=strike,
                open_interest=oi, accounts=holders,
                detail=f"the {strike:,.4g} {asset} {kind}s on {self.name} expired "
                       f"{'in' if intrinsic > 0 else 'out of'} the money at {spot:,.4g}: "
                       f"${paid:,.0f} paid to {holders} accounts' holders")
        self.invalidate()
        self._pm_key = (-1, b"")

    def _liquidate_portfolio(self) -> None:
        """Portfolio-margin liquidation: riskiest positions first, only as far as needed.

        Notes
        -----
        Accounts whose equity (plus cross credit) is below their portfolio maintenance
        margin are ranked position by position by their Euler risk contribution (each
        position's loss in its asset's worst scenario,
        :func:`~contagion.mechanics.portfolio_margin.risk_contributions`) and closed rank by
        rank, all such accounts at once (a loop over ranks and instruments, never over
        accounts): perps into the market's book at the mark less slippage, as the standard
        liquidation does; options against the outside market makers (row 0) at their value
        less (a sale) or plus (a purchase) ``option_liquidation_spread_frac``. After each
        rank an account whose equity covers its new margin stops. A fee of
        ``liquidation_fee_frac`` of the perp notional closed goes to the insurance fund;
        a flat account left below zero is a shortfall: its cross-margined deposit, the
        fund, then a clawback from accounts in profit cover it (no ADL: its positions have
        already been closed into the book).
        """
        self.begin_liquidation_round()
        b, p, model = self.book, self.params, self.model
        market = model.market
        marks = self.marks()
        eq_local, mm = self.margin_state()
        credit = self.cross_credit()
        eq = eq_local + credit
        rows = np.flatnonzero(eq < mm)
        rows = rows[(mm[rows] > 0) & (rows != 0)]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            self._ratio = np.where(mm > 0, eq / mm, np.inf)
        self._ratio[rows] = np.inf
        self._ratio_step = model.steps
        if rows.size == 0:
            return
        self._state_step = -1
        self._book_written()  # the round below trades, seizes and pays these rows
        st = self._pm_state(marks)
        m, n_inst = b.markets, st.instruments.size
        sizes0 = self._pm_sizes(rows)
        pm0 = portfolio_margin(sizes0, st.instruments, marks, st.vols, self.pm,
                               pnl_per_unit=st.unit)
        contrib = risk_contributions(sizes0, st.instruments, pm0, st.unit)
        order = liquidation_order(contrib, sizes0)
        n_rows = rows.size
        ar = np.arange(n_rows)
        active = np.ones(n_rows, dtype=bool)
        fills = np.zeros((n_rows, n_inst))
        ranks = np.full((n_rows, n_inst), -1, dtype=np.int64)
        closes: list[tuple[int, int, NDArray[np.int64]]] = []  # (rank, instrument, account idx)
        slips = np.zeros(m)
        spread = p.option_liquidation_spread_frac
        for r in range(n_inst):
            j_r = order[:, r]
            go = active & (sizes0[ar, j_r] != 0)
            if not go.any():
                break  # empty positions come last: every account still here is flat
            for j in np.unique(j_r[go]):
                sel = np.flatnonzero(go & (j_r == j))
                idx, q = rows[sel], sizes0[sel, j]
                long = q > 0
                if j < m:  # a perp leg: into the market's book, as the standard close
                    mark = float(marks[j])
                    depth = float(market.depth_usd[self.assets[j]])
                    cap = p.max_liquidation_slippage_frac
                    slip_l = min(cap, float(q[long].sum()) * mark / depth)
                    slip_s = min(cap, -float(q[~long].sum()) * mark / depth)
                    fill = np.where(long, mark * (1 - slip_l), mark * (1 + slip_s))
                    apply_trades(b, idx, -q, fill, market=int(j))
                    slips[j] = max(slips[j], slip_l, slip_s)
                else:  # an option: against the outside market makers, at value -+ spread
                    value = float(st.values[j - m])
                    fill = np.where(long, value * (1 - spread), value * (1 + spread))
                    apply_option_trades(b, idx, -q, fill, int(j - m))
                for side in (long, ~long):
                    qq = float(q[side].sum())
                    if qq != 0:
                        vwap = float((q[side] * fill[side]).sum() / qq)
                        if j < m:
                            apply_trades(b, np.array([0]), np.array([qq]), vwap, market=int(j))
                        else:
                            apply_option_trades(b, np.array([0]), np.array([qq]), vwap,
                                                int(j - m))
                if j < m:
                    market.impact(self.assets[j], float(q.sum()))
                fills[sel, j] = fill
                ranks[sel, j] = r
                closes.append((r, int(j), sel))
            live = np.flatnonzero(active)
            eq_now = self._row_equity(rows[live], marks) + credit[rows[live]]
            mm_now = self._portfolio_maintenance(rows[live], marks)
            active[live] = (eq_now < mm_now) & (mm_now > 0)
        closed = ranks >= 0
        spot = marks[st.instruments.asset_index]
        notional = np.where(closed, np.abs(sizes0) * spot[None, :], 0.0)  # underlying value
        # fees on the perp legs closed, from what is left
        left = self._row_equity(rows, marks)
        owed = p.liquidation_fee_frac * (np.abs(sizes0[:, :m]) * fills[:, :m]).sum(axis=1)
        fee = np.where(left > 0, np.minimum(owed, left), 0.0)
        b.collateral[rows] -= fee
        if self.fund is not None:
            self.fund.deposit(float(fee.sum()))
        else:
            market.outside_receives(market.numeraire, float(fee.sum()))
        flat = ~(self._pm_sizes(rows) != 0).any(axis=1)
        shortfall = np.where(flat, np.maximum(-b.collateral[rows], 0.0), 0.0)
        causes_m = self._causes(rows)  # (accounts, markets)
        causes = causes_m[:, st.instruments.asset_index]  # (accounts, instruments)
        seized = np.zeros(n_rows)
        cross = b.cross[rows] & (shortfall > 0)
        if self.custodian is not None and cross.any():
            seized[cross] = self.custodian.seize(b.owner[rows[cross]], shortfall[cross],
                                                 to=self.name, delay_steps=self.settle_steps)
            if self.settle_steps > 0:
                self.unfunded_usd += float(seized.sum())
            self.seized_cross_usd += float(seized.sum())
        need = shortfall - seized
        total_need = float(need.sum())
        fund_paid, bd = 0.0, -1
        if total_need > 0:
            worst = int(np.argmax(need))
            bd = model.events.add(
                "bad_debt", step=model.steps, venue=self.name, value_usd=total_need,
                cause_id=int(causes[worst, order[worst, 0]]), reason="below_bankruptcy",
                accounts=int((need > 0).sum()),
                detail=f"{int((need > 0).sum())} accounts on {self.name} closed "
                       "below their bankruptcy price")
            self.bad_debt_usd += total_need
            if self.fund is not None:
                fund_paid = self.fund.draw(total_need, venue=self.name, cause_id=bd)
                self.fund_paid_usd += fund_paid
        theta = fund_paid / total_need if total_need > 0 else 1.0
        b.collateral[rows] += seized + theta * need
        self._book_written()
        residual = np.where(flat, np.maximum(-b.collateral[rows], 0.0), 0.0)
        if residual.sum() > 1e-6:
            self._socialise(rows, residual, bd)
        model.population.mark_liquidated(b.owner[rows])
        self.record_liquidations(int(n_rows), float(notional.sum()))
        self._log_portfolio_closes(rows, closes, sizes0, fills, contrib, pm0.maintenance_usd,
                                   notional, shortfall, causes, slips, st)

    def _log_portfolio_closes(self, rows: NDArray[np.int64],
                              closes: list[tuple[int, int, NDArray[np.int64]]],
                              sizes0: NDArray[np.float64], fills: NDArray[np.float64],
                              contrib: NDArray[np.float64], pm_usd: NDArray[np.float64],
                              notional: NDArray[np.float64], shortfall: NDArray[np.float64],
                              causes: NDArray[np.int64], slips: NDArray[np.float64],
                              st: _PMState) -> None:
        """One event per position closed, rank by rank (the riskiest first)."""
        b, model = self.book, self.model
        m = b.markets
        names = self.market_names
        gross = notional.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(gross[:, None] > 0, notional / gross[:, None], 0.0)
            mm_frac = np.where(gross > 0, pm_usd / gross, 0.0)
        for r, j, sel in closes:
            col = int(st.instruments.asset_index[j])
            common: dict[str, Any] = dict(step=model.steps, n=int(sel.size), venue=self.name, agent=self.name,
                          account=b.owner[rows[sel]], asset=names[col], amount=sizes0[sel, j],
                          price=fills[sel, j], cause_id=causes[sel, j], rank=r,
                          risk_contribution_usd=contrib[sel, j],
                          shortfall_usd=shortfall[sel] * share[sel, j])
            if j < m:
                slip = float(slips[j])
                ids = model.events.add_many(
                    "perp_liquidation", value_usd=notional[sel, j], mmr_frac=mm_frac[sel],
                    slippage_frac=slip,
                    detail=f"equity below portfolio margin at {self.name}: its riskiest legs "
                           f"closed first, this perp at rank {r} (slippage {slip:.2%})",
                    **common)
                model.market.attribute(self.assets[j], int(ids[0]))
            else:
                s = j - m
                kind = "call" if self._opt_call[s] else "put"
                strike = float(self._opt_strike[s])
                model.events.add_many(
                    "option_liquidation", value_usd=np.abs(sizes0[sel, j]) * fills[sel, j],
                    option_kind=kind, strike=strike,
                    expiry_days=float(st.tte_yrs[s]) * 365.0, pm_usd=pm_usd[sel],
                    detail=f"equity below portfolio margin at {self.name}: the {strike:,.4g} "
                           f"{names[col]} {kind} position closed at rank {r}",
                    **common)


def _ratio_of(eq: NDArray[np.float64], credit: NDArray[np.float64],
              mm: NDArray[np.float64]) -> NDArray[np.float64]:
    """``(equity + cross credit) / maintenance``, ``inf`` where the maintenance is not
    positive (flat accounts); elementwise, so a row recomputed alone has the full pass's
    bits. A tiny (subnormal) maintenance margin overflows the ratio to +-inf: its limit."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        r = np.add(eq, credit)
        np.divide(r, mm, out=r)
    np.copyto(r, np.inf, where=~(mm > 0))  # np.where(mm > 0, r, inf) in one pass less
    return np.asarray(r, dtype=np.float64)
