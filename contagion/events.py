"""The event log: every mechanism's action as a record with its cause.

Each record has an ``event_id`` and a ``cause_id`` (the event that triggered it, ``-1`` for
an exogenous shock), so :func:`trace_cause` can follow any default back to the first price
move. Records are appended in columnar chunks (one chunk per batch of accounts), so logging
a thousand liquidations is one call, not a thousand.

Besides the common columns (:data:`COMMON_COLUMNS`), each kind carries the typed fields
declared in :data:`EVENT_FIELDS`: the numbers and names a reader needs, so that nothing has
to be parsed out of ``detail``, an English sentence for display only. Some kinds come in
variants named by one of their fields (:data:`EVENT_VARIANTS`, e.g. a default's ``reason``),
and some fields are filled only in some variants (:func:`required_fields`). Every field is
a column of :meth:`EventLog.to_frame`: float (NaN when blank), int (-1) or str (``""``).
``docs/events.md`` lists them (:func:`schema_markdown`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["COLUMN_DEFAULTS", "COMMON_COLUMNS", "EVENT_COLUMNS", "EVENT_FIELDS", "EVENT_KINDS",
           "EVENT_VARIANTS", "EventField", "EventLog", "cause_links", "event_schema",
           "required_fields", "schema_markdown", "trace_cause", "trace_chain"]

EVENT_KINDS = (
    "price_shock",
    "pool_manipulation",
    "oracle_update",
    "liquidation",
    "perp_liquidation",
    "bad_debt",
    "fund_draw",
    "fund_exhausted",
    "adl",
    "socialised_loss",
    "margin_topup",
    "withdrawal",
    "withdrawal_freeze",
    "token_sale",
    "asset_sale",
    "loan_recall",
    "loan_loss",
    "default",
    "token_crash",
    "collateral_loss",
    "liquidity_shock",
    "gas_spike",
    "keeper_dropout",
    "auction",
    "zero_bid",
    "asset_writedown",
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
)

#: The columns every event has, with their dtypes.
COMMON_COLUMNS: dict[str, Any] = {
    "event_id": np.int64,
    "step": np.int64,
    "kind": object,
    "venue": object,
    "agent": object,
    "account": np.int64,
    "asset": object,
    "amount": np.float64,
    "value_usd": np.float64,
    "price": np.float64,
    "cause_id": np.int64,
    "detail": object,
}

_COMMON_DOCS = {
    "event_id": "the event's id (its row in the log)",
    "step": "the step it happened in",
    "kind": "one of the kinds below",
    "venue": "the venue or institution it happened at",
    "agent": "who acted (a liquidator, an oracle, a fund, a pool...)",
    "account": "the trader (holder id) it concerns, -1 for none",
    "asset": "the asset it concerns",
    "amount": "units (or a fraction, a count: see the kind)",
    "value_usd": "its value in USD",
    "price": "the price it happened at",
    "cause_id": "the event that triggered it, -1 for an exogenous one",
    "detail": "an English sentence for display (never parsed: read the fields)",
}


@dataclass(frozen=True)
class EventField:
    """One typed field of an event kind."""

    name: str
    type: type  # float, int or str
    doc: str
    #: the variants (values of the kind's discriminator) in which it is filled; () = all
    when: tuple[str, ...] = ()
    #: blank on some events even in those variants (its doc says when)
    optional: bool = False


_F = EventField
_PEG = ("peg_defence",)

#: kind -> (the field naming its variant, the variants).
EVENT_VARIANTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "price_shock": ("path", ("exogenous", "basis")),
    "liquidation": ("mode", ("bonus", "auction")),
    "bad_debt": ("reason", ("collateral_exhausted", "auction_shortfall", "below_bankruptcy",
                            "unsettled_transfers")),
    "fund_draw": ("purpose", ("shortfall", "peg_defence")),
    "fund_exhausted": ("purpose", ("shortfall", "peg_defence")),
    "socialised_loss": ("policy", ("supplier_haircut", "clawback")),
    "margin_topup": ("action", ("repay_debt", "add_margin")),
    "withdrawal": ("reason", ("run", "depeg_exit", "exploit", "lender_run")),
    "numeraire_depeg": ("phase", ("start", "end")),
    "withdrawal_freeze": ("reason", ("run", "insolvent", "missed_recall", "unsettled_transfers",
                                     "full_utilisation", "awaiting_settlement")),
    "token_sale": ("purpose", ("withdrawals", "burn_arbitrage", "mint_arbitrage")),
    "asset_sale": ("purpose", ("withdrawals", "default_liquidation")),
    "loan_loss": ("reason", ("borrower_default", "missed_recall")),
    "default": ("reason", ("run", "insolvent", "missed_recall", "unsettled_transfers",
                           "assets_below_loans", "bad_debt", "lost_transfers",
                           "uncovered_shortfall", "missed_margin_call", "missed_assessment")),
    "variation_margin_call": ("outcome", ("paid", "missed")),
    "waterfall": ("layer", ("defaulter_margin", "defaulter_fund", "skin_in_the_game",
                            "survivors_fund", "assessments", "gains_haircut")),
    "gas_spike": ("phase", ("spike", "easing")),
    "bridge_halt": ("phase", ("start", "end")),
}

#: the fields of a settlement at its due step (``contagion.settlement``); ``venue`` is the
#: payee, ``agent`` the payer, ``amount`` the amount promised (USD).
_SETTLEMENT = (
    _F("settlement_kind", str, "`loan_recall` (a lender recalled a loan; payer the borrower) or "
       "`margin_transfer` (a custodian's cross-margin transfer to a perp venue)"),
    _F("payer", str, "who owed the amount"),
    _F("payee", str, "who was owed it"),
    _F("opened_step", int, "the step it was promised in"),
    _F("due_step", int, "the step it settled (or was due) in"),
    _F("paid_usd", float, "what the payer paid"),
)

_SCHEMA: dict[str, tuple[EventField, ...]] = {
    "price_shock": (
        _F("path", str, "`exogenous` (the asset's own path) or `basis` (a liquid-staking "
           "token's ratio to its underlying)"),
        _F("price_before", float, "external price before the move (`price` is after)"),
        _F("underlying", str, "the underlying asset", when=("basis",)),
        _F("ratio_before", float, "ratio to the underlying before", when=("basis",)),
        _F("ratio_after", float, "ratio to the underlying after", when=("basis",)),
    ),
    "pool_manipulation": (
        _F("actor", str, "who traded (e.g. `an attacker`)"),
        _F("direction", str, "`pump` (bought the base) or `dump` (sold it)"),
        _F("price_before", float, "the pool's spot before (`price` is after, `amount` the move)"),
    ),
    "oracle_update": (
        _F("trigger", str, "`deviation` (threshold crossed) or `heartbeat`"),
        _F("price_before", float, "the oracle's price before (`price` is after)"),
        _F("source", str, "what it reads (its `OracleParams.source`)"),
        _F("delay_steps", int, "how many steps late it reports"),
    ),
    "liquidation": (
        _F("mode", str, "`bonus` (fixed-bonus liquidation) or `auction` (a vault bitten: its "
           "collateral goes to auction)"),
        _F("counterparty", str, "the liquidator (keepers in auction mode)"),
        _F("debt_repaid_usd", float, "debt repaid, at the oracle price (0 for a bite: the "
           "auction repays it later)"),
        _F("debt_asset", str, "the debt reserve repaid: the numeraire or an asset the venue "
           "lends (`LendingParams.borrow`)"),
        _F("debt_repaid_units", float, "units of `debt_asset` repaid (the liquidator bought "
           "them first when it is not the numeraire)", when=("bonus",)),
        _F("collateral_seized_units", float, "collateral taken from the account (`amount`)"),
        _F("sold_into", str, "the pool the liquidator sold the batch's collateral into, or "
           "`the external market`", when=("bonus",)),
        _F("units_sold", float, "units of the asset the batch sold (one number per batch)",
           when=("bonus",)),
        _F("bonus_frac", float, "the liquidation bonus", when=("bonus",)),
        _F("bonus_usd", float, "the liquidator's bonus: collateral received at the oracle "
           "price less debt repaid", when=("bonus",)),
        _F("leftover_shrunk_usd", float, "debt the keeper left unrepaid so that the account "
           "keeps Aave v3.3's minimum leftover of debt and collateral (venues with "
           "`leftover_rule`; 0 when the liquidation needed no shrinking)", when=("bonus",),
           optional=True),
        _F("min_collateral_ratio", float, "collateral/debt below which a vault is bitten",
           when=("auction",)),
        _F("penalty_frac", float, "the liquidation penalty added to the debt", when=("auction",)),
    ),
    "perp_liquidation": (
        _F("mmr_frac", float, "maintenance margin fraction in force"),
        _F("slippage_frac", float, "slippage of the closing trade (the larger side's)"),
        _F("shortfall_usd", float, "how far the account's equity fell below zero at the fill "
           "(at a venue with several markets: this position's share, by notional)"),
        _F("rank", int, "portfolio margin only: the position's place in the account's "
           "liquidation order, 0 = closed first (the riskiest)", optional=True),
        _F("risk_contribution_usd", float, "portfolio margin only: the position's Euler share "
           "of its account's worst-scenario loss (negative for a hedge)", optional=True),
    ),
    "bad_debt": (
        _F("reason", str, "`collateral_exhausted` (lending write-off), `auction_shortfall`, "
           "`below_bankruptcy` (perp accounts closed below their bankruptcy price), "
           "`unsettled_transfers` (cross-margin transfers that never arrived)"),
        _F("accounts", int, "accounts the event covers (1 per account row; a perp venue logs "
           "one row for all its accounts of a round; 0 for transfers)"),
        _F("debt_asset", str, "the debt reserve written off (an account owing several assets "
           "has one event per asset; `value_usd` at the oracle price)",
           when=("collateral_exhausted", "auction_shortfall")),
    ),
    "fund_draw": (
        _F("purpose", str, "`shortfall` (a venue's insurance fund) or `peg_defence` (a peg's "
           "reserve buying its stablecoin)"),
        _F("fund", str, "the fund (also `agent`)"),
        _F("balance_after_usd", float, "what the fund holds after the draw (a reserve: its "
           "value at market)"),
        _F("shortfall_usd", float, "the shortfall it was asked to pay", when=("shortfall",)),
        _F("peg", str, "the peg whose reserve it is", when=_PEG),
        _F("pool", str, "the pool the reserve bought in", when=_PEG),
        _F("spot_after", float, "that pool's spot after the purchase", when=_PEG),
    ),
    "fund_exhausted": (
        _F("purpose", str, "`shortfall` or `peg_defence`, as for `fund_draw`"),
        _F("fund", str, "the fund (also `agent`)"),
        _F("peg", str, "the peg whose reserve it is", when=_PEG),
    ),
    "adl": (
        _F("side", str, "side of the profitable positions deleveraged (`long` or `short`; "
           "the bankrupt positions were the other side); `account` is the deleveraged trader, "
           "`amount` its trade (positive: a short bought back)"),
    ),
    "socialised_loss": (
        _F("policy", str, "`supplier_haircut` (lending: suppliers' claims cut) or `clawback` "
           "(perp: accounts in profit pay pro rata)"),
        _F("bearers", str, "who bears it (`suppliers`, `accounts in profit`)"),
        _F("haircut_frac", float, "the loss as a fraction of what the bearers held; blank "
           "when they held nothing", optional=True),
    ),
    "margin_topup": (
        _F("action", str, "`repay_debt` (lending) or `add_margin` (perp)"),
        _F("accounts", int, "traders who topped up (also `amount`)"),
    ),
    "withdrawal": (
        _F("reason", str, "`run` (a custodial exchange's depositors), `depeg_exit` (a yield "
           "venue's depositors selling into its pool), `exploit` (an attacker), `lender_run` "
           "(a lending venue's outside suppliers, up to its cash)"),
        _F("stress", float, "the exchange's stress level", when=("run",)),
        _F("reserve_ratio", float, "its liquid reserves over deposits", when=("run",)),
        _F("accounts", int, "depositors paid", when=("run",)),
        _F("phase", str, "`start` (one row per depositor starting to leave, `account` set) or "
           "`continue` (one row for those already leaving)", when=("depeg_exit",)),
        _F("depositors", int, "depositors in that group this step", when=("depeg_exit",)),
        _F("selling_into", str, "the pool they sell into", when=("depeg_exit",)),
        _F("depeg_frac", float, "1 - the pool's spot when they decided", when=("depeg_exit",)),
        _F("step_units", float, "units all the venue's sellers sold this step",
           when=("depeg_exit",)),
        _F("step_usd", float, "what those sales fetched", when=("depeg_exit",)),
        _F("spot_after", float, "the pool's spot after them", when=("depeg_exit",)),
        _F("upnl_usd", float, "the attacker's unrealised PnL (also `amount`)", when=("exploit",)),
        _F("free_cash_after_usd", float, "the venue's free cash left", when=("exploit",)),
        _F("trigger", str, "`utilisation`, `bad_debt` or `depeg`: the threshold the latest "
           "cohorts to start leaving crossed", when=("lender_run",)),
        _F("utilisation", float, "the lending venue's utilisation after the withdrawals",
           when=("lender_run",)),
        _F("borrow_rate", float, "its yearly borrow rate this step (0 without a rate model)",
           when=("lender_run",)),
        _F("queued_usd", float, "what the leaving suppliers still want out after this step",
           when=("lender_run",)),
        _F("leaving_frac", float, "share of the outside supply in leaving cohorts",
           when=("lender_run",)),
    ),
    "withdrawal_freeze": (
        _F("reason", str, "`run` (could not pay withdrawals), `insolvent` (losses left assets "
           "below liabilities), `missed_recall`, `unsettled_transfers`, `full_utilisation` (a "
           "lending venue's cash all lent out: suppliers' withdrawals wait), "
           "`awaiting_settlement` (a run it could not pay while loans it recalled are in their "
           "settlement window: withdrawals wait for them, no default yet)"),
        _F("assets_usd", float, "assets on its books", when=("insolvent",)),
        _F("liabilities_usd", float, "its liabilities", when=("insolvent",)),
        _F("lender", str, "who recalled the loan", when=("missed_recall",)),
        _F("utilisation", float, "the lending venue's utilisation (1: no cash left)",
           when=("full_utilisation",)),
        _F("borrow_rate", float, "its yearly borrow rate this step (0 without a rate model): "
           "slope2 pulls repayments", when=("full_utilisation",)),
        _F("queued_usd", float, "what its leaving suppliers still want out (`value_usd`: "
           "the part of this step's demand left unpaid)", when=("full_utilisation",)),
        _F("due_step", int, "when the last recall in flight settles",
           when=("awaiting_settlement",)),
        _F("pending_usd", float, "the recalled loans in flight", when=("awaiting_settlement",)),
    ),
    "token_sale": (
        _F("purpose", str, "`withdrawals` (an exchange selling its own token), "
           "`burn_arbitrage` (below the peg: stablecoin burned, token minted and sold), "
           "`mint_arbitrage` (above it: token burned, stablecoin minted and sold)"),
        _F("burned_asset", str, "the asset burned", when=("burn_arbitrage", "mint_arbitrage")),
        _F("burned_units", float, "units burned", when=("burn_arbitrage", "mint_arbitrage")),
        _F("spot_after", float, "the sold asset's spot in the pool after the sale",
           when=("burn_arbitrage", "mint_arbitrage")),
        _F("burn_pool", str, "where the stablecoin was bought", when=("burn_arbitrage",)),
        _F("burn_price", float, "what it cost per unit", when=("burn_arbitrage",)),
        _F("token_price", float, "the token price the conversion used", when=("burn_arbitrage",)),
        _F("supply_after", float, "the token's supply after minting", when=("burn_arbitrage",)),
    ),
    "asset_sale": (
        _F("purpose", str, "`withdrawals` (to pay them) or `default_liquidation` (a defaulted "
           "institution's holdings)"),
        _F("recovery_rate", float, "what its depositors recover with the proceeds",
           when=("default_liquidation",)),
    ),
    "loan_recall": (
        _F("due_step", int, "when the borrower must repay"),
    ),
    "loan_loss": (
        _F("reason", str, "`borrower_default` (`value_usd` the loan's face value) or "
           "`missed_recall` (`value_usd` what was not repaid)"),
        _F("recalled_usd", float, "the amount recalled", when=("missed_recall",)),
    ),
    "default": (
        _F("reason", str, "`run`, `insolvent` (after losses), `missed_recall`, "
           "`unsettled_transfers`, `assets_below_loans` (a firm), `bad_debt` (a lender's losses "
           "beyond reserves and fund), `lost_transfers`, `uncovered_shortfall` (a perp venue, "
           "or a clearing house whose waterfall ran dry), `missed_margin_call` (a clearing "
           "member that could not pay variation margin), `missed_assessment` (a surviving "
           "member that could not pay its assessment)"),
        _F("assets_usd", float, "its assets at market", when=("assets_below_loans",)),
        _F("liabilities_usd", float, "its loans", when=("assets_below_loans",)),
        _F("shortfall_usd", float, "the loss it could not cover (or the call it could not pay)",
           when=("lost_transfers", "uncovered_shortfall", "missed_margin_call",
                 "missed_assessment")),
    ),
    "token_crash": (
        _F("price_before", float, "the token's price before (`price` is after)"),
    ),
    "collateral_loss": (
        _F("recovery_rate", float, "what depositors can expect back (also `amount`)"),
        _F("deposits_usd", float, "the deposits at the default"),
        _F("cross_margined_at", str, "perp venues whose cross-margined accounts count those "
           "deposits as collateral (comma-separated; blank if none)", optional=True),
    ),
    "liquidity_shock": (
        _F("depth_before_usd", float, "normal external order-book depth"),
        _F("depth_after_usd", float, "depth at the shock"),
        _F("duration_steps", int, "steps at the bottom"),
        _F("recovery_steps", int, "steps to recover"),
    ),
    "gas_spike": (
        _F("phase", str, "`spike` or `easing` (gas back down; `amount` the multiple)"),
        _F("normal_gas_cost_usd", float, "gas per bid at normal prices (`value_usd` is now)"),
        _F("keepers", int, "keepers in all"),
        _F("keepers_active", int, "keepers still bidding at this gas price"),
    ),
    "keeper_dropout": (
        _F("keeper", int, "which keeper (1-based; also `amount`)"),
        _F("keepers", int, "keepers in all"),
        _F("keepers_left", int, "keepers still bidding"),
        _F("gas_cost_usd", float, "gas per bid now (`value_usd` is what its bot pays)"),
        _F("tolerance", float, "the gas multiple its bot tolerates"),
    ),
    "auction": (
        _F("bidders", int, "keepers who bid on the lot"),
        _F("discount_frac", float, "the lot cleared at its value less this"),
        _F("units_to_owner", float, "collateral left over, returned to the vault's owner"),
    ),
    "zero_bid": (
        _F("gas_multiple", float, "gas price as a multiple of normal"),
        _F("keepers", int, "keepers in all"),
        _F("keepers_priced_out", int, "keepers priced out by gas"),
        _F("lone_bid_frac", float, "the lone bid as a fraction of the lot's value"),
    ),
    "asset_writedown": (
        _F("assets_usd", float, "assets on its books after the write-off"),
        _F("liabilities_usd", float, "its liabilities"),
    ),
    "funding": (
        _F("paying_side", str, "`longs` (a premium: longs pay shorts), `shorts` or `none`"),
        _F("rate_frac", float, "the rate paid this time, `size * price * rate` per position "
           "(also `amount`; `price` is the index)"),
        _F("period_rate_frac", float, "the funding rate per funding period (8 h), capped"),
        _F("uncapped_rate_frac", float, "the same before the cap: `P + clamp(I - P)`"),
        _F("premium_frac", float, "the perp's premium over its index, averaged since the last "
           "funding time"),
        _F("perp_price", float, "the perp's price, index x (1 + premium)"),
        _F("paid_usd", float, "what the paying side paid (also `value_usd`)"),
        _F("received_usd", float, "what the other side received (equal: funding is zero-sum)"),
        _F("payers", int, "accounts that paid"),
        _F("interval_minutes", float, "minutes since the last funding time"),
    ),
    "liquidity_withdrawal": (
        _F("liquidity_frac", float, "share of the pool's in-range liquidity the LPs pulled "
           "(`agent` is the pool; `amount` the base units withdrawn, `value_usd` all of it at "
           "the spot `price`)"),
        _F("positions", int, "in-range positions they burned a share of"),
        _F("base_units", float, "base withdrawn (also `amount`)"),
        _F("quote_usd", float, "stablecoin withdrawn"),
        _F("drawdown_frac", float, "how far the pool's spot was below its start price"),
        _F("liquidity_left_frac", float, "in-range liquidity left, as a share of the start's"),
    ),
    "option_liquidation": (
        _F("option_kind", str, "`call` or `put` (`amount` is the signed size closed, `price` "
           "the premium per unit it traded at, `value_usd` the premium of the trade)"),
        _F("strike", float, "the series' strike (USD)"),
        _F("expiry_days", float, "days to the series' expiry when closed"),
        _F("rank", int, "the position's place in the account's liquidation order, 0 = closed "
           "first (the riskiest)"),
        _F("risk_contribution_usd", float, "the position's Euler share of its account's "
           "worst-scenario loss (negative for a hedge)"),
        _F("pm_usd", float, "the account's portfolio maintenance margin before the liquidation"),
        _F("shortfall_usd", float, "how far the account's equity was below zero once all its "
           "positions were closed (0 if it stopped earlier), this position's share by the "
           "underlying notional"),
    ),
    "option_expiry": (
        _F("option_kind", str, "`call` or `put` (`price` is the settlement price, `amount` the "
           "intrinsic value per unit, `value_usd` intrinsic x open interest)"),
        _F("strike", float, "the series' strike (USD)"),
        _F("open_interest", float, "units of the series held long (= short) at expiry"),
        _F("accounts", int, "traders' accounts that held the series (the outside market "
           "makers aside)"),
    ),
    "numeraire_depeg": (
        _F("phase", str, "`start` (the numeraire's market price left $1 by 0.5% or more; "
           "`price` is it, in USD) or `end` (back within 0.5%)"),
        _F("oracle_price", float, "the numeraire oracle's published price then (what venues "
           "value it at: a lagged oracle still shows the old one)"),
        _F("deviation", float, "market price - 1 (also `amount`; negative below the peg)"),
    ),
    "risk_parameter_update": (
        _F("threshold_before", float, "the collateral's liquidation threshold before (`asset`; "
           "`agent` is the venue's risk steward, `value_usd` the stress sale at the oracle "
           "`price`)"),
        _F("threshold_after", float, "the threshold now in force (also `amount`): "
           "`min(hand-set, (1 - volatility margin)(1 - slippage) / (1 + bonus))` in whole bps"),
        _F("ltv_before", float, "its LTV before"),
        _F("ltv_after", float, "its LTV now (the hand-set distance below the threshold)"),
        _F("slippage_frac", float, "average slippage of the stress sale through the route"),
        _F("stress_units", float, "units of the stress sale: `stress_sale_frac` of all the "
           "venue holds of the asset"),
        _F("route", str, "where it was priced: the venue's pool, or `the external market`"),
    ),
    "borrow": (
        _F("accounts", int, "borrowers who borrowed (0: the bounds held all of it back; "
           "logged once until borrowing resumes); `value_usd` what they borrowed, `amount` the "
           "units of `asset` it bought and they supplied (a loop)"),
        _F("wanted_usd", float, "what they wanted to borrow (back to their target health "
           "factor)"),
        _F("bought_into", str, "where the collateral was bought (pool or `the external "
           "market`; where it would have been when nothing was borrowed)"),
        _F("held_by_ltv_usd", float, "held back by the LTV (Aave's borrow check), at the "
           "venue this step (the same on each of its `borrow` events that step)"),
        _F("held_by_debt_ceiling_usd", float, "held back by isolated collaterals' debt "
           "ceilings, idem"),
        _F("held_by_borrow_cap_usd", float, "held back by the venue's borrow cap, idem"),
        _F("held_by_supply_cap_usd", float, "held back by the supply caps of what they "
           "would buy, idem"),
        _F("held_by_cash_usd", float, "held back by the venue's cash, idem"),
    ),
    "settlement_due": _SETTLEMENT,
    "settlement_failed": (
        *_SETTLEMENT,
        _F("unpaid_usd", float, "the part of the amount not paid at the due step"),
        _F("recovery_rate", float, "what the payer's estate pays on the unpaid part: for a "
           "recalled loan its clearing recovery rate if it defaulted, else 0 (a transfer in "
           "flight is written off whole)"),
        _F("loss_usd", float, "what the payee loses: `unpaid_usd` x (1 - `recovery_rate`) "
           "(also `value_usd`)"),
        _F("payer_default_step", int, "the step the payer defaulted in (-1: it has not; it "
           "could not pay)"),
        _F("in_window", int, "1 if the payer defaulted inside the window (from the promise "
           "to the due step), else 0"),
    ),
    "variation_margin_call": (
        _F("outcome", str, "`paid` or `missed` (the member is then in default at the house; "
           "`venue` is the house, `agent` the member, `amount` its position in units, `price` "
           "the mark)"),
        _F("called_usd", float, "the variation margin called (also `value_usd`)"),
        _F("paid_usd", float, "what the member paid"),
        _F("unpaid_usd", float, "what it could not pay"),
        _F("member_cash_usd", float, "the member's cash after paying"),
    ),
    "waterfall": (
        _F("layer", str, "the layer that paid: `defaulter_margin`, `defaulter_fund`, "
           "`skin_in_the_game`, `survivors_fund`, `assessments` (`value_usd` what it paid; "
           "`venue` the house, `agent` the defaulter), or `gains_haircut` (the last resort: "
           "the house paid that much less of the variation-margin gains it owed that step)"),
        _F("loss_usd", float, "the defaulter's loss to the house: unpaid variation margin plus "
           "the close-out cost (for `gains_haircut`: what the layers before left uncovered)"),
        _F("residual_usd", float, "what is left to cover after this layer"),
        _F("haircut_frac", float, "the share of the gains owed that the house withheld",
           when=("gains_haircut",)),
    ),
    "default_fund_loss": (
        _F("defaulter", str, "the member whose default it pays for (`venue` is the survivor, "
           "`agent` the house, `value_usd` its loss: fund consumed plus assessment paid)"),
        _F("fund_loss_usd", float, "its default-fund contribution consumed"),
        _F("assessment_usd", float, "the assessment called from it"),
        _F("assessment_paid_usd", float, "what it paid of the assessment, from its cash"),
        _F("fund_left_usd", float, "its contribution left in the fund"),
    ),
    "bridge_exploit": (
        _F("locked_before_units", float, "units of the underlying locked before (`venue` is "
           "the bridge, `asset` the locked asset, `amount` the units drained, `value_usd` "
           "their value at `price`)"),
        _F("locked_units", float, "units locked after"),
        _F("minted_units", float, "claims outstanding"),
        _F("backing_before", float, "locked / minted before"),
        _F("backing_ratio", float, "locked / minted after"),
    ),
    "bridge_recapitalised": (
        _F("locked_units", float, "units locked after the refill (`amount` the units put "
           "back, `value_usd` their value)"),
        _F("minted_units", float, "claims outstanding"),
        _F("backing_before", float, "locked / minted before"),
        _F("backing_ratio", float, "locked / minted after (1)"),
    ),
    "bridge_halt": (
        _F("phase", str, "`start` (transfers across the bridge freeze; `in_flight_usd` "
           "those in flight) or `end` (it resumes; `in_flight_usd` those the halt held, "
           "settling now)"),
        _F("halt_steps", int, "the halt's length in steps"),
        _F("in_flight_usd", float, "cross-margin transfers in flight to the venues it carries "
           "(also `value_usd`)"),
        _F("transfers", int, "how many"),
    ),
    "claim_repriced": (
        _F("bridge", str, "the bridge that minted the claim (`asset`); `amount` the claim's "
           "price as a fraction of its underlying's"),
        _F("price_before", float, "the claim's price before (`price` is after)"),
        _F("backing_ratio", float, "the bridge's locked / minted now"),
        _F("halted", int, "1 if the bridge is halted (its halt discount applies), else 0"),
    ),
    "solvency_proof": (
        _F("proof_kind", str, "`reserves` (a reserves-only attestation) or `liabilities` "
           "(reserves and a proof of liabilities; `contagion.mechanics.solvency_proof`)"),
        _F("snapshot_step", int, "the step of the books it proves (`proof_lag_steps` before "
           "it is published)"),
        _F("reserves_usd", float, "the reserves it shows (also `value_usd`): assets at the "
           "snapshot plus the reserves borrowed for it"),
        _F("liabilities_shown_usd", float, "the liabilities depositors compare them with: "
           "those the exchange reports (reserves-only) or all of them (proof of liabilities)"),
        _F("published_ratio", float, "reserves / liabilities shown (also `amount`): what "
           "depositors read until the next proof"),
        _F("true_ratio", float, "its true assets / liabilities at the snapshot"),
        _F("hidden_usd", float, "customer deposits left out of the liabilities it reports "
           "(`hidden_liabilities_frac` of its deposits at the snapshot)"),
        _F("borrowed_usd", float, "reserves borrowed for the snapshot and returned after it"),
    ),
    "hole_revealed": (
        _F("snapshot_step", int, "the step of the books the proof showed the hole in"),
        _F("published_ratio", float, "the ratio the proof of liabilities published (also "
           "`amount`; below 1; `value_usd` the hole: liabilities shown less reserves)"),
        _F("reserves_only_ratio", float, "what a reserves-only attestation of the same "
           "snapshot would have published (1 or more: it hid the hole)"),
        _F("hidden_usd", float, "customer deposits the exchange's own report leaves out"),
        _F("borrowed_usd", float, "reserves borrowed for the snapshot"),
    ),
}

#: kind -> {field: type} (float, int or str): the fields each kind carries besides the
#: common columns.
EVENT_FIELDS: dict[str, dict[str, type]] = {
    kind: {f.name: f.type for f in _SCHEMA[kind]} for kind in EVENT_KINDS}

_DTYPES = {float: np.float64, int: np.int64, str: object}
_BLANK = {float: np.nan, int: -1, str: ""}


def _field_types() -> dict[str, type]:
    """Every field's type, first appearance first; a name means one type across kinds."""
    out: dict[str, type] = {}
    for kind in EVENT_KINDS:
        for f in _SCHEMA[kind]:
            if f.name in COMMON_COLUMNS or f.type not in _DTYPES:
                raise TypeError(f"event field {kind}.{f.name}: bad name or type")
            if out.setdefault(f.name, f.type) is not f.type:
                raise TypeError(f"event field {f.name!r} has two types")
    return out


