"""The FTX preset (November 2022): what its history shows, and what each cause does.

History (scenario-facts.md section 4): Binance's FTT sale set off a run on FTX; FTX had
lent $10B of $16B of customer assets to Alameda, could not pay, and failed with it; BlockFi
and Genesis, exposed to FTX, froze withdrawals, and Gemini Earn froze as Genesis's lender;
DeFi lenders saw only ordinary liquidations. Lending the deposits to Alameda is the named
cause: with none lent, FTX pays the run and nobody fails.
"""

from __future__ import annotations

import pandas as pd
import pytest

from contagion.errors import ParameterError
from contagion.events import trace_cause
from contagion.runner import RunResult, simulate
from dashboard.forms import fields_for
from models import SCENARIOS, get_scenario, scenario_parameters

N = 300
SEEDS = (1, 2, 3)
CREDITORS = ("BlockFi", "Genesis", "Gemini")


def _run(seed: int, **kw: object) -> RunResult:
    return simulate(get_scenario("ftx", n_traders=N, **kw), seed=seed, check_conservation=True)


@pytest.fixture(scope="module")
def collapse() -> dict[int, RunResult]:
    """The preset as calibrated, three seeds."""
    return {s: _run(s) for s in SEEDS}


@pytest.fixture(scope="module")
def no_rehypothecation() -> dict[int, RunResult]:
    """The same dump and run, with FTX's deposits kept rather than lent to Alameda."""
    return {s: _run(s, rehypothecation_frac=0.0) for s in SEEDS}


def _defaults(r: RunResult) -> pd.DataFrame:
    ev = r.events
    return ev[ev["kind"] == "default"].set_index("venue")


def _chain_kinds(r: RunResult, event_id: int) -> list[str]:
    kind = r.events.set_index("event_id")["kind"]
    return [str(kind[e]) for e in trace_cause(r.events, event_id)]


@pytest.mark.parametrize("seed", SEEDS)
def test_ftx_alameda_and_their_creditors_default(collapse: dict[int, RunResult],
                                                 seed: int) -> None:
    r = collapse[seed]
    d = _defaults(r)
    assert {"FTX", "Alameda", *CREDITORS} <= set(d.index)
    assert set(r.summary["venues_defaulted"]) == {"FTX", *CREDITORS}
    # FTX paid out billions before it froze (history: ~$6B in 72 h, $5B of requests unpaid)
    ev = r.events
    paid = ev[(ev["kind"] == "withdrawal") & (ev["venue"] == "FTX")]["value_usd"].sum()
    assert 2e9 < paid < 8e9
    # FTT: ~$22 -> ~$17 after the dump -> ~$2 after FTX's default
    ftt = r.series["price_FTT"]
    before_default = ftt.iloc[: int(d.loc["FTX", "step"])]
    assert 14.0 < before_default.min() < 19.0
    assert ftt.iloc[-1] < 2.5
    # depositors at FTX recover well under par
    assert r.summary["recovery_by_venue"]["FTX"] < 0.85


@pytest.mark.parametrize("seed", SEEDS)
def test_the_defaults_follow_the_credit_edges_in_order(collapse: dict[int, RunResult],
                                                       seed: int) -> None:
    r = collapse[seed]
    d = _defaults(r)
    step, eid = d["step"], d["event_id"]
    # FTX first, then its creditors BlockFi and Genesis, then Genesis's lender Gemini
    assert step["FTX"] < step["BlockFi"] and step["FTX"] < step["Genesis"]
    assert step["Genesis"] < step["Gemini"]
    assert eid["FTX"] < eid["BlockFi"] < eid["Gemini"] and eid["Genesis"] < eid["Gemini"]
    for creditor in CREDITORS:  # frozen for their losses, not by a run
        frz = r.events[(r.events["kind"] == "withdrawal_freeze")
                       & (r.events["venue"] == creditor)]
        assert len(frz) == 1 and frz["reason"].iloc[0] == "insolvent"
        assert frz["assets_usd"].iloc[0] < frz["liabilities_usd"].iloc[0]
    # each chain runs back through the defaults it depends on to Binance's FTT dump
    kind = r.events.set_index("event_id")
    for creditor, via in (("BlockFi", ["FTX"]), ("Genesis", ["FTX"]),
                          ("Gemini", ["Genesis", "FTX"])):
        chain = trace_cause(r.events, int(eid[creditor]))
        defaulted = [kind.loc[e, "venue"] for e in chain if kind.loc[e, "kind"] == "default"]
        assert defaulted[1:1 + len(via)] == via
        assert kind.loc[chain[-1], "kind"] == "pool_manipulation"
        assert kind.loc[chain[-1], "agent"] == "FTT/USDC"
    assert _chain_kinds(r, int(eid["FTX"]))[-1] == "pool_manipulation"
    assert _chain_kinds(r, int(eid["Alameda"]))[-1] == "pool_manipulation"


