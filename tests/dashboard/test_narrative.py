"""The dashboard's narrative: per-step sentences, default traces and node events."""

from __future__ import annotations

import re
from collections.abc import Mapping

import pandas as pd
import pytest

from contagion.events import COLUMN_DEFAULTS
from contagion.runner import RunResult, simulate
from dashboard.narrative import (
    default_trace,
    format_units,
    format_usd,
    node_events,
    step_narrative,
)
from models import get_scenario


@pytest.fixture(scope="session")
def run() -> RunResult:
    """The default scenario, 300 traders, seed 0 (ETH crash; AlphaFund, CEX, LendB default)."""
    return simulate(get_scenario("default", n_traders=300), seed=0)


@pytest.fixture(scope="session")
def oracles(run: RunResult) -> dict[str, str]:
    return {o.name: o.asset for o in run.scenario.oracles}


@pytest.fixture(scope="session")
def stories(run: RunResult, oracles: dict[str, str]) -> dict[int, list[str]]:
    """The narrative of every step."""
    return {int(s): step_narrative(run.events, run.series, int(s), oracles=oracles)
            for s in run.series.index}


def _first_step(run: RunResult, kind: str, **where: str) -> int:
    ev = run.events[run.events["kind"] == kind]
    for col, value in where.items():
        ev = ev[ev[col] == value]
    return int(ev["step"].iloc[0])


# ---------------------------------------------------------------- formatting
@pytest.mark.parametrize(("x", "text"), [
    (0, "$0"), (12, "$12"), (999.4, "$999"), (999.7, "$1.0k"), (9_949, "$9.9k"), (9_950, "$10k"),
    (340_000, "$340k"), (999_999, "$1.0M"), (3_400_000, "$3.4M"), (-1_234_567, "-$1.2M"),
    (80_000_000, "$80M"), (2.5e9, "$2.5B"), (None, "n/a"),
])
def test_format_usd_rounds_for_people(x: float | None, text: str) -> None:
    assert format_usd(x) == text


@pytest.mark.parametrize(("x", "text"), [
    (1700.4, "1,700"), (458.83, "458.8"), (1.8947, "1.895"), (0.0351, "0.0351"),
    (153_453.2, "153,453"), (1_147_958, "1.1M"), (-51.97, "-51.97"), (float("nan"), "n/a"),
])
def test_format_units_rounds_for_people(x: float, text: str) -> None:
    assert format_units(x) == text


# ---------------------------------------------------------------- step narrative
def test_every_step_has_a_few_full_sentences(stories: dict[int, list[str]]) -> None:
    for step, lines in stories.items():
        assert 1 <= len(lines) <= 20, step
        assert all(isinstance(s, str) and (s[0].isupper() or s[0].isdigit()) and s.endswith(".")
                   for s in lines), step


def test_narrative_never_lists_accounts_one_by_one(run: RunResult,
                                                   stories: dict[int, list[str]]) -> None:
    liq = run.events[run.events["kind"].isin(["liquidation", "perp_liquidation"])]
    busiest = int(liq.groupby("step").size().idxmax())
    assert liq.groupby("step").size().max() > 5
    lines = stories[busiest]
    assert sum("fell below" in s for s in lines) <= liq.loc[liq["step"] == busiest,
                                                            ["venue", "asset"]].drop_duplicates().shape[0]


def test_narrative_formats_numbers_for_people(stories: dict[int, list[str]]) -> None:
    text = " ".join(s for lines in stories.values() for s in lines)
    assert not re.search(r"\$\d{1,3}(,\d{3}){2,}", text)  # no "$80,000,000"
    assert not re.search(r"\d\.\d{3,}e[+-]\d", text)  # no "6.052e+04"
    assert "$" in text