_FIELD_TYPES = _field_types()

#: Every column of :meth:`EventLog.to_frame`, in order: the common columns, then the
#: kinds' fields (first appearance in :data:`EVENT_KINDS` order).
EVENT_COLUMNS: dict[str, Any] = {**COMMON_COLUMNS,
                                 **{n: _DTYPES[t] for n, t in _FIELD_TYPES.items()}}

#: What a column holds when an event does not set it.
COLUMN_DEFAULTS: dict[str, Any] = {
    "event_id": -1, "step": -1, "kind": "", "venue": "", "agent": "", "account": -1,
    "asset": "", "amount": np.nan, "value_usd": np.nan, "price": np.nan, "cause_id": -1,
    "detail": "", **{n: _BLANK[t] for n, t in _FIELD_TYPES.items()}}


def event_schema(kind: str) -> tuple[EventField, ...]:
    """The fields of ``kind``, with their docs and the variants that fill them."""
    return _SCHEMA[kind]


def required_fields(kind: str, variant: str = "") -> tuple[str, ...]:
    """The fields every event of ``kind`` (in ``variant``, for kinds that have variants)
    fills: not NaN, -1 or blank.

    Examples
    --------
    >>> required_fields("fund_draw", "shortfall")
    ('purpose', 'fund', 'balance_after_usd', 'shortfall_usd')
    >>> required_fields("loan_recall")
    ('due_step',)
    """
    return tuple(f.name for f in _SCHEMA[kind]
                 if not f.optional and (not f.when or variant in f.when))


