"""What happened, in words: per-step summaries, default traces and a node's events.

Pure functions over a run's event log and series. :func:`step_narrative` aggregates a
step's events into a few sentences (one per mechanism and venue, never one per account),
ordered by when each mechanism first acted in the step, so cause reads before effect.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from contagion.events import trace_cause

__all__ = ["default_trace", "format_units", "format_usd", "node_events", "step_narrative"]

_MINOR_MOVE_FRAC = 0.01  # price and oracle moves smaller than this are not news
_DOLLARS = re.compile(r"\$(\d[\d,]*(?:\.\d+)?)")
_SCIENTIFIC = re.compile(r"\b\d+(?:\.\d+)?e[+-]\d+\b")
_NODE_EVENT_COLUMNS = ["step", "kind", "value_usd", "detail"]
_SCALES = (("", 1.0), ("k", 1e3), ("M", 1e6), ("B", 1e9), ("T", 1e12))


def _compact(v: float) -> str:
    """``v >= 0`` with a k/M/B/T suffix: one decimal below 10, none above."""
    i = 0
    while i < len(_SCALES) - 1 and v >= _SCALES[i + 1][1]:
        i += 1
    while True:
        suffix, scale = _SCALES[i]
        s = v / scale
        text = f"{s:.1f}" if suffix and s < 9.95 else f"{s:.0f}"
        if float(text) >= 1000 and i < len(_SCALES) - 1:
            i += 1
            continue
        return text + suffix


def format_usd(x: float | None) -> str:
    """A dollar amount for people: ``$1.2M``, ``$340k``, ``$12``.

    Examples
    --------
    >>> [format_usd(v) for v in (1_234_567, 340_000, 12, 0.5, 0)]
    ['$1.2M', '$340k', '$12', '$0.50', '$0']
    >>> format_usd(-4_560), format_usd(999_999), format_usd(2.5e9), format_usd(float("nan"))
    ('-$4.6k', '$1.0M', '$2.5B', 'n/a')
    """
    if x is None or not math.isfinite(x):
        return "n/a"
    sign = "-" if x < 0 else ""
    v = abs(float(x))
    if 0 < v < 1:
        return f"{sign}${v:.2f}"
    return f"{sign}${_compact(v)}"


def format_units(x: float | None) -> str:
    """A quantity of an asset for people: ``1,700``, ``458.8``, ``0.353``, ``12.3M``.

    Examples
    --------
    >>> [format_units(v) for v in (1700.4, 458.83, 18.954, 0.3531, 12_345.6, 12_345_678)]
    ['1,700', '458.8', '18.95', '0.3531', '12,346', '12M']
    >>> format_units(-2.5), format_units(float("inf"))
    ('-2.5', 'n/a')
    """
    if x is None or not math.isfinite(x):
        return "n/a"
    sign = "-" if x < 0 else ""
    v = abs(float(x))
    if v >= 1e6:
        return sign + _compact(v)
    if v >= 1e4:
        return f"{sign}{v:,.0f}"
    return f"{sign}{v:,.4g}"


def _pct(x: float) -> str:
    return f"{x:+.1%}" if abs(x) >= 0.001 else f"{x:+.2%}"


def _price(x: float) -> str:
    return f"{x:,.4g}" if math.isfinite(x) else "n/a"


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def _humanise(text: str) -> str:
    """Capitalised, dollar amounts rounded for people, ending in a full stop.

    >>> _humanise("CEX's $80,000,000 loan to AlphaFund is impaired")
    "CEX's $80M loan to AlphaFund is impaired."
    """
    text = _DOLLARS.sub(lambda m: format_usd(float(m.group(1).replace(",", ""))), text.strip())
    text = _SCIENTIFIC.sub(lambda m: format_units(float(m.group(0))), text)
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _series_value(series: pd.DataFrame, step: int, col: str) -> float | None:
    if col not in series.columns or step not in series.index:
        return None
    v = float(series.at[step, col])
    return v if math.isfinite(v) else None


# Each builder turns one kind's events of a step into (order key, sentence, is_news); the key
# is the first event's id, so sentences follow the order in which mechanisms acted.
_Sentences = list[tuple[float, str, bool]]


def _price_moves(ev: pd.DataFrame) -> _Sentences:
    big = ev[ev["amount"].abs() >= _MINOR_MOVE_FRAC]
    if big.empty:
        return []
    moves = [f"{a} {_pct(m)} to {_price(p)}"
             for a, m, p in zip(big["asset"], big["amount"], big["price"], strict=True)]
    return [(int(big["event_id"].min()), "External market prices moved: " + "; ".join(moves) + ".",
             True)]


def _oracle_updates(ev: pd.DataFrame, oracles: dict[str, str]) -> _Sentences:
    out: _Sentences = []
    for r in ev[ev["amount"].abs() >= _MINOR_MOVE_FRAC].itertuples():
        asset = r.asset or oracles.get(r.agent, "its asset")
        old = r.price / (1.0 + r.amount) if r.amount > -1 else float("nan")
        why = re.search(r"after its (.+?)(?: \(|$)", r.detail)
        reason = f" after its {why.group(1)}" if why else ""
        out.append((int(r.event_id), f"The {r.agent} oracle updated {asset} {_price(old)} -> "
                    f"{_price(r.price)} ({_pct(r.amount)}){reason}.", True))
    return out


_TRIGGERS = {
    "collateral_loss": "the loss of collateral held at {venue}",
    "token_crash": "the crash of {asset}",
    "default": "the default of {venue}",
    "pool_manipulation": "the manipulation of {agent}",
    "withdrawal_freeze": "the withdrawal freeze at {venue}",
}


def _trigger(events: pd.DataFrame, g: pd.DataFrame) -> str:
    """`` (triggered by ...)`` when most of ``g`` was caused by contagion, not by a price."""
    cause = int(g["cause_id"].mode().iloc[0]) if "cause_id" in g and len(g) else -1
    if cause < 0:
        return ""
    row = events[events["event_id"].to_numpy() == cause]
    if row.empty or row["kind"].iloc[0] not in _TRIGGERS:
        return ""
    r = row.iloc[0]
    what = _TRIGGERS[str(r["kind"])].format(venue=r["venue"], asset=r["asset"], agent=r["agent"])
    return f" (triggered by {what})"


def _lending_liquidations(ev: pd.DataFrame, events: pd.DataFrame, series: pd.DataFrame,
                          step: int) -> _Sentences:
    out: _Sentences = []
    for (venue, asset), g in ev.groupby(["venue", "asset"], sort=False):
        n = int(g["account"].nunique())
        text = (f"{_plural(n, 'account')} on {venue} fell below HF 1{_trigger(events, g)}: "
                f"liquidators repaid {format_usd(g['value_usd'].sum())} and ")
        units = f"{format_units(g['amount'].sum())} {asset}"
        pool = re.search(r"into ([^\s,;]+)", str(g["detail"].iloc[0]))
        move = _series_value(series, step, f"impact_{pool.group(1)}") if pool else None
        if pool and move is not None:
            text += f"sold {units} into {pool.group(1)}, moving it {_pct(move)}."
        elif pool:
            text += f"sold {units} into {pool.group(1)}."
        else:
            text += f"seized {units}."
        out.append((int(g["event_id"].min()), text, True))
    return out


def _perp_liquidations(ev: pd.DataFrame, events: pd.DataFrame) -> _Sentences:
    out: _Sentences = []
    for venue, g in ev.groupby("venue", sort=False):
        notional = float(g["value_usd"].sum())
        longs, shorts = int((g["amount"] > 0).sum()), int((g["amount"] < 0).sum())
        price = (float((g["price"] * g["value_usd"]).sum() / notional) if notional > 0
                 else float(g["price"].mean()))
        out.append((int(g["event_id"].min()),
                    f"{_plural(len(g), 'position')} on {venue} fell below maintenance margin"
                    f"{_trigger(events, g)} and "
                    f"{'was' if len(g) == 1 else 'were'} closed into the book: "
                    f"{format_usd(notional)} notional ({longs:,} long, "
                    f"{shorts:,} short) at about {_price(price)}.", True))
    return out


def _per_venue(ev: pd.DataFrame, say: Callable[[str, pd.DataFrame], str], *, by: str = "venue",
               after: dict[str, float] | None = None, offset: float = 0.0) -> _Sentences:
    """One sentence per ``by`` group, keyed by its first event, or just after the last event
    ``after[venue]`` (+ ``offset``) when that is later: a venue's losses read after its
    liquidations even when the engine logged them first."""
    after = after or {}
    return [(max(float(g["event_id"].min()), after.get(str(g["venue"].iloc[0]), -1.0) + offset),
             say(str(key), g), True)
            for key, g in ev.groupby(by, sort=False)]


def _each(ev: pd.DataFrame, after: dict[str, float] | None = None, offset: float = 0.0
          ) -> _Sentences:
    """One sentence per event (its detail), ordered like :func:`_per_venue`."""
    after = after or {}
    return [(max(float(i), after.get(str(v), -1.0) + offset), _humanise(d), True)
            for i, v, d in zip(ev["event_id"], ev["venue"], ev["detail"], strict=True)]


def _bad_debt(venue: str, g: pd.DataFrame) -> str:
    n = int((g["account"] >= 0).sum())
    on = f" on {_plural(n, 'account')}" if n else ""
    why = str(g["detail"].iloc[0]).strip().rstrip(".")
    why = f" ({_DOLLARS.sub(lambda m: format_usd(float(m.group(1).replace(',', ''))), why)})" if why else ""
    return f"{venue} took {format_usd(g['value_usd'].sum())} of bad debt{on}{why}."


def _fund_draw(fund: str, g: pd.DataFrame) -> str:
    venues = ", ".join(dict.fromkeys(g["venue"]))
    left = re.search(r"(\$[\d,.]+) left", str(g["detail"].iloc[-1]))
    rest = f"; {_humanise(left.group(1)).rstrip('.')} left" if left else ""
    return f"{fund} paid {format_usd(g['value_usd'].sum())} of {venues}'s shortfall{rest}."


def _socialised(venue: str, g: pd.DataFrame) -> str:
    to = re.search(r"socialised \$[\d,.]+ (.*)$", str(g["detail"].iloc[-1]))
    rest = to.group(1).rstrip(".") if to else "to its users"
    return f"{venue} socialised {format_usd(g['value_usd'].sum())} of losses {rest}."


def _adl(venue: str, g: pd.DataFrame) -> str:
    n = int(g["account"].nunique())
    return (f"{venue} auto-deleveraged {_plural(n, 'profitable position')} "
            f"({format_usd(g['value_usd'].sum())}) at the bankruptcy price: its insurance fund "
            "could not cover the shortfall.")


def _withdrawals(venue: str, g: pd.DataFrame) -> str:
    stress = re.search(r"\((stress [^)]*)\)", str(g["detail"].iloc[-1]))
    why = f" ({stress.group(1)})" if stress else ""
    return f"Depositors withdrew {format_usd(g['value_usd'].sum())} from {venue}{why}."


def _token_sales(venue: str, g: pd.DataFrame) -> str:
    return (f"{venue} sold {format_units(g['amount'].sum())} {g['asset'].iloc[0]} into "
            f"{g['agent'].iloc[0]} for {format_usd(g['value_usd'].sum())}.")


def _top_ups(ev: pd.DataFrame) -> _Sentences:
    if ev.empty:
        return []
    venues = ", ".join(dict.fromkeys(ev["venue"]))
    n = int(np.nansum(ev["amount"].to_numpy(dtype=float)))
    return [(math.inf, f"{_plural(n, 'trader')} on {venues} added margin or repaid debt "
             f"({format_usd(ev['value_usd'].sum())}) to stay clear of liquidation.", False)]


def step_narrative(events: pd.DataFrame, series: pd.DataFrame, step: int, *,
                   oracles: dict[str, str] | None = None) -> list[str]:
    """A few sentences on what happened at ``step`` and why, aggregated per venue.

    Covers exogenous price moves and oracle updates of at least 1%, pool manipulation,
    lending liquidations per venue and asset (accounts, debt repaid, units seized, the
    pool's move that step from ``impact_<pool>``), perp liquidations per venue (count,
    notional, longs and shorts), token sales, withdrawals and freezes, loan recalls and
    losses, defaults with their reason, token crashes, collateral losses, bad debt, fund
    draws and exhaustion, socialised losses, ADL and margin top-ups. A step with none of
    these but top-ups, heartbeats and small moves gets one sentence starting
    ``"Step N: calm"`` (plus the top-ups, if any).

    Parameters
    ----------
    events : DataFrame
        ``RunResult.events``.
    series : DataFrame
        ``RunResult.series`` (indexed by step), for pools' moves.
    step : int
        The step to describe.
    oracles : dict, optional
        Oracle name -> asset, used when an update does not name its asset.

    Returns
    -------
    list of str
        Full sentences, in the order the mechanisms first acted in the step.

    Examples
    --------
    >>> ev = pd.DataFrame({"event_id": [0, 1, 2], "step": [4, 4, 4],
    ...     "kind": ["oracle_update", "liquidation", "liquidation"], "venue": ["", "LendA", "LendA"],
    ...     "agent": ["ETH-feed", "Liquidators", "Liquidators"], "account": [-1, 3, 7],
    ...     "asset": ["ETH", "ETH", "ETH"], "amount": [-0.1, 1000.0, 700.0],
    ...     "value_usd": [np.nan, 2.0e6, 1.4e6], "price": [1800.0, 1800.0, 1800.0],
    ...     "cause_id": [-1, 0, 0], "detail": ["ETH-feed updated ETH 2,000 -> 1,800 (-10.00%) "
    ...     "after its deviation threshold (source external, 0 steps late)",
    ...     "HF < 1 at LendA; ... selling 1,700 into ETH/USDC", "..."]})
    >>> s = pd.DataFrame({"impact_ETH/USDC": [0.0] * 4 + [-0.041]}).rename_axis("step")
    >>> for line in step_narrative(ev, s, 4):  # doctest: +NORMALIZE_WHITESPACE
    ...     print(line)
    The ETH-feed oracle updated ETH 2,000 -> 1,800 (-10.0%) after its deviation threshold.
    2 accounts on LendA fell below HF 1: liquidators repaid $3.4M and sold 1,700 ETH into
    ETH/USDC, moving it -4.1%.
    >>> step_narrative(ev, s, 3)
    ['Step 3: calm — no liquidations or losses; prices moved less than 1%.']
    """
    oracles = oracles or {}
    ev = events[events["step"].to_numpy() == step]
    kind = ev["kind"]
    parts: _Sentences = []
    parts += _price_moves(ev[kind == "price_shock"])
    parts += _each(ev[kind == "pool_manipulation"])
    parts += _oracle_updates(ev[kind == "oracle_update"], oracles)
    parts += _lending_liquidations(ev[kind == "liquidation"], events, series, step)
    parts += _perp_liquidations(ev[kind == "perp_liquidation"], events)
    parts += _per_venue(ev[kind == "token_sale"], _token_sales)
    parts += _per_venue(ev[kind == "withdrawal"], _withdrawals)
    for k in ("asset_writedown", "withdrawal_freeze", "loan_recall", "default", "token_crash",
              "collateral_loss", "loan_loss"):
        parts += _each(ev[kind == k])
    liq = ev[kind.isin(["liquidation", "perp_liquidation"])]
    last_liq = {str(k): float(v) for k, v in liq.groupby("venue")["event_id"].max().items()}
    for k, say, by, offset in (("bad_debt", _bad_debt, "venue", 0.1),
                               ("fund_draw", _fund_draw, "agent", 0.2),
                               ("socialised_loss", _socialised, "venue", 0.4),
                               ("adl", _adl, "venue", 0.5)):
        parts += _per_venue(ev[kind == k], say, by=by, after=last_liq, offset=offset)
    parts += _each(ev[kind == "fund_exhausted"], after=last_liq, offset=0.3)
    parts += _top_ups(ev[kind == "margin_topup"])
    parts.sort(key=lambda p: p[0])
    if not any(news for _, _, news in parts):
        calm = f"Step {step}: calm — no liquidations or losses; prices moved less than 1%."
        return [calm] + [text for _, text, _ in parts]
    return [text for _, text, _ in parts]


def default_trace(events: pd.DataFrame, venue: str) -> list[str]:
    """How ``venue`` came to default: one sentence per link, from the first shock on.

    Follows ``cause_id`` from the venue's (first) default back to its exogenous root and
    returns each event's detail prefixed with ``"Step N:"``, root first; ``[]`` if
    ``venue`` never defaulted.

    Examples
    --------
    >>> ev = pd.DataFrame({"event_id": [0, 1, 2], "step": [3, 9, 9],
    ...     "kind": ["price_shock", "default", "loan_loss"], "venue": ["", "Fund", "CEX"],
    ...     "cause_id": [-1, 0, 1], "detail": ["ETH external price 2,000 -> 1,500 (-25%)",
    ...     "Fund defaulted: its assets ($79,086,819) fell below its loans ($80,000,000)", "x"]})
    >>> default_trace(ev, "Fund")  # doctest: +NORMALIZE_WHITESPACE
    ['Step 3: ETH external price 2,000 -> 1,500 (-25%).',
     'Step 9: Fund defaulted: its assets ($79M) fell below its loans ($80M).']
    >>> default_trace(ev, "CEX")
    []
    """
    d = events[(events["kind"] == "default") & (events["venue"] == venue)]
    if d.empty:
        return []
    by_id = events.set_index("event_id")
    lines = []
    for eid in reversed(trace_cause(events, int(d["event_id"].iloc[0]))):
        r = by_id.loc[eid]
        who = next((str(r[c]) for c in ("venue", "agent", "asset") if r.get(c)), "")
        text = (_humanise(str(r.get("detail", "")))
                or _humanise(str(r["kind"]).replace("_", " ") + (f" ({who})" if who else "")))
        lines.append(f"Step {int(r['step'])}: {text}")
    return lines


def node_events(events: pd.DataFrame, node: str) -> pd.DataFrame:
    """The events that concern ``node``, oldest first, columns step, kind, value_usd, detail.

    ``"trader:<id>"`` matches rows whose ``account`` is ``id``; any other name (venue, firm,
    oracle, fund, pool) rows whose ``venue`` or ``agent`` is that name. Cohort nodes have
    no events of their own.

    Examples
    --------
    >>> ev = pd.DataFrame({"step": [2, 1, 3], "kind": ["liquidation", "oracle_update", "adl"],
    ...     "venue": ["LendA", "", "PerpX"], "agent": ["Liquidators", "ETH-feed", ""],
    ...     "account": [7, -1, 8], "value_usd": [10.0, np.nan, 5.0], "detail": ["a", "b", "c"]})
    >>> node_events(ev, "trader:7")[["step", "kind"]].values.tolist()
    [[2, 'liquidation']]
    >>> node_events(ev, "ETH-feed")["kind"].tolist()
    ['oracle_update']
    """
    if node.startswith("trader:"):
        try:
            account = int(node.removeprefix("trader:"))
        except ValueError:
            account = -2  # matches nothing
        rows = events[events["account"] == account]
    elif node.startswith("cohort:"):
        rows = events.iloc[:0]
    else:
        rows = events[(events["venue"] == node) | (events["agent"] == node)]
    return rows.sort_values("step", kind="stable")[_NODE_EVENT_COLUMNS].reset_index(drop=True)
