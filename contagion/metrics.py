"""Cascade measures of one run, computed from its outputs (event log, series, venue table).

These functions read only DataFrames, so the CLI, the sweeps, the dashboard and the tests
compute the same numbers the same way.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from contagion.events import trace_cause, trace_chain

__all__ = ["METRIC_EVENT_COLUMNS", "METRIC_FINAL_SERIES", "METRIC_SERIES_COLUMNS", "cascade_path",
           "default_generations", "fund_names", "run_record", "run_summary", "venues_hit"]

#: The event-log columns :func:`run_summary` and :func:`run_record` read (and nothing else
#: of the log): a run that only feeds them builds just these (``runner.METRICS``).
METRIC_EVENT_COLUMNS = ("event_id", "kind", "venue", "agent", "account", "value_usd", "cause_id")
#: The series they read (a name ending in ``*``: every series it begins), and of those the
#: ones they read at the last step only (``runner.METRICS`` records those at the end).
METRIC_FINAL_SERIES = ("insolvent_debt_usd",)
METRIC_SERIES_COLUMNS = ("adl_usd", "bad_debt_usd", "defaults", "fund_balance_usd",
                         "insolvent_debt_usd", "socialised_usd", "fund_*", "impact_*",
                         "oracle_*", "price_*", "reserve_*")

_HIT_KINDS = ("default", "bad_debt", "fund_exhausted", "socialised_loss", "adl")


def default_generations(events: pd.DataFrame) -> dict[str, int]:
    """Generation of each default: 1 + the number of earlier defaults in its cause chain.

    Examples
    --------
    >>> ev = pd.DataFrame({"event_id": [0, 1, 2, 3], "kind": ["price_shock", "default",
    ...     "loan_loss", "default"], "venue": ["", "Fund", "Ex", "Ex"],
    ...     "cause_id": [-1, 0, 1, 2]})
    >>> default_generations(ev)
    {'Fund': 1, 'Ex': 2}
    """
    return _generations(_EventArrays(events))


class _EventArrays:
    """The event-log columns the measures read, as numpy arrays, each converted once on
    first use (selecting rows of a 170-column frame, or iterating its text columns, cost
    more than the measures themselves)."""

    def __init__(self, events: pd.DataFrame) -> None:
        self.events = events
        self._columns: dict[str, np.ndarray] = {}

    def __getitem__(self, column: str) -> np.ndarray:
        values = self._columns.get(column)
        if values is None:
            values = self._columns[column] = self.events[column].to_numpy()
        return values

    def of_kind(self, *kinds: str) -> np.ndarray:
        """Which events are of one of ``kinds`` (a boolean mask)."""
        kind = self["kind"]
        mask = kind == kinds[0]
        for k in kinds[1:]:
            mask |= kind == k
        return np.asarray(mask, dtype=bool)


def _generations(ev: _EventArrays) -> dict[str, int]:
    """:func:`default_generations` over the event columns."""
    is_default = ev.of_kind("default")
    if not is_default.any():
        return {}
    ids = ev["event_id"].tolist()
    default_ids = dict(zip(ids, is_default.tolist(), strict=True))
    cause = dict(zip(ids, ev["cause_id"].tolist(), strict=True))  # once, not per default
    out: dict[str, int] = {}
    for eid, venue in zip(ev["event_id"][is_default].tolist(), ev["venue"][is_default].tolist(),
                          strict=True):
        chain = trace_chain(cause, int(eid))
        out[str(venue)] = sum(default_ids.get(e, False) for e in chain)
    return out


def cascade_path(events: pd.DataFrame) -> list[str]:
    """For each default, in order, the chain of causes back to the first shock, in words."""
    d = events[events["kind"] == "default"]
    by_id = events.set_index("event_id")
    lines = []
    for eid in d["event_id"]:
        chain = trace_cause(events, int(eid))
        parts = []
        for e in reversed(chain):
            r = by_id.loc[e]
            who = r["venue"] or r["agent"] or r["asset"]
            parts.append(f"step {int(r['step'])} {r['kind']}" + (f" ({who})" if who else ""))
        lines.append(" -> ".join(parts))
    return lines


def venues_hit(events: pd.DataFrame, venue_names: list[str]) -> list[str]:
    """Venues with a default, bad debt, an exhausted fund, a socialised loss or ADL."""
    return _venues_hit(_EventArrays(events), venue_names)


def _venues_hit(ev: _EventArrays, venue_names: list[str]) -> list[str]:
    hit = set(ev["venue"][ev.of_kind(*_HIT_KINDS)].tolist())
    return [v for v in venue_names if v in hit]


def fund_names(events: pd.DataFrame, series: pd.DataFrame) -> list[str]:
    """Every insurance fund and peg reserve of a run, whether or not it was drawn.

    Funds are the ``fund_<name>`` series (``fund_balance_usd`` is their total), reserves the
    ``reserve_<peg>`` series (peg ``P``'s reserve is the agent ``"P reserve"`` of its
    ``fund_draw`` and ``fund_exhausted`` events); any other agent that logged
    ``fund_exhausted`` comes last. The list depends on the scenario's structure only, so
    every run of a sweep has the same ``exhausted__`` columns.

    Examples
    --------
    >>> series = pd.DataFrame(columns=["fund_PerpX-Insurance", "fund_balance_usd",
    ...                                "reserve_Terra", "price_ETH"])
    >>> fund_names(pd.DataFrame({"kind": [], "agent": []}), series)
    ['PerpX-Insurance', 'Terra reserve']
    """
    return _fund_names(_EventArrays(events), series)


def _fund_names(ev: _EventArrays, series: pd.DataFrame) -> list[str]:
    names = [c[len("fund_"):] for c in series.columns
             if c.startswith("fund_") and c != "fund_balance_usd"]
    names += [f"{c[len('reserve_'):]} reserve" for c in series.columns if c.startswith("reserve_")]
    names += [str(a) for a in ev["agent"][ev.of_kind("fund_exhausted")].tolist()]
    return list(dict.fromkeys(names))


def _venue_names(venues: pd.DataFrame) -> tuple[list[str], dict[str, str]]:
    """The venue table's venues in order of appearance, and each one's kind."""
    names = venues["venue"].to_numpy().tolist()
    kinds = venues["kind"].to_numpy().tolist()
    return list(dict.fromkeys(names)), dict(zip(names, kinds, strict=False))


def _last_by_venue(venues: pd.DataFrame, names: list[str], columns: tuple[str, ...]
                   ) -> dict[str, dict[str, Any]]:
    """Each venue's last value of each of ``columns`` in step order, skipping missing ones
    (NaN when it has none): ``venues.sort_values("step").groupby("venue").last()`` read
    as arrays (a venue has one row a step)."""
    order = np.argsort(venues["step"].to_numpy(), kind="stable")
    venue = venues["venue"].to_numpy()[order]
    rows = {v: np.flatnonzero(venue == v) for v in names}
    out: dict[str, dict[str, Any]] = {}
    for c in columns:
        values = venues[c].to_numpy()[order]
        present = ~pd.isna(values)
        out[c] = {}
        for v, at in rows.items():
            kept = at[present[at]]
            out[c][v] = values[kept[-1]] if kept.size else np.nan
    return out


def run_summary(events: pd.DataFrame, series: pd.DataFrame, venues: pd.DataFrame
                ) -> dict[str, Any]:
    """One run's headline measures.

    ``liquidations`` counts every liquidation event (lending, perp positions and option
    positions closed by a margin call); ``liquidation_volume_usd`` adds their ``value_usd``,
    the dollars traded (a perp's notional, an option's premium).

    Parameters
    ----------
    events : the event log; series : DataCollector model variables (one row per step);
    venues : the per-venue table.
    """
    ev = _EventArrays(events)
    names, venue_kinds = _venue_names(venues)
    last = _last_by_venue(venues, names, ("defaulted", "bad_debt_usd", "recovery_rate"))
    defaulted = [v for v in names if bool(last["defaulted"][v])]
    gens = _generations(ev)
    liq = ev.of_kind("liquidation", "perp_liquidation", "option_liquidation")
    liq_accounts = pd.Series(ev["account"][liq])
    liq_value = pd.Series(ev["value_usd"][liq])
    price_cols = [c for c in series.columns if c.startswith("impact_")]
    worst_impact = _smallest(series[price_cols].to_numpy()) if price_cols else 0.0
    gaps = []
    for c in series.columns:
        if c.startswith("oracle_"):
            gaps.append(c)
    funds = [c for c in series.columns if c.startswith("fund_") and c != "fund_balance_usd"]
    fund_start = float(series["fund_balance_usd"].iloc[0])
    fund_end = float(series["fund_balance_usd"].iloc[-1])
    return {
        "steps": int(series.index.max()) if len(series) else 0,
        "defaults": len(defaulted),
        "defaulted": defaulted,
        "venues_defaulted": [v for v in defaulted if venue_kinds.get(v) != "firm"],
        "venues_hit": _venues_hit(ev, [v for v in names if venue_kinds.get(v) != "firm"]),
        "cascade_depth": max(gens.values(), default=0),
        "default_generations": gens,
        "liquidations": int(liq.sum()),
        "accounts_liquidated": int(liq_accounts.nunique()) if len(liq_accounts) else 0,
        "liquidation_volume_usd": float(liq_value.sum()),
        "bad_debt_usd": float(series["bad_debt_usd"].iloc[-1]),
        "insolvent_debt_usd": float(series["insolvent_debt_usd"].iloc[-1]),
        "socialised_usd": float(series["socialised_usd"].iloc[-1]),
        "adl_usd": float(series["adl_usd"].iloc[-1]),
        "fund_used_usd": max(fund_start - fund_end, 0.0),
        "fund_depletion_frac": (1 - fund_end / fund_start) if fund_start > 0 else 0.0,
        "funds_exhausted": sorted(ev["agent"][ev.of_kind("fund_exhausted")].tolist()),
        "worst_pool_impact_frac": worst_impact,
        "bad_debt_by_venue": {v: float(last["bad_debt_usd"][v]) for v in names},
        "recovery_by_venue": {v: float(last["recovery_rate"][v]) for v in names},
        "fund_series": funds,
        "max_defaults_step": int(np.argmax(series["defaults"].to_numpy())) if len(series) else 0,
    }


def _smallest(values: np.ndarray) -> float:
    """``frame.min().min()`` of a numeric frame's values: the smallest entry, NaN skipped
    (NaN if all are). A minimum is exact, so the order it is taken in does not matter."""
    kept = values[~np.isnan(values)]
    return float(kept.min()) if kept.size else float("nan")


def _largest_gap(oracle: np.ndarray, price: np.ndarray) -> float:
    """``(oracle / price - 1).abs().max()`` of the two series, as arrays: the largest
    relative gap, NaN entries skipped (NaN if all are)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.abs(oracle / price - 1.0)
    kept = ratio[~np.isnan(ratio)]
    return float(kept.max()) if kept.size else float("nan")