def _allowed(kind: str, variant: str) -> frozenset[str]:
    return frozenset(f.name for f in _SCHEMA[kind] if not f.when or variant in f.when)


_ALLOWED = {(k, v): _allowed(k, v) for k in EVENT_KINDS
            for v in (EVENT_VARIANTS[k][1] if k in EVENT_VARIANTS else ("",))}
_REQUIRED = {key: frozenset(required_fields(*key)) for key in _ALLOWED}


#: (kind, field names, variant) of the field sets already found valid: the check depends on
#: nothing else, and a run logs the same few shapes of event thousands of times.
_VALID_SHAPES: set[tuple[Any, ...]] = set()


def _check_fields(kind: str, fields: dict[str, Any]) -> None:
    """Raise ValueError for a field ``kind`` does not declare, a missing required one or
    an unknown variant."""
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown event kind {kind!r}")
    variant_field = EVENT_VARIANTS[kind][0] if kind in EVENT_VARIANTS else None
    variant_value = fields.get(variant_field, "") if variant_field is not None else ""
    shape = (kind, tuple(fields), variant_value if isinstance(variant_value, str) else None)
    if shape[2] is not None and shape in _VALID_SHAPES:
        return
    _check_fields_fully(kind, fields)
    if shape[2] is not None:
        _VALID_SHAPES.add(shape)