def test_narrative_at_the_cex_default_says_cex_defaulted_and_why(
        run: RunResult, stories: dict[int, list[str]]) -> None:
    lines = stories[_first_step(run, "default", venue="CEX")]
    default = [s for s in lines if "CEX" in s and "default" in s]
    assert default
    assert any("CEX defaulted:" in s and "run" in s for s in lines)
    assert any(s.startswith("Depositors withdrew") and "CEX" in s for s in lines)
    assert any("EXT crashed" in s for s in lines)


def test_narrative_tells_cause_before_effect_within_a_step(
        run: RunResult, stories: dict[int, list[str]]) -> None:
    lines = stories[_first_step(run, "default", venue="CEX")]
    at = {key: next(i for i, s in enumerate(lines) if key in s)
          for key in ("withdrew", "CEX defaulted", "positions on PerpX", "bad debt")}
    assert at["withdrew"] < at["CEX defaulted"] < at["positions on PerpX"] < at["bad debt"]


def test_narrative_of_lending_liquidations_gives_accounts_debt_units_and_pool_move(
        run: RunResult, stories: dict[int, list[str]]) -> None:
    step = _first_step(run, "liquidation", venue="LendA")
    ev = run.events[(run.events["step"] == step) & (run.events["kind"] == "liquidation")
                    & (run.events["venue"] == "LendA")]
    line = next(s for s in stories[step] if "on LendA fell below HF 1" in s)
    n = ev["account"].nunique()
    assert line.startswith(f"{n} account{'s' if n > 1 else ''} on LendA")
    assert format_usd(ev["value_usd"].sum()) in line
    assert f"{format_units(ev['amount'].sum())} ETH into ETH/USDC" in line
    move = run.series.at[step, "impact_ETH/USDC"]
    assert f"{move:+.1%}" in line


def test_narrative_of_perp_liquidations_counts_longs_and_shorts(
        run: RunResult, stories: dict[int, list[str]]) -> None:
    step = _first_step(run, "perp_liquidation")
    ev = run.events[(run.events["step"] == step) & (run.events["kind"] == "perp_liquidation")]
    line = next(s for s in stories[step] if "PerpX" in s and "maintenance margin" in s)
    longs, shorts = int((ev["amount"] > 0).sum()), int((ev["amount"] < 0).sum())
    assert f"({longs} long, {shorts} short)" in line
    assert f"{format_usd(ev['value_usd'].sum())} notional" in line


def test_narrative_reports_oracle_updates_with_old_and_new_price(
        run: RunResult, stories: dict[int, list[str]]) -> None:
    ev = run.events[(run.events["kind"] == "oracle_update") & (run.events["amount"] < -0.5)]
    step, oracle = int(ev["step"].iloc[0]), str(ev["agent"].iloc[0])
    line = next(s for s in stories[step] if s.startswith(f"The {oracle} oracle"))
    assert re.search(r"updated EXT [\d.,]+ -> [\d.,]+ \(-\d+\.\d%\) after its deviation threshold\.$",
                     line)


def test_narrative_reports_fund_draws_exhaustion_and_socialised_losses(
        run: RunResult, stories: dict[int, list[str]]) -> None:
    lines = stories[_first_step(run, "fund_exhausted")]
    assert any(s.startswith("LendB-Fund paid") for s in lines)
    assert any("exhausted" in s for s in lines)
    assert any(s.startswith("LendB socialised") for s in lines)


def test_a_calm_step_says_calm(run: RunResult, stories: dict[int, list[str]]) -> None:
    assert stories[0][0] == "Step 0: calm — no liquidations or losses; prices moved less than 1%."
    last = int(run.series.index.max())
    assert stories[last][0].startswith(f"Step {last}: calm")


def test_a_step_without_events_is_calm(run: RunResult) -> None:
    lines = step_narrative(run.events.iloc[:0], run.series, 7)
    assert lines == ["Step 7: calm — no liquidations or losses; prices moved less than 1%."]