def run_record(events: pd.DataFrame, series: pd.DataFrame, venues: pd.DataFrame, *,
               summary: dict[str, Any] | None = None) -> dict[str, Any]:
    """One run's measures as a flat row of scalars (what a sweep stores per run).

    System columns: ``defaults``, ``defaults_share`` (of venues and firms),
    ``venues_defaulted`` (names joined by ``;``), ``venues_hit``, ``cross_venue`` (1 when at
    least two venues were hit), ``cascade_depth``, ``liquidations``,
    ``liquidation_volume_usd``, ``worst_pool_impact_frac``, ``bad_debt_usd``,
    ``insolvent_debt_usd``, ``fund_depletion_frac``, ``fund_used_usd``,
    ``socialised_usd``, ``adl_usd``, ``worst_oracle_gap_frac`` (largest relative gap between an
    oracle and its asset's market price). Per venue or firm ``v``: ``defaulted__v`` (0/1),
    ``ead__v`` (its liabilities when it defaulted, the exposure of its creditors at
    default; 0 if it did not), ``lgd__v`` (1 - the creditors' recovery rate at the end, if it
    defaulted, else NaN; for a lending protocol, the share of its suppliers' claims it
    socialised). Per insurance fund or peg reserve ``f`` (see :func:`fund_names`):
    ``exhausted__f`` (0/1: 1 when it logged ``fund_exhausted``, i.e. it ran dry), so
    ``cascade_probability(results, x, metric="exhausted__PerpX-Insurance")`` is the
    probability that the fund ran dry. Every run of a scenario has the same columns;
    results of sweeps stored before the ``exhausted__`` columns existed simply lack them.

    ``summary``: the run's :func:`run_summary` of these same frames if the caller already
    has it (``RunResult.summary``), so it is not computed twice.

    Examples
    --------
    >>> from contagion.runner import simulate
    >>> from models import get_scenario
    >>> r = simulate(get_scenario("default", n_traders=200, steps=30), seed=1)
    >>> rec = run_record(r.events, r.series, r.venues)
    >>> sorted(k for k in rec if k.startswith("defaulted__"))[:2]
    ['defaulted__AlphaFund', 'defaulted__CEX']
    >>> sorted(k for k in rec if k.startswith("exhausted__"))
    ['exhausted__LendA-SafetyModule', 'exhausted__LendB-Fund', 'exhausted__PerpX-Insurance']
    """
    s = run_summary(events, series, venues) if summary is None else summary
    names, kinds = _venue_names(venues)
    gaps = [0.0]
    for col in series.columns:
        if col.startswith("oracle_"):
            # oracle columns are named by oracle; pair each with the price of its asset
            for price_col in (c for c in series.columns if c.startswith("price_")):
                if price_col[len("price_"):] in col:
                    gaps.append(_largest_gap(series[col].to_numpy(),
                                             series[price_col].to_numpy()))
    record: dict[str, Any] = {
        "defaults": s["defaults"],
        "defaults_share": s["defaults"] / max(len(names), 1),
        "venues_defaulted": ";".join(s["venues_defaulted"]),
        "venues_hit": len(s["venues_hit"]),
        "cross_venue": int(len(s["venues_hit"]) >= 2),
        "cascade_depth": s["cascade_depth"],
        "liquidations": s["liquidations"],
        "liquidation_volume_usd": s["liquidation_volume_usd"],
        "worst_pool_impact_frac": s["worst_pool_impact_frac"],
        "bad_debt_usd": s["bad_debt_usd"],
        "insolvent_debt_usd": s["insolvent_debt_usd"],
        "fund_depletion_frac": s["fund_depletion_frac"],
        "fund_used_usd": s["fund_used_usd"],
        "socialised_usd": s["socialised_usd"],
        "adl_usd": s["adl_usd"],
        "worst_oracle_gap_frac": max(gaps),
    }
    # one venue's rows by step, as arrays (a venue has one row a step, so the order is unique)
    venue_col = venues["venue"].to_numpy()
    step_col = venues["step"].to_numpy()
    cols = {c: venues[c].to_numpy() for c in ("defaulted", "liabilities_usd", "socialised_usd",
                                               "recovery_rate")}
    for v in names:
        at = np.flatnonzero(venue_col == v)
        at = at[np.argsort(step_col[at], kind="stable")]
        hit = at[cols["defaulted"][at].astype(bool)]
        defaulted = hit.size > 0
        record[f"defaulted__{v}"] = int(defaulted)
        record[f"ead__{v}"] = float(cols["liabilities_usd"][hit[0]]) if defaulted else 0.0
        if not defaulted:
            lgd = float("nan")
        elif kinds.get(v) == "lending":  # suppliers lose through the socialised haircut
            ead = float(cols["liabilities_usd"][hit[0]]) + float(cols["socialised_usd"][hit[0]])
            lgd = float(cols["socialised_usd"][at[-1]]) / ead if ead > 0 else 0.0
        else:
            lgd = 1.0 - float(cols["recovery_rate"][at[-1]])
        record[f"lgd__{v}"] = lgd
        record[f"kind__{v}"] = kinds.get(v, "")
    exhausted = set(s["funds_exhausted"])
    for f in _fund_names(_EventArrays(events), series):
        record[f"exhausted__{f}"] = int(f in exhausted)
    return record