def _check_fields_fully(kind: str, fields: dict[str, Any]) -> None:
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown event kind {kind!r}")
    extra = fields.keys() - COMMON_COLUMNS.keys()
    reserved = fields.keys() & {"event_id", "step", "kind"}
    if reserved:
        raise ValueError(f"{sorted(reserved)} are set by the log, not passed as fields")
    declared = EVENT_FIELDS[kind]
    undeclared = extra - declared.keys()
    if undeclared:
        raise ValueError(f"event kind {kind!r} has no field {sorted(undeclared)}; "
                         f"its fields are {sorted(declared)}")
    variant = ""
    if kind in EVENT_VARIANTS:
        name, variants = EVENT_VARIANTS[kind]
        variant = fields.get(name, "")
        if not isinstance(variant, str) or variant not in variants:
            raise ValueError(f"event kind {kind!r} needs {name} in {list(variants)}, "
                             f"not {variant!r}")
    misplaced = extra - _ALLOWED[kind, variant]
    if misplaced:
        raise ValueError(f"{kind} events with {EVENT_VARIANTS[kind][0]}={variant!r} have no "
                         f"field {sorted(misplaced)}")
    missing = _REQUIRED[kind, variant] - extra
    if missing:
        raise ValueError(f"{kind} events need the field(s) {sorted(missing)}")


