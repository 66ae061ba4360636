"""A scenario: every parameter of one market, validated as a whole.

A :class:`Scenario` is what ``models/`` presets return and what
:class:`~contagion.model.ContagionModel` takes. Its ``__post_init__`` checks that the
parts fit together (every oracle's pool exists, every collateral has an oracle of its own
asset, every credit link names institutions...), so a run never starts on a broken market.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from contagion.errors import ParameterError
from contagion.params import (
    AssetParams,
    BridgeParams,
    ClearingHouseParams,
    ClearingParams,
    CreditLinkParams,
    CustodialParams,
    ExploitParams,
    FirmParams,
    InsuranceFundParams,
    LendingParams,
    LiquidatorParams,
    LiquidityShockParams,
    MarketParams,
    OracleParams,
    PegParams,
    PerpParams,
    PoolManipulationParams,
    PoolParams,
    PriceModelParams,
    PricePathParams,
    TraderParams,
    VolSurfaceParams,
    YieldVenueParams,
)

__all__ = ["SHOCK_START_FIELDS", "Scenario", "late_shock", "override", "shock_starts",
           "truncated_shock"]

#: The fields that say at which step a shock starts (a crash, a pump, a depth collapse, an
#: exploit, a write-down, a gas spike).
SHOCK_START_FIELDS = ("shock_start_step", "start_step", "writedown_step", "gas_spike_start_step")


def shock_starts(scenario: Scenario) -> list[tuple[str, int]]:
    """Every shock the scenario schedules, as ``(parameter, start step)``: crash paths with a
    fall, pool manipulations, depth collapses, exploits that withdraw, write-downs of a
    non-zero fraction and gas spikes of a non-zero duration."""
    out: list[tuple[str, int]] = []
    for path in scenario.paths:
        if path.kind == "crash" and path.shock_frac > 0:
            out.append((f"paths[{path.asset}].shock_start_step", path.shock_start_step))
    for mp in scenario.manipulations:
        out.append((f"manipulations[{mp.pool}].start_step", mp.start_step))
    for ls in scenario.liquidity_shocks:
        out.append((f"liquidity_shocks[{ls.name}].start_step", ls.start_step))
    for x in scenario.exploits:
        if x.withdraw:
            out.append((f"exploits[{x.venue}].start_step", x.start_step))
    for ex in scenario.custodial:
        if ex.writedown_frac > 0:
            out.append((f"custodial[{ex.name}].writedown_step", ex.writedown_step))
    for lq in scenario.liquidators:
        if lq.gas_spike_duration_steps > 0 and lq.gas_spike_multiplier > 1:
            out.append((f"liquidators[{lq.name}].gas_spike_start_step", lq.gas_spike_start_step))
    return out


def late_shock(scenario: Scenario, steps: int | None = None) -> ParameterError | None:
    """The first shock that starts at or after the run's last step (``steps``, default the
    scenario's ``market.steps``), as the error to refuse it with; ``None`` when every shock
    starts within the run. Such a shock is never simulated: a run that asks for it and
    silently leaves it out would mislead (issue 11)."""
    horizon = scenario.market.steps if steps is None else steps
    for name, start in shock_starts(scenario):
        if start >= horizon:
            source = f"--steps {horizon}" if steps is not None else f"market.steps = {horizon}"
            return ParameterError(
                name, start, f"0 <= x <= {max(horizon - 1, 0)} (the run has {horizon} steps, "
                f"{source})", "a shock that starts after the run ends never happens: start it "
                "earlier or run longer")
    return None


def truncated_shock(scenario: Scenario) -> ParameterError | None:
    """The first crash whose fall the run ends before completing, as the error a form shows
    next to its duration (``None`` when every shock completes within the horizon).

    A short run of a preset (``steps=20``, a smoke test) legitimately stops before or during
    the fall, so this is not a check of :class:`Scenario` itself; the dashboard's form, where
    the horizon is the preset's, refuses such a duration rather than run a shock that never
    fully happens (issue 10).
    """
    steps = scenario.market.steps
    for path in scenario.paths:
        start, duration = path.shock_start_step, path.shock_duration_steps
        if path.kind == "crash" and path.shock_frac > 0 and start + duration > steps:
            return ParameterError(
                f"paths[{path.asset}].shock_duration_steps", duration,
                f"1 <= x <= {steps - start} (the run has {steps} steps and the shock starts "
                f"at step {start})",
                f"the fall would end at step {start + duration}, after the run: "
                f"{max(0.0, (steps - start) / duration):.0%} of it would happen")
    return None


def _unique(where: str, names: list[str]) -> None:
    seen: set[str] = set()
    for n in names:
        if n in seen:
            raise ParameterError(where, n, "unique names", f"{n!r} is used twice")
        seen.add(n)


@dataclass(frozen=True, kw_only=True)
class Scenario:
    """All parameters of one simulated market.

    Examples
    --------
    >>> from models import get_scenario
    >>> sc = get_scenario("default", n_traders=200)
    >>> sc.traders.n_traders, [v.name for v in sc.lending]
    (200, ['LendA', 'LendB'])
    """

    name: str
    description: str = ""
    market: MarketParams = MarketParams()
    assets: tuple[AssetParams, ...]
    paths: tuple[PricePathParams, ...] = ()
    pools: tuple[PoolParams, ...] = ()
    manipulations: tuple[PoolManipulationParams, ...] = ()
    exploits: tuple[ExploitParams, ...] = ()
    liquidity_shocks: tuple[LiquidityShockParams, ...] = ()
    oracles: tuple[OracleParams, ...] = ()
    lending: tuple[LendingParams, ...] = ()
    perps: tuple[PerpParams, ...] = ()
    custodial: tuple[CustodialParams, ...] = ()
    firms: tuple[FirmParams, ...] = ()
    credit_links: tuple[CreditLinkParams, ...] = ()
    clearing: ClearingParams = ClearingParams()
    funds: tuple[InsuranceFundParams, ...] = ()
    liquidators: tuple[LiquidatorParams, ...] = (LiquidatorParams(name="Liquidators"),)
    traders: TraderParams = TraderParams()
    pegs: tuple[PegParams, ...] = ()
    yield_venues: tuple[YieldVenueParams, ...] = ()
    price_model: PriceModelParams | None = None
    vol_surfaces: tuple[VolSurfaceParams, ...] = ()
    clearing_houses: tuple[ClearingHouseParams, ...] = ()
    bridges: tuple[BridgeParams, ...] = ()

    def __post_init__(self) -> None:
        assets = {a.name: a for a in self.assets}
        _unique("assets", [a.name for a in self.assets])
        stables = [a.name for a in self.assets if a.kind == "stable"]
        if stables != [self.market.numeraire]:
            raise ParameterError("assets", stables,
                                 f"exactly one stable asset named {self.market.numeraire!r}")
        venues = ([v.name for v in self.lending] + [v.name for v in self.perps]
                  + [v.name for v in self.custodial])
        institutions = venues + [f.name for f in self.firms]
        _unique("venues and firms", institutions)
        pools = {p.name: p for p in self.pools}
        oracles = {o.name: o for o in self.oracles}
        _unique("pools", [p.name for p in self.pools])
        _unique("oracles", [o.name for o in self.oracles])
        _unique("funds", [f.name for f in self.funds])
        _unique("paths", [p.asset for p in self.paths])
        for a in self.assets:
            if (a.kind == "venue_token" or a.issuer is not None) and a.issuer not in institutions:
                raise ParameterError(f"assets[{a.name}].issuer", a.issuer,
                                     "one of " + ", ".join(institutions))
        for a in self.assets:
            if a.underlying is not None and (a.underlying not in assets
                                             or assets[a.underlying].kind == "stable"
                                             or assets[a.underlying].underlying is not None):
                raise ParameterError(f"assets[{a.name}].underlying", a.underlying,
                                     "a declared non-stable asset that has no underlying itself",
                                     "liquid-staking tokens do not chain")
        for p in self.paths:
            if p.asset not in assets:
                raise ParameterError(f"paths[{p.asset}].asset", p.asset, "a declared asset")
        for pool in self.pools:
            if pool.base not in assets or assets[pool.base].kind == "stable":
                raise ParameterError(f"pools[{pool.name}].base", pool.base,
                                     "a declared non-stable asset")
            if pool.kind == "v2" and pool.lp_withdraw_frac_per_step > 0:
                raise ParameterError(f"pools[{pool.name}].lp_withdraw_frac_per_step",
                                     pool.lp_withdraw_frac_per_step, "0 for kind 'v2'",
                                     "LP withdrawal is modelled for V3 pools")
        for mp in self.manipulations:
            if mp.pool not in pools:
                raise ParameterError(f"manipulations[{mp.pool}].pool", mp.pool,
                                     "one of the pools " + ", ".join(pools))
        _unique("liquidity_shocks", [s.name for s in self.liquidity_shocks])
        for shock in self.liquidity_shocks:
            for a_name in shock.assets:
                if a_name not in assets or assets[a_name].kind == "stable":
                    raise ParameterError(f"liquidity_shocks[{shock.name}].assets", a_name,
                                         "a declared non-stable asset (the numeraire's depth "
                                         "is unlimited)")
        for o in self.oracles:
            if o.asset not in assets:
                raise ParameterError(f"oracles[{o.name}].asset", o.asset, "a declared asset")
            if o.pool is not None and (o.pool not in pools or pools[o.pool].base != o.asset):
                raise ParameterError(f"oracles[{o.name}].pool", o.pool,
                                     f"a pool whose base is {o.asset!r}")
        self._check_numeraire(oracles)
        funds = {f.name for f in self.funds}
        for v in self.lending:
            for c in v.collateral:
                where = f"lending[{v.name}].collateral[{c.asset}]"
                if c.asset not in assets or assets[c.asset].kind == "stable":
                    raise ParameterError(f"{where}.asset", c.asset, "a declared non-stable asset")
                if c.oracle not in oracles or oracles[c.oracle].asset != c.asset:
                    raise ParameterError(f"{where}.oracle", c.oracle,
                                         f"an oracle of {c.asset!r}")
                if c.pool is not None and (c.pool not in pools or pools[c.pool].base != c.asset):
                    raise ParameterError(f"{where}.pool", c.pool, f"a pool of {c.asset!r}")
            if v.emode is not None:
                known = {c.asset for c in v.collateral} | {b.asset for b in v.borrow} | {
                    self.market.numeraire}
                strange = [a for a in v.emode.assets if a not in known]
                if strange or not {c.asset for c in v.collateral} & set(v.emode.assets):
                    raise ParameterError(
                        f"lending[{v.name}].emode.assets", v.emode.assets,
                        f"names among {sorted(known)}, at least one a collateral",
                        f"{strange} not lent or taken here" if strange
                        else "a category needs a collateral")
            feeds = {c.asset: (c.oracle, c.pool) for c in v.collateral}
            for b in v.borrow:
                where = f"lending[{v.name}].borrow[{b.asset}]"
                if b.asset not in assets or b.asset == self.market.numeraire:
                    raise ParameterError(f"{where}.asset", b.asset,
                                         "a declared asset other than the numeraire "
                                         f"{self.market.numeraire!r} (lent as the venue's cash)")
                if b.oracle not in oracles or oracles[b.oracle].asset != b.asset:
                    raise ParameterError(f"{where}.oracle", b.oracle, f"an oracle of {b.asset!r}")
                if b.pool is not None and (b.pool not in pools or pools[b.pool].base != b.asset):
                    raise ParameterError(f"{where}.pool", b.pool, f"a pool of {b.asset!r}")
                if b.asset in feeds and feeds[b.asset] != (b.oracle, b.pool):
                    feed, route = feeds[b.asset]
                    raise ParameterError(f"{where}.oracle", (b.oracle, b.pool),
                                         f"oracle {feed!r} and pool {route!r}, as its collateral "
                                         "entry", "a venue reads one price and trades in one "
                                         "pool per asset")
            run = v.supplier_run
            if run is not None and run.depeg_oracle is not None and run.depeg_oracle not in oracles:
                raise ParameterError(f"lending[{v.name}].supplier_run.depeg_oracle",
                                     run.depeg_oracle, "a declared oracle (of the stablecoin "
                                     "the suppliers supplied)")
            if v.insurance_fund is not None and v.insurance_fund not in funds:
                raise ParameterError(f"lending[{v.name}].insurance_fund", v.insurance_fund,
                                     "a declared fund")
            if v.token is not None and (v.token not in assets or assets[v.token].kind == "stable"):
                raise ParameterError(f"lending[{v.name}].token", v.token,
                                     "None or a declared non-stable asset (the venue's token)")
        for pv in self.perps:
            if pv.oracle not in oracles or oracles[pv.oracle].asset != pv.asset:
                raise ParameterError(f"perps[{pv.name}].oracle", pv.oracle,
                                     f"an oracle of {pv.asset!r}")
            for mk in pv.markets:
                where = f"perps[{pv.name}].markets[{mk.asset}]"
                if mk.asset not in assets or assets[mk.asset].kind == "stable":
                    raise ParameterError(f"{where}.asset", mk.asset, "a declared non-stable asset")
                if mk.oracle not in oracles or oracles[mk.oracle].asset != mk.asset:
                    raise ParameterError(f"{where}.oracle", mk.oracle, f"an oracle of {mk.asset!r}")
            if pv.insurance_fund is not None and pv.insurance_fund not in funds:
                raise ParameterError(f"perps[{pv.name}].insurance_fund", pv.insurance_fund,
                                     "a declared fund")
        perps = {pv.name: pv for pv in self.perps}
        _unique("exploits (one per venue)", [x.venue for x in self.exploits])
        for x in self.exploits:
            if x.venue not in perps:
                raise ParameterError(f"exploits[{x.venue}].venue", x.venue,
                                     "one of the perp venues " + ", ".join(perps))
            max_lev = 1 / perps[x.venue].initial_margin_frac
            if x.notional_usd > max_lev * x.collateral_usd:
                raise ParameterError(f"exploits[{x.venue}].notional_usd", x.notional_usd,
                                     f"<= {max_lev:g} x collateral_usd = "
                                     f"{max_lev * x.collateral_usd:,.0f}",
                                     "the venue's initial margin caps the attacker's leverage")
        lending_names = [v.name for v in self.lending]
        for ex in self.custodial:
            if ex.supply_to is not None and ex.supply_to not in lending_names:
                raise ParameterError(f"custodial[{ex.name}].supply_to", ex.supply_to,
                                     "one of the lending protocols " + ", ".join(lending_names))
            if ex.token is not None and ex.token not in assets:
                raise ParameterError(f"custodial[{ex.name}].token", ex.token, "a declared asset")
            for held, _ in ex.asset_holdings_usd:
                if held not in assets or assets[held].kind == "stable" or held == ex.token:
                    raise ParameterError(f"custodial[{ex.name}].asset_holdings_usd", held,
                                         "a declared non-stable asset other than its own token",
                                         "cash is liquid_reserve_frac, its token token_holdings_usd")
        for f in self.firms:
            if f.lending not in lending_names:
                raise ParameterError(f"firms[{f.name}].lending", f.lending,
                                     "one of " + ", ".join(lending_names))
            accepted = {c.asset for v in self.lending if v.name == f.lending for c in v.collateral}
            for asset, _ in f.collateral_usd:
                if asset not in accepted:
                    raise ParameterError(f"firms[{f.name}].collateral_usd", asset,
                                         f"collateral accepted by {f.lending}: {sorted(accepted)}")
        for link in self.credit_links:
            for role in ("lender", "borrower"):
                who = getattr(link, role)
                if who not in institutions:
                    raise ParameterError(f"credit[{link.lender}->{link.borrower}].{role}", who,
                                         "one of " + ", ".join(institutions))
        self._check_pegs(institutions)
        self._check_prices()
        self._check_vol_surfaces()
        self._check_clearing_houses(institutions)
        self._check_bridges(institutions)

    def _check_clearing_houses(self, institutions: list[str]) -> None:
        """Clearing houses: a name of their own, a declared non-stable asset marked by one of
        its oracles, members that are custodial exchanges or firms of the scenario."""
        assets = {a.name: a for a in self.assets}
        oracles = {o.name: o for o in self.oracles}
        others = [*institutions, *(p.name for p in self.pegs), *(y.name for y in self.yield_venues),
                  *oracles, *(p.name for p in self.pools), *(f.name for f in self.funds)]
        _unique("clearing_houses", [h.name for h in self.clearing_houses])
        members = [c.name for c in self.custodial] + [f.name for f in self.firms]
        for h in self.clearing_houses:
            where = f"clearing_houses[{h.name}]"
            if h.name in others:
                raise ParameterError(f"{where}.name", h.name,
                                     "a name no institution, oracle, pool or fund uses")
            if h.asset not in assets or assets[h.asset].kind == "stable":
                raise ParameterError(f"{where}.asset", h.asset, "a declared non-stable asset")
            if h.oracle not in oracles or oracles[h.oracle].asset != h.asset:
                raise ParameterError(f"{where}.oracle", h.oracle, f"an oracle of {h.asset!r}")
            for m in h.members:
                if m.name not in members:
                    raise ParameterError(f"{where}.members[{m.name}].name", m.name,
                                         "a custodial exchange or firm: "
                                         + (", ".join(members) or "none declared"))

    def _check_bridges(self, institutions: list[str]) -> None:
        """Bridges: a name of their own; a claim asset with an ``underlying`` (the locked one)
        that no institution issues, one bridge per claim; steps inside the run; margin venues
        that are perp venues, each carried by one bridge at most, with a custodian's deposits
        to cross (traders' cross margin on, a custodial exchange declared)."""
        assets = {a.name: a for a in self.assets}
        others = [*institutions, *(p.name for p in self.pegs), *(y.name for y in self.yield_venues),
                  *(o.name for o in self.oracles), *(p.name for p in self.pools),
                  *(f.name for f in self.funds), *(h.name for h in self.clearing_houses)]
        _unique("bridges", [b.name for b in self.bridges])
        _unique("bridges (one per claim asset)", [b.asset for b in self.bridges])
        perps = [p.name for p in self.perps]
        carried: dict[str, str] = {}
        for b in self.bridges:
            where = f"bridges[{b.name}]"
            if b.name in others:
                raise ParameterError(f"{where}.name", b.name,
                                     "a name no institution, oracle, pool or fund uses")
            a = assets.get(b.asset)
            if a is None or a.underlying is None:
                raise ParameterError(f"{where}.asset", b.asset,
                                     "a declared asset with an underlying (the locked asset): "
                                     + (", ".join(x.name for x in self.assets if x.underlying)
                                        or "none declared"),
                                     "a bridged claim is priced as its underlying times its "
                                     "backing")
            if a.issuer is not None:
                raise ParameterError(f"assets[{b.asset}].issuer", a.issuer,
                                     f"none (bridge {b.name} mints {b.asset})")
            for field_name in ("halt_step", "exploit_step", "recapitalise_step"):
                step = getattr(b, field_name)
                if step > self.market.steps:
                    raise ParameterError(f"{where}.{field_name}", step,
                                         f"-1 or 0..{self.market.steps} (market.steps)")
            for v in b.margin_venues:
                if v not in perps:
                    raise ParameterError(f"{where}.margin_venues", v,
                                         "a perp venue: " + (", ".join(perps) or "none declared"))
                if v in carried:
                    raise ParameterError(f"{where}.margin_venues", v,
                                         f"a venue no other bridge carries ({carried[v]} does)")
                carried[v] = b.name
            if b.margin_venues and not (self.traders.cross_margin and self.custodial):
                raise ParameterError(f"{where}.margin_venues", list(b.margin_venues),
                                     "empty unless traders.cross_margin is on and a custodial "
                                     "exchange holds their deposits",
                                     "the bridge carries cross-margin transfers")

    def _check_vol_surfaces(self) -> None:
        """Options: one vol surface per asset at most, on a declared non-stable asset, and
        one for every asset a perp venue lists options on."""
        assets = {a.name: a for a in self.assets}
        _unique("vol_surfaces (one per asset)", [v.asset for v in self.vol_surfaces])
        for vs in self.vol_surfaces:
            if vs.asset not in assets or assets[vs.asset].kind == "stable":
                raise ParameterError(f"vol_surfaces[{vs.asset}].asset", vs.asset,
                                     "a declared non-stable asset")
        surfaces = {v.asset for v in self.vol_surfaces}
        for pv in self.perps:
            for o in pv.options:
                if o.asset not in surfaces:
                    raise ParameterError(f"perps[{pv.name}].options[{o.asset}].asset", o.asset,
                                         "an asset with a vol_surfaces entry ("
                                         + (", ".join(sorted(surfaces)) or "none declared") + ")",
                                         "options are priced on their asset's vol surface")

    def _check_pegs(self, institutions: list[str]) -> None:
        """Algorithmic pegs and yield venues: their assets, pools and oracle exist and fit."""
        assets = {a.name: a for a in self.assets}
        pools = {p.name: p for p in self.pools}
        oracles = {o.name: o for o in self.oracles}
        _unique("venues, firms, pegs and yield venues",
                [*institutions, *(p.name for p in self.pegs), *(y.name for y in self.yield_venues)])
        _unique("pegs (one per stablecoin)", [p.stable for p in self.pegs])
        for peg in self.pegs:
            where = f"pegs[{peg.name}]"
            if peg.stable not in assets or assets[peg.stable].kind != "algo_stable":
                raise ParameterError(f"{where}.stable", peg.stable,
                                     "a declared asset of kind 'algo_stable'")
            if peg.token not in assets or assets[peg.token].kind in ("stable", "algo_stable"):
                raise ParameterError(f"{where}.token", peg.token, "a declared non-stable asset")
            for role, base in (("stable_pool", peg.stable), ("token_pool", peg.token)):
                name = getattr(peg, role)
                if name not in pools or pools[name].base != base:
                    raise ParameterError(f"{where}.{role}", name, f"a pool whose base is {base!r}")
            if peg.token_oracle is not None and (peg.token_oracle not in oracles
                                                 or oracles[peg.token_oracle].asset != peg.token):
                raise ParameterError(f"{where}.token_oracle", peg.token_oracle,
                                     f"None or an oracle of {peg.token!r}")
            if peg.reserve_asset is not None and (peg.reserve_asset not in assets
                                                  or peg.reserve_asset == peg.stable):
                raise ParameterError(f"{where}.reserve_asset", peg.reserve_asset,
                                     f"None or a declared asset other than {peg.stable!r}")
        for yv in self.yield_venues:
            where = f"yield_venues[{yv.name}]"
            if yv.asset not in assets or assets[yv.asset].kind != "algo_stable":
                raise ParameterError(f"{where}.asset", yv.asset,
                                     "a declared asset of kind 'algo_stable'")
            if yv.pool not in pools or pools[yv.pool].base != yv.asset:
                raise ParameterError(f"{where}.pool", yv.pool, f"a pool whose base is {yv.asset!r}")

    def _check_numeraire(self, oracles: dict[str, OracleParams]) -> None:
        """A depegging numeraire: ``market.numeraire_oracle`` is a declared oracle of the
        numeraire reading the external market, and only then may a path move the numeraire."""
        num, name = self.market.numeraire, self.market.numeraire_oracle
        if name is not None:
            if name not in oracles or oracles[name].asset != num:
                raise ParameterError("market.numeraire_oracle", name,
                                     f"None or a declared oracle of the numeraire {num!r}",
                                     "venues value the numeraire at this oracle's price")
            if oracles[name].source != "external":
                raise ParameterError(f"oracles[{name}].source", oracles[name].source,
                                     "'external'", "the numeraire's price is its market path "
                                     "(no pool prices the numeraire against itself)")
        for k, p in enumerate(self.paths):
            if p.asset == num and name is None:
                raise ParameterError(f"paths[{k}].asset", p.asset,
                                     f"an asset other than the numeraire {num!r}",
                                     "the numeraire moves only when it may depeg: set "
                                     "market.numeraire_oracle to an oracle of it")

    def _check_prices(self) -> None:
        """The price model's assets have stochastic paths; replayed histories are readable
        and long enough for the run (read once per file version)."""
        paths = {p.asset: p for p in self.paths}
        if self.price_model is not None:
            for i, name in enumerate(self.price_model.assets):
                p = paths.get(name)
                stable = any(a.name == name and a.kind == "stable" for a in self.assets)
                if p is None or stable or p.kind == "replay" or (p.vol_per_step == 0
                                                                and p.kind != "gbm_jump"):
                    raise ParameterError(
                        f"price_model.assets[{i}]", name,
                        "an asset whose path is random: a gbm_jump, crash or flat path of "
                        "paths[...] with vol_per_step > 0 (one of "
                        + (", ".join(a.name for a in self.assets if a.kind != "stable"
                                     and a.name in paths and paths[a.name].kind != "replay"
                                     and (paths[a.name].vol_per_step > 0
                                          or paths[a.name].kind == "gbm_jump")) or "none")
                        + ")",
                        "the price model correlates the noise of random paths")
        for p in self.paths:
            if p.kind == "replay":
                from contagion.mechanics.price_path import replay_path

                replay_path(str(p.file), self.market.steps, step_minutes=self.market.step_minutes,
                            column=str(p.column), time_column=p.time_column or "timestamp",
                            start=p.start, initial_price=1.0)

    # ------------------------------------------------------------------ helpers
    def asset(self, name: str) -> AssetParams:
        """The asset called ``name``."""
        for a in self.assets:
            if a.name == name:
                return a
        raise ParameterError("asset", name, "one of " + ", ".join(a.name for a in self.assets))

    @property
    def venue_names(self) -> list[str]:
        """Lending protocols, perp venues and custodial exchanges, in that order."""
        return ([v.name for v in self.lending] + [v.name for v in self.perps]
                + [v.name for v in self.custodial])


def _field_hint(obj: Any, name: str) -> str:
    """The annotation of field ``name`` of dataclass ``obj``, as text (``'str | None'``)."""
    for f in dataclasses.fields(obj):
        if f.name == name:
            return f.type if isinstance(f.type, str) else repr(f.type)
    return ""


def _label(x: Any) -> str | None:
    """How an element of a list of parameters is named in a dotted path: its ``name``,
    ``asset``, ``pool`` or ``venue``, or ``LENDER->BORROWER`` for a credit link (as in
    scenario files' key paths)."""
    if getattr(x, "lender", None) is not None and getattr(x, "borrower", None) is not None:
        return f"{x.lender}->{x.borrower}"
    for key in ("name", "asset", "pool", "venue"):
        value = getattr(x, key, None)
        if isinstance(value, str) and value:
            return value
    return None


def _coerce(name: str, current: Any, value: Any, *, hint: str = "") -> Any:
    """Convert a ``--set`` string to the type of the field it replaces (``hint``: the
    field's annotation, which says whether ``None`` is allowed)."""
    if not isinstance(value, str):  # a program's own value (a sweep spec's list...): as given
        return value
    if isinstance(current, tuple) or dataclasses.is_dataclass(current):
        labels = [_label(x) for x in (current if isinstance(current, tuple) else ())]
        what = "a table" if dataclasses.is_dataclass(current) else "a list"
        file = "contagion scenarios show NAME > mine.toml, edit it, run mine.toml"
        if dataclasses.is_dataclass(current) or (labels and labels[0]):
            example = f"{name}.{labels[0]}.FIELD" if labels and labels[0] else f"{name}.FIELD"
            raise ParameterError(name, value, f"a path to one of its fields, e.g. {example}=VALUE",
                                 f"{name} is {what}, not one value; to change it whole: {file}")
        raise ParameterError(name, value, f"a scenario file: {name} is {what}, not one value",
                             file)
    if current is None or "None" in hint:
        if value.strip().lower() in ("none", "null"):
            return None
    if isinstance(current, bool):
        low = value.strip().lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise ParameterError(name, value, "true or false")
    if isinstance(current, int):
        try:
            number = float(value)
        except ValueError:
            raise ParameterError(name, value, "an integer") from None
        # 1e308 stays a float (the range check names it as typed, not as 309 digits)
        return int(number) if number.is_integer() and abs(number) < 2**63 else number
    if isinstance(current, float):
        try:
            return float(value)
        except ValueError:
            raise ParameterError(name, value, "a number") from None
    if current is None and value == "":
        return None
    return value


def override(scenario: Scenario, key: str, value: Any) -> Scenario:
    """Return a copy of ``scenario`` with one parameter replaced, by dotted path.

    Paths: ``traders.n_traders``, ``market.steps``, ``lending.LendA.reserve_usd``,
    ``perps.PerpX.shortfall_policy``, ``paths.ETH.shock_frac``,
    ``lending.LendB.collateral.EXT.liquidation_threshold``, ``manipulations.FTT/USDC.start_step``
    (an element of a list is named by its ``name``, ``asset``, ``pool`` or ``venue``, a credit
    link by ``LENDER->BORROWER``). A list or table as a whole is not one value: it is refused,
    naming a path to one of its fields. Any unknown key is refused, listing the allowed ones.
    String values (from the CLI) are converted to the field's type. The result is validated
    again.

    Examples
    --------
    >>> from models import get_scenario
    >>> sc = override(get_scenario("default"), "perps.PerpX.shortfall_policy", "socialise")
    >>> sc.perps[0].shortfall_policy
    'socialise'
    >>> override(sc, "market.steps", "0")
    Traceback (most recent call last):
    ...
    contagion.errors.ParameterError: parameter 'market.steps' = 0 is invalid: allowed 1 <= x <= 1,000,000
    """
    parts = key.split(".")

    def replace_in(obj: Any, path: list[str], done: str) -> Any:
        head = path[0]
        here = f"{done}.{head}" if done else head
        if dataclasses.is_dataclass(obj):
            names = [f.name for f in dataclasses.fields(obj)]
            if head not in names:
                raise ParameterError(here, value, "a field of " + (done or "the scenario") + ": "
                                     + ", ".join(names))
            current = getattr(obj, head)
            new = (_coerce(here, current, value, hint=_field_hint(obj, head)) if len(path) == 1
                   else replace_in(current, path[1:], here))
            return dataclasses.replace(obj, **{head: new})  # type: ignore[type-var]
        if isinstance(obj, tuple):
            labels = [_label(x) for x in obj]
            if head not in labels:
                raise ParameterError(here, value, "one of " + ", ".join(map(str, labels)))
            if len(path) == 1:
                raise ParameterError(here, value, "a field below " + here)
            i = labels.index(head)
            return (*obj[:i], replace_in(obj[i], path[1:], here), *obj[i + 1:])
        raise ParameterError(here, value, "a path to a parameter")

    if not key or any(not p for p in parts):
        raise ParameterError("key", key, "a dotted path such as traders.n_traders")
    try:
        return replace_in(scenario, parts, "")
    except ParameterError as exc:
        if parts[-1] in exc.name:
            raise
        # the value broke another parameter (a renamed venue, a numeraire...): say which key
        # the user set, so the message names what to change back
        raise ParameterError(exc.name, exc.value, exc.allowed,
                             (f"{exc.hint}; " if exc.hint else "") + f"after setting {key} = "
                             f"{value!r}") from None