# ---------------------------------------------------------------- default trace
def test_default_trace_runs_from_the_first_shock_to_the_default(run: RunResult) -> None:
    lines = default_trace(run.events, "CEX")
    assert len(lines) >= 3
    assert all(re.match(r"Step \d+: ", s) for s in lines)
    steps = [int(re.findall(r"^Step (\d+)", s)[0]) for s in lines]
    assert steps == sorted(steps)
    assert "CEX defaulted" in lines[-1]
    assert any("AlphaFund defaulted" in s for s in lines)  # the first default fed the second


def test_default_trace_of_a_venue_that_never_defaulted_is_empty(run: RunResult) -> None:
    assert default_trace(run.events, "PerpX") == []
    assert default_trace(run.events, "nowhere") == []


# ---------------------------------------------------------------- node events
def test_node_events_of_a_trader_are_its_accounts_rows(run: RunResult) -> None:
    account = int(run.events.loc[run.events["kind"] == "liquidation", "account"].iloc[0])
    rows = node_events(run.events, f"trader:{account}")
    assert list(rows.columns) == ["step", "kind", "value_usd", "detail"]
    assert len(rows) == int((run.events["account"] == account).sum())
    assert "liquidation" in set(rows["kind"])
    assert rows["step"].is_monotonic_increasing


def test_node_events_of_an_institution_match_venue_or_agent(run: RunResult) -> None:
    rows = node_events(run.events, "AlphaFund")
    assert {"default", "loan_loss", "loan_recall"} <= set(rows["kind"])  # loan_* name it as agent
    assert rows["step"].is_monotonic_increasing
    fund = node_events(run.events, "LendB-Fund")
    assert {"fund_draw", "fund_exhausted"} <= set(fund["kind"])


def test_node_events_of_a_cohort_or_unknown_node_are_empty(run: RunResult) -> None:
    for node in ("cohort:LendA+CEX", "trader:x", "nobody"):
        rows = node_events(run.events, node)
        assert isinstance(rows, pd.DataFrame) and rows.empty
        assert list(rows.columns) == ["step", "kind", "value_usd", "detail"]


# ---------------------------------------------------------------- every event kind is told
_BASE = {**COLUMN_DEFAULTS, "event_id": 0, "step": 5}  # every column, blank
_SERIES = pd.DataFrame({"price_ETH": [150.0] * 6}).rename_axis("step")


def _events(*rows: Mapping[str, object]) -> pd.DataFrame:
    """A hand-made event log of step 5: one row per dict, ids in order."""
    return pd.DataFrame([{**_BASE, "event_id": i, **row} for i, row in enumerate(rows)])


def _story(*rows: Mapping[str, object]) -> list[str]:
    return step_narrative(_events(*rows), _SERIES, 5)


def test_every_event_kind_of_the_engine_is_told() -> None:
    from contagion.events import EVENT_KINDS
    from dashboard.narrative import _TOLD

    assert set(EVENT_KINDS) <= _TOLD