def schema_markdown() -> str:
    """The common columns and every kind's fields as Markdown tables (``docs/events.md``)."""
    names = {float: "float", int: "int", str: "str"}
    lines = ["| column | type | meaning |", "|---|---|---|"]
    for col, dtype in COMMON_COLUMNS.items():
        t = "str" if dtype is object else "int" if dtype is np.int64 else "float"
        lines.append(f"| `{col}` | {t} | {_COMMON_DOCS[col]} |")
    for kind in EVENT_KINDS:
        lines += ["", f"### `{kind}`", ""]
        if kind in EVENT_VARIANTS:
            name, variants = EVENT_VARIANTS[kind]
            lines += [f"Variants by `{name}`: " + ", ".join(f"`{v}`" for v in variants) + ".",
                      ""]
        lines += ["| field | type | filled | meaning |", "|---|---|---|---|"]
        for f in _SCHEMA[kind]:
            when = ", ".join(f"`{v}`" for v in f.when) if f.when else "always"
            when += " (may be blank)" if f.optional else ""
            lines.append(f"| `{f.name}` | {names[f.type]} | {when} | {f.doc} |")
    return "\n".join(lines) + "\n"


@dataclass(slots=True)
class _Chunk:
    n: int
    columns: dict[str, Any]


class EventLog:
    """Append-only, columnar event log.

    Examples
    --------
    >>> log = EventLog()
    >>> shock = log.add("price_shock", step=1, asset="ETH", price=1900.0, amount=-0.05,
    ...                 path="exogenous", price_before=2000.0, detail="ETH -5%")
    >>> ids = log.add_many("bad_debt", step=2, n=2, venue="LendA", account=[3, 7],
    ...                    value_usd=[100.0, 50.0], cause_id=shock,
    ...                    reason="collateral_exhausted", accounts=1, debt_asset="USDC")
    >>> df = log.to_frame()
    >>> cols = ["event_id", "kind", "account", "cause_id", "reason"]
    >>> df[cols].values.tolist()  # doctest: +NORMALIZE_WHITESPACE
    [[0, 'price_shock', -1, -1, ''], [1, 'bad_debt', 3, 0, 'collateral_exhausted'],
     [2, 'bad_debt', 7, 0, 'collateral_exhausted']]
    >>> trace_cause(df, 2)
    [2, 0]
    >>> log.add("bad_debt", step=2, reason="collateral_exhausted", accounts=1, pool="X")
    ... # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    ValueError: event kind 'bad_debt' has no field ['pool'];
    its fields are ['accounts', 'debt_asset', 'reason']
    """

    def __init__(self) -> None:
        self._chunks: list[_Chunk] = []
        self._next_id = 0
        self._frame: pd.DataFrame | None = None

    def __len__(self) -> int:
        return self._next_id

    def add(self, kind: str, *, step: int, **fields: Any) -> int:
        """Append one event; return its id (:meth:`add_many` of one event, without its
        arrays: most of a run's events come one at a time)."""
        _check_fields(kind, fields)
        eid = self._next_id
        cols: dict[str, Any] = {"event_id": eid, "step": step, "kind": kind}
        cols.update(fields)
        self._chunks.append(_Chunk(1, cols))
        self._next_id = eid + 1
        self._frame = None
        return eid

    def add_many(self, kind: str, *, step: int, n: int, **fields: Any) -> np.ndarray:
        """Append ``n`` events of one kind; array fields have length ``n``, scalars broadcast.

        ``fields`` are common columns and the kind's own fields (:data:`EVENT_FIELDS`);
        every field :func:`required_fields` names for the kind (and its variant) must be
        given. Returns the new events' ids.
        """
        _check_fields(kind, fields)
        ids = np.arange(self._next_id, self._next_id + n, dtype=np.int64)
        if n == 0:
            return ids
        cols: dict[str, Any] = {"event_id": ids, "step": step, "kind": kind}
        cols.update(fields)
        self._chunks.append(_Chunk(n, cols))
        self._next_id += n
        self._frame = None
        return ids

    def to_frame(self, columns: tuple[str, ...] | None = None) -> pd.DataFrame:
        """All events as a DataFrame with the columns of :data:`EVENT_COLUMNS` (or only
        ``columns``, in that order: what a reader that needs a few builds; not cached)."""
        if columns is None and self._frame is not None:
            return self._frame
        want = EVENT_COLUMNS if columns is None else {c: EVENT_COLUMNS[c] for c in columns}
        total = self._next_id
        data = {c: np.full(total, COLUMN_DEFAULTS[c], dtype=d) for c, d in want.items()}
        # one-event chunks (most of a run's) are gathered per column and written with one
        # fancy assignment each: a numpy slice assignment per event and column cost more
        # than the rest of the frame
        rows: dict[str, list[int]] = {c: [] for c in want}
        values: dict[str, list[Any]] = {c: [] for c in want}
        sliced: set[str] = set()  # columns some chunk wrote as a slice
        if "event_id" in want:  # ids are handed out in order, chunk after chunk
            data["event_id"] = np.arange(total, dtype=np.int64)
        start = 0
        for chunk in self._chunks:
            stop = start + chunk.n
            single = chunk.n == 1
            for col, v in chunk.columns.items():
                if col not in want or col == "event_id":
                    continue
                if single and (type(v) in _PLAIN or isinstance(v, np.generic)):
                    rows[col].append(start)
                    values[col].append(v)
                else:
                    data[col][start:stop] = v
                    sliced.add(col)
            start = stop
        for col, at in rows.items():
            if at:
                column = data[col]
                if column.dtype == object:  # the objects themselves, as element assignment
                    held = np.empty(len(at), dtype=object)
                    held[:] = values[col]
                    column[at] = held
                else:
                    column[at] = np.array(values[col], dtype=column.dtype)
        for col, dtype in want.items():  # text columns straight to pandas' str
            if dtype is object:
                data[col] = _text_array(data[col], blank=not rows[col] and col not in sliced)
        frame = pd.DataFrame(data, copy=False)
        if columns is None:
            self._frame = frame
        return frame


