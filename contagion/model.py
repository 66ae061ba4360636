"""ContagionModel: the Mesa model that owns the clock, the agents, the books and the log.

One step, in order (DESIGN.md section 3): the external market moves; arbitrageurs pull
pools toward it; yield-venue depositors run on a broken peg and algorithmic pegs defend
it and mint/burn; oracles publish; traders top up margin; custodial exchanges face
withdrawals; lending protocols and perp venues liquidate (vectorised over all accounts);
firms check their solvency; the institutions' credit network is cleared (Eisenberg-Noe);
everything is recorded. Agents never call back into the model mid-turn: a venue that finds
itself in default stops acting and reports it (:meth:`ContagionModel.report_default`); the
model declares the reported defaults (event, token crash, loan losses, clearing) at the end
of the stage in which they happened, so the venues of the next stage feel them.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any

import mesa
import numpy as np
import pandas as pd

from contagion.agents.bridge import Bridge
from contagion.agents.clearing_house import ClearingHouse
from contagion.agents.collateral_quality import setup_deriver
from contagion.agents.custodial import CustodialExchange
from contagion.agents.feed import MarketPriceFeed
from contagion.agents.firm import TradingFirm
from contagion.agents.fund import InsuranceFund
from contagion.agents.lending import LendingProtocol
from contagion.agents.liquidator import Liquidator
from contagion.agents.market import Market
from contagion.agents.oracle import Oracle
from contagion.agents.peg import AlgorithmicPeg
from contagion.agents.perp import PerpVenue
from contagion.agents.pool import AMMPool
from contagion.agents.pool_v3 import make_pool
from contagion.agents.trader import Trader, TraderPopulation
from contagion.agents.yield_venue import YieldVenue
from contagion.build import draw_deposit_book, draw_lending_book, draw_perp_book, draw_wealth
from contagion.credit import recovery_rates
from contagion.errors import InvariantError, ParameterError
from contagion.events import EventLog
from contagion.ledger import PriceMoves
from contagion.mechanics.liquidity import depth_multipliers
from contagion.network import node_states
from contagion.positions import (
    Positions,
    StartingBooks,
    check_positions,
    copy_book,
    positions_frame,
    read_positions,
)
from contagion.reporting import EXPOSURE_COLUMNS, model_reporters, pair_exposures, venue_rows
from contagion.scenario import Scenario
from contagion.settlement import SettlementQueue
from contagion.world import Wiring, build_world, check_world

__all__ = ["ContagionModel"]

NODE_STATE_LIMIT = 5000


def _quotes_usd(feed: Any) -> bool:
    """Whether a venue's feed quotes USD (the external market, directly or through an
    oracle) rather than numeraire units (a pool's spot or TWAP)."""
    return isinstance(feed, MarketPriceFeed) or feed.params.source == "external" \
        or feed.pool is None


def _fields(*columns: str) -> Any:
    """A getter of a row's values of ``columns``, as a tuple (``itemgetter`` of one column
    returns the bare value, of none fails)."""
    if len(columns) < 2:
        return lambda row: tuple(row[c] for c in columns)
    return itemgetter(*columns)


def _wanted(column: str, names: tuple[str, ...]) -> bool:
    """Whether ``column`` is one of ``names`` (a name ending in ``*``: a prefix)."""
    return any(column.startswith(n[:-1]) if n.endswith("*") else column == n for n in names)


class ContagionModel(mesa.Model):
    """A multi-venue crypto market whose defaults spread through liquidations.

    Parameters
    ----------
    scenario : Scenario
        All parameters (see ``models`` for presets, e.g. ``models.get_scenario("default")``).
    seed : int, optional
        Seed of the model's one :class:`numpy.random.Generator`; same seed, same run.
    check_conservation : bool
        Verify after every step that no asset unit was created or destroyed
        (raises :class:`~contagion.errors.InvariantError`). Costs one pass over the books.
    record_cohorts : bool
        In runs of more than 5,000 traders, record trader cohorts' states every step (for
        the dashboard's network replay; a few passes over the traders per step).
    record_nodes : bool
        Record node states at all (default); ``False`` skips them (sweeps read none), and
        :meth:`node_state_frame` is then empty, and the Trader agents (mesa's view of the
        population, which nothing reads) are not made. Nothing else a run records depends
        on it.
    series : tuple of str, optional
        The series to record (default: every one; a name ending in ``*`` stands for every
        series it begins): a sweep's run records only those its measures read. The values
        recorded do not depend on it.
    final_series : tuple of str, optional
        Series (named as ``series``) recorded as NaN each step and computed only by
        :meth:`record_final_series` (``simulate`` calls it after the last step): a sweep
        reads only the last insolvent debt, a pass over every account each step.
    world : networkx.MultiDiGraph, optional
        The world graph the agents run over (default: :func:`contagion.world.build_world`
        of the scenario). Every contagion channel is read from its edges: which oracle a
        venue reads, which pool its liquidators sell into, which fund backs it, which
        custodian cross-margins its accounts, who owes whom. It is ``model.graph``; edges
        edited there before the first step take effect at that step (``credit`` and
        ``supply`` edges set balance sheets at set-up, so edit those in the world passed
        here).
    positions : pandas.DataFrame, Positions or path, optional
        The books to start from instead of random ones (a positions table, see
        :mod:`contagion.positions` and docs/positions.md; a run's ``positions.parquet``
        reproduces that run). Checked before anything is built
        (:class:`~contagion.errors.PositionsError` lists every bad row). The random books
        are still drawn, so the generator is where it would be, then replaced.

    Examples
    --------
    >>> from models import get_scenario
    >>> model = ContagionModel(get_scenario("default", n_traders=300), seed=1)
    >>> model.run(5)
    >>> int(model.steps), len(model.datacollector.get_model_vars_dataframe())
    (5, 6)
    """

    def __init__(self, scenario: Scenario, *, seed: int | None = None,
                 check_conservation: bool = False, record_cohorts: bool = False,
                 world: Any = None, positions: Any = None, record_nodes: bool = True,
                 series: tuple[str, ...] | None = None,
                 final_series: tuple[str, ...] = ()) -> None:
        if not isinstance(scenario, Scenario):
            raise ParameterError("scenario", type(scenario).__name__, "a contagion.Scenario",
                                 "build one with models.get_scenario(name)")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer)
                                 or seed < 0):
            raise ParameterError("seed", seed, "a non-negative integer or None")
        if positions is not None and not isinstance(positions, Positions):
            frame = positions if isinstance(positions, pd.DataFrame) else read_positions(positions)
            positions = check_positions(frame, scenario)
        elif isinstance(positions, Positions) and positions.scenario != scenario:
            raise ParameterError("positions", "Positions checked against another scenario",
                                 "positions checked against this scenario",
                                 "pass the table itself, or check_positions(table, scenario)")
        self.positions: Positions | None = positions
        super().__init__(seed=seed)
        self.seed_value = seed
        self.scenario = scenario
        self.check_conservation = check_conservation
        self.record_cohorts = record_cohorts
        self.record_nodes = bool(record_nodes)
        self.events = EventLog()
        self.recovery: dict[str, float] = {}
        self._default_queue: list[tuple[Any, int, str, str, dict[str, float]]] = []
        self.moves = PriceMoves()  # who moved each price source: the causes oracles cite
        self.depth_events: dict[int, int] = {}  # asset -> its latest liquidity_shock event
        self.settlements = SettlementQueue()  # recalls and transfers in their settlement window
        self.graph = build_world(scenario) if world is None else world
        self.wiring: Wiring = check_world(self.graph, scenario)
        self.market = Market(self, scenario)
        self.pools = {p.name: make_pool(self, p) for p in scenario.pools}
        self.oracles = {o.name: Oracle(self, o) for o in scenario.oracles}
        self.funds = {f.name: InsuranceFund(self, f) for f in scenario.funds}
        self.liquidators = [Liquidator(self, p) for p in scenario.liquidators]
        self._build_participants()
        self.pegs = [AlgorithmicPeg(self, p) for p in scenario.pegs]
        self.yield_venues = [YieldVenue(self, y) for y in scenario.yield_venues]
        self.clearing_houses = [ClearingHouse(self, h) for h in scenario.clearing_houses]
        self.bridges = [Bridge(self, b) for b in scenario.bridges]
        self._wire()
        self._node_states: list[pd.DataFrame] = []
        self.datacollector = mesa.DataCollector(
            model_reporters=model_reporters(self),
            tables={"venues": list(venue_rows(self)[0].keys()) if venue_rows(self) else [],
                    "exposures": EXPOSURE_COLUMNS},
        )
        # Mesa's DataCollector stores the series and tables (datacollector.get_*_dataframe
        # read them); _record appends to its lists directly: its collect() re-checks every
        # reporter's type and deep-copies every float each step, a fifth of recording.
        dc = self.datacollector
        if series is not None:  # the others are never computed (nor in the series frame)
            for var in [v for v in dc.model_reporters if not _wanted(v, series)]:
                del dc.model_reporters[var], dc.model_vars[var]
        final = {var for var in dc.model_reporters if _wanted(var, final_series)}
        self._series_lists = [(dc.model_vars[var], reporter)
                              for var, reporter in dc.model_reporters.items() if var not in final]
        self._final_lists = [(dc.model_vars[var], reporter)
                             for var, reporter in dc.model_reporters.items() if var in final]
        # per table, its column lists and a getter of a row's values in their order
        self._table_lists = {name: (list(table.values()), _fields(*table))
                             for name, table in dc.tables.items()}
        self._baseline_units, self._units_scale = self._unit_sums()
        self._record()

    # ------------------------------------------------------------------ build
    def _build_participants(self) -> None:
        sc, rng = self.scenario, self.rng
        t = sc.traders
        n = t.n_traders
        wealth = draw_wealth(sc, rng)
        prices = {a: float(self.market.price[i]) for a, i in self.market.index.items()}
        tops_up = rng.random(n) < t.topup_share
        cross = (rng.random(n) < t.cross_margin_share) & t.cross_margin & bool(sc.custodial)
        pos = self.positions  # the user's books replace the drawn ones, draws unchanged
        drawn_cross = cross
        wallet = wealth * t.wallet_frac
        if pos is not None:
            wallet, tops_up, cross = pos.traders(tops_up, cross)
        self.population = TraderPopulation(
            wallet_usd=wallet, tops_up=tops_up, cross=cross,
            topup_below=t.topup_below_margin_ratio, topup_to=t.topup_below_margin_ratio + 0.3)
        books: dict[str, list[Any]] = {"lending": [], "perps": [], "custodial": []}
        firm_holder = {f.name: n + k for k, f in enumerate(sc.firms)}
        self.lending: list[LendingProtocol] = []
        for i, v in enumerate(sc.lending):
            firms_here = [(firm_holder[f.name], dict(f.collateral_usd), f.health_factor)
                          for f in sc.firms if f.lending == v.name]
            book = draw_lending_book(sc, i, wealth, prices, firms_here, rng,
                                     risk_parameters=setup_deriver(self, v))
            if pos is not None:
                book = pos.lending_book(i, book)
            books["lending"].append(copy_book(book))
            supply = {"outside": v.retail_supply_usd}
            for (custodian, lender), amount in self.wiring.supply.items():
                if lender == v.name:
                    supply[custodian] = amount
            total = sum(supply.values()) + v.reserve_usd
            if book.debt.sum() > 0.95 * total:
                raise ParameterError(
                    f"lending[{v.name}].retail_supply_usd", v.retail_supply_usd,
                    f">= {book.debt.sum() / 0.95 - total + v.retail_supply_usd:,.0f}",
                    f"borrowers owe ${book.debt.sum():,.0f}; suppliers must fund it")
            for d, b in enumerate(v.borrow):
                owed, supplied = float(book.debt_units[:, d].sum()), b.retail_supply_usd
                if owed * prices[b.asset] > 0.95 * supplied:
                    raise ParameterError(
                        f"lending[{v.name}].borrow[{b.asset}].retail_supply_usd", supplied,
                        f">= {owed * prices[b.asset] / 0.95:,.0f}",
                        f"borrowers owe {owed:,.6g} {b.asset}; suppliers must fund it")
            self.lending.append(LendingProtocol(self, v, book, supply))
        self.perps: list[PerpVenue] = []
        for i, pv in enumerate(sc.perps):
            marks = np.array([prices[a] for a in pv.market_assets])
            perp_book = draw_perp_book(sc, i, wealth, marks, cross, rng)
            if pos is not None:
                perp_book = pos.perp_book(i, marks, drawn_cross)
            books["perps"].append(copy_book(perp_book))  # before the venue adds accounts
            self.perps.append(PerpVenue(self, pv, perp_book))
        self.custodial: list[CustodialExchange] = []
        for i, c in enumerate(sc.custodial):
            deposit_book = draw_deposit_book(sc, i, wealth, rng)
            if pos is not None:
                deposit_book = pos.deposit_book(i)
            books["custodial"].append(copy_book(deposit_book))
            cash = c.liquid_reserve_frac * c.deposits_usd
            supplied = sum(a for (who, _), a in self.wiring.supply.items() if who == c.name)
            lent = sum(a for (lender, _), a in self.wiring.credit.items() if lender == c.name)
            token_units = c.token_holdings_usd / prices[c.token] if c.token else 0.0
            held = sum(usd for _, usd in c.asset_holdings_usd)
            illiquid = (1 + c.equity_buffer_frac) * c.deposits_usd - cash - supplied - lent - (
                c.token_holdings_usd if c.token else 0.0) - held
            # what it borrowed through credit links it lent on or invested: illiquid assets
            illiquid += sum(a for (_, b), a in self.wiring.credit.items() if b == c.name)
            if illiquid < 0:
                outlay = cash + supplied + lent + c.token_holdings_usd + held
                raise ParameterError(
                    f"custodial[{c.name}].equity_buffer_frac", c.equity_buffer_frac,
                    f">= {outlay / c.deposits_usd - 1:.4f}",
                    "reserves, supply, loans, token and asset holdings exceed deposits plus equity")
            asset_units = {self.market.index[a]: usd / prices[a] for a, usd in c.asset_holdings_usd}
            ex = CustodialExchange(self, c, deposit_book, cash_usd=cash, token_units=token_units,
                                   illiquid_usd=illiquid, asset_units=asset_units)
            self.custodial.append(ex)
        self.firms: list[TradingFirm] = []
        for f in sc.firms:
            v = next(x for x in self.lending if x.name == f.lending)
            row = int(np.flatnonzero(v.book.owner == firm_holder[f.name])[0])
            self.firms.append(TradingFirm(self, f, holder=firm_holder[f.name], lending=v, row=row))
        self.starting_books = StartingBooks(
            scenario=sc, lending=books["lending"], perps=books["perps"],
            custodial=books["custodial"], wallet_usd=self.population.wallet_usd.copy(),
            tops_up=self.population.tops_up.copy())
        creditors: list[Any] = [*self.lending, *self.custodial, *self.firms]
        self.institutions: dict[str, Any] = {a.name: a for a in creditors}
        self.venues: dict[str, Any] = {a.name: a for a in self.margin_venues()}
        self.venues.update({a.name: a for a in self.custodial})
        if self.record_nodes:  # see _make_trader_agents
            self._make_trader_agents()

    def _make_trader_agents(self) -> None:
        """Mesa's view of the population (``model.agents``): a Trader per trader, or per
        cohort past ``agent_limit``. Nothing the model computes or records reads them (the
        population's arrays act), so a run that records no node states (a sweep's) does
        not make them: 1,000 agents cost ~3% of a 1,000-trader run."""
        t = self.scenario.traders
        pop = self.population
        ids = np.arange(pop.n)
        if pop.n <= t.agent_limit:
            for i in ids:
                Trader(self, ids[i:i + 1], label=f"trader {i}", cross_margined=bool(pop.cross[i]),
                       tops_up=bool(pop.tops_up[i]))
            return
        groups = {(c, u): ids[(pop.cross == c) & (pop.tops_up == u)]
                  for c in (False, True) for u in (False, True)}
        per = int(np.ceil(pop.n / t.agent_limit))
        for (c, u), g in groups.items():
            for k, start in enumerate(range(0, g.size, per)):
                Trader(self, g[start:start + per],
                       label=f"{'cross' if c else 'isolated'}{'/tops-up' if u else ''} cohort {k}",
                       cross_margined=c, tops_up=u)

    # ------------------------------------------------------------------ wiring
    def _wire(self) -> None:
        """Point every agent at the channels of :attr:`graph` (its edges, read now)."""
        w = check_world(self.graph, self.scenario)
        for kind, now, then in (("credit", w.credit, self.wiring.credit),
                                ("supply", w.supply, self.wiring.supply),
                                ("clears", w.clears, self.wiring.clears),
                                ("default_fund", w.default_fund, self.wiring.default_fund)):
            if now != then:
                changed = sorted(set(now.items()) ^ set(then.items()))[0]
                raise ParameterError(f"graph {kind} edge {changed[0][0]}->{changed[0][1]}",
                                     changed[1], "the amount the model was set up with",
                                     f"{kind} edges set balance sheets at set-up: edit the "
                                     "world and pass it to ContagionModel(world=...)")
        self.wiring = w
        market = self.market
        for v in self.lending:
            v.oracles = [self._feed(v.name, a) for a in v.asset_names]
            v.pools = [self._route(v.name, a) for a in v.asset_names]
            v.debt_oracles = [self._feed(v.name, a) for a in v.debt_asset_names]
            v.debt_pools = [self._route(v.name, a) for a in v.debt_asset_names]
            v.fund = self.funds.get(w.backstops.get(v.name, ""))
            v.invalidate()
        for pv in self.perps:
            pv.oracles = [self._feed(pv.name, market.assets[a]) for a in pv.assets]
            pv.fund = self.funds.get(w.backstops.get(pv.name, ""))
            pv.custodian = next((ex for ex in self.custodial
                                 if ex.name == w.custodians.get(pv.name)), None)
            pv.invalidate()
        num = self.scenario.market.numeraire
        venues: list[LendingProtocol | PerpVenue | CustodialExchange] = [
            *self.lending, *self.perps, *self.custodial]
        for venue in venues:
            oracle = w.feeds.get((venue.name, num)) if market.numeraire_on else None
            venue.num_feed = self.oracles[oracle] if oracle is not None else None
        for v in self.lending:
            v._usd_cols = np.array([_quotes_usd(o) for o in v.oracles], dtype=bool)
            v._usd_debt_cols = np.array([_quotes_usd(o) for o in v.debt_oracles], dtype=bool)
        for ex in self.custodial:
            ex.routes = {a: pool for a in market.assets
                         if (pool := self._route(ex.name, a)) is not None}
            ex.pool = ex.routes.get(ex.params.token) if ex.params.token else None
            supplied = [lender for (who, lender) in w.supply if who == ex.name]
            ex.lending = next((v for v in self.lending if v.name in supplied), None)
            ex.loans = {b: a for (lender, b), a in w.credit.items() if lender == ex.name}
        borrowers: list[CustodialExchange | TradingFirm] = [*self.custodial, *self.firms]
        for inst in borrowers:
            inst.borrowings = {lender: a for (lender, b), a in w.credit.items() if b == inst.name}
        market.issuer_of = {issuer: tokens for issuer, tokens in w.tokens.items()}
        for house in self.clearing_houses:
            house.wire(self._feed(house.name, market.assets[house.asset]))
        bridges = {b.name: b for b in self.bridges}
        for b in self.bridges:
            b.wire(w.tokens.get(b.name, []),
                   [pv for pv, via in w.bridge_routes.items() if via == b.name])
        plain = self.scenario.traders.cross_margin_settlement_steps
        for pv in self.perps:  # cross-margin transfers that cross a bridge wait its finality
            pv.bridge = bridges.get(w.bridge_routes.get(pv.name, ""))
            pv.settle_steps = plain + (pv.bridge.params.finality_steps if pv.bridge else 0)
        self.population.wire_topups({v.name: (("isolated", v.name) in w.topups,
                                              ("cross", v.name) in w.topups)
                                     for v in self.margin_venues()})

    def _feed(self, venue: str, asset: str) -> Any:
        oracle = self.wiring.feeds.get((venue, asset))
        return self.oracles[oracle] if oracle is not None else MarketPriceFeed(self.market, asset)

    def _route(self, holder: str, asset: str) -> AMMPool | None:
        pool = self.wiring.routes.get((holder, asset))
        return self.pools[pool] if pool is not None else None

    # ------------------------------------------------------------------ API
    def run(self, steps: int | None = None) -> None:
        """Run ``steps`` steps (default: to the scenario's horizon)."""
        horizon = self.scenario.market.steps
        n = horizon - self.steps if steps is None else steps
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
            raise ParameterError("steps", steps, "a non-negative integer")
        if self.steps + n > horizon:
            raise ParameterError("steps", steps, f"0 <= steps <= {horizon - self.steps}",
                                 f"the scenario's price path ends at step {horizon}")
        for _ in range(int(n)):
            self.step()

    def step(self) -> None:
        """One tick of simulated time: the stages of DESIGN.md section 3, in order."""
        if self.steps == 1:  # edits to model.graph before the first step take effect
            self._wire()
        self._stage_market()
        self._stage_oracles()
        self._stage_traders()
        self._stage_liquidations()
        self._stage_clearing_houses()
        self._stage_shortfalls()
        self._stage_record()

    def _stage_market(self) -> None:
        """1. The external market moves (path, liquidity shock); arbitrageurs pull pools
        toward it; manipulators trade; yield-venue depositors run on a broken peg and
        algorithmic pegs defend it, mint and burn."""
        for pool in self.pools.values():
            pool.begin_step()
        for liq in self.liquidators:
            liq.begin_step()
        self._shock_liquidity()
        self.market.step()
        for bridge in self.bridges:  # exploits, halts and the claims' backing, before arbitrage
            bridge.step()
        for pool in self.pools.values():
            pool.arbitrage()
        self._manipulate_pools()
        for yv in self.yield_venues:  # depositors see the depeg and may run
            yv.step()
        for peg in self.pegs:  # then the reserve defends, arbitrageurs mint and burn
            peg.step()

    def _stage_oracles(self) -> None:
        """2. Oracles publish; perp venues' dynamic margin follows the mark just published;
        perp venues with funding move it between longs and shorts at that mark."""
        for oracle in self.oracles.values():
            oracle.step()
        if self.market.numeraire_on:
            name = self.scenario.market.numeraire_oracle
            self.market.numeraire_depeg(float(self.oracles[str(name)].price))
        for pv in self.perps:
            pv.update_margin()
        for pv in self.perps:
            pv.pay_funding()

    def _stage_traders(self) -> None:
        """3. Traders act: an exploit borrows against the published mark (Mango), traders
        top up margin, depositors withdraw from custodial exchanges (a run); the defaults
        reported (an exchange that cannot pay, a firm that misses a recall) are declared.
        Lending venues first accrue the step's interest and pay their running suppliers,
        and re-derive the thresholds that follow liquidity; after the top-ups, traders
        whose health rose re-lever within the venues' LTV and caps."""
        for v in self.lending:
            v.step()
            v.update_risk_parameters()
        for pv in self.perps:
            pv.attacker_withdraws()
        self.population.topup_lending(self)
        self.population.releverage_lending(self)
        self.population.topup_perp(self)
        for ex in self.custodial:
            ex.step()
        self._declare_reported_defaults()

    def _stage_liquidations(self) -> None:
        """4-5. Margin engines check every account at once and liquidators close what they
        can: one vectorised pass per venue feeds its own liquidation queue; the defaults
        reported (losses beyond a venue's reserves and fund) are declared."""
        for v in self.lending:
            for liq in self.liquidators:
                v.liquidate(liq)
        for pv in self.perps:
            pv.liquidate()
        self._declare_reported_defaults()

    def _stage_clearing_houses(self) -> None:
        """5b. Clearing houses mark their members' positions and collect variation margin;
        a member that cannot pay is closed out through the default waterfall (survivors'
        fund losses and assessments hit their cash and books); the defaults reported are
        declared, so the firms' solvency test of stage 6 sees those losses."""
        if not self.clearing_houses:
            return
        for house in self.clearing_houses:
            house.step()
        self._declare_reported_defaults()

    def _stage_shortfalls(self) -> None:
        """6. Firms test their solvency, their defaults are declared, and the institutions'
        credit network is cleared (Eisenberg-Noe over the credit edges), marking every claim
        on a defaulter."""
        for firm in self.firms:
            firm.step()
        self._declare_reported_defaults()
        self._clear()

    def _stage_record(self) -> None:
        """7. Record the step (series, venue table, exposures, node states)."""
        for pool in self.pools.values():
            pool.end_step()
        self._record()
        if self.check_conservation:
            self.assert_conservation()

    def _shock_liquidity(self) -> None:
        """Set this step's order-book depth and pool arbitrage capacity (liquidity shocks)."""
        shocks = self.scenario.liquidity_shocks
        if not shocks:
            return
        market = self.market
        mult = depth_multipliers(shocks, market.assets, int(self.steps))
        market.scale_depth(mult)
        for pool in self.pools.values():
            pool.scale_arb_capacity(float(mult[pool.base]))
        for shock in shocks:
            if max(shock.start_step, 1) != self.steps:  # step 1 is the first that runs
                continue
            for a_name in shock.assets:
                i = market.index[a_name]
                normal = float(market.normal_depth_usd[i])
                self.depth_events[i] = self.events.add(
                    "liquidity_shock", step=self.steps, agent=shock.name, asset=a_name,
                    amount=-shock.depth_drop_frac, value_usd=normal * shock.depth_drop_frac,
                    depth_before_usd=normal, depth_after_usd=normal * float(mult[i]),
                    duration_steps=shock.duration_steps, recovery_steps=shock.recovery_steps,
                    detail=f"{a_name} order-book depth fell {shock.depth_drop_frac:.0%} "
                           f"(external depth ${normal:,.0f} -> ${normal * mult[i]:,.0f}) for "
                           f"{shock.duration_steps} steps, recovering over "
                           f"{shock.recovery_steps}; its pools' arbitrage capacity fell alike")

    def _manipulate_pools(self) -> None:
        for mp in self.scenario.manipulations:
            if not mp.start_step <= self.steps < mp.start_step + mp.duration_steps:
                continue
            pool = self.pools[mp.pool]
            before = pool.spot
            move = pool.manipulate(mp.notional_usd_per_step, mp.direction)
            eid = self.events.add(
                "pool_manipulation", step=self.steps, agent=pool.name,
                asset=self.market.assets[pool.base], value_usd=mp.notional_usd_per_step,
                price=pool.spot, amount=move, actor=mp.actor, direction=mp.direction,
                price_before=before,
                detail=f"{mp.actor} {'bought' if mp.direction == 'pump' else 'sold'} "
                       f"${mp.notional_usd_per_step:,.0f} of {self.market.assets[pool.base]} in "
                       f"{pool.name}, moving its spot {move:+.1%} to {pool.spot:,.4g}")
            self.market.moved(pool.base, eid, pool)

    def margin_venues(self) -> list[Any]:
        """Venues that liquidate accounts: lending protocols, then perp venues."""
        return [*self.lending, *self.perps]

    def balance_sheets(self) -> list[Any]:
        """Every venue and firm, in the order of the venue table."""
        return [*self.lending, *self.perps, *self.custodial, *self.firms, *self.clearing_houses]

    @property
    def events_frame(self) -> pd.DataFrame:
        """The event log as a DataFrame."""
        return self.events.to_frame()

    @property
    def network(self) -> Any:
        """The current exposure graph (a NetworkX MultiDiGraph)."""
        from contagion.network import build_network

        return build_network(self)

    # ------------------------------------------------------------------ mechanics shared
    def report_default(self, agent: Any, cause_id: int, reason: str, why: str,
                       **fields: float) -> None:
        """An agent reports its own default: it stops acting at once; the model declares it
        (event, token crash, loan losses, clearing) at the end of the current stage."""
        agent.defaulted = True
        agent.default_step = int(self.steps)
        self._default_queue.append((agent, cause_id, reason, why, fields))

    def _declare_reported_defaults(self) -> None:
        """Declare the defaults reported during the stage, in the order reported (a
        declaration may bring more: a borrower's default a lender's)."""
        while self._default_queue:
            agent, cause_id, reason, why, fields = self._default_queue.pop(0)
            self._declare_default(agent, cause_id, reason, why, **fields)

    def _declare_default(self, agent: Any, cause_id: int, reason: str, why: str,
                         **fields: float) -> int:
        """Declare ``agent``'s reported default: log it, crash its token, log its lenders'
        loan losses, let it act before and after the network is cleared.

        ``reason`` is the default's code (see ``EVENT_FIELDS["default"]``), ``why`` the same
        in words for the event's detail, ``fields`` the numbers that variant carries.
        """
        agent.defaulted = True
        agent.default_step = int(self.steps)
        eid = self.events.add("default", step=self.steps, venue=agent.name, agent=agent.name,
                              cause_id=cause_id, reason=reason, **fields,
                              detail=f"{agent.name} defaulted: {why}")
        agent.default_event = eid  # what a clearing house cites when it closes it out
        self.market.crash_token_of(agent.name, eid)
        for lender in getattr(agent, "borrowings", {}):
            if agent.borrowings[lender] <= 0:  # repaid in full (a settled recall)
                continue
            lender_agent = self.institutions.get(lender)
            lid = self.events.add(
                "loan_loss", step=self.steps, venue=lender, agent=agent.name,
                value_usd=agent.borrowings[lender], cause_id=eid, reason="borrower_default",
                detail=f"{lender}'s ${agent.borrowings[lender]:,.0f} loan to {agent.name} "
                       "is impaired by its default")
            if lender_agent is not None:
                lender_agent.last_loss_event = lid
        agent.on_default(eid)
        self._clear()
        agent.after_default(eid)
        return eid

    def _clear(self) -> None:
        self.recovery = recovery_rates(self)
        for ex in self.custodial:
            if ex.defaulted:
                rate = self.recovery.get(ex.name, 0.0)
                if rate != ex.recovery_rate:
                    ex.recovery_rate = rate
                    ex.version += 1

    # ------------------------------------------------------------------ records
    def _record(self) -> None:
        self._recording: dict[Any, Any] | None = {}  # values reporters share this step
        try:
            for values, reporter in self._series_lists:  # each returns a float or an int
                values.append(reporter(self))
        finally:
            self._recording = None
        for values, _ in self._final_lists:  # see record_final_series
            values.append(np.nan)
        for table, rows in (("venues", venue_rows(self)), ("exposures", pair_exposures(self))):
            lists, fields = self._table_lists[table]
            for row in rows:
                for values, value in zip(lists, fields(row), strict=True):
                    values.append(value)
        every = self.scenario.market.record_network_every
        small = self.population.n <= NODE_STATE_LIMIT
        if (self.record_nodes and every and self.steps % every == 0
                and (small or self.record_cohorts)):
            self._node_states.append(node_states(self, node_limit=NODE_STATE_LIMIT,
                                                 cohorts=self.record_cohorts))

    def record_final_series(self) -> None:
        """Compute the ``final_series`` at the current state into their last row (the
        state the last recording saw: nothing moves after it)."""
        if not self._final_lists:
            return
        self._recording = {}
        try:
            for values, reporter in self._final_lists:
                values[-1] = reporter(self)
        finally:
            self._recording = None

    def positions_frame(self) -> pd.DataFrame:
        """The books this run started from, as a positions table (``positions.parquet``):
        read back with the same scenario and seed, it reproduces the run exactly."""
        return positions_frame(self.starting_books)

    def node_state_frame(self) -> pd.DataFrame:
        """Recorded node states (step, node, kind, state, exposure_usd), for network replays.

        Recorded every ``market.record_network_every`` steps for runs of at most
        5,000 traders; larger runs ask :meth:`network` for the current (cohort) graph.
        """
        if not self._node_states:
            return pd.DataFrame(columns=["step", "node", "kind", "state", "exposure_usd"])
        return pd.concat(self._node_states, ignore_index=True)

    @property
    def liquidated_traders(self) -> np.ndarray:
        """Which traders have been liquidated so far (the population keeps the record)."""
        return self.population.liquidated

    def venue_frame(self) -> pd.DataFrame:
        """Per-venue, per-step state as a tidy DataFrame."""
        return self.datacollector.get_table_dataframe("venues")

    def exposure_frame(self) -> pd.DataFrame:
        """Venue-to-venue exposures per step (step, holder, counterparty, channel,
        exposure_usd): the input of exposure profiles (EE, PFE, EPE)."""
        return self.datacollector.get_table_dataframe("exposures")

    def total_units(self) -> np.ndarray:
        """Units of each asset held by every holder in the model, outside world included."""
        return self._unit_sums()[0]

    def _unit_sums(self) -> tuple[np.ndarray, np.ndarray]:
        """Per asset: the total units (:meth:`total_units`) and the sum of the holdings'
        absolute values, the scale of the rounding in that total."""
        m = self.market
        total = m.holdings().copy()
        gross = np.abs(total)
        cash = [self.population.wallet_usd.sum(), *(liq.cash_usd for liq in self.liquidators),
                *(f.balance_usd for f in self.funds.values())]
        for u in cash:
            total[m.numeraire] += u
            gross[m.numeraire] += abs(u)
        holders: list[Any] = [*self.pools.values(), *self.lending, *self.perps, *self.custodial,
                              *self.firms, *self.pegs, *self.yield_venues,
                              *self.clearing_houses, *self.bridges]
        for h in holders:
            for a, u in h.holdings().items():
                total[a] += u
                gross[a] += abs(u)
            if hasattr(h, "holdings_scale"):  # a holding that is a sum of larger terms
                for a, u in h.holdings_scale().items():
                    gross[a] += u
        for peg in self.pegs:  # minting and burning change supply by design: net them out
            for a, u in peg.net_issued_units().items():
                total[a] -= u
                gross[a] += abs(u)
        return total, gross  # deposits and loans are claims, not units: they are not counted

    def assert_conservation(self, rtol: float = 1e-9) -> None:
        """Raise :class:`InvariantError` if any asset's total units changed.

        The tolerance is relative to the scale of the sums that move: the largest, over the
        steps so far, of the holdings' absolute values added up (a pool holding 1e12 units
        against an outside world short of as many leaves rounding of ~1e-4 in a total of
        1e5; a perp venue's cash counts with the terms it sums, ``PerpBook.cash_scale``),
        never less than the total itself or one unit.
        """
        now, gross = self._unit_sums()
        self._units_scale = np.maximum(self._units_scale, gross)
        scale = np.maximum(np.maximum(self._units_scale, np.abs(self._baseline_units)), 1.0)
        bad = np.abs(now - self._baseline_units) > rtol * scale + 1e-6
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InvariantError(
                f"asset {self.market.assets[i]} not conserved at step {self.steps}: "
                f"{self._baseline_units[i]!r} -> {now[i]!r} "
                f"(tolerance {rtol * scale[i] + 1e-6:.3g} units)")
