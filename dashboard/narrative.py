"""What happened, in words: per-step summaries, default traces and a node's events.

Pure functions over a run's event log and series. :func:`step_narrative` aggregates a
step's events into a few sentences (one per mechanism and venue, never one per account),
ordered by when each mechanism first acted in the step, so cause reads before effect.

Every number and name comes from the events' columns and typed fields
(:data:`contagion.events.EVENT_FIELDS`); an event's ``detail`` is shown as written only for
a kind this module does not know, never parsed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from contagion.events import COLUMN_DEFAULTS, EVENT_COLUMNS, trace_cause

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["default_trace", "format_units", "format_usd", "node_events", "peg_aliases",
           "step_narrative"]

_MINOR_MOVE_FRAC = 0.01  # price and oracle moves smaller than this are not news
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


def _sentence(text: str) -> str:
    """Capitalised and ending in a full stop (``""`` stays empty).

    >>> _sentence("depositors withdrew $1.2M from CEX")
    'Depositors withdrew $1.2M from CEX.'
    """
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _usd(x: float) -> str:
    """A whole-dollar amount of the engine, for people (:func:`format_usd` of it)."""
    return format_usd(float(f"{float(x):.0f}")) if math.isfinite(x) else "n/a"


def _usd4(x: float) -> str:
    """A price in dollars to four significant figures, for people."""
    return format_usd(float(f"{float(x):.4g}")) if math.isfinite(x) else "n/a"


def _g4(x: float) -> str:
    """A number to four significant figures (``1,700``, ``0.3531``, ``350,100`` not
    ``3.501e+05``).

    >>> _g4(1700.4), _g4(0.35312), _g4(350_123.0)
    ('1,700', '0.3531', '350,100')
    """
    text = f"{float(x):,.4g}"
    return format_units(float(text)) if "e" in text else text


def _with_fields(events: pd.DataFrame) -> pd.DataFrame:
    """``events`` with every column of the event log (blank where a hand-made frame has
    none of it)."""
    missing = [c for c in EVENT_COLUMNS if c not in events.columns]
    if not missing:
        return events
    blank = pd.DataFrame({c: [COLUMN_DEFAULTS[c]] * len(events) for c in missing},
                         index=events.index)
    return pd.concat([events, blank], axis=1)  # one block, not one insert per column


# One event's sentence, per kind, from its columns and fields (the record of a row).
_Row = Mapping[str, Any]

_DEFAULT_REASONS = {
    "run": "{v} ran out of liquid assets in a run",
    "insolvent": "{v} was insolvent after its losses",
    "missed_recall": "{v} missed a loan recall",
    "unsettled_transfers": "{v} failed to settle transfers",
    "assets_below_loans": "{v}'s assets ({assets}) fell below its loans ({loans})",
    "bad_debt": "{v}'s losses exceeded its reserves and insurance fund",
    "lost_transfers": "{v} could not cover {shortfall} of lost transfers",
    "uncovered_shortfall": "{v} could not cover {shortfall} of shortfall",
    "missed_margin_call": "{v} could not pay {shortfall} of variation margin at its clearing house",
    "missed_assessment": "{v} could not pay {shortfall} of its clearing house's assessment",
}


def _default_reason(r: _Row) -> str:
    """Why a venue defaulted, in words (``"CEX ran out of liquid assets in a run"``)."""
    text = _DEFAULT_REASONS.get(str(r["reason"]), "{v} defaulted")
    return text.format(v=r["venue"], assets=_usd(r["assets_usd"]),
                       loans=_usd(r["liabilities_usd"]), shortfall=_usd(r["shortfall_usd"]))


def _bad_debt_reason(r: _Row) -> str:
    v, reason = r["venue"], r["reason"]
    if reason == "below_bankruptcy":
        return f"{_plural(int(r['accounts']), 'account')} on {v} closed below their bankruptcy price"
    if reason == "unsettled_transfers":
        return f"{_usd(r['value_usd'])} of cross-margin transfers to {v} never settled"
    if reason == "auction_shortfall":
        return (f"the auction raised less than the vault's debt at {v}; the shortfall is the "
                "protocol's bad debt")
    return f"collateral exhausted at {v}; debt written off"


def _say_price_shock(r: _Row) -> str:
    a, moved = r["asset"], f"{_g4(r['price_before'])} -> {_g4(r['price'])}"
    if r["path"] == "basis":
        return (f"{a}/{r['underlying']} ratio {r['ratio_before']:.4f} -> {r['ratio_after']:.4f} "
                f"({r['amount']:+.2%}, exogenous basis path): {a} {moved}")
    return f"{a} external price {moved} ({r['amount']:+.2%}, exogenous path)"


def _say_manipulation(r: _Row) -> str:
    how = "bought" if r["direction"] == "pump" else "sold"
    return (f"{r['actor']} {how} {_usd(r['value_usd'])} of {r['asset']} in {r['agent']}, moving "
            f"its spot {r['amount']:+.1%} to {_g4(r['price'])}")


_ORACLE_TRIGGERS = {"deviation": "deviation threshold", "heartbeat": "heartbeat"}


def _say_oracle(r: _Row) -> str:
    why = _ORACLE_TRIGGERS.get(str(r["trigger"]), str(r["trigger"]))
    return (f"{r['agent']} updated {r['asset']} {_g4(r['price_before'])} -> {_g4(r['price'])} "
            f"({r['amount']:+.2%}) after its {why} (source {r['source']}, {r['delay_steps']} "
            "steps late)")


def _say_liquidation(r: _Row) -> str:
    v, a = r["venue"], r["asset"]
    if r["mode"] == "auction":
        return (f"collateral below {r['min_collateral_ratio']:.0%} of the debt at the oracle "
                f"price: {v} closed the vault and put its {a} up for auction for the debt plus "
                f"a {r['penalty_frac']:.0%} penalty")
    held = r.get("leftover_shrunk_usd")
    rule = ""
    if held is not None and held == held and held > 0:
        rule = f"; {_usd(held)} left unrepaid to keep v3.3's minimum leftover"
    return (f"HF < 1 at {v}; {r['counterparty']} repaid debt and seized {a} (bonus "
            f"{r['bonus_frac']:.1%}), selling {_g4(r['units_sold'])} into {r['sold_into']}"
            f"{rule}")


def _say_perp_liquidation(r: _Row) -> str:
    return (f"equity below maintenance margin ({r['mmr_frac']:.2%}) at {r['venue']}; position "
            f"closed into the book (slippage {r['slippage_frac']:.2%})")


def _say_fund_draw(r: _Row) -> str:
    left = _usd(r["balance_after_usd"])
    if r["purpose"] == "peg_defence":
        return (f"{r['peg']}'s reserve bought {r['amount']:,.0f} {r['asset']} for "
                f"{_usd(r['value_usd'])} in {r['pool']} to defend the peg (spot now "
                f"{r['spot_after']:.4f}); {left} left")
    return (f"{r['fund']} paid {_usd(r['value_usd'])} of {r['venue']}'s "
            f"{_usd(r['shortfall_usd'])} shortfall; {left} left")


def _say_fund_exhausted(r: _Row) -> str:
    if r["purpose"] == "peg_defence":
        return (f"{r['peg']}'s reserve is spent ({_usd(r['value_usd'])} in all): nothing but "
                "mint/burn arbitrage defends the peg now")
    return (f"{r['fund']} is exhausted: {_usd(r['value_usd'])} of {r['venue']}'s shortfall is "
            "left to socialise")


def _say_socialised(r: _Row) -> str:
    h = float(r["haircut_frac"])
    if r["policy"] == "clawback":
        return (f"{r['venue']} clawed back {_usd(r['value_usd'])} pro rata from accounts in "
                f"profit (haircut {h:.2%})")
    if not math.isfinite(h):
        return ""
    return f"{r['venue']} socialised {_usd(r['value_usd'])} to its suppliers (haircut {h:.2%})"


_TOPUPS = {"repay_debt": "repaid debt to lift their health factor",
           "add_margin": "added margin to stay above maintenance"}


def _say_topup(r: _Row) -> str:
    what = _TOPUPS.get(str(r["action"]), "topped up")
    return f"{r['accounts']} traders on {r['venue']} {what} ({_usd(r['value_usd'])})"


def _say_withdrawal(r: _Row) -> str:
    v, a = r["venue"], r["asset"]
    if r["reason"] == "depeg_exit":
        how = (f"started to leave at a depeg of {r['depeg_frac']:.2%}, selling"
               if r["phase"] == "start" else "already leaving kept selling")
        return (f"{r['depositors']} depositors of {v} {how} into {r['selling_into']} (step "
                f"total {r['step_units']:,.0f} {a} for {_usd(r['step_usd'])}; {a} spot now "
                f"{r['spot_after']:.4f})")
    if r["reason"] == "lender_run":
        why = {"bad_debt": "its bad debt", "depeg": f"the {a} depeg"}.get(str(r["trigger"]),
                                                                        "its utilisation")
        return (f"suppliers running on {v} over {why} withdrew {_usd(r['value_usd'])} "
                f"({r['leaving_frac']:.0%} of its outside supply leaving; utilisation now "
                f"{r['utilisation']:.1%}, borrow rate {r['borrow_rate']:.1%} a year; "
                f"{_usd(r['queued_usd'])} still to come out)")
    if r["reason"] == "exploit":
        return (f"the {r['agent']} withdrew {_usd(r['value_usd'])} from {v}, its account "
                f"holding an unrealised PnL of {_usd(r['upnl_usd'])} at mark {_g4(r['price'])}; "
                f"{_usd(r['free_cash_after_usd'])} of the venue's free cash left")
    return (f"depositors withdrew {_usd(r['value_usd'])} from {v} (stress {r['stress']:.0%}, "
            f"reserve ratio {r['reserve_ratio']:.2f})")


def _say_freeze(r: _Row) -> str:
    v, owed = r["venue"], _usd(r["value_usd"])
    if r["reason"] == "insolvent":
        return (f"{v} froze withdrawals: its losses left {_usd(r['assets_usd'])} of assets "
                f"against {_usd(r['liabilities_usd'])} of liabilities")
    if r["reason"] == "missed_recall":
        return f"{v} could not repay {owed} recalled by {r['lender']}"
    if r["reason"] == "unsettled_transfers":
        return f"{v} could not settle {owed} of cross-margin transfers"
    if r["reason"] == "awaiting_settlement":
        return (f"{v} could not pay {owed} of withdrawals and froze them until the "
                f"{_usd(r['pending_usd'])} of loans it recalled settle at step {r['due_step']}")
    if r["reason"] == "full_utilisation":
        return (f"{v} has lent out all its cash (utilisation {r['utilisation']:.0%}): {owed} "
                f"of suppliers' withdrawals wait ({_usd(r['queued_usd'])} queued) until "
                f"borrowers repay or are liquidated; its borrow rate is "
                f"{r['borrow_rate']:.1%} a year")
    return f"{v} could not pay {owed} of withdrawals and froze them"


_SETTLED = {"loan_recall": "loan it had recalled",
            "margin_transfer": "cross-margin transfer"}


def _say_settlement_failed(r: _Row) -> str:
    """A settlement that did not arrive: the payee's loss and whether the payer's default fell
    inside the window."""
    what = _SETTLED.get(str(r["settlement_kind"]), "settlement")
    head = (f"{r['payee']} did not receive {_usd(r['unpaid_usd'])} of the {_usd(r['amount'])} "
            f"{what} promised at step {r['opened_step']} and due at step {r['due_step']}")
    why = (f"{r['payer']} defaulted at step {r['payer_default_step']}, inside the settlement "
           f"window" if int(r["in_window"]) else f"{r['payer']} could not pay")
    return (f"{head}: {why}; at a {float(r['recovery_rate']):.0%} recovery it loses "
            f"{_usd(r['loss_usd'])}")


def _say_solvency_proof(r: _Row) -> str:
    """A published proof: what it showed, what depositors compare, and the truth behind it."""
    kind = ("a reserves-only attestation" if r["proof_kind"] == "reserves"
            else "a proof of reserves and liabilities")
    tail = ""
    if r["proof_kind"] == "reserves" and float(r["hidden_usd"]) + float(r["borrowed_usd"]) > 0:
        tail = (f"; it leaves out {_usd(r['hidden_usd'])} of customer balances and counts "
                f"{_usd(r['borrowed_usd'])} borrowed for the snapshot")
    mood = "reassures" if float(r["published_ratio"]) >= 1 else "alarms"
    return (f"{r['venue']} published {kind} of step {r['snapshot_step']}: "
            f"{_usd(r['reserves_usd'])} of reserves against {_usd(r['liabilities_shown_usd'])} "
            f"of liabilities shown, a ratio of {float(r['published_ratio']):.2f} (true "
            f"{float(r['true_ratio']):.2f}){tail}; it {mood} its depositors")


def _say_token_sale(r: _Row, who: str = "arbitrageurs") -> str:
    a = r["asset"]
    if r["purpose"] == "burn_arbitrage":
        return (f"{who} bought {r['burned_units']:,.0f} {r['burned_asset']} at "
                f"{r['burn_price']:.4f} in {r['burn_pool']}, burned it for {_g4(r['amount'])} "
                f"newly minted {a} (at {_usd4(r['token_price'])}) and sold that into "
                f"{r['agent']} ({a} spot now {_g4(r['spot_after'])}; supply "
                f"{_g4(r['supply_after'])})")
    if r["purpose"] == "mint_arbitrage":
        return (f"{who} burned {_g4(r['burned_units'])} {r['burned_asset']} for "
                f"{r['amount']:,.0f} newly minted {a} and sold it into {r['agent']} ({a} spot "
                f"now {r['spot_after']:.4f})")
    return (f"{r['venue']} sold {r['amount']:,.0f} of its own token into {r['agent']} for "
            f"{_usd(r['value_usd'])}")


def _say_asset_sale(r: _Row) -> str:
    why = ("to pay withdrawals" if r["purpose"] == "withdrawals" else
           f"in its default liquidation (with the proceeds its depositors recover "
           f"{r['recovery_rate']:.0%})")
    return (f"{r['venue']} fire-sold {r['amount']:,.0f} {r['asset']} into {r['agent']} for "
            f"{_usd(r['value_usd'])} ({_usd4(r['price'])} each) {why}")


def _say_loan_loss(r: _Row) -> str:
    if r["reason"] == "missed_recall":
        return f"{r['agent']} could not repay {_usd(r['value_usd'])} recalled by {r['venue']}"
    return f"{r['venue']}'s {_usd(r['value_usd'])} loan to {r['agent']} is impaired by its default"


def _say_collateral_loss(r: _Row) -> str:
    crossed = str(r["cross_margined_at"])
    tail = (f"; cross-margined accounts at {crossed} count those balances as collateral and "
            "lose the same share" if crossed else "")
    return (f"depositors of {r['venue']} can expect {r['recovery_rate']:.0%} of their balances "
            f"back ({_usd(r['value_usd'])} lost){tail}")


def _say_liquidity_shock(r: _Row) -> str:
    return (f"{r['asset']} order-book depth fell {-r['amount']:.0%} (external depth "
            f"{_usd(r['depth_before_usd'])} -> {_usd(r['depth_after_usd'])}) for "
            f"{r['duration_steps']} steps, recovering over {r['recovery_steps']}; its pools' "
            "arbitrage capacity fell alike")


def _say_gas(r: _Row) -> str:
    if r["phase"] == "spike":
        return (f"network congestion: gas x{r['amount']:g}, a liquidation or auction bid now "
                f"costs {_usd(r['value_usd'])} in gas (normally {_usd(r['normal_gas_cost_usd'])})")
    return (f"gas back to x{r['amount']:g} ({_usd(r['value_usd'])} a bid): "
            f"{r['keepers_active']} of {r['keepers']} keepers bid again")


def _say_dropout(r: _Row) -> str:
    left = int(r["keepers_left"])
    return (f"keeper {r['keeper']} of {r['keepers']} stops bidding: gas "
            f"{_usd(r['gas_cost_usd'])} a bid exceeds what its bot pays ({_usd(r['value_usd'])}, "
            f"x{r['tolerance']:g} normal); {_plural(left, 'keeper')} left")


def _say_auction(r: _Row) -> str:
    return (f"{r['bidders']} keepers bid: the {r['asset']} lot cleared at its value less "
            f"{r['discount_frac']:.0%}; the debt and penalty are repaid and the collateral left "
            "over goes back to the owner")


def _say_zero_bid(r: _Row) -> str:
    return (f"a lone keeper bid ({_gas_priced_out(r)}): he won the {r['asset']} lot for "
            f"{r['lone_bid_frac']:.0%} of its value; the owner lost the collateral and the debt "
            "went unpaid")


def _gas_priced_out(r: _Row) -> str:
    return f"gas x{r['gas_multiple']:g} priced out {r['keepers_priced_out']} of {r['keepers']}"


def _say_lp_withdrawal(r: _Row) -> str:
    return (f"LPs pulled {r['liquidity_frac']:.0%} of {r['agent']}'s in-range liquidity "
            f"({format_units(r['base_units'])} {r['asset']} and {_usd(r['quote_usd'])}) with "
            f"{r['asset']} {r['drawdown_frac']:.0%} below its start, leaving "
            f"{r['liquidity_left_frac']:.0%} of the starting depth at the price")


def _say_option_liquidation(r: _Row) -> str:
    side = "long" if float(r["amount"]) > 0 else "short"
    return (f"equity below portfolio margin at {r['venue']}: its {side} {_price(r['strike'])} "
            f"{r['asset']} {r['option_kind']}s were closed against the market makers at "
            f"{_price(r['price'])} each (rank {r['rank']} of its legs, "
            f"{_usd(r['risk_contribution_usd'])} of its worst-case loss)")


def _say_option_expiry(r: _Row) -> str:
    what = f"the {_price(r['strike'])} {r['asset']} {r['option_kind']}s on {r['venue']}"
    if float(r["amount"]) <= 0:
        return f"{what} expired worthless at {_price(r['price'])}"
    return (f"{what} expired in the money at {_price(r['price'])}, paying their holders "
            f"{_usd(r['value_usd'])} ({_usd(r['amount'])} a unit on "
            f"{format_units(r['open_interest'])} units)")


def _say_numeraire_depeg(r: _Row) -> str:
    if r["phase"] == "end":
        return (f"{r['asset']} is back near its peg at ${float(r['price']):.4f}; its oracle "
                f"shows ${float(r['oracle_price']):.4f}")
    lag = ("" if abs(float(r["oracle_price"]) - float(r["price"])) < 5e-4 else
           ": venues still value it at their oracle's older price until it publishes")
    return (f"{r['asset']}, the unit every venue keeps its books in, depegged to "
            f"${float(r['price']):.4f} ({float(r['deviation']):+.1%}); its oracle shows "
            f"${float(r['oracle_price']):.4f}{lag}. Debts in {r['asset']} are worth less in "
            f"USD, and so is {r['asset']} margin")
def _say_risk_update(r: _Row) -> str:
    before, after = float(r["threshold_before"]), float(r["threshold_after"])
    verb = "cut" if after < before else "raised"
    return (f"{r['venue']} {verb} {r['asset']}'s liquidation threshold {before:.2%} -> "
            f"{after:.2%} (LTV {float(r['ltv_before']):.2%} -> {float(r['ltv_after']):.2%}): "
            f"a stress sale of {format_units(r['stress_units'])} {r['asset']} into "
            f"{r['route']} would slip {float(r['slippage_frac']):.1%}")


_HELD = (("held_by_ltv_usd", "the LTV"), ("held_by_debt_ceiling_usd", "the debt ceiling"),
         ("held_by_borrow_cap_usd", "the borrow cap"), ("held_by_supply_cap_usd", "the supply cap"),
         ("held_by_cash_usd", "the venue's cash"))


def _say_borrow(r: _Row) -> str:
    held = [(float(r[f]), words) for f, words in _HELD if float(r[f]) > 0.5]
    bounds = ", ".join(f"{words} {_usd(v)}" for v, words in held)
    n = int(r["accounts"])
    if n <= 0:
        return (f"borrowers on {r['venue']} wanted {_usd(r['wanted_usd'])} more, but "
                f"the venue's bounds held all of it back ({bounds})")
    out = (f"{_plural(n, 'borrower')} on {r['venue']} levered up: they borrowed "
           f"{_usd(r['value_usd'])} and looped it into {format_units(r['amount'])} "
           f"{r['asset']} bought on {r['bought_into']}")
    return out + (f"; held back: {bounds}" if held else "")


#: The layers of a clearing house's default waterfall, in words.
_LAYER_WORDS = {"defaulter_margin": "its margin", "defaulter_fund": "its fund contribution",
                "skin_in_the_game": "the house's skin in the game",
                "survivors_fund": "the other members' fund contributions",
                "assessments": "assessments on the other members",
                "gains_haircut": "a haircut of the variation-margin gains it owed"}


_SAY: dict[str, Callable[[_Row], str]] = {
    "price_shock": _say_price_shock,
    "pool_manipulation": _say_manipulation,
    "oracle_update": _say_oracle,
    "liquidation": _say_liquidation,
    "perp_liquidation": _say_perp_liquidation,
    "bad_debt": _bad_debt_reason,
    "fund_draw": _say_fund_draw,
    "fund_exhausted": _say_fund_exhausted,
    "adl": lambda r: (f"insurance fund exhausted: auto-deleveraged at the bankruptcy price "
                      f"{_g4(r['price'])} (BitMEX ranking)"),
    "socialised_loss": _say_socialised,
    "margin_topup": _say_topup,
    "withdrawal": _say_withdrawal,
    "withdrawal_freeze": _say_freeze,
    "token_sale": _say_token_sale,
    "asset_sale": _say_asset_sale,
    "loan_recall": lambda r: (f"{r['venue']} recalled its {_usd(r['value_usd'])} loan to "
                              f"{r['agent']}, due at step {r['due_step']}"),
    "loan_loss": _say_loan_loss,
    "default": lambda r: f"{r['venue']} defaulted: {_default_reason(r)}",
    "token_crash": lambda r: (f"{r['asset']} crashed {_g4(r['price_before'])} -> "
                              f"{_g4(r['price'])} (-{-r['amount']:.0%}) because its issuer "
                              f"{r['venue']} defaulted"),
    "collateral_loss": _say_collateral_loss,
    "liquidity_shock": _say_liquidity_shock,
    "gas_spike": _say_gas,
    "keeper_dropout": _say_dropout,
    "auction": _say_auction,
    "zero_bid": _say_zero_bid,
    "asset_writedown": lambda r: (f"{r['venue']} wrote off {r['amount']:.0%} of its external "
                                  f"assets ({_usd(r['value_usd'])}): its books now show "
                                  f"{_usd(r['assets_usd'])} of assets against "
                                  f"{_usd(r['liabilities_usd'])} of liabilities"),
    "funding": lambda r: _say_funding(r),
    "liquidity_withdrawal": _say_lp_withdrawal,
    "option_liquidation": _say_option_liquidation,
    "option_expiry": _say_option_expiry,
    "numeraire_depeg": _say_numeraire_depeg,
    "risk_parameter_update": _say_risk_update,
    "borrow": _say_borrow,
    "settlement_due": lambda r: (f"{r['payer']} paid {r['payee']} the {_usd(r['paid_usd'])} "
                                 f"{_SETTLED.get(str(r['settlement_kind']), 'settlement')} "
                                 f"promised at step "
                                 f"{r['opened_step']}"),
    "settlement_failed": _say_settlement_failed,
    "solvency_proof": _say_solvency_proof,
    "hole_revealed": lambda r: (
        f"{r['venue']}'s proof of liabilities revealed a {_usd(r['value_usd'])} hole (ratio "
        f"{float(r['published_ratio']):.2f}) that a reserves-only attestation would have hidden "
        f"(ratio {float(r['reserves_only_ratio']):.2f})"),
    "variation_margin_call": lambda r: (
        f"{r['venue']} called {_usd(r['called_usd'])} of variation margin from {r['agent']}"
        + (f", which paid only {_usd(r['paid_usd'])}: it is in default at the house"
           if r["outcome"] == "missed" else ", which paid")),
    "waterfall": lambda r: (f"in {r['venue']}'s default waterfall, "
                            f"{_LAYER_WORDS.get(str(r['layer']), str(r['layer']))} paid "
                            f"{_usd(r['value_usd'])} of {r['agent']}'s loss"),
    "default_fund_loss": lambda r: (
        f"{r['venue']} lost {_usd(r['fund_loss_usd'])} of its default-fund contribution at "
        f"{r['agent']} for {r['defaulter']}'s default"
        + (f" and paid {_usd(r['assessment_paid_usd'])} of a {_usd(r['assessment_usd'])} "
           "assessment" if float(r["assessment_usd"]) > 0 else "")),
    "bridge_exploit": lambda r: (
        f"an attacker drained {r['amount']:,.0f} {r['asset']} ({_usd(r['value_usd'])}) from "
        f"{r['venue']}: the claims it minted are now backed {float(r['backing_ratio']):.0%}, "
        f"down from {float(r['backing_before']):.0%}"),
    "bridge_recapitalised": lambda r: (
        f"a backer put {r['amount']:,.0f} {r['asset']} ({_usd(r['value_usd'])}) back into "
        f"{r['venue']}: its claims are fully backed again"),
    "bridge_halt": lambda r: (
        (f"{r['venue']} halted for {_plural(int(r['halt_steps']), 'step')}: transfers across "
         "it are frozen"
         + (f", {_usd(r['in_flight_usd'])} of cross-margin already in flight" if
            float(r["in_flight_usd"]) > 0 else "")
         + ", and its venues stop counting deposits that cannot cross")
        if r["phase"] == "start" else
        (f"{r['venue']} resumed"
         + (f": {_plural(int(r['transfers']), 'transfer')} ({_usd(r['in_flight_usd'])}) the "
            "halt held settle now" if int(r["transfers"]) > 0 else ""))),
    "claim_repriced": lambda r: (
        f"{r['bridge']}'s {r['asset']} fell to {float(r['amount']):.0%} of its underlying "
        f"({float(r['price_before']):,.4g} -> {float(r['price']):,.4g}): {r['bridge']} backs it "
        f"{float(r['backing_ratio']):.0%}" + (" and is halted" if int(r["halted"]) else "")
        if float(r["price"]) < float(r["price_before"]) else
        f"{r['bridge']}'s {r['asset']} is worth {float(r['amount']):.0%} of its underlying again "
        f"({float(r['price_before']):,.4g} -> {float(r['price']):,.4g}): {r['bridge']} backs it "
        f"{float(r['backing_ratio']):.0%}"),
}

def _margin_calls(ev: pd.DataFrame) -> _Sentences:
    """Calls paid are a steady flow (one sentence per house, not news); a missed call is."""
    if ev.empty:
        return []
    paid = ev[ev["outcome"].to_numpy() == "paid"]
    out: _Sentences = [(p[0], p[1], False) for p in _per_venue(paid, _calls_paid)]
    out += _each(ev[ev["outcome"].to_numpy() == "missed"])
    return out


def _calls_paid(house: str, g: pd.DataFrame) -> str:
    return (f"{house} collected {_usd(g['paid_usd'].sum())} of variation margin from "
            f"{_plural(len(g), 'member')}.")


def _waterfalls(ev: pd.DataFrame) -> _Sentences:
    """One sentence per defaulter: the layers that paid its loss, in order."""
    if ev.empty:
        return []
    out: _Sentences = []
    for (house, who), g in ev.groupby(["venue", "agent"], sort=False):
        layers = ", ".join(f"{_LAYER_WORDS.get(str(r['layer']), r['layer'])} "
                           f"{_usd(r['value_usd'])}" for r in _records(g))
        left = float(g["residual_usd"].iloc[-1])
        tail = f"; {_usd(left)} is left uncovered" if left > 1e-6 else ""
        out.append((float(g["event_id"].min()),
                    f"{house}'s default waterfall covered {who}'s "
                    f"{_usd(g['loss_usd'].iloc[0])} loss: {layers}{tail}.", True))
    return out



def _say_funding(r: _Row) -> str:
    """A funding payment: who paid whom, how much, at what rate and why (the premium)."""
    side = str(r["paying_side"])
    rate, uncapped = float(r["period_rate_frac"]), float(r["uncapped_rate_frac"])
    capped = ", at its cap" if abs(uncapped) > abs(rate) + 1e-15 else ""
    if side == "none":
        return (f"no funding changed hands on {r['venue']} {r['asset']} (a zero rate, or no "
                f"open positions)")
    other = "shorts" if side == "longs" else "longs"
    return (f"{side} paid {other} {_usd(r['paid_usd'])} of funding on {r['venue']} {r['asset']} "
            f"({rate:+.3%} per funding period{capped}; the perp at a {float(r['premium_frac']):+.2%} "
            f"premium to its index)")


def _say(r: _Row) -> str:
    """One event as a full sentence, from its fields; a kind this module does not know is
    told by its ``detail`` as written."""
    say = _SAY.get(str(r["kind"]))
    return _sentence(say(r) if say is not None else str(r.get("detail", "")))


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
        why = _ORACLE_TRIGGERS.get(str(r.trigger), str(r.trigger))
        reason = f" after its {why}" if why else ""
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
    bites = ev["mode"].to_numpy() == "auction"
    out = _vault_bites(ev[bites], events)
    for (venue, asset), g in ev[~bites].groupby(["venue", "asset"], sort=False):
        n = int(g["account"].nunique())
        text = (f"{_plural(n, 'account')} on {venue} fell below HF 1{_trigger(events, g)}: "
                f"liquidators repaid {format_usd(g['value_usd'].sum())} and ")
        units = f"{format_units(g['amount'].sum())} {asset}"
        pool = str(g["sold_into"].iloc[0])
        move = _series_value(series, step, f"impact_{pool}") if pool else None
        if pool and move is not None:
            text += f"sold {units} into {pool}, moving it {_pct(move)}."
        elif pool:
            text += f"sold {units} into {pool}."
        else:
            text += f"seized {units}."
        if "leftover_shrunk_usd" in g:
            held = g["leftover_shrunk_usd"].fillna(0.0)
            if (held > 0).any():
                k = int((held > 0).sum())
                text += (f" Aave v3.3's leftover rule held back {format_usd(held.sum())} of "
                         f"repayment on {_plural(k, 'account')}, so none is left with dust "
                         "too small to liquidate.")
        out.append((int(g["event_id"].min()), text, True))
    return out


def _perp_liquidations(ev: pd.DataFrame, events: pd.DataFrame) -> _Sentences:
    if ev.empty:
        return []
    out: _Sentences = []
    groups: list[tuple[str, pd.DataFrame]] = []
    for venue, gv in ev.groupby("venue", sort=False):
        if gv["asset"].nunique() <= 1:
            groups.append((str(venue), gv))
        else:  # a venue with several markets: one sentence per market (prices differ)
            groups += [(f"{venue}'s {asset} market", g)
                       for asset, g in gv.groupby("asset", sort=False)]
    for where, g in groups:
        notional = float(g["value_usd"].sum())
        longs, shorts = int((g["amount"] > 0).sum()), int((g["amount"] < 0).sum())
        price = (float((g["price"] * g["value_usd"]).sum() / notional) if notional > 0
                 else float(g["price"].mean()))
        out.append((int(g["event_id"].min()),
                    f"{_plural(len(g), 'position')} on {where} fell below maintenance margin"
                    f"{_trigger(events, g)} and "
                    f"{'was' if len(g) == 1 else 'were'} closed into the book: "
                    f"{format_usd(notional)} notional ({longs:,} long, "
                    f"{shorts:,} short) at about {_price(price)}.", True))
    return out


def _option_liquidations(venue: str, g: pd.DataFrame) -> str:
    """A venue's option positions closed by portfolio-margin liquidations in one step, and
    what went first (the legs ranked riskiest)."""
    n = len(g)
    first = g[g["rank"].to_numpy() == 0]
    text = (f"{_plural(n, 'option position')} at {venue} "
            f"{'was' if n == 1 else 'were'} closed against the market makers "
            f"({format_usd(float(g['value_usd'].sum()))} of premium), the riskiest leg of each "
            "account first")
    if not first.empty:
        legs = first.assign(side=np.where(first["amount"].to_numpy() > 0, "long", "short"))
        (side, kind, strike, asset), k = next(iter(
            legs.groupby(["side", "option_kind", "strike", "asset"], sort=False).size()
            .sort_values(ascending=False, kind="stable").items()))
        text += (f": the {side} {_price(float(strike))} {asset} {kind}s of "
                 f"{_plural(int(k), 'account')}")
    return text + "."


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
    """One sentence per event (:func:`_say`), ordered like :func:`_per_venue`."""
    if ev.empty:
        return []
    after = after or {}
    return [(max(float(r["event_id"]), after.get(str(r["venue"]), -1.0) + offset), _say(r), True)
            for r in ev.to_dict("records")]


def _records(g: pd.DataFrame) -> list[dict[str, Any]]:
    return g.to_dict("records")


def _bad_debt(venue: str, g: pd.DataFrame) -> str:
    n = int((g["account"] >= 0).sum())
    on = f" on {_plural(n, 'account')}" if n else ""
    why = _bad_debt_reason(_records(g.iloc[:1])[0]) if str(g["reason"].iloc[0]) else ""
    why = f" ({why})" if why else ""
    return f"{venue} took {format_usd(g['value_usd'].sum())} of bad debt{on}{why}."


def _fund_draw(fund: str, g: pd.DataFrame) -> str:
    venues = ", ".join(dict.fromkeys(g["venue"]))
    left = float(g["balance_after_usd"].iloc[-1])
    rest = f"; {_usd(left)} left" if math.isfinite(left) else ""
    return f"{fund} paid {format_usd(g['value_usd'].sum())} of {venues}'s shortfall{rest}."


def _socialised(venue: str, g: pd.DataFrame) -> str:
    total, haircut = format_usd(g["value_usd"].sum()), float(g["haircut_frac"].iloc[-1])
    if g["policy"].iloc[-1] == "clawback":
        return (f"{venue} clawed back {total} of losses pro rata from accounts in profit "
                f"(haircut {haircut:.2%}).")
    rest = (f"to its {g['bearers'].iloc[-1]} (haircut {haircut:.2%})" if math.isfinite(haircut)
            else "to its users")
    return f"{venue} socialised {total} of losses {rest}."


def _adl(venue: str, g: pd.DataFrame) -> str:
    n = int(g["account"].nunique())
    return (f"{venue} auto-deleveraged {_plural(n, 'profitable position')} "
            f"({format_usd(g['value_usd'].sum())}) at the bankruptcy price: its insurance fund "
            "could not cover the shortfall.")


def _withdrawals(venue: str, g: pd.DataFrame) -> str:
    stress, ratio = float(g["stress"].iloc[-1]), float(g["reserve_ratio"].iloc[-1])
    why = (f" (stress {stress:.0%}, reserve ratio {ratio:.2f})"
           if math.isfinite(stress) and math.isfinite(ratio) else "")
    return f"Depositors withdrew {format_usd(g['value_usd'].sum())} from {venue}{why}."


def _token_sales(venue: str, g: pd.DataFrame) -> str:
    last = _records(g.iloc[-1:])[0]
    if last["purpose"] in ("burn_arbitrage", "mint_arbitrage"):  # a peg's mint/burn arbitrage
        if len(g) == 1:
            return _sentence(_say_token_sale(last, who=venue))
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



def _key(g: pd.DataFrame) -> float:
    return float(g["event_id"].min())


def _frac(x: float) -> str:
    """``"13%"``, or ``""`` for a blank field."""
    return f"{float(x):.0%}" if math.isfinite(x) else ""


def _vault_bites(ev: pd.DataFrame, events: pd.DataFrame) -> _Sentences:
    """Auction-mode liquidations (Maker's bite): vaults closed whole, collateral auctioned."""
    if ev.empty:
        return []
    out: _Sentences = []
    for (venue, asset), g in ev.groupby(["venue", "asset"], sort=False):
        n = int(g["account"].nunique())
        ratio = _frac(g["min_collateral_ratio"].iloc[0])
        penalty = _frac(g["penalty_frac"].iloc[0])
        out.append((_key(g), f"{_plural(n, 'vault')} on {venue} fell below "
                    f"{ratio + ' ' if ratio else 'the minimum '}collateral{_trigger(events, g)}: "
                    f"{venue} closed {'it' if n == 1 else 'them'} and put "
                    f"{format_units(g['amount'].sum())} {asset} up for auction against "
                    f"{format_usd(g['value_usd'].sum())} of debt"
                    f"{f' plus a {penalty} penalty' if penalty else ''}.", True))
    return out


def _auctions(venue: str, g: pd.DataFrame) -> str:
    less = _frac(g["discount_frac"].iloc[0])
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
        last = _records(g.iloc[-1:])[0]
        why = _gas_priced_out(last) if math.isfinite(last["gas_multiple"]) else ""
        out.append((_key(g), f"{_plural(len(g), 'lot')} on {venue} went to a lone keeper for "
                    f"{'nothing' if paid <= 0 else format_usd(paid)}"
                    f"{f' ({why})' if why else ''}: {format_units(units)} {asset}{worth}; "
                    "the owners lost the collateral and the debt went unpaid.", True))
    return out


def _keeper_dropouts(agent: str, g: pd.DataFrame) -> str:
    total, n_left = int(g["keepers"].iloc[-1]), int(g["keepers_left"].iloc[-1])
    gas = float(g["gas_cost_usd"].iloc[-1])
    left = _plural(n_left, "keeper") if n_left >= 0 else ""
    who = f"{len(g)} of the {total} {agent}" if total >= 0 else f"{len(g)} {agent}"
    pays = "its bot pays" if len(g) == 1 else "their bots pay"
    why = f": gas at {_usd(gas)} a bid is more than {pays}" if math.isfinite(gas) else ""
    return f"{who} stopped bidding{why}{f'; {left} left' if left else ''}."


def _liquidity_shocks(agent: str, g: pd.DataFrame) -> str:
    if len(g) == 1:
        return _say(_records(g)[0])
    drops = g["amount"].abs()
    assets = [str(a) for a in g["asset"]]
    how = (f"fell {drops.iloc[0]:.0%} for {_names(assets, limit=len(assets))}"
           if drops.nunique() == 1 else
           "fell: " + ", ".join(f"{a} {d:.0%}" for a, d in zip(assets, drops, strict=True)))
    steps, recovery = int(g["duration_steps"].iloc[0]), int(g["recovery_steps"].iloc[0])
    span = f"{steps} steps, recovering over {recovery}" if steps >= 0 and recovery >= 0 else ""
    return (f"Market makers pulled their quotes ({agent}): order-book depth {how}"
            f"{f' for {span}' if span else ''}; the pools' arbitrage capacity fell alike.")


def _asset_sales(ev: pd.DataFrame) -> _Sentences:
    if ev.empty:
        return []
    out: _Sentences = []
    for (venue, asset, where), g in ev.groupby(["venue", "asset", "agent"], sort=False):
        units, usd = float(g["amount"].sum()), float(g["value_usd"].sum())
        why = "to pay withdrawals" if g["purpose"].iloc[-1] == "withdrawals" else ""
        each = f" (about {format_usd(usd / units)} each)" if units > 0 else ""
        out.append((_key(g), f"{venue} fire-sold {format_units(units)} {asset} into {where} for "
                    f"{format_usd(usd)}{each}{f' {why}' if why else ''}.", True))
    return out


def _reserve_purchases(agent: str, g: pd.DataFrame) -> str:
    """A peg's reserve buying its stablecoin below the peg (logged as ``fund_draw``)."""
    last = _records(g.iloc[-1:])[0]
    pool, spot, left = str(last["pool"]), last["spot_after"], last["balance_after_usd"]
    rest = "; ".join(x for x in (f"spot now {spot:.4f}" if math.isfinite(spot) else "",
                                 f"{_usd(left)} left" if math.isfinite(left) else "") if x)
    return (f"{agent} bought {format_units(g['amount'].sum())} {g['asset'].iloc[0]} for "
            f"{format_usd(g['value_usd'].sum())}{f' in {pool}' if pool else ''} to defend the "
            f"peg{f' ({rest})' if rest else ''}.")


def _depositor_exits(venue: str, g: pd.DataFrame) -> str:
    """A yield venue's depositors leaving and selling the stablecoin into its pool."""
    started = g["phase"].to_numpy() == "start"
    new = g[started]
    n = len(new) + int(g.loc[~started, "depositors"].clip(lower=0).sum())
    asset, pool = g["asset"].iloc[0], g["selling_into"].iloc[0]
    notes = []
    if len(new) and math.isfinite(new["depeg_frac"].iloc[0]):
        notes.append(f"{len(new):,} started to leave at a depeg of {new['depeg_frac'].iloc[0]:.2%}")
    spot = float(g["spot_after"].iloc[-1])
    if math.isfinite(spot):
        notes.append(f"{asset} spot now {spot:.4f}")
    return (f"{_plural(n, 'depositor')} of {venue} withdrew {format_units(g['amount'].sum())} "
            f"{asset} and sold it into {pool} for {format_usd(g['value_usd'].sum())}"
            f"{' (' + '; '.join(notes) + ')' if notes else ''}.")


def _withdrawals_by_kind(ev: pd.DataFrame) -> _Sentences:
    """Custodial depositors' withdrawals, a yield venue's depositors selling into a pool, and
    withdrawals by a named agent (an attacker), each in its own words."""
    if ev.empty:
        return []
    reason = ev["reason"].to_numpy()
    selling, named = reason == "depeg_exit", reason == "exploit"
    lenders = reason == "lender_run"
    out = _per_venue(ev[~selling & ~named & ~lenders], _withdrawals)
    out += _per_venue(ev[selling], _depositor_exits)
    out += _each(ev[lenders])  # one per lending venue and step
    for (venue, agent), g in ev[named].groupby(["venue", "agent"], sort=False):
        text = (_say(_records(g)[0]) if len(g) == 1 else
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
            out.append((_key(g), _say(_records(g)[0]), True))
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
    """One sentence per event (:func:`_say`) for up to three events, else one for them all."""
    if len(ev) <= 3:
        return _each(ev)
    return [(_key(ev), say_all(ev), True)]


def _defaults(ev: pd.DataFrame) -> str:
    """Many defaults in one step: their names, and their reason when they share it."""
    reasons = set()
    for r in _records(ev):
        venue, reason = str(r["venue"]), _default_reason(r)
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
    "funding",
    "liquidity_withdrawal",
    "option_liquidation",
    "option_expiry",
    "numeraire_depeg",
    "risk_parameter_update",
    "borrow",
    "settlement_due",
    "settlement_failed",
    "variation_margin_call",
    "waterfall",
    "default_fund_loss",
    "bridge_exploit",
    "bridge_recapitalised",
    "bridge_halt",
    "claim_repriced",
    "solvency_proof",
    "hole_revealed",
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
    ...     "cause_id": [-1, 0, 0], "trigger": ["deviation", "", ""],
    ...     "mode": ["", "bonus", "bonus"], "sold_into": ["", "ETH/USDC", "ETH/USDC"]})
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
    events = _with_fields(events)
    ev = events[events["step"].to_numpy() == step]
    groups = {str(k): g for k, g in ev.groupby("kind", sort=False)}
    empty = ev.iloc[:0]

    def of(kind: str) -> pd.DataFrame:
        return groups.get(kind, empty)

    draws = of("fund_draw")
    peg_buys = draws["purpose"].to_numpy() == "peg_defence"
    parts: _Sentences = []
    parts += _price_moves(of("price_shock"))
    parts += _each(of("numeraire_depeg"))
    parts += _per_venue(of("liquidity_shock"), _liquidity_shocks, by="agent")
    parts += _each(of("pool_manipulation"))
    parts += _each(of("gas_spike"))
    parts += _per_venue(of("keeper_dropout"), _keeper_dropouts, by="agent")
    parts += _oracle_updates(of("oracle_update"), oracles)
    parts += [(p[0], p[1], False) for p in _each(of("funding"))]  # a steady bleed, not news
    parts += _lending_liquidations(of("liquidation"), events, series, step)
    parts += _per_venue(of("auction"), _auctions)
    parts += _zero_bids(of("zero_bid"), series, step)
    parts += _perp_liquidations(of("perp_liquidation"), events)
    parts += _per_venue(of("option_liquidation"), _option_liquidations)
    parts += _per_venue(draws[peg_buys], _reserve_purchases, by="agent")
    parts += _per_venue(of("token_sale"), _token_sales)
    parts += _asset_sales(of("asset_sale"))
    parts += _withdrawals_by_kind(of("withdrawal"))
    parts += _each_or_all(of("asset_writedown"), _writedowns)
    parts += _each_or_all(of("withdrawal_freeze"), _freezes)
    parts += _each(of("loan_recall"))
    due = of("settlement_due")  # a call on an account with no deposit left promises $0
    parts += _each(due[due["amount"].to_numpy() > 0] if not due.empty else due)
    parts += _each(of("settlement_failed"))
    parts += _each_or_all(of("default"), _defaults)
    parts += _each(of("token_crash"))
    parts += _depositor_losses(of("collateral_loss"), events)
    parts += _loan_losses(of("loan_loss"))
    parts += _each(of("liquidity_withdrawal"))
    parts += _each(of("option_expiry"))
    parts += _each(of("risk_parameter_update"))
    loops = of("borrow")
    refused = loops["accounts"].to_numpy() <= 0 if not loops.empty else np.zeros(0, dtype=bool)
    parts += _each(loops[refused])  # the bounds held back all new borrowing: news
    parts += [(p[0], p[1], False) for p in _each(loops[~refused])]  # a loop, not news
    parts += _margin_calls(of("variation_margin_call"))
    parts += _waterfalls(of("waterfall"))
    parts += _each(of("default_fund_loss"))
    parts += _each(of("bridge_exploit"))
    parts += _each(of("bridge_recapitalised"))
    parts += _each(of("bridge_halt"))
    parts += _each(of("claim_repriced"))
    parts += _each(of("solvency_proof"))
    parts += _each(of("hole_revealed"))
    liq = pd.concat([of("liquidation"), of("perp_liquidation"), of("option_liquidation")])
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
    returns each event as a sentence (:func:`_say`) prefixed with ``"Step N:"``, root
    first; ``[]`` if ``venue`` never defaulted.

    Examples
    --------
    >>> ev = pd.DataFrame({"event_id": [0, 1, 2], "step": [3, 9, 9],
    ...     "kind": ["price_shock", "default", "loan_loss"], "venue": ["", "Fund", "CEX"],
    ...     "agent": ["", "Fund", "Fund"], "asset": ["ETH", "", ""],
    ...     "amount": [-0.25, np.nan, np.nan], "price": [1500.0, np.nan, np.nan],
    ...     "value_usd": [np.nan, np.nan, 8e7], "cause_id": [-1, 0, 1],
    ...     "path": ["exogenous", "", ""], "price_before": [2000.0, np.nan, np.nan],
    ...     "reason": ["", "assets_below_loans", "borrower_default"],
    ...     "assets_usd": [np.nan, 79_086_819.0, np.nan],
    ...     "liabilities_usd": [np.nan, 8e7, np.nan]})
    >>> default_trace(ev, "Fund")  # doctest: +NORMALIZE_WHITESPACE
    ['Step 3: ETH external price 2,000 -> 1,500 (-25.00%, exogenous path).',
     "Step 9: Fund defaulted: Fund's assets ($79M) fell below its loans ($80M)."]
    >>> default_trace(ev, "CEX")
    []
    """
    events = _with_fields(events)
    d = events[(events["kind"] == "default") & (events["venue"] == venue)]
    if d.empty:
        return []
    by_id = events.set_index("event_id")
    lines = []
    for eid in reversed(trace_cause(events, int(d["event_id"].iloc[0]))):
        r = by_id.loc[eid]
        who = next((str(r[c]) for c in ("venue", "agent", "asset") if r.get(c)), "")
        text = (_say(r.to_dict())
                or _sentence(str(r["kind"]).replace("_", " ") + (f" ({who})" if who else "")))
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
