"""Cascade measures of one run, computed from its outputs (event log, series, venue table).

These functions read only DataFrames, so the CLI, the sweeps, the dashboard and the tests
compute the same numbers the same way.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from contagion.events import trace_cause

__all__ = ["cascade_path", "default_generations", "run_summary", "venues_hit"]

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
    d = events[events["kind"] == "default"]
    kind = dict(zip(events["event_id"], events["kind"], strict=True))
    out: dict[str, int] = {}
    for eid, venue in zip(d["event_id"], d["venue"], strict=True):
        chain = trace_cause(events, int(eid))
        out[str(venue)] = sum(kind.get(e) == "default" for e in chain)
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
    hit = events[events["kind"].isin(_HIT_KINDS)]["venue"].unique().tolist()
    return [v for v in venue_names if v in hit]


def run_summary(events: pd.DataFrame, series: pd.DataFrame, venues: pd.DataFrame
                ) -> dict[str, Any]:
    """One run's headline measures.

    Parameters
    ----------
    events : the event log; series : DataCollector model variables (one row per step);
    venues : the per-venue table.
    """
    last = venues.sort_values("step").groupby("venue", sort=False).last()
    names = list(dict.fromkeys(venues["venue"]))
    venue_kinds = dict(zip(venues["venue"], venues["kind"], strict=False))
    defaulted = [v for v in names if bool(last.loc[v, "defaulted"])]
    gens = default_generations(events)
    liq = events[events["kind"].isin(["liquidation", "perp_liquidation"])]
    price_cols = [c for c in series.columns if c.startswith("impact_")]
    worst_impact = float(series[price_cols].min().min()) if price_cols else 0.0
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
        "venues_hit": venues_hit(events, [v for v in names if venue_kinds.get(v) != "firm"]),
        "cascade_depth": max(gens.values(), default=0),
        "default_generations": gens,
        "liquidations": len(liq),
        "accounts_liquidated": int(liq["account"].nunique()) if len(liq) else 0,
        "liquidation_volume_usd": float(liq["value_usd"].sum()),
        "bad_debt_usd": float(series["bad_debt_usd"].iloc[-1]),
        "insolvent_debt_usd": float(series["insolvent_debt_usd"].iloc[-1]),
        "socialised_usd": float(series["socialised_usd"].iloc[-1]),
        "adl_usd": float(series["adl_usd"].iloc[-1]),
        "fund_used_usd": max(fund_start - fund_end, 0.0),
        "fund_depletion_frac": (1 - fund_end / fund_start) if fund_start > 0 else 0.0,
        "funds_exhausted": sorted(events.loc[events["kind"] == "fund_exhausted", "agent"]),
        "worst_pool_impact_frac": worst_impact,
        "bad_debt_by_venue": {v: float(last.loc[v, "bad_debt_usd"]) for v in names},
        "recovery_by_venue": {v: float(last.loc[v, "recovery_rate"]) for v in names},
        "fund_series": funds,
        "max_defaults_step": int(np.argmax(series["defaults"].to_numpy())) if len(series) else 0,
    }