def test_auction_bites_zero_bids_gas_and_keepers_are_told_per_venue() -> None:
    bite = ("collateral below 150% of the debt at the oracle price: Maker closed the vault and put "
            "its ETH up for auction for the debt plus a 13% penalty")
    lone = ("a lone keeper bid (gas x6 priced out 3 of 4): he won the ETH lot for 0% of its "
            "value; the owner lost the collateral and the debt went unpaid")
    lines = _story(
        {"kind": "gas_spike", "agent": "Keepers", "amount": 6.0, "value_usd": 30.0,
         "phase": "spike", "normal_gas_cost_usd": 5.0, "keepers": 4, "keepers_active": 1,
         "detail": "network congestion: gas x6, a liquidation or auction bid now costs $30 in gas "
                   "(normally $5)"},
        *({"kind": "keeper_dropout", "agent": "Keepers", "amount": float(k), "value_usd": 12.0,
           "keeper": k, "keepers": 4, "keepers_left": 4 - k, "gas_cost_usd": 30.0,
           "tolerance": 2.5, "detail":
           f"keeper {k} of 4 stops bidding: gas $30 a bid exceeds what its bot pays ($12, x2.5 "
           f"normal); {4 - k} keeper{'s' if 4 - k != 1 else ''} left"} for k in (1, 2, 3)),
        *({"kind": "liquidation", "venue": "Maker", "agent": "Keepers", "account": a,
           "asset": "ETH", "amount": 100.0, "value_usd": 9000.0, "mode": "auction",
           "counterparty": "Keepers", "debt_repaid_usd": 0.0, "collateral_seized_units": 100.0,
           "min_collateral_ratio": 1.5, "penalty_frac": 0.13, "detail": bite} for a in (1, 2, 3)),
        {"kind": "auction", "venue": "Maker", "agent": "Keepers", "account": 1, "asset": "ETH",
         "amount": 70.0, "value_usd": 10_170.0, "bidders": 4, "discount_frac": 0.03,
         "units_to_owner": 30.0, "detail": "4 keepers bid: the ETH lot cleared at "
         "its value less 3%; the debt and penalty are repaid and the collateral left over goes "
         "back to the owner"},
        *({"kind": "zero_bid", "venue": "Maker", "agent": "Keepers", "account": a, "asset": "ETH",
           "amount": 100.0, "value_usd": 0.0, "gas_multiple": 6.0, "keepers": 4,
           "keepers_priced_out": 3, "lone_bid_frac": 0.0, "detail": lone} for a in (2, 3)),
    )
    text = " ".join(lines)
    assert lines[0].startswith("Network congestion: gas x6")
    assert lines[1] == ("3 of the 4 Keepers stopped bidding: gas at $30 a bid is more than their "
                        "bots pay; 1 keeper left.")
    assert ("3 vaults on Maker fell below 150% collateral: Maker closed them and put 300 ETH up "
            "for auction against $27k of debt plus a 13% penalty.") in lines
    assert "liquidators repaid" not in text  # a bite repays nothing yet
    assert any(s.startswith("1 auction on Maker cleared with keepers competing: they paid $10k "
                            "for 70 ETH") for s in lines)
    zero = next(s for s in lines if "lone keeper" in s)
    assert zero.startswith("2 lots on Maker went to a lone keeper for nothing (gas x6 priced out "
                           "3 of 4): 200 ETH (worth about $30k at the market price)")
    assert len(lines) == 5  # one sentence per mechanism and venue, never one per vault


def test_a_depth_collapse_and_a_fire_sale_are_told_once() -> None:
    lines = _story(
        *({"kind": "liquidity_shock", "agent": "depth-collapse", "asset": a, "amount": -0.98,
           "value_usd": 1e9, "depth_before_usd": 1.0, "depth_after_usd": 0.02,
           "duration_steps": 12, "recovery_steps": 36,
           "detail": f"{a} order-book depth fell 98% (external depth $1 -> $0) "
           "for 12 steps, recovering over 36; its pools' arbitrage capacity fell alike"}
          for a in ("BTC", "ETH", "USDe")),
        *({"kind": "asset_sale", "venue": "Celsius", "agent": "stETH/USDC", "asset": "stETH",
           "amount": 1000.0, "value_usd": 1.3e6, "price": 1300.0, "purpose": "withdrawals",
           "detail": "Celsius fire-sold 1,000 stETH into "
           "stETH/USDC for $1,300,000 ($1,300 each) to pay withdrawals"} for _ in range(2)),
    )
    assert lines == [
        "Market makers pulled their quotes (depth-collapse): order-book depth fell 98% for BTC, "
        "ETH and USDe for 12 steps, recovering over 36; the pools' arbitrage capacity fell alike.",
        "Celsius fire-sold 2,000 stETH into stETH/USDC for $2.6M (about $1.3k each) to pay "
        "withdrawals."]


