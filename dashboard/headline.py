"""The run at a glance: headline figures (cards) and a per-venue table, from a run's outputs.

Pure functions of a :class:`~contagion.runner.RunResult` (its ``summary``, ``venues``,
``series`` and ``network``): the dashboard's cards and its sortable venue table show exactly
these numbers, so a test can check them against the run without a browser.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dashboard.narrative import format_usd

if TYPE_CHECKING:
    from contagion.runner import RunResult

__all__ = ["VENUE_COLUMNS", "Card", "headline_cards", "venue_table"]


@dataclass(frozen=True)
class Card:
    """One headline figure: what it is, its value as shown, and a line of detail."""

    key: str
    title: str
    value: str
    detail: str
    alert: bool  # the figure is not zero: the card is drawn as a warning


def _names(names: list[str], limit: int = 3) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" +{len(names) - limit}" if len(names) > limit else "")


def broken_pegs(result: Any) -> list[str]:
    """Pegs the network draws ``defaulted`` at some step (a stablecoin that lost its peg with
    its reserve spent): not in the run's list of defaulted institutions, so the Defaults card
    names them beside it, and the words match the picture."""
    network = getattr(result, "network", None)
    states = getattr(result, "node_states", None)
    if network is None or states is None or states.empty:
        return []
    pegs = [n for n, d in network.nodes(data=True) if d.get("kind") == "peg"]
    down = states[(states["state"] == "defaulted") & states["node"].isin(pegs)]
    return list(dict.fromkeys(down["node"].tolist()))


def headline_cards(result: RunResult) -> list[Card]:
    """The run's key figures: defaults, venues hit, bad debt, insurance funds used,
    socialised loss, auto-deleveraging and liquidations (count and volume).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> s = {"defaulted": ["CEX"], "venues_hit": ["CEX", "LendB"], "bad_debt_usd": 1.2e6,
    ...      "fund_used_usd": 3e5, "funds_exhausted": [], "socialised_usd": 0.0,
    ...      "adl_usd": 0.0, "liquidations": 40, "liquidation_volume_usd": 2.5e7}
    >>> [(c.title, c.value) for c in headline_cards(SimpleNamespace(summary=s))][:3]
    [('Defaults', '1'), ('Venues hit', '2'), ('Bad debt', '$1.2M')]
    """
    s = result.summary
    defaulted = list(s.get("defaulted", []))
    hit = list(s.get("venues_hit", []))
    exhausted = list(s.get("funds_exhausted", []))
    n_liq = int(s.get("liquidations", 0))
    broken = broken_pegs(result)
    detail = _names(defaulted) or "none"
    if broken:  # drawn black like a default, though no institution failed to pay
        detail += "; peg broken: " + _names(broken)
    return [
        Card("defaults", "Defaults", f"{len(defaulted)}", detail, bool(defaulted or broken)),
        Card("venues_hit", "Venues hit", f"{len(hit)}", _names(hit) or "none", bool(hit)),
        Card("bad_debt", "Bad debt", format_usd(s.get("bad_debt_usd", 0.0)),
             "unrecovered after liquidation", s.get("bad_debt_usd", 0.0) > 0),
        Card("fund_used", "Insurance funds used", format_usd(s.get("fund_used_usd", 0.0)),
             ("ran dry: " + _names(exhausted)) if exhausted else "none ran dry",
             s.get("fund_used_usd", 0.0) > 0),
        Card("socialised", "Socialised loss", format_usd(s.get("socialised_usd", 0.0)),
             "spread over lenders or traders", s.get("socialised_usd", 0.0) > 0),
        Card("adl", "Auto-deleveraging", format_usd(s.get("adl_usd", 0.0)),
             "profitable positions closed", s.get("adl_usd", 0.0) > 0),
        Card("liquidations", "Liquidations", format_usd(s.get("liquidation_volume_usd", 0.0)),
             f"{n_liq:,} liquidation{'s' if n_liq != 1 else ''}", n_liq > 0),
    ]


#: Columns of :func:`venue_table`, in order, with their headings.
VENUE_COLUMNS: dict[str, str] = {
    "venue": "Venue", "kind": "Kind", "default_step": "Default (step)",
    "bad_debt_usd": "Bad debt ($)", "recovery_rate": "Recovery", "fund_left_usd": "Fund left ($)",
    "fund_left_frac": "Fund left (share)", "liquidations": "Liquidations",
    "liquidated_usd": "Liquidated ($)", "socialised_usd": "Socialised ($)", "adl_usd": "ADL ($)",
}


def _fund_balances(result: RunResult) -> tuple[dict[str, float], dict[str, float]]:
    """Venue -> insurance fund balance at the end and at the start (funds that back it by a
    ``backstop`` edge of the run's network; series ``fund_<name>``)."""
    end: dict[str, float] = {}
    start: dict[str, float] = {}
    series = result.series
    for fund, venue, data in result.network.edges(data=True):
        col = f"fund_{fund}"
        if data.get("type") != "backstop" or col not in series or series.empty:
            continue
        end[venue] = end.get(venue, 0.0) + float(series[col].iloc[-1])
        start[venue] = start.get(venue, 0.0) + float(series[col].iloc[0])
    return end, start


def venue_table(result: RunResult) -> pd.DataFrame:
    """One row per venue or firm at the end of the run: the step it defaulted (NaN if it
    did not), bad debt, recovery rate, what is left of its insurance fund (NaN when it has
    none), liquidations, socialised loss and ADL. Columns :data:`VENUE_COLUMNS`."""
    v = result.venues
    if v.empty:
        return pd.DataFrame(columns=list(VENUE_COLUMNS))
    last = v.sort_values("step").groupby("venue", sort=False).last()
    order = list(dict.fromkeys(v["venue"]))
    last = last.reindex(order)
    defaulted = v[v["defaulted"].astype(bool)]
    first_default = defaulted.groupby("venue")["step"].min()
    totals = v.groupby("venue")[["liquidations", "liquidated_usd"]].sum()
    end, start = _fund_balances(result)
    frame = pd.DataFrame({
        "venue": order,
        "kind": last["kind"].to_numpy(),
        "default_step": [float(first_default.get(n, np.nan)) for n in order],
        "bad_debt_usd": last["bad_debt_usd"].to_numpy(dtype=float),
        "recovery_rate": last["recovery_rate"].to_numpy(dtype=float),
        "fund_left_usd": [end.get(n, np.nan) for n in order],
        "fund_left_frac": [end[n] / start[n] if start.get(n) else np.nan for n in order],
        "liquidations": totals["liquidations"].reindex(order).fillna(0).astype(int).to_numpy(),
        "liquidated_usd": totals["liquidated_usd"].reindex(order).fillna(0.0).to_numpy(),
        "socialised_usd": last["socialised_usd"].to_numpy(dtype=float),
        "adl_usd": last["adl_usd"].to_numpy(dtype=float),
    })
    return frame[list(VENUE_COLUMNS)]


def venue_table_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """:func:`venue_table` as DataTable rows (NaN -> None, so empty cells sort last)."""
    return [{k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
            for row in frame.to_dict("records")]