@pytest.mark.parametrize("seed", SEEDS)
def test_the_defi_lender_is_only_mildly_affected(collapse: dict[int, RunResult],
                                                 seed: int) -> None:
    r = collapse[seed]
    assert r.summary["bad_debt_by_venue"]["DeFiLend"] == 0.0
    assert "DeFiLend" not in r.summary["venues_hit"]
    ev = r.events
    liq = ev[(ev["kind"] == "liquidation") & (ev["venue"] == "DeFiLend")]["value_usd"].sum()
    assert liq < 1e8  # history: Aave liquidated ~$28.6M
    # FTX took its supply back in the run: DeFiLend's exposure to it ends at zero
    x = r.exposures
    supply = x[(x["holder"] == "FTX") & (x["counterparty"] == "DeFiLend")]
    assert supply["exposure_usd"].iloc[0] > 1e8 and supply["exposure_usd"].iloc[-1] < 1e6


@pytest.mark.parametrize("seed", SEEDS)
def test_without_rehypothecation_ftx_pays_the_run_and_nobody_fails(
        collapse: dict[int, RunResult], no_rehypothecation: dict[int, RunResult],
        seed: int) -> None:
    r = no_rehypothecation[seed]
    assert r.summary["defaults"] == 0
    assert r.summary["venues_hit"] == []
    ev = r.events
    assert not (ev["kind"] == "withdrawal_freeze").any()
    paid = ev[(ev["kind"] == "withdrawal") & (ev["venue"] == "FTX")]["value_usd"].sum()
    assert paid > 2e9  # the same dump, the same run: paid in full
    assert r.series["price_FTT"].min() < 19.0
    assert r.summary["recovery_by_venue"]["FTX"] > 0.95
    assert collapse[seed].summary["defaults"] == 5


def test_without_the_dump_there_is_no_run() -> None:
    r = _run(1, ftt_dump_usd=0.0)
    assert r.summary["defaults"] == 0
    assert not (r.events["kind"] == "withdrawal").any()


def test_preset_validation_and_form() -> None:
    assert "ftx" in SCENARIOS
    params = scenario_parameters("ftx")
    keys = {f.key for f, _ in fields_for("ftx")}
    assert set(params) - {"steps"} <= keys  # every knob has a form field
    with pytest.raises(ParameterError, match=r"'rehypothecation_frac' = 0.95"):
        get_scenario("ftx", rehypothecation_frac=0.95)
    with pytest.raises(ParameterError, match=r"'ftt_dump_usd' = -1"):
        get_scenario("ftx", ftt_dump_usd=-1)
    with pytest.raises(ParameterError, match=r"'solvency_proofs' = 1"):
        get_scenario("ftx", solvency_proofs=1)
    sc = get_scenario("ftx", n_traders=50)
    assert {(c.lender, c.borrower) for c in sc.credit_links} == {
        ("FTX", "Alameda"), ("BlockFi", "FTX"), ("Genesis", "FTX"), ("Gemini", "Genesis")}
    assert sc.credit_links[0].amount_usd == pytest.approx(10e9)  # $10B of $16B
    zero = get_scenario("ftx", n_traders=50, rehypothecation_frac=0.0)
    assert ("FTX", "Alameda") not in {(c.lender, c.borrower) for c in zero.credit_links}


def test_borrowed_credit_counts_among_a_borrower_exchange_s_assets() -> None:
    from contagion.model import ContagionModel

    model = ContagionModel(get_scenario("ftx", n_traders=100), seed=1)
    genesis, ftx = model.institutions["Genesis"], model.institutions["FTX"]
    # Genesis borrowed Gemini's $0.9B and lent it on: its books balance at its 2% capital
    equity = genesis.assets_usd() - genesis.liabilities_usd()
    assert equity == pytest.approx(genesis.params.equity_buffer_frac * genesis.deposits_usd())
    assert genesis.liabilities_usd() == pytest.approx(2.8e9)
    # a recalled credit line is repaid from cash; one it cannot repay freezes the borrower
    cash = ftx.cash_usd
    assert ftx.repay_loan("BlockFi", 1e8) == pytest.approx(1e8)
    assert ftx.cash_usd == pytest.approx(cash - 1e8) and ftx.borrowings["BlockFi"] == 3e8
    assert not ftx.defaulted
    broke = ContagionModel(get_scenario("ftx", n_traders=100, rehypothecation_frac=0.85), seed=1)
    ftx = broke.institutions["FTX"]
    assert ftx.cash_usd == pytest.approx(0.0, abs=1.0)  # all lent to Alameda or illiquid
    assert ftx.repay_loan("Genesis", 1.75e8) == pytest.approx(0.0, abs=1.0)
    assert ftx.defaulted
    ev = broke.events_frame
    assert ev["kind"].tolist().count("withdrawal_freeze") == 1
    assert ftx.repay_loan("Genesis", 1e6) == 0.0  # nothing more once in default