def test_a_peg_reserve_its_arbitrage_and_a_yield_venue_run_are_told_as_such() -> None:
    exits = {"reason": "depeg_exit", "selling_into": "UST/USDC", "depeg_frac": 0.0277,
             "step_units": 3000.0, "step_usd": 2880.0, "spot_after": 0.9289}
    start = {**exits, "phase": "start", "depositors": 2}
    lines = _story(
        {"kind": "withdrawal", "venue": "Anchor", "agent": "UST/USDC", "account": 7,
         "asset": "UST", "amount": 1000.0, "value_usd": 960.0, **start,
         "detail": "2 depositors of Anchor "
         "started to leave at a depeg of 2.77%, selling into UST/USDC (step total 3,000 UST for "
         "$2,880; UST spot now 0.9289)"},
        {"kind": "withdrawal", "venue": "Anchor", "agent": "UST/USDC", "account": 9,
         "asset": "UST", "amount": 500.0, "value_usd": 480.0, **start,
         "detail": "2 depositors of Anchor "
         "started to leave at a depeg of 2.77%, selling into UST/USDC (step total 3,000 UST for "
         "$2,880; UST spot now 0.9289)"},
        {"kind": "withdrawal", "venue": "Anchor", "agent": "UST/USDC", "asset": "UST",
         "amount": 1500.0, "value_usd": 1440.0, **exits, "phase": "continue", "depositors": 5,
         "depeg_frac": float("nan"), "detail": "5 depositors of Anchor already leaving "
         "kept selling into UST/USDC (step total 3,000 UST for $2,880; UST spot now 0.9289)"},
        {"kind": "fund_draw", "venue": "the UST peg", "agent": "Terra reserve", "asset": "UST",
         "amount": 42_452.0, "value_usd": 39_996.0, "purpose": "peg_defence",
         "fund": "Terra reserve", "peg": "Terra", "pool": "UST/USDC", "spot_after": 0.9548,
         "balance_after_usd": 2_883_406.0, "detail": "Terra's reserve bought 42,452 UST "
         "for $39,996 in UST/USDC to defend the peg (spot now 0.9548); $2,883,406 left"},
        {"kind": "token_sale", "venue": "Terra arbitrageurs", "agent": "LUNA/USDC",
         "asset": "LUNA", "amount": 68.74, "value_usd": 5794.0, "price": 83.12,
         "purpose": "burn_arbitrage", "burned_asset": "UST", "burned_units": 5941.0,
         "burn_price": 0.957, "burn_pool": "UST/USDC", "token_price": 83.12, "spot_after": 83.12,
         "supply_after": 350_100.0, "detail": "arbitrageurs bought "
         "5,941 UST at 0.9570 in UST/USDC, burned it for 68.74 newly minted LUNA (at $83.12) and "
         "sold that into LUNA/USDC (LUNA spot now 83.12; supply 3.501e+05)"},
        {"kind": "fund_exhausted", "venue": "the UST peg", "agent": "Terra reserve",
         "value_usd": 2.9e6, "purpose": "peg_defence", "fund": "Terra reserve", "peg": "Terra",
         "detail": "Terra's reserve is spent ($2,878,262 in all): nothing but "
         "mint/burn arbitrage defends the peg now"},
    )
    assert lines[0] == ("7 depositors of Anchor withdrew 3,000 UST and sold it into UST/USDC for "
                        "$2.9k (2 started to leave at a depeg of 2.77%; UST spot now 0.9289).")
    assert lines[1] == ("Terra reserve bought 42,452 UST for $40k in UST/USDC to defend the peg "
                        "(spot now 0.9548; $2.9M left).")
    assert lines[2].startswith("Terra arbitrageurs bought 5,941 UST at 0.9570 in UST/USDC, burned "
                               "it for 68.74 newly minted LUNA")
    assert "supply 350,100" in lines[2]
    assert lines[3].startswith("Terra's reserve is spent ($2.9M in all)")
    text = " ".join(lines)
    assert "shortfall" not in text and "Depositors withdrew" not in text


