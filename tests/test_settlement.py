"""The settlement window: obligations in flight, their exposures and a default inside them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from contagion import ContagionModel
from contagion.analytics import exposure_profiles
from contagion.errors import ParameterError
from contagion.network import build_network, venue_exposure_matrix
from contagion.params import CustodialParams
from contagion.reporting import pair_exposures
from contagion.scenario import override
from contagion.settlement import (
    Settlement,
    SettlementQueue,
    due_records,
    in_window,
    pending_by_pair,
    window_loss_usd,
)
from dashboard.narrative import step_narrative
from models import get_scenario
from models.settlement_window import LOAN_USD


def _record(opened: int = 2, due: int = 5, amount: float = 10.0) -> Settlement:
    return Settlement(sid=0, kind="loan_recall", payer="F", payee="X", amount_usd=amount,
                      opened_step=opened, due_step=due)


# ---------------------------------------------------------------- the pure queue
def test_a_record_is_due_from_its_due_step_on() -> None:
    r = _record(due=5)
    assert due_records([r], 4) == ([], [r])
    assert due_records([r], 5) == ([r], [])
    assert due_records([r], 9) == ([r], [])


def test_a_default_is_inside_the_window_from_the_promise_to_the_due_step() -> None:
    r = _record(opened=2, due=5)
    assert [in_window(r, s) for s in (-1, 1, 2, 4, 5, 6)] == [False, False, True, True, True,
                                                               False]


def test_the_window_loss_is_what_was_not_paid() -> None:
    r = _record(amount=10.0)
    assert window_loss_usd(r, 0.0) == 10.0
    assert window_loss_usd(r, 4.0) == 6.0
    assert window_loss_usd(r, 12.0) == 0.0


def test_the_queue_hands_out_due_records_in_order_and_cancels_a_partys() -> None:
    q = SettlementQueue()
    a = q.open("loan_recall", payer="F", payee="X", amount_usd=5, step=1, delay_steps=3)
    b = q.open("margin_transfer", payer="X", payee="P", amount_usd=2, step=1, delay_steps=1)
    c = q.open("loan_recall", payer="G", payee="X", amount_usd=7, step=2, delay_steps=2)
    assert pending_by_pair(q.records) == {("X", "F"): 5.0, ("P", "X"): 2.0, ("X", "G"): 7.0}
    assert q.take_due(kind="loan_recall", payee="X", step=3) == []
    assert q.take_due(kind="loan_recall", payee="X", step=4) == [a, c]  # in the order opened
    assert q.total_usd(kind="margin_transfer", payer="X") == 2.0
    assert q.cancel(kind="margin_transfer", payer="X") == [b]
    assert len(q) == 0


def test_the_queue_refuses_an_unknown_kind() -> None:
    with pytest.raises(ValueError, match="settlement kind 'trade'"):
        SettlementQueue().open("trade", payer="A", payee="B", amount_usd=1, step=0,
                               delay_steps=1)


# ---------------------------------------------------------------- parameters
def test_await_settlement_must_be_a_bool() -> None:
    with pytest.raises(ParameterError, match="await_settlement"):
        CustodialParams(name="X", await_settlement="yes")  # type: ignore[arg-type]


def test_the_preset_refuses_a_negative_window() -> None:
    with pytest.raises(ParameterError, match="settlement_delay_steps"):
        get_scenario("settlement_window", settlement_delay_steps=-1)


# ---------------------------------------------------------------- the engine
def _run(**kw: object) -> ContagionModel:
    model = ContagionModel(get_scenario("settlement_window", **kw), seed=0,
                           check_conservation=True)
    model.run()
    return model


@pytest.fixture(scope="module")
def long_window() -> ContagionModel:
    return _run()


@pytest.fixture(scope="module")
def short_window() -> ContagionModel:
    return _run(settlement_delay_steps=3)


def _of(model: ContagionModel, kind: str, venue: str | None = None) -> pd.DataFrame:
    ev = model.events_frame
    ev = ev[ev["kind"] == kind]
    return ev if venue is None else ev[ev["venue"] == venue]


def test_the_same_default_costs_the_exchange_only_when_the_window_is_long(
        long_window: ContagionModel, short_window: ContagionModel) -> None:
    for model in (long_window, short_window):  # the firm defaults at the same step either way
        assert _of(model, "default", "AlphaFund")["step"].tolist() == [22]
        recall = _of(model, "loan_recall", "CEX")
        assert recall["step"].tolist() == [13] and recall["value_usd"].tolist() == [LOAN_USD]
        freeze = _of(model, "withdrawal_freeze", "CEX")
        assert freeze["reason"].iloc[0] == "awaiting_settlement"
    # long: due at 37, after the firm's default at 22 -> the loss, and CEX defaults
    failed = _of(long_window, "settlement_failed", "CEX")
    assert failed["step"].tolist() == [37] and failed["in_window"].tolist() == [1]
    assert failed["payer_default_step"].tolist() == [22]
    rec = float(failed["recovery_rate"].iloc[0])
    assert 0 < rec < 1
    assert failed["loss_usd"].iloc[0] == pytest.approx(LOAN_USD * (1 - rec), rel=1e-12)
    assert long_window.custodial[0].defaulted
    cex_default = _of(long_window, "default", "CEX")
    assert cex_default["step"].tolist() == [37] and cex_default["reason"].tolist() == ["insolvent"]
    # short: due at 16, before the crash -> repaid in full, CEX reopens and survives
    paid = _of(short_window, "settlement_due", "CEX")
    assert paid["step"].tolist() == [16] and paid["paid_usd"].tolist() == [LOAN_USD]
    assert _of(short_window, "settlement_failed").empty
    assert not short_window.custodial[0].defaulted
    assert (_of(short_window, "withdrawal", "CEX")["step"] > 16).any()  # withdrawals reopened
    # the firm's default then falls on Desk alone
    losses = _of(short_window, "loan_loss")
    assert losses["venue"].tolist() == ["Desk"]


def test_without_await_settlement_the_run_brings_the_exchange_down_in_the_recall_step() -> None:
    model = _run(await_settlement=False)
    recall_step = int(_of(model, "loan_recall", "CEX")["step"].iloc[0])
    cex = _of(model, "default", "CEX")
    assert cex["step"].tolist() == [recall_step] and cex["reason"].tolist() == ["run"]
    ev = model.events_frame
    assert not ev["kind"].isin(["settlement_due", "settlement_failed"]).any()
    assert len(model.settlements) == 0  # its recall became a plain claim of its estate


def test_a_frozen_exchange_that_freezes_when_insolvent_does_not_wait_for_a_lost_recall() -> None:
    sc = override(get_scenario("settlement_window"), "custodial.CEX.freeze_when_insolvent", True)
    model = ContagionModel(sc, seed=0, check_conservation=True)
    model.run()
    cex = _of(model, "default", "CEX")
    assert cex["reason"].tolist() == ["insolvent"]
    assert 22 < int(cex["step"].iloc[0]) < 37  # after the borrower's default, before due
    assert _of(model, "settlement_failed").empty and len(model.settlements) == 0


def test_a_zero_window_settles_the_recall_at_once() -> None:
    model = _run(settlement_delay_steps=0)
    recall, paid = _of(model, "loan_recall", "CEX"), _of(model, "settlement_due", "CEX")
    assert paid["step"].tolist() == recall["step"].tolist()
    assert _of(model, "withdrawal_freeze", "CEX").empty and not model.custodial[0].defaulted


def test_same_seed_same_events(long_window: ContagionModel) -> None:
    again = _run()
    pd.testing.assert_frame_equal(again.events_frame, long_window.events_frame)


def test_the_recalled_loan_is_a_pending_exposure_during_the_window(
        long_window: ContagionModel) -> None:
    ex = long_window.exposure_frame()
    pair = ex[(ex["holder"] == "CEX") & (ex["counterparty"] == "AlphaFund")]
    pending = pair[pair["channel"] == "pending_settlement"].set_index("step")["exposure_usd"]
    loan = pair[pair["channel"] == "loan"].set_index("step")["exposure_usd"]
    # from the recall (13) to the step before it fell due (36) the loan is pending
    assert list(pending.index) == list(range(13, 37))
    assert (pending == LOAN_USD).all() and (loan.loc[13:36] == 0.0).all()
    assert (loan.loc[:12] == LOAN_USD).all()
    total = pair.groupby("step")["exposure_usd"].sum()
    assert (total.loc[:36] == LOAN_USD).all()  # moved between channels, not double counted


def test_the_pending_series_shows_what_is_in_flight(long_window: ContagionModel) -> None:
    s = long_window.datacollector.get_model_vars_dataframe()["pending_settlement_usd"]
    assert s.index[s > 0].tolist() == list(range(13, 37)) and s.max() == LOAN_USD
    off = ContagionModel(get_scenario("default", n_traders=200, steps=2), seed=0)
    assert "pending_settlement_usd" not in off.datacollector.model_reporters  # presets unchanged


def test_pending_transfers_raise_the_payees_exposure_profile_by_their_amount() -> None:
    model = ContagionModel(get_scenario("default", n_traders=200, steps=10), seed=0,
                           check_conservation=True)
    model.run(2)
    ex, perp = model.custodial[0], model.perps[0]
    owners = ex.book.owner[:5]
    before = pd.DataFrame(pair_exposures(model))
    committed = ex.seize(owners, np.full(5, 1000.0), to=perp.name, delay_steps=3)
    # as the venue does when it seizes: credit the accounts now, the cash arrives later
    perp.unfunded_usd += float(committed.sum())
    perp.book.collateral[1] += float(committed.sum())
    amount = float(committed.sum())
    assert amount == pytest.approx(5000.0)
    rows = pd.DataFrame(pair_exposures(model))
    pend = rows[rows["channel"] == "pending_settlement"]
    assert pend[["holder", "counterparty"]].values.tolist() == [[perp.name, ex.name]]
    assert float(pend["exposure_usd"].iloc[0]) == amount
    assert len(rows) == len(before) + 1
    G = build_network(model)
    assert G.edges[perp.name, ex.name, "pending_settlement"]["weight"] == amount
    names, M = venue_exposure_matrix(G)
    assert M[names.index(perp.name), names.index(ex.name)] >= amount
    # the exposure profile over the window: EE rises by the pending amount, then settles
    model.run(5)
    frame = model.exposure_frame().assign(run_id=0)
    frame = frame[frame["channel"] == "pending_settlement"]
    prof = exposure_profiles(frame)
    ee = prof.set_index("step")["ee_usd"]
    assert ee.loc[3:4].tolist() == [amount, amount]  # recorded at steps 3 and 4
    assert 5 not in ee.index or ee.loc[5] == 0.0  # settled at its due step, 5
    paid = model.events_frame
    paid = paid[paid["kind"] == "settlement_due"]
    assert paid[["step", "settlement_kind", "paid_usd"]].values.tolist() == [
        [5, "margin_transfer", amount]]
    assert perp.unfunded_usd == pytest.approx(0.0, abs=1e-6)


def test_the_narrative_tells_the_freeze_the_settlement_and_the_loss(
        long_window: ContagionModel, short_window: ContagionModel) -> None:
    def told(model: ContagionModel, step: int) -> str:
        return " ".join(step_narrative(model.events_frame, model.datacollector
                                       .get_model_vars_dataframe(), step))
    assert "froze them until the $60M of loans it recalled settle at step 37" in told(
        long_window, 13)
    lost = told(long_window, 37)
    assert "AlphaFund defaulted at step 22, inside the settlement window" in lost
    assert "CEX did not receive $60M" in lost
    assert "AlphaFund paid CEX the $60M loan it had recalled" in told(short_window, 16)
