"""An Aave-V3-like lending protocol: health factors, liquidations, bad debt, socialisation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from contagion.agents.collateral_quality import CollateralRules, units_value
from contagion.agents.venue import MarginVenue
from contagion.book import LendingBook
from contagion.institution import BalanceSheet, CreditPosition
from contagion.mechanics.auction import bidders_per_lot, clear_auctions
from contagion.mechanics.lending import (
    close_factor,
    close_factor_v33,
    compounded_interest,
    interest_rates,
    leftover_adjusted,
    linear_interest,
    liquidation_amounts,
    utilisation,
)
from contagion.validation import clip_rounding

if TYPE_CHECKING:
    from contagion.agents.fund import InsuranceFund
    from contagion.agents.liquidator import Liquidator
    from contagion.agents.pool import AMMPool
    from contagion.model import ContagionModel
    from contagion.params import InterestRateParams, LendingParams

__all__ = ["DUST_TOL_USD", "LendingProtocol"]

#: Below this many dollars a debt or a collateral balance counts as none (float residue of
#: repaying or seizing all of it), when telling dust positions apart.
DUST_TOL_USD = 1e-6

#: A liquidation round's candidates (:meth:`LendingProtocol._candidates`): rows, their HF,
#: collateral to seize and its bonus, debt reserve to repay and its value, close factor.
_Candidates = tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.int64],
                    NDArray[np.float64], NDArray[np.int64], NDArray[np.float64],
                    NDArray[np.float64]]
_NO_CANDIDATES: _Candidates = (np.empty(0, dtype=np.int64), np.empty(0), np.empty(0, dtype=np.int64),
                               np.empty(0), np.empty(0, dtype=np.int64), np.empty(0), np.empty(0))


class LendingProtocol(CollateralRules, MarginVenue):
    """Lends the stablecoin (and the assets of ``params.borrow``) against collateral;
    liquidates, writes off, socialises.

    Balance sheet: assets are its stablecoin ``cash_usd``, its ``cash_units`` of each
    borrowed asset and the borrowers' debts (``book.debt`` in USD, ``book.debt_units`` in
    units, valued at the oracles); liabilities are the suppliers' claims,
    ``(sum(supply_nominal) + supply_units @ prices) * supply_index``. Equity starts at
    ``reserve_usd``.

    A liquidation repays one debt reserve against one collateral, the account's largest of
    each (at the oracle), with that pair's close factor and bonus, exactly Aave V3's
    ``liquidationCall(collateral, debt)`` on the pair (:mod:`contagion.mechanics.aave`). To
    repay a borrowed asset the liquidator buys it first, from the venue's liquidity route
    for it or the external market (price impact: liquidations push a borrowed asset up).
    Traders' top-ups repay their stablecoin debt. Bad debt reduces equity; the insurance fund tops it up; what
    is left below zero is socialised by cutting ``supply_index`` (every supplier loses pro
    rata), and the protocol is then in default: its token crashes.

    With ``liquidation_mode="auction"`` (Maker "flip", single collateral) an unsafe vault
    is closed whole instead: it is "bitten" (a ``liquidation`` event) and its collateral
    becomes a lot auctioned among the liquidator's keepers (:meth:`_run_auctions`). Until
    the lot sells, the vault's debt and collateral stay on its row, it reads as healthy
    (``inf``, nothing to liquidate or top up) and its debt counts as a receivable; a sale
    repays the debt, returns what the ``dent`` phase leaves to the owner, and books any
    shortfall as bad debt. With several liquidators, the first one's round bites and each
    one's keepers bid among themselves on the lots still open.

    Interest (``params.rates`` for the numeraire, ``borrow[e].rates`` for a borrowed asset;
    off by default): at the start of each step (:meth:`step`) each reserve's rates are set
    by its utilisation ``debt / (cash + debt)`` on Aave's kinked curve and accrue over the
    step, as ``ReserveLogic._updateIndexes`` does: the debt arrays are scaled in place by
    the compounded borrow factor (one vectorised pass; ``borrow_index`` keeps the product,
    Aave's variable borrow index), suppliers' claims by the linear supply factor (the
    numeraire's through ``supply_index``, which also carries socialised haircuts; a borrowed
    asset's through its ``supply_units``; ``liquidity_index`` keeps the product). The
    borrowers' interest the suppliers do not get (the reserve factor, and the share of the
    venue's own reserve) is equity. Then, with ``params.supplier_run``, the outside
    suppliers' cohorts whose thresholds are crossed withdraw what the cash allows
    (:meth:`_supplier_run`); at 100% utilisation withdrawals freeze.

    Collateral quality (:class:`~contagion.agents.collateral_quality.CollateralRules`, off
    by default): thresholds that follow the liquidity of their liquidation route
    (:meth:`update_risk_parameters`), supply and borrow caps, isolation mode's debt
    ceilings, and the LTV bounding traders' new borrowing (:meth:`borrow_against`).
    """

    kind = "lending"

    def __init__(self, model: ContagionModel, params: LendingParams, book: LendingBook,
                 supply_nominal: dict[str, float]) -> None:
        super().__init__(model, params.name)
        self.params = params
        self.book = book
        market = model.market
        self.asset_ids = np.array([market.index[c.asset] for c in params.collateral])
        self.asset_names = [c.asset for c in params.collateral]
        self.lt = np.array([c.liquidation_threshold for c in params.collateral])
        self.ltv = np.array([c.ltv for c in params.collateral])
        self.bonus = np.array([c.liquidation_bonus for c in params.collateral])
        self.debt_asset_ids = np.array([market.index[b.asset] for b in params.borrow],
                                       dtype=np.int64)
        self.debt_asset_names = [b.asset for b in params.borrow]
        self.numeraire_name = model.scenario.market.numeraire
        # channels (price feeds, liquidation pools, fund): set from the world graph's edges
        # by the model (ContagionModel._wire), read-only for the protocol
        self.oracles: list[Any] = []
        self.pools: list[AMMPool | None] = []
        self.fund: InsuranceFund | None = None
        self.debt_oracles: list[Any] = []  # the borrowed assets' feeds and routes, idem
        #: the oracle the venue values the numeraire at (its ``price_feed`` edge of the
        #: numeraire); None: the numeraire is worth $1 to it (set when the world is wired)
        self.num_feed: Any = None
        self._usd_cols = np.zeros(0, dtype=bool)  # which feeds quote USD (others: numeraire)
        self._usd_debt_cols = np.zeros(0, dtype=bool)
        self.debt_pools: list[AMMPool | None] = []
        self.supply_nominal = dict(supply_nominal)
        self.supply_index = 1.0
        total_supply = sum(self.supply_nominal.values())
        self.cash_usd = total_supply + params.reserve_usd - float(book.debt.sum())
        # the outside suppliers' deposits of each borrowed asset (nominal units) and the
        # units of it the protocol holds: what was supplied less what is lent out
        start = market.price[self.debt_asset_ids]
        self.supply_units = np.array([b.retail_supply_usd for b in params.borrow]) / start
        self.cash_units = self.supply_units - book.debt_units.sum(axis=0)
        self.treasury_units = np.zeros(len(self.asset_ids))
        #: rows a liquidation has touched, kept under Aave v3.3's rules (for the dust they left)
        self.liquidated_rows = np.zeros(len(book) if params.close_factor_rule == "v3.3" else 0,
                                        dtype=bool)
        self._hf = np.empty(0)
        self._hf_step = -1
        self._version = 0  # bumped by every write to the book (invalidate, _refresh_health)
        # Views kept across steps while nothing they read has moved. Each is keyed on
        # ``_state_key()`` (the book's ``_version``, its length and the oracle prices the
        # venue reads: every input of a health factor) taken when it was computed; every
        # write to the book bumps ``_version`` (``_refresh_health``, ``invalidate``,
        # ``_bite``), so a key that still matches means the same inputs, hence the same bits.
        self._hf_full: tuple[Any, ...] | None = None  # the state the last full HF pass read
        self._hf_gen = 0  # bumped whenever ``_hf`` changes (a full pass or a row refresh)
        self._insolvent_key: tuple[Any, ...] | None = None
        self._insolvent = 0.0
        self._loans_key: tuple[Any, ...] | None = None
        self._loans = 0.0
        self._at_risk_key = -1
        self._at_risk = 0
        self._coll_total_key: tuple[Any, ...] | None = None
        #: bumped by every write to ``book.collateral`` (liquidations, auctions, borrowers
        #: looping into collateral); repayments and write-offs touch only the debt
        self._collateral_version = 0
        self._coll_total = np.empty(0)
        self._cand_key: tuple[Any, ...] | None = None
        self._cand: _Candidates = _NO_CANDIDATES
        self._no_bad_debt_key: tuple[Any, ...] | None = None
        self.auction_mode = params.liquidation_mode == "auction"
        self.in_auction = np.zeros(len(book) if self.auction_mode else 0, dtype=bool)
        self.lot_rows = np.empty(0, dtype=np.int64)  # vaults whose collateral is on auction
        self.lot_cause = np.empty(0, dtype=np.int64)  # the bite (liquidation event) of each lot
        # interest: reserve 0 is the numeraire, 1 + e the e-th borrowed asset (Aave's indices)
        self.reserve_rates: list[InterestRateParams | None] = [
            params.rates, *(b.rates for b in params.borrow)]
        self.rates_on = any(r is not None for r in self.reserve_rates)
        self.step_seconds = model.scenario.market.step_minutes * 60.0
        n_res = 1 + len(params.borrow)
        self.liquidity_index = np.ones(n_res)
        self.borrow_index = np.ones(n_res)
        self.supply_rate = np.zeros(n_res)
        self.borrow_rate = np.zeros(n_res)
        self.interest_usd = 0.0  # borrowers' interest accrued so far (assets at the oracles)
        self.last_loss_event = -1  # the bad debt behind the latest loss (cover_loss)
        # outside suppliers' run: cohorts of the outside stablecoin supply
        self.run = params.supplier_run
        self.frozen = False  # withdrawals frozen: the cash is all lent out (runs only)
        self.queued_usd = 0.0
        if self.run is not None:
            r, k = self.run, self.run.cohorts
            self.cohort_start = np.full(k, self.supply_nominal.get("outside", 0.0) / k)
            self.cohort_nominal = self.cohort_start.copy()
            self.leaving = np.zeros(k, dtype=bool)
            self.run_thresholds = np.array([
                np.linspace(r.min_utilisation, r.max_utilisation, k),
                np.linspace(r.min_bad_debt_frac, r.max_bad_debt_frac, k),
                np.linspace(r.min_depeg_frac, r.max_depeg_frac, k)
                if r.depeg_oracle is not None else np.full(k, np.inf)])
            self.run_withdrawn_usd = 0.0
            self._run_event = -1
            self._run_trigger = "utilisation"
        self._init_collateral_rules()  # collateral quality (agents/collateral_quality.py)

    def invalidate(self) -> None:
        """Forget the step's cached health factors (its channels changed)."""
        self._hf_step = -1
        self._version += 1

    # ------------------------------------------------------------------ views
    def prices(self) -> NDArray[np.float64]:
        """Oracle prices of the collateral assets (what the protocol sees), in numeraire
        units: a USD feed divided by the venue's price of the numeraire when it may depeg."""
        p = np.array([o.price for o in self.oracles])
        if self.num_feed is not None:
            return np.where(self._usd_cols, p / float(self.num_feed.price), p)
        return p

    def debt_prices(self) -> NDArray[np.float64]:
        """Oracle prices of the borrowed assets (``params.borrow``), in that order (in
        numeraire units, as :meth:`prices`)."""
        p = np.array([o.price for o in self.debt_oracles])
        if self.num_feed is not None:
            return np.where(self._usd_debt_cols, p / float(self.num_feed.price), p)
        return p

    def debt_usd(self, rows: NDArray[np.int64] | None = None) -> NDArray[np.float64]:
        """Each account's debt (of ``rows``, default all) in USD at the oracles: its
        stablecoin debt plus its borrowed assets' units at their prices. Read-only."""
        b = self.book
        if not self.debt_asset_ids.size:
            return b.debt if rows is None else b.debt[rows]
        if rows is None:
            return b.debt + b.debt_units @ self.debt_prices()
        return b.debt[rows] + b.debt_units[rows] @ self.debt_prices()

    def loans_usd(self) -> float:
        """What borrowers owe, at face value (stablecoin) and at the oracles (assets).

        Kept while the book (``_version``) and the borrowed assets' prices stand: the
        balance sheet, the credit position and the exposure series ask several times a
        step."""
        key = (self._version, len(self.book),
               self.debt_prices().tobytes() if self.debt_asset_ids.size else b"")
        if key != self._loans_key:
            self._loans = float(self.debt_usd().sum())
            self._loans_key = key
        return self._loans

    def cash_value_usd(self) -> float:
        """The protocol's stablecoin plus its units of the borrowed assets, at the oracles."""
        if not self.debt_asset_ids.size:
            return self.cash_usd
        return self.cash_usd + float(self.cash_units @ self.debt_prices())

    def _state_key(self, prices: NDArray[np.float64] | None = None) -> tuple[Any, ...]:
        """Everything a health factor reads besides fixed set-up: the book (its ``_version``,
        bumped by every write, and length) and the oracle prices of the collateral and the
        borrowed assets (``prices``: this step's :meth:`prices`, when the caller has them)."""
        prices = self.prices() if prices is None else prices
        debt = self.debt_prices().tobytes() if self.debt_asset_ids.size else b""
        return self._version, len(self.book), prices.tobytes(), debt

    def health(self) -> NDArray[np.float64]:
        """Health factor of every account at this step's oracle prices (read-only view).

        Computed once per step over the whole book, then kept current row by row as
        repayments and liquidations change accounts. A step that starts with the book and
        the prices of the last full pass (no write since: ``_version`` unchanged) keeps its
        array: a new pass would give the same bits.
        """
        if self._hf_step != self.model.steps or self._hf.shape[0] != len(self.book):
            key = self._state_key()
            if key != self._hf_full or self._hf.shape[0] != len(self.book):
                weighted = self.weighted_collateral()  # one BLAS pass (+ e-mode rows)
                self._hf = _health_of(weighted, self.debt_usd())
                if self.lot_rows.size:
                    self._hf[self.lot_rows] = np.inf  # on auction: out of the margin engine
                self._hf_full = key
                self._hf_gen += 1
            self._hf_step = self.model.steps
        return self._hf

    def _refresh_health(self, rows: NDArray[np.int64]) -> None:
        self._version += 1  # the book changed on ``rows``: views derived from it are stale
        if self._hf_step == self.model.steps and rows.size:
            hf = _health_of(self.weighted_collateral(rows), self.debt_usd(rows))
            if self.lot_rows.size:
                hf = np.where(self.in_auction[rows], np.inf, hf)
            self._hf[rows] = hf
            self._hf_gen += 1

    def claims_usd(self) -> float:
        """What the suppliers are owed (borrowed assets' suppliers at the oracles)."""
        if not self.debt_asset_ids.size:
            return sum(self.supply_nominal.values()) * self.supply_index
        return (sum(self.supply_nominal.values()) + float(self.supply_units @ self.debt_prices())
                ) * self.supply_index

    def claim_of(self, holder: str) -> float:
        """What supplier ``holder`` is owed (the outside suppliers: of every asset)."""
        if holder == "outside" and self.debt_asset_ids.size:
            return (self.supply_nominal.get(holder, 0.0)
                    + float(self.supply_units @ self.debt_prices())) * self.supply_index
        return self.supply_nominal.get(holder, 0.0) * self.supply_index

    def equity_usd(self) -> float:
        """Cash plus loans minus suppliers' claims (loans at face value)."""
        return self.cash_value_usd() + self.loans_usd() - self.claims_usd()

    # ------------------------------------------------------------------ institution
    def balance_sheet(self) -> BalanceSheet:
        """Cash and loans against suppliers' claims; accounts with HF < 1.1 at risk."""
        return BalanceSheet(assets_usd=self.cash_value_usd() + self.loans_usd(),
                            liabilities_usd=self.claims_usd(), at_risk=self._accounts_at_risk())

    def _accounts_at_risk(self) -> int:
        """Accounts with HF < 1.1, counted again only when the health factors changed
        (``_hf_gen``: a full pass or a row refresh)."""
        self.health()
        if self._at_risk_key != self._hf_gen:
            self._at_risk = int(np.sum(self._hf < 1.1))
            self._at_risk_key = self._hf_gen
        return self._at_risk

    def collateral_units(self) -> NDArray[np.float64]:
        """Units of each collateral asset the borrowers hold (``book.collateral.sum(axis=0)``,
        the same bits), kept while the collateral stands (``_collateral_version``; after a
        crash the topped-up debts change every step, the collateral seldom): the exposure
        table reads it every step and a column sum of a narrow ``(n, k)`` array is a slow
        strided pass (~4 ms at a million rows)."""
        key = (self._collateral_version, id(self.book.collateral), self.book.collateral.shape)
        if key != self._coll_total_key:
            self._coll_total = self.book.collateral.sum(axis=0)
            self._coll_total_key = key
        return self._coll_total

    def network_state(self) -> str:
        return "at_risk" if self.bad_debt_usd > 0 or self.frozen or (
            self.fund and self.fund.exhausted) else "healthy"

    def credit_position(self) -> CreditPosition:
        """Cash and loans outside the network; each supplier's claim owed to it."""
        return CreditPosition(
            external_assets_usd=self.cash_value_usd() + self.loans_usd(),
            owed=tuple((holder, self.claim_of(holder)) for holder in self.supply_nominal))

    def on_default(self, event_id: int) -> None:
        """Nothing before the clearing."""

    def after_default(self, event_id: int) -> None:
        """Nothing more: its suppliers' loss is already socialised."""

    def dust_left(self) -> tuple[int, float]:
        """Positions that liquidations left as dust, and their debt in USD: still in debt, with
        debt or collateral worth more than nothing but less than Aave v3.3's
        ``MIN_LEFTOVER_BASE`` (``min_close_base_usd / 2``) at the oracle prices. Positions too
        small to be worth a keeper's gas; what v3.3's leftover rule exists to prevent. Only
        venues under v3.3's rules keep the record (``close_factor_rule = "v3.3"``)."""
        rows = np.flatnonzero(self.liquidated_rows)
        if rows.size == 0:
            return 0, 0.0
        floor = self.params.min_close_base_usd / 2
        debt = self.debt_usd(rows)
        coll = self.book.collateral[rows] @ self.prices()
        owes = debt > DUST_TOL_USD
        dust = owes & ((debt < floor) | ((coll > DUST_TOL_USD) & (coll < floor)))
        return int(dust.sum()), float(debt[dust].sum())

    def dust_positions(self) -> int:
        """How many positions liquidations left as dust (:meth:`dust_left`)."""
        return self.dust_left()[0]

    def dust_debt_usd(self) -> float:
        """The debt of the positions liquidations left as dust (:meth:`dust_left`)."""
        return self.dust_left()[1]

    def insolvent_debt_usd(self) -> float:
        """Debt not covered by collateral at market prices (Gauntlet's 'insolvent debt').

        Kept until the book, the health factors or a price it reads changes (the series
        and the per-venue reporter ask for it in the same record; after a crash the book
        and the prices often stand for several steps)."""
        market = self.model.market.quote_prices(self.asset_ids)
        oracle = self.prices()
        self.health()  # the cache the pre-filter reads, current before the key is taken
        key: tuple[Any, ...] = (self._version, len(self.book), self._hf_gen,
                                market.tobytes(), oracle.tobytes())
        if self.debt_asset_ids.size:
            key += (self.model.market.quote_prices(self.debt_asset_ids).tobytes(),
                    self.debt_prices().tobytes())
        if key == self._insolvent_key:
            return self._insolvent
        self._insolvent = self._insolvent_debt(market, oracle)
        self._insolvent_key = key
        return self._insolvent

    def _insolvent_debt(self, market: NDArray[np.float64], oracle: NDArray[np.float64]) -> float:
        # Exact pre-filter: collateral at market >= (collateral at oracle) * min(market/oracle),
        # so debt > collateral at market requires HF < max(LT) / min(market/oracle).
        bound = float(self.max_lt() / np.min(market / oracle))
        if self.debt_asset_ids.size:  # a borrowed asset dearer at market than at its oracle
            debt_market = self.model.market.quote_prices(self.debt_asset_ids)
            bound *= max(1.0, float(np.max(debt_market / self.debt_prices())))
        rows = np.flatnonzero(self.health() < bound)
        if self.lot_rows.size:
            rows = np.concatenate([rows, self.lot_rows])  # distinct: lots read HF = inf
        cv = units_value(self.enabled_collateral(rows), market)
        debt = self.book.debt[rows]
        if self.debt_asset_ids.size:
            debt = debt + self.book.debt_units[rows] @ debt_market
        return float(np.maximum(debt - cv, 0.0).sum())

    def holdings(self) -> dict[int, float]:
        """Units held by the protocol: its cash, borrowers' collateral and its treasury."""
        out = {self.model.market.numeraire: self.cash_usd}
        coll = self.book.collateral.sum(axis=0) + self.treasury_units
        for a, u in zip(self.asset_ids, coll, strict=True):
            out[int(a)] = out.get(int(a), 0.0) + float(u)
        for a, u in zip(self.debt_asset_ids, self.cash_units, strict=True):
            out[int(a)] = out.get(int(a), 0.0) + float(u)
        return out

    # ------------------------------------------------------------------ flows
    def repay(self, rows: NDArray[np.int64], amounts: NDArray[np.float64]) -> None:
        """Borrowers repay ``amounts`` of stablecoin debt on ``rows`` (at most what they owe
        in stablecoin, ``book.debt[rows]``)."""
        self.book.debt[rows] -= amounts
        self.cash_usd += float(amounts.sum())
        self._refresh_health(rows)

    def withdraw_supply(self, holder: str, amount_usd: float) -> float:
        """Supplier ``holder`` withdraws up to ``amount_usd``, limited by the protocol's cash."""
        paid = max(0.0, min(amount_usd, self.claim_of(holder), self.cash_usd))
        if paid > 0:
            nominal = self.supply_nominal[holder]
            # a claim paid in full leaves nominal - (nominal * index) / index: zero, or a
            # rounding-sized negative that would read as a negative liability
            self.supply_nominal[holder] = clip_rounding(nominal - paid / self.supply_index,
                                                        nominal)
            self.cash_usd -= paid
        return paid

    # ------------------------------------------------------------------ interest and runs
    def utilisation(self) -> NDArray[np.float64]:
        """Each reserve's utilisation ``debt / (cash + debt)`` (numeraire first, then the
        borrowed assets in ``params.borrow`` order); 1.0 when the cash is all lent out."""
        b = self.book
        debt = np.concatenate([[float(b.debt.sum())], b.debt_units.sum(axis=0)])
        cash = np.maximum(np.concatenate([[self.cash_usd], self.cash_units]), 0.0)
        return np.asarray(utilisation(debt, cash), dtype=np.float64).reshape(-1)

    def step(self) -> None:
        """The step's interest (rates set by the utilisation the step starts with), then the
        outside suppliers' withdrawals. Nothing when neither is configured."""
        if self.rates_on:
            self.accrue_interest()
        if self.run is not None:
            self._supplier_run()

    def accrue_interest(self) -> None:
        """Accrue one step of interest on every reserve with a rate model (Aave's
        ``updateState``): debts times the compounded borrow factor, claims times the linear
        supply factor, the indices times the same factors."""
        b, dt = self.book, self.step_seconds
        u = self.utilisation()
        prices = self.debt_prices() if self.debt_asset_ids.size else np.empty(0)
        for r, rates in enumerate(self.reserve_rates):
            if rates is None:
                continue
            supply, borrow = interest_rates(u[r], rates.optimal_utilisation, rates.base_rate,
                                            rates.slope1, rates.slope2, rates.reserve_factor)
            self.supply_rate[r], self.borrow_rate[r] = float(supply), float(borrow)
            grow = float(compounded_interest(borrow, dt))
            earn = float(linear_interest(supply, dt))
            if r == 0:
                owed = float(b.debt.sum())
                if owed > 0:  # Aave: the borrow index moves only while there is debt
                    b.debt *= grow
                    self.borrow_index[0] *= grow
                    self.interest_usd += owed * (grow - 1.0)
                if supply > 0:
                    self.liquidity_index[0] *= earn
                    self.supply_index *= earn
                    if self.supply_units.size:  # the index is shared: keep asset claims
                        self.supply_units /= earn
                continue
            e = r - 1
            owed = float(b.debt_units[:, e].sum())
            if owed > 0:
                b.debt_units[:, e] *= grow
                self.borrow_index[r] *= grow
                self.interest_usd += owed * (grow - 1.0) * float(prices[e])
            if supply > 0:
                self.liquidity_index[r] *= earn
                self.supply_units[e] *= earn
        self.invalidate()  # health factors must see the accrued debt

    def _supplier_run(self) -> None:
        """Outside suppliers' cohorts leave once a threshold is crossed, up to the cash."""
        run, ev, step = self.run, self.model.events, self.model.steps
        assert run is not None
        claims = self.claims_usd()
        u = float(self.utilisation()[0])
        bad = self.bad_debt_usd / claims if claims > 0 else 0.0
        depeg = (1.0 - float(self.model.oracles[run.depeg_oracle].price)
                 if run.depeg_oracle is not None else 0.0)
        crossed = np.array([u, bad, depeg])[:, None] >= self.run_thresholds
        triggered = crossed.any(axis=0) & (self.cohort_nominal > 0)
        new = triggered & ~self.leaving
        self.leaving |= triggered
        if not self.leaving.any():
            return
        index = self.supply_index
        want = np.where(self.leaving, np.minimum(self.cohort_nominal,
                                                 run.withdraw_frac_per_step * self.cohort_start),
                        0.0)
        demand = float(want.sum()) * index
        self.queued_usd = float(self.cohort_nominal[self.leaving].sum()) * index
        if demand <= 0:
            return
        if new.any():  # what started the latest cohorts; continuing ones keep that reason
            self._run_trigger = ("bad_debt" if crossed[1, new].any() else "depeg"
                                 if crossed[2, new].any() else "utilisation")
        trigger = self._run_trigger
        cause = (self.last_loss_event if trigger == "bad_debt" else
                 int(self.model.oracles[run.depeg_oracle].last_event)
                 if trigger == "depeg" and run.depeg_oracle is not None else
                 self._utilisation_cause())
        paid = min(demand, max(self.cash_usd, 0.0))
        if paid > 0:
            take = want * (paid / demand)
            nominal = self.supply_nominal["outside"]
            left = self.cohort_nominal - take
            # a cohort paid out in full keeps a rounding-sized remainder: it is out
            self.cohort_nominal = np.where(left > 1e-9 * self.cohort_start, left, 0.0)
            self.supply_nominal["outside"] = clip_rounding(nominal - float(take.sum()), nominal)
            self.cash_usd = clip_rounding(self.cash_usd - paid, paid)
            self.model.market.outside_receives(self.model.market.numeraire, paid)
            self.run_withdrawn_usd += paid
            self.queued_usd = max(self.queued_usd - paid, 0.0)
            after = float(self.utilisation()[0])
            leaving_frac = float(self.cohort_start[self.leaving].sum() / self.cohort_start.sum())
            self._run_event = ev.add(
                "withdrawal", step=step, venue=self.name, agent="suppliers",
                asset=self.numeraire_name, amount=paid, value_usd=paid, cause_id=cause,
                reason="lender_run", trigger=trigger, utilisation=after,
                borrow_rate=float(self.borrow_rate[0]), queued_usd=self.queued_usd,
                leaving_frac=leaving_frac,
                detail=f"outside suppliers withdrew ${paid:,.0f} from {self.name} "
                       f"({leaving_frac:.0%} of them leaving, utilisation now {after:.1%})")
            cause = self._run_event
        if paid < demand * (1.0 - 1e-9):
            if not self.frozen:
                self.frozen = True
                self._run_event = ev.add(
                    "withdrawal_freeze", step=step, venue=self.name, agent="suppliers",
                    asset=self.numeraire_name, value_usd=demand - paid, cause_id=cause,
                    reason="full_utilisation", utilisation=float(self.utilisation()[0]),
                    borrow_rate=float(self.borrow_rate[0]), queued_usd=self.queued_usd,
                    detail=f"{self.name} has lent out all its cash (utilisation 100%): "
                           f"${demand - paid:,.0f} of withdrawals wait for borrowers to repay")
        else:
            self.frozen = False

    def _utilisation_cause(self) -> int:
        """What raised utilisation: the run's own last event, else the latest withdrawal
        run at an institution supplying this venue (it pulled its supply), else -1."""
        if self._run_event >= 0:
            return self._run_event
        suppliers = [h for h in self.supply_nominal if h != "outside"]
        if not suppliers:
            return -1
        ev = self.model.events_frame
        pulled = ev[(ev["kind"] == "withdrawal") & ev["venue"].isin(suppliers)]
        return int(pulled["event_id"].iloc[-1]) if len(pulled) else -1

    # ------------------------------------------------------------------ step
    def liquidate(self, liquidator: Liquidator) -> None:
        """One round of liquidations by ``liquidator``, within its budget, then write-offs."""
        self.begin_liquidation_round()
        prices = self.prices()
        if self.auction_mode:
            self._bite(liquidator)
            self._run_auctions(liquidator)
            self._write_off_bad_debt(prices)
            return
        # a keeper without budget takes nothing: no candidates to gather
        if liquidator.budget_count > 0 and liquidator.budget_usd > 0:
            view = self._candidate_view(prices, max(liquidator.budget_count, 1))
            if view[0].size:
                self._liquidate_rows(*view, prices, liquidator)
        self._write_off_bad_debt(prices)

    def _candidate_view(self, prices: NDArray[np.float64], top: int) -> _Candidates:
        """The accounts worth a keeper's full computation this round (:meth:`_candidates`),
        kept while the book, the health factors and the prices stand. After a crash
        hundreds of thousands of accounts stay under water, none worth liquidating, and
        the same view came out of every step: it reads only the book (``_version``), the
        health factors (``_hf_gen``: refreshed rows may differ from a full pass in the last
        bit, so a new pass is a new view), the oracle prices and ``top``."""
        self.health()  # current before the key is taken
        key = (self._state_key(prices), self._hf_gen, top)
        if key != self._cand_key:
            self._cand = self._candidates(prices, top)
            self._cand_key = key
        return self._cand

    def _candidates(self, prices: NDArray[np.float64], top: int) -> _Candidates:
        """Rows with HF < 1 and debt above dust whose collateral a keeper may seize, cut to
        each asset's ``top`` largest estimated repayments; with, for each, its HF, the
        collateral to seize ``j`` and its bonus, the debt reserve to repay ``d`` and its
        value, and the close factor."""
        book, p = self.book, self.params
        hf = self.health()
        cand = np.flatnonzero(hf < 1.0)
        cand = cand[self.debt_usd(cand) > p.bad_debt_dust_usd]
        coll = self.enabled_collateral(cand)
        if coll.shape[1] > 1:  # column-major: the per-row argmax walks columns
            coll = np.asfortranarray(coll)
        value = coll * prices
        if self.disabled is not None:  # nothing a keeper may seize: written off below
            seizable = value.max(axis=1) > 0
            cand, value = cand[seizable], value[seizable]
        hf = hf[cand]
        j, seizable = _argmax_rows(value)  # seize the largest collateral, as liquidators do
        bj = self.row_bonus(cand, j)  # each seizure's bonus (e-mode's in its category)
        # repay the largest debt reserve: 0 is the stablecoin, 1 + e the e-th borrowed asset
        if self.debt_asset_ids.size:
            reserves = np.column_stack([book.debt[cand],
                                        book.debt_units[cand] * self.debt_prices()])
            d = np.argmax(reserves, axis=1)
            reserve = reserves[np.arange(cand.size), d]
            total = reserves.sum(axis=1)
        else:
            d = np.zeros(cand.size, dtype=np.int64)
            reserve = total = book.debt[cand]
        if p.close_factor_rule == "v3.3":
            cf = np.asarray(close_factor_v33(hf, seizable, reserve, p.min_close_base_usd,
                                             p.close_factor, p.full_close_below_hf, total))
        else:
            cf = np.asarray(close_factor(hf, p.close_factor, p.full_close_below_hf,
                                         validate=False))
        # Within one collateral asset a keeper's profit is proportional to the debt it repays
        # (capped or not, profit = repay * ((1+b)(1-fee share) spot/oracle - 1)), and it takes
        # at most budget_count accounts a step: so the budget_count largest repayments per
        # asset are exactly the candidates worth the full computation.
        if cand.size > top:
            # seizable[i] is value[i, j[i]] = book.collateral[cand, j] * prices[j], the same
            # product (a seizable account's largest collateral counts: disabled holdings are
            # not chosen)
            repay_est = np.minimum(cf * reserve, seizable / (1 + bj))
            keep: list[NDArray[np.int64]] = []
            present = self._present(j)
            for a in present:
                idx = np.flatnonzero(j == a) if present.size > 1 else np.arange(cand.size)
                if idx.size > top:
                    idx = idx[_top_k(repay_est[idx], top)]
                keep.append(idx)
            sel = np.sort(np.concatenate(keep))
            cand, hf, j, cf, d, reserve = cand[sel], hf[sel], j[sel], cf[sel], d[sel], reserve[sel]
            bj = bj[sel]
        return cand, hf, j, bj, d, reserve, cf

    def _liquidate_rows(self, cand: NDArray[np.int64], hf: NDArray[np.float64],
                        j: NDArray[np.int64], bj: NDArray[np.float64], d: NDArray[np.int64],
                        reserve: NDArray[np.float64], cf: NDArray[np.float64],
                        prices: NDArray[np.float64], liq: Liquidator) -> None:
        book, p = self.book, self.params
        lent = self.debt_asset_ids.size > 0
        debt_prices = self.debt_prices()
        top = max(liq.budget_count, 1)
        amt = liquidation_amounts(reserve, book.collateral[cand, j], prices[j],
                                  bj, cf, p.protocol_fee_frac, validate=False)
        if p.leftover_rule:  # v3.3: repay all, take all, or leave the floor of both
            wanted = amt.debt_repaid_usd
            amt, _ = leftover_adjusted(amt, reserve, book.collateral[cand, j], prices[j],
                                       bj, p.protocol_fee_frac,
                                       p.min_close_base_usd / 2)
        # Per asset, liquidators take the most profitable prefix of candidates: they rank
        # accounts by profit at the current price, then stop where selling one more
        # account's collateral into the pool (after the ones before it) stops paying.
        repay_all = amt.debt_repaid_usd
        # what repaying costs them: the stablecoin at face value, a borrowed asset at what
        # it trades for now (its pool's or the market's price, not the oracle's)
        cost_all = repay_all
        if lent:
            dearer = np.concatenate([[1.0], [self._debt_spot(e) / debt_prices[e]
                                             for e in range(debt_prices.size)]])
            cost_all = repay_all * dearer[d]
        units_all = amt.collateral_to_liquidator_units
        gas = liq.gas_cost_now_usd
        chosen: list[NDArray[np.int64]] = []
        for a in self._present(j):
            idx = np.flatnonzero((j == a) & (repay_all > 0))
            if idx.size == 0:
                continue
            alone = units_all[idx] * self._spot(int(a)) - cost_all[idx]
            if idx.size > top:  # they can only handle budget_count accounts this step
                best_k = np.argpartition(-alone, top - 1)[:top]
                idx, alone = idx[best_k], alone[best_k]
            idx = idx[np.argsort(-alone, kind="stable")]
            cum_units = np.cumsum(units_all[idx])
            cum_profit = (self._quote_sale(int(a), cum_units) - np.cumsum(cost_all[idx])
                          - gas * np.arange(1, idx.size + 1))
            best = int(np.argmax(cum_profit))
            if cum_profit[best] > liq.params.min_profit_usd:
                chosen.append(idx[: best + 1])
        if not chosen:
            return
        ok = np.concatenate(chosen)
        ok = ok[np.argsort(-(units_all[ok] * self._spot_of(j[ok]) - cost_all[ok]), kind="stable")]
        ok = ok[: liq.budget_count]
        # partial liquidation when the budget runs out (Aave lets the liquidator choose
        # debtToCover): repay, seizure and fee all scale linearly with the debt covered
        before = np.concatenate([[0.0], np.cumsum(repay_all[ok])[:-1]])
        capped = np.clip(liq.budget_usd - before, 0.0, repay_all[ok])
        scale = np.divide(capped, repay_all[ok], out=np.zeros(ok.size), where=repay_all[ok] > 0)
        covered = capped > 0
        ok, scale = ok[covered], scale[covered]
        if ok.size == 0:
            return
        rows, jj, dd = cand[ok], j[ok], d[ok]
        repay = amt.debt_repaid_usd[ok] * scale
        seized = amt.collateral_seized_units[ok] * scale
        to_liq = amt.collateral_to_liquidator_units[ok] * scale
        fee = amt.protocol_fee_units[ok] * scale
        shrunk = None
        if p.leftover_rule:
            # a keeper short of budget covers less: resize that liquidation to pass the rule
            part = scale < 1.0
            asked = np.where(part, repay, wanted[ok])
            if part.any():
                r = ok[part]
                re = liquidation_amounts(reserve[r], book.collateral[cand[r], j[r]],
                                         prices[j[r]], bj[r], cf[r], p.protocol_fee_frac,
                                         debt_to_cover_usd=repay[part], validate=False)
                re, passes = leftover_adjusted(re, reserve[r], book.collateral[cand[r], j[r]],
                                               prices[j[r]], bj[r],
                                               p.protocol_fee_frac, p.min_close_base_usd / 2)
                repay[part], seized[part] = re.debt_repaid_usd, re.collateral_seized_units
                to_liq[part], fee[part] = re.collateral_to_liquidator_units, re.protocol_fee_units
                passing = np.ones(ok.size, dtype=bool)
                passing[np.flatnonzero(part)[~passes]] = False
                ok, repay, seized, to_liq, fee, asked = (
                    ok[passing], repay[passing], seized[passing], to_liq[passing], fee[passing],
                    asked[passing])
                if ok.size == 0:
                    return
                rows, jj, dd = cand[ok], j[ok], d[ok]
            shrunk = np.maximum(asked - repay, 0.0)
        bb = bj[ok]
        if lent:
            in_cash = dd == 0
            units = np.where(in_cash, repay,
                             repay / np.concatenate([[1.0], debt_prices])[dd])
            book.debt[rows[in_cash]] -= repay[in_cash]
            r_u, e_u = rows[~in_cash], dd[~in_cash] - 1
            book.debt_units[r_u, e_u] = np.maximum(book.debt_units[r_u, e_u] - units[~in_cash],
                                                   0.0)
        else:
            units = repay
            book.debt[rows] -= repay
        book.collateral[rows, jj] -= seized
        book.collateral[rows, jj] = np.maximum(book.collateral[rows, jj], 0.0)
        self._collateral_version += 1
        self.treasury_units += np.bincount(jj, weights=fee, minlength=len(self.asset_ids))
        self._refresh_health(rows)
        self.model.population.mark_liquidated(book.owner[rows])
        if self.liquidated_rows.size:
            self.liquidated_rows[rows] = True
        total_repay = float(repay.sum())
        paid = total_repay if not lent else float(repay[dd == 0].sum())
        self.cash_usd += paid
        liq.cash_usd -= paid
        liq.budget_usd -= total_repay
        liq.budget_count -= rows.size
        liq.repaid_usd += total_repay
        market, ev, step = self.model.market, self.model.events, self.model.steps
        names = np.array([self.numeraire_name, *self.debt_asset_names], dtype=object)
        got = 0.0
        event_of = np.empty(rows.size, dtype=np.int64)
        for a in self._present(jj):
            m = jj == a
            units_sold = float(to_liq[m].sum())
            usd = self._sell(int(a), units_sold)
            got += usd
            causes = np.array([self.oracles[int(a)].last_event])
            ids = ev.add_many(
                "liquidation", step=step, n=int(m.sum()), venue=self.name, agent=liq.name,
                account=book.owner[rows[m]], asset=self.asset_names[int(a)], amount=seized[m],
                value_usd=repay[m], price=float(prices[a]), cause_id=np.repeat(causes, m.sum()),
                mode="bonus", counterparty=liq.name, debt_repaid_usd=repay[m],
                debt_asset=names[dd[m]] if lent else self.numeraire_name,
                debt_repaid_units=units[m],
                collateral_seized_units=seized[m], sold_into=self._venue_of_sale(int(a)),
                units_sold=units_sold, bonus_frac=bb[m],
                bonus_usd=to_liq[m] * float(prices[a]) - repay[m],
                **({} if shrunk is None else {"leftover_shrunk_usd": shrunk[m]}),
                detail=f"HF < 1 at {self.name}; {liq.name} repaid debt and seized "
                       f"{self.asset_names[int(a)]} (bonus {float(bb[m].max()):.1%}), selling "
                       f"{units_sold:,.4g} into {self._venue_of_sale(int(a))}")
            market.moved(int(self.asset_ids[a]), int(ids[0]), self.pools[int(a)])
            event_of[m] = ids
        liq.cash_usd += got
        if lent:  # the liquidator bought the borrowed assets it repaid, in one order each
            for e in np.flatnonzero(np.bincount(dd, minlength=names.size)[1:]):
                mine = dd == e + 1
                bought, cost = self._buy_debt(int(e), float(units[mine].sum()))
                self.cash_units[e] += bought
                liq.cash_usd -= cost
                paid += cost
                market.moved(int(self.debt_asset_ids[e]), int(event_of[mine][0]),
                             self.debt_pools[int(e)])
        liq.profit_usd += got - paid
        self.record_liquidations(int(rows.size), total_repay)

    # ------------------------------------------------------------------ auction mode
    def _bite(self, liq: Liquidator) -> None:
        """Close every unsafe vault whole and put its collateral up for auction."""
        book, p = self.book, self.params
        hf = self.health()
        rows = np.flatnonzero(hf < 1.0)
        rows = rows[book.debt[rows] > p.bad_debt_dust_usd]
        if rows.size == 0:
            return
        debt = book.debt[rows]
        asset = self.asset_names[0]
        ids = self.model.events.add_many(
            "liquidation", step=self.model.steps, n=rows.size, venue=self.name, agent=liq.name,
            account=book.owner[rows], asset=asset, amount=book.collateral[rows, 0],
            value_usd=debt, price=float(self.prices()[0]), cause_id=self.oracles[0].last_event,
            mode="auction", counterparty=liq.name, debt_repaid_usd=0.0,
            debt_asset=self.numeraire_name,
            collateral_seized_units=book.collateral[rows, 0],
            min_collateral_ratio=float(1 / self.lt[0]), penalty_frac=p.auction_penalty_frac,
            detail=f"collateral below {1 / self.lt[0]:.0%} of the debt at the oracle price: "
                   f"{self.name} closed the vault and put its {asset} up for auction for the "
                   f"debt plus a {p.auction_penalty_frac:.0%} penalty")
        self.in_auction[rows] = True
        self.lot_rows = np.concatenate([self.lot_rows, rows])
        self.lot_cause = np.concatenate([self.lot_cause, ids])
        self._hf[rows] = np.inf
        self._hf_gen += 1
        self._version += 1
        self.model.population.mark_liquidated(book.owner[rows])
        self.record_liquidations(int(rows.size), float(debt.sum()))

    def _run_auctions(self, liq: Liquidator) -> None:
        """One round of bidding on every lot (see :mod:`contagion.mechanics.auction`).

        Keepers value a lot at what selling it now would fetch; lots that clear are paid
        for out of the liquidators' capital, most valuable first, and the won collateral is
        sold. Lots nobody bids on wait for the next step.
        """
        if self.lot_rows.size == 0 or liq.budget_count <= 0:
            return
        book, p = self.book, self.params
        rows = self.lot_rows
        units = book.collateral[rows, 0]
        value = self._quote_sale(0, units)
        bidders = bidders_per_lot(value, tolerances=liq.tolerances, gas_multiple=liq.gas_multiple,
                                  gas_cost_usd=liq.params.gas_cost_usd,
                                  discount_frac=p.auction_discount_frac,
                                  capacity=liq.budget_count)
        c = clear_auctions(units, value, book.debt[rows], bidders,
                           penalty_frac=p.auction_penalty_frac,
                           discount_frac=p.auction_discount_frac,
                           lone_bid_frac=p.auction_lone_bid_frac)
        won = np.flatnonzero(c.sold)
        won = won[np.argsort(-value[won], kind="stable")]
        won = won[np.cumsum(c.bid_usd[won]) <= liq.budget_usd]  # the capital they have
        if won.size == 0:
            return
        s_rows, paid, to_winner = rows[won], c.bid_usd[won], c.units_to_winner[won]
        book.debt[s_rows] = 0.0
        book.collateral[s_rows, 0] = c.units_to_owner[won]
        self._collateral_version += 1
        self.in_auction[s_rows] = False
        keep = np.ones(rows.size, dtype=bool)
        keep[won] = False
        causes = self.lot_cause[won]
        self.lot_rows, self.lot_cause = rows[keep], self.lot_cause[keep]
        self._refresh_health(s_rows)
        total_paid = float(paid.sum())
        self.cash_usd += total_paid
        liq.cash_usd -= total_paid
        liq.budget_usd -= total_paid
        liq.budget_count -= int(won.size)
        liq.repaid_usd += total_paid
        ids = self._log_auctions(liq, s_rows, bidders[won], paid, to_winner, causes,
                                 c.units_to_owner[won])
        got = self._sell(0, float(to_winner.sum()))
        liq.cash_usd += got
        liq.profit_usd += got - total_paid
        self.model.market.moved(int(self.asset_ids[0]), int(ids.min()), self.pools[0])
        short = c.bad_debt_usd[won]
        hit = short > 0.0
        if hit.any():
            total = float(short[hit].sum())
            self.bad_debt_usd += total
            bad = self.model.events.add_many(
                "bad_debt", step=self.model.steps, n=int(hit.sum()), venue=self.name,
                account=book.owner[s_rows[hit]], value_usd=short[hit], cause_id=ids[hit],
                reason="auction_shortfall", accounts=1, debt_asset=self.numeraire_name,
                detail=f"the auction raised less than the vault's debt at {self.name}; the "
                       "shortfall is the protocol's bad debt")
            self.cover_loss(total, int(bad[0]))

    def _log_auctions(self, liq: Liquidator, rows: NDArray[np.int64],
                      bidders: NDArray[np.int64], paid: NDArray[np.float64],
                      to_winner: NDArray[np.float64], causes: NDArray[np.int64],
                      to_owner: NDArray[np.float64]) -> NDArray[np.int64]:
        """Log each settled lot: ``auction`` (competitive) or ``zero_bid`` (lone bidder)."""
        p, ev, step = self.params, self.model.events, self.model.steps
        asset, owners = self.asset_names[0], self.book.owner[rows]
        price = np.divide(paid, to_winner, out=np.zeros_like(paid), where=to_winner > 0)
        ids = np.empty(rows.size, dtype=np.int64)
        lone = bidders == 1
        out_of = liq.tolerances.size
        for kind, m in (("auction", ~lone), ("zero_bid", lone)):
            if not m.any():
                continue
            fields: dict[str, Any]
            if kind == "auction":
                fields = {"bidders": bidders[m], "discount_frac": p.auction_discount_frac,
                          "units_to_owner": to_owner[m]}
                detail = (f"{int(bidders[m][0])} keepers bid: the {asset} lot cleared at its "
                          f"value less {p.auction_discount_frac:.0%}; the debt and penalty are "
                          "repaid and the collateral left over goes back to the owner")
            else:
                fields = {"gas_multiple": liq.gas_multiple, "keepers": out_of,
                          "keepers_priced_out": out_of - liq.active_bidders,
                          "lone_bid_frac": p.auction_lone_bid_frac}
                detail = (f"a lone keeper bid (gas x{liq.gas_multiple:g} priced out "
                          f"{out_of - liq.active_bidders} of {out_of}): he won the {asset} lot "
                          f"for {p.auction_lone_bid_frac:.0%} of its value; the owner lost "
                          "the collateral and the debt went unpaid")
            ids[m] = ev.add_many(kind, step=step, n=int(m.sum()), venue=self.name,
                                 agent=liq.name, account=owners[m], asset=asset,
                                 amount=to_winner[m], value_usd=paid[m], price=price[m],
                                 cause_id=causes[m], detail=detail, **fields)
        return ids

    def _present(self, j: NDArray[np.int64]) -> NDArray[np.int64]:
        """The collateral indices that occur in ``j`` (k is small: a bincount, not a sort)."""
        return np.flatnonzero(np.bincount(j, minlength=len(self.asset_ids)))

    def _spot(self, a: int) -> float:
        pool = self.pools[a]
        return pool.spot if pool is not None else self.model.market.quote_price(
            int(self.asset_ids[a]))

    def _spot_of(self, j: NDArray[np.int64]) -> NDArray[np.float64]:
        return np.array([self._spot(int(a)) for a in range(len(self.asset_ids))])[j]

    def _quote_sale(self, a: int, units: NDArray[np.float64]) -> NDArray[np.float64]:
        """USD that selling ``units`` (each entry a separate hypothetical sale) would fetch."""
        pool = self.pools[a]
        if pool is not None:
            return pool.quote_sell_many(units)
        return self.model.market.quote_sale(int(self.asset_ids[a]), units)

    def _sell(self, a: int, units: float) -> float:
        pool = self.pools[a]
        if pool is not None:
            return pool.sell_base(units)
        return self.model.market.sell(int(self.asset_ids[a]), units)

    def _debt_spot(self, e: int) -> float:
        """What the e-th borrowed asset trades for now, where the venue's keepers buy it."""
        pool = self.debt_pools[e]
        if pool is not None:
            return pool.spot
        return self.model.market.quote_price(int(self.debt_asset_ids[e]))

    def _buy_debt(self, e: int, units: float) -> tuple[float, float]:
        """Buy ``units`` of the e-th borrowed asset for a repayment: from its pool, or the
        external market (or when the pool holds too little); return (units, USD paid)."""
        pool = self.debt_pools[e]
        if units <= 0:
            return 0.0, 0.0
        if pool is not None:
            usd = pool.cost_to_buy(units)
            if np.isfinite(usd):
                return pool.buy_base(usd), usd
        return units, -self.model.market.sell(int(self.debt_asset_ids[e]), -units)

    def _venue_of_sale(self, a: int) -> str:
        pool = self.pools[a]
        return pool.name if pool is not None else "the external market"

    def _write_off_bad_debt(self, prices: NDArray[np.float64]) -> None:
        book, p = self.book, self.params
        hf = self.health()
        # nothing to write off, as at the last look: the same book, health factors and
        # prices (see ``_candidate_view``) would find nothing again
        key = (self._state_key(prices), self._hf_gen)
        if key == self._no_bad_debt_key:
            return
        maybe = np.flatnonzero(hf < 1.0)
        # exact pre-filter: collateral value < dust implies weighted collateral
        # (= HF * debt) < max(LT) * dust
        maybe = maybe[hf[maybe] * self.debt_usd(maybe) < self.max_lt() * p.bad_debt_dust_usd]
        owed = self.debt_usd(maybe)
        maybe, owed = maybe[owed > 0], owed[owed > 0]
        cv = units_value(self.enabled_collateral(maybe), prices)
        gone = (cv < p.bad_debt_dust_usd) & (owed > cv)
        bad = maybe[gone]
        if bad.size == 0:
            self._no_bad_debt_key = key
            return
        step, ev = self.model.steps, self.model.events
        moved = self.asset_ids if not self.debt_asset_ids.size else \
            np.concatenate([self.asset_ids, self.debt_asset_ids])
        last_liq = int(self.model.market.last_move_event[moved].max())
        detail = f"collateral exhausted at {self.name}; debt written off"
        if not self.debt_asset_ids.size:
            amounts = book.debt[bad].copy()
            total = float(amounts.sum())
            book.debt[bad] = 0.0
            self._refresh_health(bad)
            self.bad_debt_usd += total
            ids = ev.add_many("bad_debt", step=step, n=bad.size, venue=self.name,
                              account=book.owner[bad], value_usd=amounts, cause_id=last_liq,
                              reason="collateral_exhausted", accounts=1,
                              debt_asset=self.numeraire_name, detail=detail)
            self.cover_loss(total, int(ids[0]))
            return
        # one event per account and debt reserve, each valued at its oracle
        values = np.column_stack([book.debt[bad], book.debt_units[bad] * self.debt_prices()])
        names = [self.numeraire_name, *self.debt_asset_names]
        first, total = -1, 0.0
        for r in range(values.shape[1]):
            hit = values[:, r] > 0
            if not hit.any():
                continue
            ids = ev.add_many("bad_debt", step=step, n=int(hit.sum()), venue=self.name,
                              account=book.owner[bad[hit]], value_usd=values[hit, r],
                              cause_id=last_liq, reason="collateral_exhausted", accounts=1,
                              debt_asset=names[r], detail=detail)
            first = int(ids[0]) if first < 0 else first
            total += float(values[hit, r].sum())
        book.debt[bad] = 0.0
        book.debt_units[bad] = 0.0
        self._refresh_health(bad)
        self.bad_debt_usd += total
        self.cover_loss(total, first)

    def cover_loss(self, loss_usd: float, cause_id: int) -> None:
        """After a loss: draw the insurance fund, then socialise what is left; maybe default."""
        self.last_loss_event = cause_id
        equity = self.equity_usd()
        if equity >= 0:
            return
        if self.fund is not None:
            paid = self.fund.draw(-equity, venue=self.name, cause_id=cause_id)
            self.cash_usd += paid
            self.fund_paid_usd += paid
            equity += paid
        if equity >= -1e-6:
            return
        loss = -equity
        claims = self.claims_usd()
        self.supply_index *= max(0.0, 1.0 - loss / claims) if claims > 0 else 0.0
        self.socialised_usd += loss
        step, ev = self.model.steps, self.model.events
        eid = ev.add("socialised_loss", step=step, venue=self.name, value_usd=loss,
                     cause_id=cause_id, policy="supplier_haircut", bearers="suppliers",
                     haircut_frac=loss / claims if claims > 0 else np.nan,
                     detail=f"{self.name} socialised ${loss:,.0f} to its suppliers "
                            f"(haircut {loss / claims:.2%})" if claims > 0 else "")
        if not self.defaulted:
            self.model.report_default(self, eid, "bad_debt", f"{self.name}'s losses exceeded "
                                                              "its reserves and insurance fund")


def _health_of(weighted: NDArray[np.float64], debt: NDArray[np.float64]) -> NDArray[np.float64]:
    """``health_factor(weighted, 1.0, debt, validate=False)`` bit for bit (``weighted / debt``,
    ``inf`` where ``debt <= 0`` or NaN), in two passes instead of its four (a product by
    1.0, an ``inf`` fill and a masked divide)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        hf = np.divide(weighted, debt)
    np.copyto(hf, np.inf, where=~(debt > 0))
    return np.asarray(hf, dtype=np.float64)


def _argmax_rows(value: NDArray[np.float64]) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """``np.argmax(value, axis=1)`` for a few columns of finite values, and the largest
    values ``value[i, j[i]]`` (the same floats), column by column (the first largest wins,
    as argmax's): a row-wise argmax over a narrow (n, k) array is a slow strided loop."""
    n, k = value.shape
    if k == 1:
        return np.zeros(n, dtype=np.int64), value[:, 0]
    best = value[:, 0]
    j = np.zeros(n, dtype=np.int64)
    for c in range(1, k):  # np.where beats masked copies into the running arrays
        col = value[:, c]
        better = col > best
        j = better.astype(np.int64) if c == 1 else np.where(better, c, j)
        best = np.where(better, col, best)
    return j, np.asarray(best)


def _top_k(x: NDArray[np.float64], k: int) -> NDArray[np.int64]:
    """Positions of the ``k`` largest entries of ``x`` (no NaN), in no particular order: the
    set ``np.argpartition(-x, k - 1)[:k]`` gives, found among the entries above a threshold
    drawn from a strided sample, so one pass over ``x`` instead of a partition of it. Falls
    back to the full partition when the threshold leaves fewer than ``k`` entries or the
    k-th largest value is tied (which of the tied ones argpartition keeps is its own)."""
    n = x.size
    if k < 1 or n <= 8 * k or n < 4096:
        return np.argpartition(-x, k - 1)[:k]
    stride = 8
    sample = x[::stride]
    rank = min(sample.size, 2 * k // stride + 16)  # ~2k entries of x expected above it
    threshold = np.partition(sample, sample.size - rank)[sample.size - rank]
    sub = np.flatnonzero(x >= threshold)
    if sub.size >= k:
        vals = x[sub]
        part = np.argpartition(-vals, k - 1)
        kth = vals[part[k - 1]]
        if np.count_nonzero(vals == kth) == 1:
            return sub[part[:k]]
    return np.argpartition(-x, k - 1)[:k]