def test_an_attackers_withdrawals_are_not_depositors_withdrawals() -> None:
    row = {"kind": "withdrawal", "venue": "Mango", "agent": "attacker", "value_usd": 32_547_073.0,
           "reason": "exploit", "upnl_usd": 39_022_342.0, "price": 0.1188,
           "free_cash_after_usd": 92_454_611.0,
           "detail": "the attacker withdrew $32,547,073 from Mango, its account holding an "
                     "unrealised PnL of $39,022,342 at mark 0.1188; $92,454,611 of the venue's "
                     "free cash left"}
    assert _story(row) == ["The attacker withdrew $33M from Mango, its account holding an "
                           "unrealised PnL of $39M at mark 0.1188; $92M of the venue's free cash "
                           "left."]
    assert _story(row, {**row, "value_usd": 1.9e7}) == [
        "The attacker withdrew $52M from Mango in 2 withdrawals."]


def test_an_interbank_cascade_is_summed_up_not_listed_bank_by_bank() -> None:
    banks = [f"B{i:02d}" for i in range(6)]
    rows: list[dict[str, object]] = [
        {"kind": "asset_writedown", "venue": "A", "agent": "A", "amount": 0.4, "value_usd": 4e7,
         "assets_usd": 7e7, "liabilities_usd": 1.05e8,
         "detail": "A wrote off 40% of its external assets ($40,000,000): its books now show "
                   "$70,000,000 of assets against $105,000,000 of liabilities"}]
    for b in banks:
        rows += [{"kind": "withdrawal_freeze", "venue": b, "value_usd": 1e7, "reason": "insolvent",
                  "assets_usd": 1.0, "liabilities_usd": 2.0,
                  "detail": f"{b} froze withdrawals: its losses left $1 of assets against $2 of "
                            "liabilities"},
                 {"kind": "default", "venue": b, "agent": b, "reason": "insolvent",
                  "detail": f"{b} defaulted: {b} was insolvent after its losses"},
                 {"kind": "loan_loss", "venue": "Lender", "agent": b, "value_usd": 5e7,
                  "reason": "borrower_default",
                  "detail": f"Lender's $50,000,000 loan to {b} is impaired by its default"},
                 {"kind": "collateral_loss", "venue": b, "amount": 0.0, "value_usd": 1e8,
                  "recovery_rate": 0.0, "deposits_usd": 1e8,
                  "detail": f"depositors of {b} can expect 0% of their balances: cross-margined "
                            "accounts elsewhere lose that collateral"}]
    lines = _story(*rows)
    assert lines == [
        "A wrote off 40% of its external assets ($40M): its books now show $70M of assets "
        "against $105M of liabilities.",
        "6 institutions froze withdrawals: B00, B01, B02 and 3 more.",
        "6 institutions defaulted (B00, B01, B02 and 3 more): each was insolvent after its losses.",
        "The defaults of B00, B01, B02 and 3 more impaired 6 loans ($300M in all) held by 1 lender.",
        "Depositors of B00, B01, B02 and 3 more can expect 0% of their balances back ($600M lost "
        "in all)."]


def test_one_borrowers_default_impairs_its_lenders_loans_in_one_sentence() -> None:
    rows = [{"kind": "loan_loss", "venue": v, "agent": "Hub", "value_usd": u,
             "reason": "borrower_default",
             "detail": f"{v}'s ${u:,.0f} loan to Hub is impaired by its default"}
            for v, u in (("CoreA", 1e8), ("CoreB", 5e7), ("Small1", 6e7), ("Small2", 6e7),
                         ("Small3", 6e7))]
    assert _story(*rows) == ["The default of Hub impaired the loans of 5 lenders ($330M in all: "
                             "CoreA $100M, CoreB $50M, Small1 $60M and 2 more)."]
    assert _story(rows[0]) == ["CoreA's $100M loan to Hub is impaired by its default."]