#: Field values written one event at a time (plus numpy scalars); anything else (an array,
#: a list) is sliced in as given.
_PLAIN = frozenset({int, float, str, bool})


#: pandas' ``str`` dtype, and whether it is pyarrow's (pandas 3): then text columns are
#: built as pyarrow arrays directly (``pd.array(..., dtype="str")`` checks and converts every
#: element in Python first, ~40% of building the frame).
_STR_DTYPE = pd.array(np.array([""], dtype=object), dtype="str").dtype
_ARROW_STR = getattr(_STR_DTYPE, "storage", None) == "pyarrow"


def _text_array(column: np.ndarray, *, blank: bool) -> Any:
    """``pd.array(column, dtype="str")``, faster where pandas' ``str`` is pyarrow's: a
    column no event set is ``""`` repeated; a column with an element pyarrow does not take
    as a string (a number) goes through pandas' own conversion (which writes it as text)."""
    if _ARROW_STR:
        import pyarrow as pa
        from pandas.arrays import ArrowStringArray

        if blank:
            arr = pa.repeat(pa.scalar("", pa.large_string()), column.size)
            return ArrowStringArray(pa.chunked_array([arr]), dtype=_STR_DTYPE)
        try:  # every element a str (None a missing value, as pandas reads it)
            arr = pa.array(column, type=pa.large_string())
        except (pa.ArrowTypeError, pa.ArrowInvalid):
            pass
        else:
            return ArrowStringArray(pa.chunked_array([arr]), dtype=_STR_DTYPE)
    return pd.array(column, dtype="str")


def trace_cause(events: pd.DataFrame, event_id: int) -> list[int]:
    """Follow ``cause_id`` links from ``event_id`` back to an exogenous event.

    Returns the chain of ids, starting with ``event_id`` and ending with the root cause.
    """
    return trace_chain(cause_links(events), event_id)


def cause_links(events: pd.DataFrame) -> dict[Any, Any]:
    """``event_id -> cause_id`` of every event, to follow many chains with one lookup table
    (:func:`trace_cause` builds it for each call)."""
    return dict(zip(events["event_id"].to_numpy(), events["cause_id"].to_numpy(), strict=True))


def trace_chain(cause: dict[Any, Any], event_id: int) -> list[int]:
    """:func:`trace_cause` over a table from :func:`cause_links` (built once for many
    chains)."""
    chain = [int(event_id)]
    seen = {int(event_id)}
    while True:
        nxt = int(cause.get(chain[-1], -1))
        if nxt < 0 or nxt in seen:
            return chain
        chain.append(nxt)
        seen.add(nxt)
