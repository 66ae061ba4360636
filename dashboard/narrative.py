"""What happened, in words: per-step summaries, default traces and a node's events.

Pure functions over a run's event log and series. :func:`step_narrative` aggregates a
step's events into a few sentences (one per mechanism and venue, never one per account),
ordered by when each mechanism first acted in the step, so cause reads before effect.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from contagion.events import trace_cause

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["default_trace", "format_units", "format_usd", "node_events", "peg_aliases",
           "step_narrative"]

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
    if ev.empty:
        return []
    out: _Sentences = []
    for r in ev[ev["amount"].abs() >= _MINOR_MOVE_FRAC].itertuples():
        asset = r.asset or oracles.get(r.agent, "its asset")
        old = r.price / (1.0 + r.amount) if r.amount > -1 else float("nan")
        why = re.search(r"after its (.+?)(?: \(|$)", r.detail)
        reason = f" after its {why.group(1)}" if why else ""
        name = r.agent if "oracle" in str(r.agent).lower() else f"{r.agent} oracle"
        out.append((int(r.event_id), f"The {name} updated {asset} {_price(old)} -> "
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
    if ev.empty:
        return []
    bites = ev["detail"].astype(str).str.contains("up for auction", regex=False)
    out = _vault_bites(ev[bites], events)
    for (venue, asset), g in ev[~bites].groupby(["venue", "asset"], sort=False):
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
    if ev.empty:
        return []
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
    if ev.empty:
        return []
    after = after or {}
    return [(max(float(g["event_id"].min()), after.get(str(g["venue"].iloc[0]), -1.0) + offset),
             say(str(key), g), True)
            for key, g in ev.groupby(by, sort=False)]


def _each(ev: pd.DataFrame, after: dict[str, float] | None = None, offset: float = 0.0
          ) -> _Sentences:
    """One sentence per event (its detail), ordered like :func:`_per_venue`."""
    if ev.empty:
        return []
    after = after or {}
    return [(max(float(i), after.get(str(v), -1.0) + offset), _humanise(d), True)
            for i, v, d in zip(ev["event_id"], ev["venue"], ev["detail"], strict=True)]


def _bad_debt(venue: str, g: pd.DataFrame) -> str:
    n = int((g["account"] >= 0).sum())
    on = f" on {_plural(n, 'account')}" if n else ""
    why = re.sub(r"\b1 accounts\b", "1 account", str(g["detail"].iloc[0]).strip().rstrip("."))
    why = f" ({_DOLLARS.sub(lambda m: format_usd(float(m.group(1).replace(',', ''))), why)})" if why else ""
    return f"{venue} took {format_usd(g['value_usd'].sum())} of bad debt{on}{why}."


def _fund_draw(fund: str, g: pd.DataFrame) -> str:
    venues = ", ".join(dict.fromkeys(g["venue"]))
    left = re.search(r"(\$[\d,.]+) left", str(g["detail"].iloc[-1]))
    rest = f"; {_humanise(left.group(1)).rstrip('.')} left" if left else ""
    return f"{fund} paid {format_usd(g['value_usd'].sum())} of {venues}'s shortfall{rest}."


def _socialised(venue: str, g: pd.DataFrame) -> str:
    clawed = re.search(r"clawed back \$[\d,.]+ (.*)$", str(g["detail"].iloc[-1]))
    if clawed:
        return (f"{venue} clawed back {format_usd(g['value_usd'].sum())} of losses "
                f"{clawed.group(1).rstrip('.')}.")
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
    detail = str(g["detail"].iloc[-1])
    if "newly minted" in detail:  # a peg's mint/burn arbitrage
        if len(g) == 1:
            return _humanise(f"{venue} {detail.removeprefix('arbitrageurs ')}")
        return (f"{venue} minted {format_units(g['amount'].sum())} {g['asset'].iloc[0]} and "
                f"sold it into {g['agent'].iloc[0]} for {format_usd(g['value_usd'].sum())}.")
    return (f"{venue} sold {format_units(g['amount'].sum())} {g['asset'].iloc[0]} into "
            f"{g['agent'].iloc[0]} for {format_usd(g['value_usd'].sum())}.")


def _top_ups(ev: pd.DataFrame) -> _Sentences:
    if ev.empty:
        return []
    venues = ", ".join(dict.fromkeys(ev["venue"]))
    n = int(np.nansum(ev["amount"].to_numpy(dtype=float)))
    return [(math.inf, f"{_plural(n, 'trader')} on {venues} added margin or repaid debt "
             f"({format_usd(ev['value_usd'].sum())}) to stay clear of liquidation.", False)]


def _names(names: list[str], limit: int = 4) -> str:
    """``"A"``, ``"A and B"``, ``"A, B, C and 4 more"``."""
    names = list(dict.fromkeys(names))
    if len(names) > limit:
        return ", ".join(names[:limit - 1]) + f" and {len(names) - limit + 1} more"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _first(pattern: str, text: object, default: str = "") -> str:
    m = re.search(pattern, str(text))
    return m.group(1) if m else default


def _key(g: pd.DataFrame) -> float:
    return float(g["event_id"].min())


def _vault_bites(ev: pd.DataFrame, events: pd.DataFrame) -> _Sentences:
    """Auction-mode liquidations (Maker's bite): vaults closed whole, collateral auctioned."""
    if ev.empty:
        return []
    out: _Sentences = []
    for (venue, asset), g in ev.groupby(["venue", "asset"], sort=False):
        n = int(g["account"].nunique())
        detail = str(g["detail"].iloc[0])
        ratio = _first(r"below (\d+%)", detail)
        penalty = _first(r"plus an? (\d+%) penalty", detail)
        out.append((_key(g), f"{_plural(n, 'vault')} on {venue} fell below "
                    f"{ratio + ' ' if ratio else 'the minimum '}collateral{_trigger(events, g)}: "
                    f"{venue} closed {'it' if n == 1 else 'them'} and put "
                    f"{format_units(g['amount'].sum())} {asset} up for auction against "
                    f"{format_usd(g['value_usd'].sum())} of debt"
                    f"{f' plus a {penalty} penalty' if penalty else ''}.", True))
    return out


def _auctions(venue: str, g: pd.DataFrame) -> str:
    less = _first(r"value less (\d+%)", g["detail"].iloc[0])
    return (f"{_plural(len(g), 'auction')} on {venue} cleared with keepers competing: they paid "
            f"{format_usd(g['value_usd'].sum())} for {format_units(g['amount'].sum())} "
            f"{g['asset'].iloc[0]}{f' (its value less {less})' if less else ''}, and the debt "
            "and penalty were repaid.")


def _zero_bids(ev: pd.DataFrame, series: pd.DataFrame, step: int) -> _Sentences:
    if ev.empty:
        return []
    out: _Sentences = []
    for (venue, asset), g in ev.groupby(["venue", "asset"], sort=False):
        units, paid = float(g["amount"].sum()), float(g["value_usd"].sum())
        price = _series_value(series, step, f"price_{asset}")
        worth = (f" (worth about {format_usd(units * price)} at the market price)"
                 if price is not None else "")
        why = _first(r"\((gas [^)]*)\)", g["detail"].iloc[-1])
        out.append((_key(g), f"{_plural(len(g), 'lot')} on {venue} went to a lone keeper for "
                    f"{'nothing' if paid <= 0 else format_usd(paid)}"
                    f"{f' ({why})' if why else ''}: {format_units(units)} {asset}{worth}; "
                    "the owners lost the collateral and the debt went unpaid.", True))
    return out


def _keeper_dropouts(agent: str, g: pd.DataFrame) -> str:
    last = str(g["detail"].iloc[-1])
    total, left = _first(r" of (\d+) stops", last), _first(r"(\d+ keepers?) left", last)
    gas = _first(r"gas \$([\d,.]+) a bid", last)
    who = f"{len(g)} of the {total} {agent}" if total else f"{len(g)} {agent}"
    pays = "its bot pays" if len(g) == 1 else "their bots pay"
    why = f": gas at {format_usd(float(gas.replace(',', '')))} a bid is more than {pays}" if gas else ""
    return f"{who} stopped bidding{why}{f'; {left} left' if left else ''}."


def _liquidity_shocks(agent: str, g: pd.DataFrame) -> str:
    if len(g) == 1:
        return _humanise(str(g["detail"].iloc[0]))
    drops = g["amount"].abs()
    assets = [str(a) for a in g["asset"]]
    how = (f"fell {drops.iloc[0]:.0%} for {_names(assets, limit=len(assets))}"
           if drops.nunique() == 1 else
           "fell: " + ", ".join(f"{a} {d:.0%}" for a, d in zip(assets, drops, strict=True)))
    span = _first(r"for (\d+ steps, recovering over \d+)", g["detail"].iloc[0])
    return (f"Market makers pulled their quotes ({agent}): order-book depth {how}"
            f"{f' for {span}' if span else ''}; the pools' arbitrage capacity fell alike.")


def _asset_sales(ev: pd.DataFrame) -> _Sentences:
    if ev.empty:
        return []
    out: _Sentences = []
    for (venue, asset, where), g in ev.groupby(["venue", "asset", "agent"], sort=False):
        units, usd = float(g["amount"].sum()), float(g["value_usd"].sum())
        why = _first(r"\) (to [^()]+)$", g["detail"].iloc[-1])
        each = f" (about {format_usd(usd / units)} each)" if units > 0 else ""
        out.append((_key(g), f"{venue} fire-sold {format_units(units)} {asset} into {where} for "
                    f"{format_usd(usd)}{each}{f' {why}' if why else ''}.", True))
    return out


def _reserve_purchases(agent: str, g: pd.DataFrame) -> str:
    """A peg's reserve buying its stablecoin below the peg (logged as ``fund_draw``)."""
    last = str(g["detail"].iloc[-1])
    pool = _first(r" in (\S+) to defend", last)
    spot, left = _first(r"spot now ([\d.]+)", last), _first(r"(\$[\d,.]+) left", last)
    rest = "; ".join(x for x in (f"spot now {spot}" if spot else "",
                                 f"{_humanise(left).rstrip('.')} left" if left else "") if x)
    return (f"{agent} bought {format_units(g['amount'].sum())} {g['asset'].iloc[0]} for "
            f"{format_usd(g['value_usd'].sum())}{f' in {pool}' if pool else ''} to defend the "
            f"peg{f' ({rest})' if rest else ''}.")


def _depositor_exits(venue: str, g: pd.DataFrame) -> str:
    """A yield venue's depositors leaving and selling the stablecoin into its pool."""
    new = g[g["account"] >= 0]
    rest = g[g["account"] < 0]
    n = len(new) + sum(int(_first(r"^(\d+) depositors", d, "0")) for d in rest["detail"])
    asset, pool = g["asset"].iloc[0], g["agent"].iloc[0]
    notes = []
    depeg = _first(r"depeg of ([\d.]+%)", new["detail"].iloc[0]) if len(new) else ""
    if depeg:
        notes.append(f"{len(new):,} started to leave at a depeg of {depeg}")
    spot = _first(r"spot now ([\d.]+)", g["detail"].iloc[-1])
    if spot:
        notes.append(f"{asset} spot now {spot}")
    return (f"{_plural(n, 'depositor')} of {venue} withdrew {format_units(g['amount'].sum())} "
            f"{asset} and sold it into {pool} for {format_usd(g['value_usd'].sum())}"
            f"{' (' + '; '.join(notes) + ')' if notes else ''}.")


def _withdrawals_by_kind(ev: pd.DataFrame) -> _Sentences:
    """Custodial depositors' withdrawals, a yield venue's depositors selling into a pool, and
    withdrawals by a named agent (an attacker), each in its own words."""
    if ev.empty:
        return []
    selling = ev["detail"].astype(str).str.contains(r"depositors of .* selling into", regex=True)
    named = (ev["agent"].fillna("").astype(str) != "") & ~selling
    out = _per_venue(ev[~selling & ~named], _withdrawals)
    out += _per_venue(ev[selling], _depositor_exits)
    for (venue, agent), g in ev[named].groupby(["venue", "agent"], sort=False):
        text = (_humanise(str(g["detail"].iloc[0])) if len(g) == 1 else
                f"{agent if str(agent)[:1].isupper() else f'The {agent}'} withdrew "
                f"{format_usd(g['value_usd'].sum())} from {venue} in {len(g)} withdrawals.")
        out.append((_key(g), text, True))
    return out


def _loan_losses(ev: pd.DataFrame) -> _Sentences:
    """Loans impaired by a borrower's default, per borrower (one sentence when many default)."""
    if ev.empty:
        return []
    groups = list(ev.groupby("agent", sort=False))
    if len(groups) > 3:
        return [(_key(ev), f"The defaults of {_names([str(b) for b, _ in groups])} impaired "
                 f"{_plural(len(ev), 'loan')} ({format_usd(ev['value_usd'].sum())} in all) held "
                 f"by {_plural(ev['venue'].nunique(), 'lender')}.", True)]
    out: _Sentences = []
    for borrower, g in groups:
        if len(g) == 1:
            out.append((_key(g), _humanise(str(g["detail"].iloc[0])), True))
            continue
        lenders = [f"{v} {format_usd(u)}" for v, u in zip(g["venue"], g["value_usd"], strict=True)]
        out.append((_key(g), f"The default of {borrower} impaired the loans of "
                    f"{_plural(len(g), 'lender')} ({format_usd(g['value_usd'].sum())} in all: "
                    f"{_names(lenders)}).", True))
    return out


def _share(rate: float) -> str:
    """A recovery rate as a percentage that never rounds a loss away (99.5% is not 100%)."""
    text = f"{rate:.0%}"
    return f"{rate:.1%}" if (text == "100%" and rate < 1) or (text == "0%" and rate > 0) else text


def _depositor_losses(ev: pd.DataFrame, events: pd.DataFrame) -> _Sentences:
    """What a defaulted institution's depositors can expect back (``collateral_loss``); the
    cross-margin consequence only where the log shows one (an event caused by the loss)."""
    if ev.empty:
        return []
    caused = np.isin(ev["event_id"].to_numpy(), events["cause_id"].to_numpy())
    tail = "; accounts elsewhere that counted those balances as collateral lose the same share"
    if len(ev) > 3:
        lo, hi = float(ev["amount"].min()), float(ev["amount"].max())
        share = _share(lo) if _share(lo) == _share(hi) else f"{_share(lo)}-{_share(hi)}"
        return [(_key(ev), f"Depositors of {_names(list(ev['venue']))} can expect {share} of "
                 f"their balances back ({format_usd(ev['value_usd'].sum())} lost in all)"
                 f"{tail if caused.any() else ''}.", True)]
    return [(float(i), f"Depositors of {v} can expect {_share(a)} of their balances back "
             f"({format_usd(u)} lost){tail if c else ''}.", True)
            for i, v, a, u, c in zip(ev["event_id"], ev["venue"], ev["amount"], ev["value_usd"],
                                     caused, strict=True)]


def _each_or_all(ev: pd.DataFrame, say_all: Callable[[pd.DataFrame], str]) -> _Sentences:
    """One sentence per event (its detail) for up to three events, else one for them all."""
    if len(ev) <= 3:
        return _each(ev)
    return [(_key(ev), say_all(ev), True)]


def _defaults(ev: pd.DataFrame) -> str:
    """Many defaults in one step: their names, and their reason when they share it."""
    reasons = set()
    for venue, detail in zip(ev["venue"].astype(str), ev["detail"].astype(str), strict=True):
        reason = detail.split(": ", 1)[-1]
        reasons.add("each " + reason.removeprefix(venue + " ") if reason.startswith(venue + " ")
                    else reason)
    why = f": {reasons.pop()}" if len(reasons) == 1 else ""
    return f"{len(ev):,} institutions defaulted ({_names(list(ev['venue']))}){why}."


def _freezes(ev: pd.DataFrame) -> str:
    return f"{len(ev):,} institutions froze withdrawals: {_names(list(ev['venue']))}."


def _writedowns(ev: pd.DataFrame) -> str:
    return (f"{len(ev):,} institutions wrote off external assets "
            f"({format_usd(ev['value_usd'].sum())} in all): {_names(list(ev['venue']))}.")


def _other_events(ev: pd.DataFrame) -> _Sentences:
    """Kinds no builder knows (a future mechanism): their details when few, else a count and
    total per kind and venue."""
    if ev.empty:
        return []
    out: _Sentences = []
    for (kind, venue), g in ev.groupby(["kind", "venue"], sort=False):
        details = [str(d) for d in g["detail"] if str(d).strip()]
        if len(g) <= 2 and len(details) == len(g):
            out += _each(g)
            continue
        agent = next((str(a) for a in g["agent"] if str(a)), "")
        where = f" at {venue}" if venue else (f" ({agent})" if agent else "")
        total = float(np.nansum(g["value_usd"].to_numpy(dtype=float)))
        usd = f", {format_usd(total)} in all" if total > 0 else ""
        words = str(kind).replace("_", " ") + " event"
        out.append((_key(g), f"{_plural(len(g), words)}{where}{usd}.", True))
    return out


#: Kinds with a builder in :func:`step_narrative`; any other kind is told by _other_events.
_TOLD = frozenset({
    "price_shock", "pool_manipulation", "oracle_update", "liquidation", "perp_liquidation",
    "bad_debt", "fund_draw", "fund_exhausted", "adl", "socialised_loss", "margin_topup",
    "withdrawal", "withdrawal_freeze", "token_sale", "asset_sale", "loan_recall", "loan_loss",
    "default", "token_crash", "collateral_loss", "liquidity_shock", "gas_spike",
    "keeper_dropout", "auction", "zero_bid", "asset_writedown",
})


def step_narrative(events: pd.DataFrame, series: pd.DataFrame, step: int, *,
                   oracles: dict[str, str] | None = None) -> list[str]:
    """A few sentences on what happened at ``step`` and why, aggregated per venue.

    Covers exogenous price moves and oracle updates of at least 1%, order-book depth
    collapses, pool manipulation, gas spikes and keepers dropping out, lending liquidations
    per venue and asset (accounts, debt repaid, units seized, the pool's move that step from
    ``impact_<pool>``; in auction mode the vaults bitten), collateral auctions and zero-bid
    lots, perp liquidations per venue (count, notional, longs and shorts), token and asset
    sales, a peg's reserve purchases and mint/burn arbitrage, withdrawals (custodial
    depositors, a yield venue's depositors selling into its pool, or a named agent such as
    an attacker) and freezes, write-downs, loan recalls and losses, defaults with their
    reason, token crashes, depositors' losses, bad debt, fund draws and exhaustion,
    socialised losses, ADL and margin top-ups. Kinds that occur many times in a step
    (defaults, freezes, loan losses of an interbank cascade) are summed up in one sentence.
    Any other event kind is still told: its details when there are one or two, else a
    count and total per venue. A step with none of these but top-ups, heartbeats and small
    moves gets one sentence starting ``"Step N: calm"`` (plus the top-ups, if any).

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
    groups = {str(k): g for k, g in ev.groupby("kind", sort=False)}
    empty = ev.iloc[:0]

    def of(kind: str) -> pd.DataFrame:
        return groups.get(kind, empty)

    draws = of("fund_draw")
    peg_buys = draws["detail"].astype(str).str.contains("defend the peg", regex=False)
    parts: _Sentences = []
    parts += _price_moves(of("price_shock"))
    parts += _per_venue(of("liquidity_shock"), _liquidity_shocks, by="agent")
    parts += _each(of("pool_manipulation"))
    parts += _each(of("gas_spike"))
    parts += _per_venue(of("keeper_dropout"), _keeper_dropouts, by="agent")
    parts += _oracle_updates(of("oracle_update"), oracles)
    parts += _lending_liquidations(of("liquidation"), events, series, step)
    parts += _per_venue(of("auction"), _auctions)
    parts += _zero_bids(of("zero_bid"), series, step)
    parts += _perp_liquidations(of("perp_liquidation"), events)
    parts += _per_venue(draws[peg_buys], _reserve_purchases, by="agent")
    parts += _per_venue(of("token_sale"), _token_sales)
    parts += _asset_sales(of("asset_sale"))
    parts += _withdrawals_by_kind(of("withdrawal"))
    parts += _each_or_all(of("asset_writedown"), _writedowns)
    parts += _each_or_all(of("withdrawal_freeze"), _freezes)
    parts += _each(of("loan_recall"))
    parts += _each_or_all(of("default"), _defaults)
    parts += _each(of("token_crash"))
    parts += _depositor_losses(of("collateral_loss"), events)
    parts += _loan_losses(of("loan_loss"))
    liq = pd.concat([of("liquidation"), of("perp_liquidation")])
    last_liq = {str(k): float(v) for k, v in liq.groupby("venue")["event_id"].max().items()}
    for rows, say, by, offset in ((of("bad_debt"), _bad_debt, "venue", 0.1),
                                  (draws[~peg_buys], _fund_draw, "agent", 0.2),
                                  (of("socialised_loss"), _socialised, "venue", 0.4),
                                  (of("adl"), _adl, "venue", 0.5)):
        parts += _per_venue(rows, say, by=by, after=last_liq, offset=offset)
    parts += _each(of("fund_exhausted"), after=last_liq, offset=0.3)
    parts += _top_ups(of("margin_topup"))
    parts += _other_events(pd.concat([g for k, g in groups.items() if k not in _TOLD] or [empty]))
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


def peg_aliases(network: nx.MultiDiGraph) -> dict[str, str]:
    """Event ``venue`` names that stand for a peg node: its arbitrage (``"<peg>
    arbitrageurs"``) and its reserve's defence (``"the <stable> peg"``), mapped to the node.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.MultiDiGraph()
    >>> G.add_node("Terra", kind="peg", stable="UST")
    >>> G.add_node("Anchor", kind="yield_venue")
    >>> peg_aliases(G)
    {'Terra arbitrageurs': 'Terra', 'the UST peg': 'Terra'}
    """
    out: dict[str, str] = {}
    for n, d in network.nodes(data=True):
        if d.get("kind") == "peg":
            out[f"{n} arbitrageurs"] = str(n)
            if d.get("stable"):
                out[f"the {d['stable']} peg"] = str(n)
    return out


def node_events(events: pd.DataFrame, node: str, *, network: nx.MultiDiGraph | None = None
                ) -> pd.DataFrame:
    """The events that concern ``node``, oldest first, columns step, kind, value_usd, detail.

    ``"trader:<id>"`` matches rows whose ``account`` is ``id``; any other name (venue, firm,
    oracle, fund, pool) rows whose ``venue`` or ``agent`` is that name. A peg's events name
    it by its aliases (:func:`peg_aliases`), so they are found only when the run's
    ``network`` is given. Cohort nodes have no events of their own.

    Examples
    --------
    >>> ev = pd.DataFrame({"step": [2, 1, 3], "kind": ["liquidation", "oracle_update", "adl"],
    ...     "venue": ["LendA", "", "PerpX"], "agent": ["Liquidators", "ETH-feed", ""],
    ...     "account": [7, -1, 8], "value_usd": [10.0, np.nan, 5.0], "detail": ["a", "b", "c"]})
    >>> node_events(ev, "trader:7")[["step", "kind"]].values.tolist()
    [[2, 'liquidation']]
    >>> node_events(ev, "ETH-feed")["kind"].tolist()
    ['oracle_update']
    >>> import networkx as nx
    >>> G = nx.MultiDiGraph()
    >>> G.add_node("Terra", kind="peg", stable="UST")
    >>> ev = pd.DataFrame({"step": [1, 2], "kind": ["fund_draw", "token_sale"],
    ...     "venue": ["the UST peg", "Terra arbitrageurs"], "agent": ["Terra reserve", "LUNA/USDC"],
    ...     "account": [-1, -1], "value_usd": [5.0, 3.0], "detail": ["d", "e"]})
    >>> node_events(ev, "Terra", network=G)["kind"].tolist()
    ['fund_draw', 'token_sale']
    >>> node_events(ev, "Terra reserve", network=G)["kind"].tolist()
    ['fund_draw']
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
        aliases = peg_aliases(network) if network is not None else {}
        venues = {node, *(alias for alias, peg in aliases.items() if peg == node)}
        rows = events[events["venue"].isin(venues) | (events["agent"] == node)]
    return rows.sort_values("step", kind="stable")[_NODE_EVENT_COLUMNS].reset_index(drop=True)