def test_depositors_losses_fit_a_bank_and_an_exchange_whose_deposits_were_collateral() -> None:
    loss = {"kind": "collateral_loss", "venue": "A", "amount": 0.995, "value_usd": 2e5,
            "recovery_rate": 0.995, "deposits_usd": 4e7,
            "detail": "depositors of A can expect 100% of their balances: cross-margined "
                      "accounts elsewhere lose that collateral"}
    bank = _story(loss)
    assert bank == ["Depositors of A can expect 99.5% of their balances back ($200k lost)."]
    hit = {"kind": "perp_liquidation", "venue": "PerpX", "account": 3, "amount": 1.0,
           "value_usd": 1e4, "price": 1e4, "cause_id": 0}
    exchange = _story(loss, hit)
    assert exchange[0].startswith("Depositors of A can expect 99.5% of their balances back "
                                  "($200k lost); accounts elsewhere that counted those balances "
                                  "as collateral lose the same share.")
    assert "triggered by the loss of collateral held at A" in exchange[1]


def _collateral_loss_details(run: RunResult) -> list[str]:
    return run.events.loc[run.events["kind"] == "collateral_loss", "detail"].tolist()


def test_depositor_loss_detail_names_cross_margin_where_perp_accounts_count_the_deposits(
        run: RunResult) -> None:
    [detail] = _collateral_loss_details(run)  # CEX, custodian of PerpX's cross-margined accounts
    assert detail.startswith("depositors of CEX can expect ")
    assert "lost); cross-margined accounts at PerpX count those balances as collateral" in detail
    assert node_events(run.events, "CEX")["detail"].str.contains("cross-margined").any()


def test_depositor_loss_detail_of_banks_without_cross_margin_says_only_what_they_lose() -> None:
    banks = simulate(get_scenario("classic_eisenberg_noe"), seed=0)
    details = _collateral_loss_details(banks)
    assert len(details) == 3  # A, B and C default; D survives
    for detail in details:
        assert re.fullmatch(r"depositors of [ABC] can expect \d+% of their balances back "
                            r"\(\$[\d,]+ lost\)", detail), detail
        assert "cross-margin" not in detail


def test_an_unknown_event_kind_is_still_told() -> None:
    few = _story({"kind": "margin_call", "venue": "VenueX", "detail": "VenueX called margin on 3 "
                  "accounts for $12,000"})
    # its detail as written (capitalised, a full stop): nothing is parsed out of it
    assert few == ["VenueX called margin on 3 accounts for $12,000."]
    many = _story(*({"kind": "margin_call", "venue": "VenueX", "value_usd": 1e6} for _ in range(5)))
    assert many == ["5 margin call events at VenueX, $5.0M in all."]
    assert not many[0].startswith("Step 5: calm")


# ---------------------------------------------------------------- the presets' runs
@pytest.fixture(scope="module")
def preset_runs() -> dict[str, RunResult]:
    """Short runs of the presets whose mechanisms the default market does not have."""
    return {name: simulate(get_scenario(name, n_traders=300), seed=0)
            for name in ("black_thursday", "mango", "terra", "classic_gai_kapadia")}


_STORIES: dict[int, dict[int, list[str]]] = {}


def _all_stories(run: RunResult) -> dict[int, list[str]]:
    """The narrative of every step of ``run`` (computed once per run)."""
    if id(run) not in _STORIES:
        oracles = {o.name: o.asset for o in run.scenario.oracles}
        _STORIES[id(run)] = {int(s): step_narrative(run.events, run.series, int(s),
                                                    oracles=oracles)
                             for s in run.series.index}
    return _STORIES[id(run)]


@pytest.mark.parametrize("name", ["black_thursday", "mango", "terra", "classic_gai_kapadia"])
def test_preset_stories_are_short_full_sentences(preset_runs: dict[str, RunResult],
                                                 name: str) -> None:
    for step, lines in _all_stories(preset_runs[name]).items():
        assert 1 <= len(lines) <= 20, (name, step)
        assert all(s[0].isupper() or s[0].isdigit() for s in lines), (name, step)
        assert all(s.endswith(".") for s in lines), (name, step)
        assert not any("cross-margined accounts elsewhere" in s for s in lines)


