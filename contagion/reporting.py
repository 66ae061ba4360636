"""Named reporter functions for Mesa's DataCollector, and the per-venue table rows.

Every number the dashboard, the sweeps and the tests show comes from these series, the
venue table and the event log.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from contagion.network import peg_state
from contagion.settlement import pending_by_pair

if TYPE_CHECKING:
    from contagion.model import ContagionModel

__all__ = ["EXPOSURE_COLUMNS", "clearing_reporters", "funding_reporters", "model_reporters", "pair_exposures",
           "peg_reporters", "peg_rows", "portfolio_margin_reporters", "proof_reporters",
           "venue_rows"]

EXPOSURE_COLUMNS = ["step", "holder", "counterparty", "channel", "exposure_usd"]


def _price(i: int) -> Callable[[ContagionModel], float]:
    def report(m: ContagionModel) -> float:
        return float(m.market.price[i])
    return report


def _attr(container: str, name: str, attr: str) -> Callable[[ContagionModel], float]:
    def report(m: ContagionModel) -> float:
        return float(getattr(getattr(m, container)[name], attr))
    return report


def liquidation_usd(m: ContagionModel) -> float:
    """Debt repaid at lending protocols plus notional closed at perp venues, this step."""
    return float(sum(v.step_liquidated_usd for v in m.margin_venues()))


def liquidations(m: ContagionModel) -> int:
    return int(sum(v.step_liquidations for v in m.margin_venues()))


def bad_debt_usd(m: ContagionModel) -> float:
    """Cumulative shortfalls: lending write-offs plus perp losses beyond collateral."""
    return float(sum(v.bad_debt_usd for v in m.margin_venues()))


def socialised_usd(m: ContagionModel) -> float:
    return float(sum(v.socialised_usd for v in m.margin_venues()))


def adl_usd(m: ContagionModel) -> float:
    return float(sum(v.adl_usd for v in m.perps))


def fund_balance_usd(m: ContagionModel) -> float:
    return float(sum(f.balance_usd for f in m.funds.values()))


def defaults(m: ContagionModel) -> int:
    """Venues and firms in default."""
    return int(sum(a.defaulted for a in m.balance_sheets()))


def insolvent_debt_usd(m: ContagionModel) -> float:
    """Lending debt not covered by collateral at market prices (Gauntlet's VaR base)."""
    return float(sum(_insolvent(m, i) for i in range(len(m.lending))))


def _insolvent(m: ContagionModel, i: int) -> Any:
    """Lending venue ``i``'s ``insolvent_debt_usd()``, once per recording: the system series
    and the venue's own ``insolvent_<venue>`` both read it, and nothing moves in between
    (``ContagionModel._record`` holds ``_recording``, a dict, only while it records)."""
    memo: dict[Any, Any] | None = getattr(m, "_recording", None)
    if memo is None:
        return m.lending[i].insolvent_debt_usd()
    key = ("insolvent", i)
    if key not in memo:
        memo[key] = m.lending[i].insolvent_debt_usd()
    return memo[key]


def _insolvent_of(i: int) -> Callable[[ContagionModel], float]:
    def report(m: ContagionModel) -> float:
        return float(_insolvent(m, i))
    return report


def total_exposure_usd(m: ContagionModel) -> float:
    """Credit extended in the system: lending debt, perp open interest, deposits, loans."""
    lend = sum(v.loans_usd() for v in m.lending)
    perp = sum(v.open_interest_usd() for v in m.perps)
    dep = sum(ex.deposits_usd() + sum(ex.loans.values()) for ex in m.custodial)
    return float(lend + perp + dep)


def model_reporters(model: ContagionModel) -> dict[str, Callable[[ContagionModel], Any]]:
    """Reporters for every asset's market price, pool spot, oracle price, fund balance and
    the system aggregates."""
    r: dict[str, Callable[[ContagionModel], Any]] = {}
    for a, i in model.market.index.items():
        if i != model.market.numeraire or model.market.numeraire_on:  # its USD price
            r[f"price_{a}"] = _price(i)
    for name in model.pools:
        r[f"pool_{name}"] = _attr("pools", name, "spot")
        r[f"impact_{name}"] = _attr("pools", name, "step_impact_frac")
    for name in model.oracles:
        r[f"oracle_{name}"] = _attr("oracles", name, "price")
    for name in model.funds:
        r[f"fund_{name}"] = _attr("funds", name, "balance_usd")
    r.update({
        "liquidation_usd": liquidation_usd,
        "liquidations": liquidations,
        "bad_debt_usd": bad_debt_usd,
        "socialised_usd": socialised_usd,
        "adl_usd": adl_usd,
        "fund_balance_usd": fund_balance_usd,
        "defaults": defaults,
        "insolvent_debt_usd": insolvent_debt_usd,
        "total_exposure_usd": total_exposure_usd,
    })
    r.update(peg_reporters(model))
    r.update(funding_reporters(model))
    r.update(portfolio_margin_reporters(model))
    r.update(lending_rate_reporters(model))
    r.update(numeraire_reporters(model))
    r.update(collateral_reporters(model))
    r.update(dust_reporters(model))
    r.update(settlement_reporters(model))
    r.update(clearing_reporters(model))
    r.update(bridge_reporters(model))
    r.update(proof_reporters(model))
    return r


def numeraire_claims(m: ContagionModel) -> float:
    """Numeraire units the venues owe their users: suppliers' claims at lending venues,
    traders' margin at perp venues (the outside market makers' row aside), deposits at
    custodial exchanges."""
    lend = sum(v.claims_usd() for v in m.lending)
    perp = sum(float(pv.book.collateral[1:].sum()) for pv in m.perps)
    return float(lend + perp + sum(ex.deposits_usd() for ex in m.custodial))


def numeraire_reporters(model: ContagionModel) -> dict[str, Callable[[ContagionModel], Any]]:
    """With a numeraire that may depeg (``market.numeraire_oracle``), in true USD:
    ``numeraire_loss_usd``, what the holders of the venues' numeraire claims
    (:func:`numeraire_claims`) lose to the depeg now, ``claims x (1 - price)``; every other
    ``*_usd`` series is in numeraire units. None without it."""
    if not model.market.numeraire_on:
        return {}

    def loss(m: ContagionModel) -> float:
        return numeraire_claims(m) * (1.0 - float(m.market.price[m.market.numeraire]))
    return {"numeraire_loss_usd": loss}


def dust_reporters(model: ContagionModel) -> dict[str, Callable[[ContagionModel], Any]]:
    """Lending venues under Aave v3.3's liquidation rules (``close_factor_rule = "v3.3"``):
    ``dust_positions_<venue>`` and ``dust_debt_<venue>``, the positions liquidations left
    with debt or collateral under ``MIN_LEFTOVER_BASE`` and their debt
    (:meth:`~contagion.agents.lending.LendingProtocol.dust_left`); none for other venues."""
    r: dict[str, Callable[[ContagionModel], Any]] = {}
    for i, v in enumerate(model.lending):
        if v.params.close_factor_rule == "v3.3":
            r[f"dust_positions_{v.name}"] = _agent_value("lending", i, "dust_positions")
            r[f"dust_debt_{v.name}"] = _agent_value("lending", i, "dust_debt_usd")
    return r


def collateral_reporters(model: ContagionModel) -> dict[str, Callable[[ContagionModel], Any]]:
    """Lending venues with a collateral-quality rule on (none by default): ``lt_<venue>_<asset>``
    (the threshold in force, for thresholds that follow liquidity), ``isolation_debt_<venue>_
    <asset>`` (isolated collateral), ``borrowed_<venue>`` (new borrowing so far, with loops
    or caps) and ``insolvent_<venue>`` (its debt under water at market prices)."""
    r: dict[str, Callable[[ContagionModel], Any]] = {}
    for i, v in enumerate(model.lending):
        on = (bool(v.derived.any()) or bool(v.isolated.any()) or v.releverage_on
              or not all(map(math.isfinite, v.supply_cap_units))
              or not math.isfinite(v.borrow_cap_usd))
        if not on:
            continue
        for a, name in enumerate(v.asset_names):
            if v.derived[a]:
                r[f"lt_{v.name}_{name}"] = _collateral_value(i, "lt", a)
            if v.isolated[a]:
                r[f"isolation_debt_{v.name}_{name}"] = _isolation_debt(i, a)
        r[f"borrowed_{v.name}"] = _agent_value("lending", i, "borrowed_usd")
        r[f"insolvent_{v.name}"] = _insolvent_of(i)
    return r


def _collateral_value(i: int, attr: str, a: int) -> Callable[[ContagionModel], float]:
    def report(m: ContagionModel) -> float:
        return float(getattr(m.lending[i], attr)[a])
    return report


def _isolation_debt(i: int, a: int) -> Callable[[ContagionModel], float]:
    def report(m: ContagionModel) -> float:
        return float(m.lending[i].isolation_debt_usd()[a])
    return report


def pending_settlement_usd(m: ContagionModel) -> float:
    """Everything in its settlement window: recalled loans and cross-margin transfers."""
    return float(sum(r.amount_usd for r in m.settlements.records))


def settlement_reporters(model: ContagionModel) -> dict[str, Callable[[ContagionModel], Any]]:
    """When anything can be in flight (an exchange with ``await_settlement``, or
    cross-margin transfers with a settlement delay): ``pending_settlement_usd``."""
    sc = model.scenario
    if not (any(c.await_settlement for c in sc.custodial)
            or sc.traders.cross_margin_settlement_steps > 0):
        return {}
    return {"pending_settlement_usd": pending_settlement_usd}


def clearing_reporters(model: ContagionModel) -> dict[str, Callable[[ContagionModel], Any]]:
    """Clearing houses (``Scenario.clearing_houses``): ``default_fund_<house>``, the members'
    default-fund contributions left, and ``skin_in_the_game_<house>``, the house's own
    capital left ahead of them (USD)."""
    r: dict[str, Callable[[ContagionModel], Any]] = {}
    for i, house in enumerate(model.clearing_houses):
        r[f"default_fund_{house.name}"] = _house_value(i, "fund")
        r[f"skin_in_the_game_{house.name}"] = _house_value(i, "sitg")
    return r


def bridge_reporters(model: ContagionModel) -> dict[str, Callable[[ContagionModel], Any]]:
    """Bridges (``Scenario.bridges``): ``backing_<bridge>``, its locked units per claim
    minted, and ``bridge_in_flight_<bridge>``, the cross-margin transfers in flight across it
    (USD; frozen while it is halted)."""
    r: dict[str, Callable[[ContagionModel], Any]] = {}
    for i, b in enumerate(model.bridges):
        r[f"backing_{b.name}"] = _bridge_value(i, "backing")
        r[f"bridge_in_flight_{b.name}"] = _bridge_value(i, "in_flight")
    return r


def _bridge_value(i: int, what: str) -> Callable[[ContagionModel], float]:
    def report(m: ContagionModel) -> float:
        b = m.bridges[i]
        return b.backing_ratio() if what == "backing" else b.in_flight_usd()
    return report


def proof_reporters(model: ContagionModel) -> dict[str, Callable[[ContagionModel], Any]]:
    """Exchanges that publish proofs of kind ``reserves`` or ``liabilities``:
    ``published_ratio_<exchange>``, the ratio its depositors last read (NaN before its first
    proof), and ``reserve_ratio_<exchange>``, its true assets / liabilities."""
    r: dict[str, Callable[[ContagionModel], Any]] = {}
    for i, ex in enumerate(model.custodial):
        if ex.params.proof_kind != "exact":
            r[f"published_ratio_{ex.name}"] = _published_ratio(i)
            r[f"reserve_ratio_{ex.name}"] = _agent_value("custodial", i, "reserve_ratio")
    return r


def _published_ratio(i: int) -> Callable[[ContagionModel], float]:
    def report(m: ContagionModel) -> float:
        ratio = float(m.custodial[i].published_ratio)
        return ratio if math.isfinite(ratio) else math.nan
    return report


def _house_value(i: int, what: str) -> Callable[[ContagionModel], float]:
    def report(m: ContagionModel) -> float:
        house = m.clearing_houses[i]
        return float(house.fund_usd.sum()) if what == "fund" else float(house.sitg_usd)
    return report


def funding_reporters(model: ContagionModel) -> dict[str, Callable[[ContagionModel], Any]]:
    """Perp venues with funding (``PerpParams.funding``), per market:
    ``funding_<venue>_<asset>`` (the last funding rate, per funding period, capped) and
    ``premium_<venue>_<asset>`` (the perp's premium over its index this step)."""
    r: dict[str, Callable[[ContagionModel], Any]] = {}
    for i, pv in enumerate(model.perps):
        if not pv.params.funding:
            continue
        for k, asset in enumerate(pv.market_names):
            r[f"funding_{pv.name}_{asset}"] = _market_value(i, "funding_rate_frac", k)
            r[f"premium_{pv.name}_{asset}"] = _market_value(i, "premium_frac", k)
    return r


def portfolio_margin_reporters(model: ContagionModel) -> dict[str, Callable[[ContagionModel], Any]]:
    """Perp venues with portfolio margin (``PerpParams.margin_model = "portfolio"``):
    ``portfolio_margin_<venue>`` (the traders' total maintenance margin, USD) and per market
    the traders' net greeks, ``net_delta_<venue>_<asset>`` (units), ``gamma_<venue>_<asset>``
    (per unit of price) and ``vega_<venue>_<asset>`` (USD per 1.00 of vol)."""
    r: dict[str, Callable[[ContagionModel], Any]] = {}
    for i, pv in enumerate(model.perps):
        if not pv.pm_on:
            continue
        r[f"portfolio_margin_{pv.name}"] = _agent_value("perps", i, "portfolio_margin_usd")
        for k, asset in enumerate(pv.market_names):
            for g, name in enumerate(("net_delta", "gamma", "vega")):
                r[f"{name}_{pv.name}_{asset}"] = _greek(i, g, k)
    return r


def _greek(i: int, g: int, k: int) -> Callable[[ContagionModel], float]:
    def report(m: ContagionModel) -> float:
        return float(m.perps[i].greeks()[g, k])
    return report


def _market_value(i: int, attr: str, k: int) -> Callable[[ContagionModel], float]:
    def report(m: ContagionModel) -> float:
        return float(getattr(m.perps[i], attr)[k])
    return report


def _agent_value(group: str, i: int, attr: str) -> Callable[[ContagionModel], float]:
    def report(m: ContagionModel) -> float:
        value = getattr(getattr(m, group)[i], attr)
        return float(value() if callable(value) else value)
    return report


def peg_reporters(model: ContagionModel) -> dict[str, Callable[[ContagionModel], Any]]:
    """Algorithmic pegs and yield venues: ``supply_<stable>`` and ``supply_<token>``
    (circulating units), ``reserve_<peg>`` (the reserve's USD value), ``burned_<peg>``
    (stablecoin burned this step) and ``deposits_<venue>`` (stablecoin units still
    deposited)."""
    r: dict[str, Callable[[ContagionModel], Any]] = {}
    for i, peg in enumerate(model.pegs):
        r[f"supply_{peg.params.stable}"] = _agent_value("pegs", i, "stable_supply_units")
        r[f"supply_{peg.params.token}"] = _agent_value("pegs", i, "token_supply_units")
        r[f"reserve_{peg.name}"] = _agent_value("pegs", i, "reserve_usd")
        r[f"burned_{peg.name}"] = _agent_value("pegs", i, "step_burned_usd")
    for i, yv in enumerate(model.yield_venues):
        r[f"deposits_{yv.name}"] = _agent_value("yield_venues", i, "deposits_units")
    return r


def lending_rate_reporters(model: ContagionModel) -> dict[str, Callable[[ContagionModel], Any]]:
    """Lending venues with an interest-rate model or a supplier run (none by default):
    ``utilisation_<venue>`` (of its stablecoin reserve), ``borrow_rate_<venue>`` and
    ``supply_rate_<venue>`` (yearly, in force this step) and ``queued_<venue>`` (what its
    running suppliers still want out, USD)."""
    r: dict[str, Callable[[ContagionModel], Any]] = {}
    for i, v in enumerate(model.lending):
        if not v.rates_on and v.run is None:
            continue
        r[f"utilisation_{v.name}"] = _lending_utilisation(i)
        r[f"borrow_rate_{v.name}"] = _lending_rate(i, "borrow_rate")
        r[f"supply_rate_{v.name}"] = _lending_rate(i, "supply_rate")
        if v.run is not None:
            r[f"queued_{v.name}"] = _agent_value("lending", i, "queued_usd")
    return r


def _lending_utilisation(i: int) -> Callable[[ContagionModel], float]:
    def report(m: ContagionModel) -> float:
        return float(m.lending[i].utilisation()[0])
    return report


def _lending_rate(i: int, attr: str) -> Callable[[ContagionModel], float]:
    def report(m: ContagionModel) -> float:
        return float(getattr(m.lending[i], attr)[0])
    return report


def venue_rows(model: ContagionModel) -> list[dict[str, Any]]:
    """One row per venue and firm for the current step, then one per peg and yield venue
    (:func:`peg_rows`)."""
    rows = []
    for a in model.balance_sheets():
        row: dict[str, Any] = {
            "step": int(model.steps), "venue": a.name, "kind": a.kind,
            "defaulted": bool(a.defaulted),
            "liquidations": int(getattr(a, "step_liquidations", 0)),
            "liquidated_usd": float(getattr(a, "step_liquidated_usd", 0.0)),
            "bad_debt_usd": float(getattr(a, "bad_debt_usd", 0.0)),
            "socialised_usd": float(getattr(a, "socialised_usd", 0.0)),
            "fund_paid_usd": float(getattr(a, "fund_paid_usd", 0.0)),
            "adl_usd": float(getattr(a, "adl_usd", 0.0)),
            "recovery_rate": float(model.recovery.get(a.name, 1.0)),
        }
        sheet = a.balance_sheet()
        row["assets_usd"] = sheet.assets_usd
        row["liabilities_usd"] = sheet.liabilities_usd
        row["at_risk"] = sheet.at_risk
        row["equity_usd"] = row["assets_usd"] - row["liabilities_usd"]
        rows.append(row)
    return rows + peg_rows(model)


def _row(model: ContagionModel, name: str, kind: str, *, assets_usd: float,
         liabilities_usd: float, at_risk: int, fund_paid_usd: float = 0.0) -> dict[str, Any]:
    """A venue-table row with the same columns as a venue's, for a peg or yield venue."""
    return {
        "step": int(model.steps), "venue": name, "kind": kind, "defaulted": False,
        "liquidations": 0, "liquidated_usd": 0.0, "bad_debt_usd": 0.0, "socialised_usd": 0.0,
        "fund_paid_usd": fund_paid_usd, "adl_usd": 0.0,
        "recovery_rate": float(model.recovery.get(name, 1.0)),
        "assets_usd": assets_usd, "liabilities_usd": liabilities_usd, "at_risk": at_risk,
        "equity_usd": assets_usd - liabilities_usd,
    }


def peg_rows(model: ContagionModel) -> list[dict[str, Any]]:
    """Venue-table rows of the algorithmic pegs (kind ``peg``) and yield venues (kind
    ``yield_venue``) and bridges (kind ``bridge``), with a venue's columns, so the dashboard
    shows their balance sheets.

    A peg's assets are what backs its stablecoin: the reserve at market, the stablecoin it
    bought back at market and its token's market capitalisation (what minting can raise);
    its liabilities the stablecoin's circulating supply at $1 (what the mint/burn promises);
    ``fund_paid_usd`` is what the reserve has spent, ``at_risk`` 1 while the peg is at risk
    or broken (:func:`contagion.network.peg_state`). A yield venue's assets are the
    deposits left at the stablecoin's market price, its liabilities the same deposits at
    $1 (equity: the depositors' loss to the depeg); ``at_risk`` counts the depositors
    leaving. A bridge's assets are its locked units at the underlying's price, its
    liabilities its claims outstanding at that price (equity: what the claims lack),
    ``at_risk`` 1 while it is halted or under-backed. None is ever declared in default (no
    ``default`` event), so ``defaulted`` stays False and the run's default counts are
    unchanged: their failure shows in their node state.
    """
    price = model.market.price
    rows = []
    for peg in model.pegs:
        backing = (peg.reserve_usd() + peg.reserve_stable_units * float(price[peg.stable])
                   + peg.token_supply_units * float(price[peg.token]))
        rows.append(_row(model, peg.name, "peg", assets_usd=float(backing),
                         liabilities_usd=float(peg.stable_supply_units),
                         at_risk=int(peg_state(peg) != "healthy"),
                         fund_paid_usd=float(peg.reserve_spent_usd)))
    for yv in model.yield_venues:
        units = yv.deposits_units()
        rows.append(_row(model, yv.name, "yield_venue", assets_usd=units * float(price[yv.asset]),
                         liabilities_usd=units, at_risk=yv.depositors_leaving()))
    for b in model.bridges:  # locked collateral against the claims it minted, at the underlying
        rows.append(_row(model, b.name, "bridge", assets_usd=b.locked_usd(),
                         liabilities_usd=b.claims_usd(), at_risk=int(b.state() != "healthy")))
    return rows


def _issued_collateral(model: ContagionModel, v: Any, issuers: dict[str, str]) -> bool:
    """Whether lending venue ``v`` lists a collateral some other node issues (a token with
    an issuer, a peg's stablecoin or token, a bridge's claim): what makes
    :func:`pair_exposures` read its book's column sums."""
    if any(issuers.get(a) not in (None, v.name) for a in v.asset_names):
        return True
    issued = {a for peg in model.pegs for a in (peg.params.stable, peg.params.token)}
    issued |= {model.market.assets[c] for b in model.bridges for c in b.claims}
    return any(a in issued for a in v.asset_names)


def pair_exposures(model: ContagionModel) -> list[dict[str, Any]]:
    """Venue-to-venue exposures this step: what ``holder`` stands to lose if
    ``counterparty`` fails, by channel.

    Channels: ``loan`` (an exchange's unsecured loan to a firm, at face value), ``supply``
    (an exchange's claim on a lending protocol's pool), ``token_collateral`` (a lender's
    collateral in the counterparty's token, at market; a peg counts as the issuer of its
    stablecoin and its token, a bridge as the issuer of its claim), ``cross_margin`` (a perp
    venue's cross-margin credit on deposits at an exchange), ``pending_settlement`` (an
    obligation in its settlement window, :mod:`contagion.settlement`: a recalled loan,
    counted here instead of under ``loan`` until it settles, or a cross-margin transfer the
    custodian has not paid yet).
    """
    step = int(model.steps)
    rows: list[dict[str, Any]] = []
    queue = model.settlements
    for ex in model.custodial:
        for borrower, amount in ex.loans.items():
            recalled = queue.pending_usd(ex.name, borrower, "loan_recall") if len(queue) else 0.0
            rows.append({"step": step, "holder": ex.name, "counterparty": borrower,
                         "channel": "loan", "exposure_usd": float(amount) - recalled})
        if ex.lending is not None:
            rows.append({"step": step, "holder": ex.name, "counterparty": ex.lending.name,
                         "channel": "supply", "exposure_usd": ex.lending.claim_of(ex.name)})
    issuers = {a.name: a.issuer for a in model.scenario.assets if a.issuer}
    for v in model.lending:
        if not _issued_collateral(model, v, issuers):
            continue  # no column of this book is anyone's token: skip its column sums
        price = model.market.quote_prices(v.asset_ids)  # numeraire units, as the books
        held = v.collateral_units() * price  # book.collateral.sum(axis=0), kept per version
        for j, asset in enumerate(v.asset_names):
            issuer = issuers.get(asset)
            if issuer and issuer != v.name:
                rows.append({"step": step, "holder": v.name, "counterparty": issuer,
                             "channel": "token_collateral", "exposure_usd": float(held[j])})
        for peg in model.pegs:  # a peg issues its stablecoin and its token
            cols = [j for j, a in enumerate(v.asset_names)
                    if a in (peg.params.stable, peg.params.token)]
            if cols:
                rows.append({"step": step, "holder": v.name, "counterparty": peg.name,
                             "channel": "token_collateral",
                             "exposure_usd": float(held[cols].sum())})
        for bridge in model.bridges:  # a bridge issues the claims it minted
            claims = {model.market.assets[c] for c in bridge.claims}
            cols = [j for j, a in enumerate(v.asset_names) if a in claims]
            if cols:
                rows.append({"step": step, "holder": v.name, "counterparty": bridge.name,
                             "channel": "token_collateral",
                             "exposure_usd": float(held[cols].sum())})
    for pv in model.perps:
        if pv.custodian is not None and pv.book.cross.any():
            rows.append({"step": step, "holder": pv.name, "counterparty": pv.custodian.name,
                         "channel": "cross_margin",
                         "exposure_usd": float(pv.cross_credit().sum())})
    for (payee, payer), amount in pending_by_pair(queue.records).items():
        rows.append({"step": step, "holder": payee, "counterparty": payer,
                     "channel": "pending_settlement", "exposure_usd": amount})
    return rows