def test_node_events_of_the_terra_peg_include_those_naming_it_by_an_alias(
        preset_runs: dict[str, RunResult]) -> None:
    run = preset_runs["terra"]
    assert run.network.nodes["Terra"]["kind"] == "peg"
    peg = node_events(run.events, "Terra", network=run.network)
    named = run.events["venue"].isin(["the UST peg", "Terra arbitrageurs"])
    assert len(peg) == int(named.sum()) > 0
    assert {"fund_draw", "fund_exhausted", "token_sale"} <= set(peg["kind"])
    assert peg["step"].is_monotonic_increasing
    reserve = node_events(run.events, "Terra reserve", network=run.network)
    assert {"fund_draw", "fund_exhausted"} <= set(reserve["kind"])
    assert "token_sale" not in set(reserve["kind"])
    anchor = node_events(run.events, "Anchor", network=run.network)
    assert len(anchor) == int((run.events["venue"] == "Anchor").sum()) > 0
    assert set(anchor["kind"]) == {"withdrawal"}
    assert node_events(run.events, "Terra").empty  # the aliases come from the network


def test_black_thursday_tells_its_zero_bids(preset_runs: dict[str, RunResult]) -> None:
    run = preset_runs["black_thursday"]
    stories = _all_stories(run)
    step = int(run.events.loc[run.events["kind"] == "zero_bid", "step"].min())
    text = " ".join(stories[step])
    assert "went to a lone keeper for nothing" in text
    assert "stopped bidding" in text and "Network congestion" in text


def test_mango_tells_the_attacker_not_depositors(preset_runs: dict[str, RunResult]) -> None:
    run = preset_runs["mango"]
    stories = _all_stories(run)
    steps = sorted(set(run.events.loc[run.events["kind"] == "withdrawal", "step"]))
    assert steps
    for step in steps:
        assert any(s.startswith("The attacker withdrew") for s in stories[step])
        assert not any(s.startswith("Depositors withdrew") for s in stories[step])


def test_terra_tells_the_peg_defence_and_the_minting(preset_runs: dict[str, RunResult]) -> None:
    stories = _all_stories(preset_runs["terra"])
    text = " ".join(s for lines in stories.values() for s in lines)
    assert "to defend the peg" in text and "newly minted LUNA" in text
    assert "depositors of Anchor withdrew" in text
    assert "the UST peg's shortfall" not in text


def test_a_large_interbank_round_is_summed_up(preset_runs: dict[str, RunResult]) -> None:
    run = preset_runs["classic_gai_kapadia"]
    per_step = run.events[run.events["kind"] == "default"].groupby("step").size()
    step = int(per_step.idxmax())
    assert per_step.max() > 3
    lines = _all_stories(run)[step]
    assert len(lines) <= 5
    assert any(f"{per_step.max()} institutions defaulted" in s for s in lines)


def test_every_kind_and_variant_is_told_from_its_fields_alone() -> None:
    """One event of each kind and variant, fields filled and detail blank: a full sentence
    with no blank number in it (the narrative never needs the detail)."""
    from contagion.events import EVENT_KINDS, EVENT_VARIANTS, event_schema
    from dashboard.narrative import _say

    fill = {float: 2.5, int: 3, str: "X"}
    for kind in EVENT_KINDS:
        name, variants = EVENT_VARIANTS.get(kind, ("", ("",)))
        for variant in variants:
            row = {**_BASE, "kind": kind, "venue": "V", "agent": "A", "asset": "ETH",
                   "amount": 0.5, "value_usd": 1e6, "price": 2.0, "account": 1,
                   **{f.name: fill[f.type] for f in event_schema(kind)
                      if not f.when or variant in f.when}}
            if name:
                row[name] = variant
            text = _say(row)
            assert not text[0].islower() and text.endswith("."), (kind, variant, text)
            assert not re.search(r"n/a|\bnan\b|\$-", text), (kind, variant, text)
            assert step_narrative(_events(row), _SERIES, 5), (kind, variant)
