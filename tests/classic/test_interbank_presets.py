"""Interbank teaching presets on the engine: Eisenberg-Noe, Gai-Kapadia and DebtRank.

The engine's per-step defaults must be the rounds of the pure models on the same networks:
Eisenberg-Noe's fictitious default algorithm on the engine's own clearing matrices, and
Gai & Kapadia's cascade (``models.classic.gai_kapadia``) on the same random graph.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from contagion.credit import credit_matrix
from contagion.errors import ParameterError
from contagion.mechanics.clearing import eisenberg_noe
from contagion.mechanics.debtrank import systemic_importance
from contagion.model import ContagionModel
from contagion.network import build_network, venue_exposure_matrix
from contagion.params import ClearingParams
from contagion.runner import simulate
from models import SCENARIOS, get_scenario, scenario_parameters
from models.classic.gai_kapadia import cascade_size
from models.classic.interbank import (
    DEBTRANK_BANKS,
    EN_BANKS,
    debtrank_demo,
    eisenberg_noe_demo,
    gai_kapadia_demo,
    gai_kapadia_graph,
)

N = 300  # traders (depositors) per run
WRITEDOWN_STEP = 2


def _run(scenario, seed: int = 1) -> ContagionModel:
    model = ContagionModel(scenario, seed=seed, check_conservation=True)
    model.run()
    return model


def _engine_rounds(model: ContagionModel) -> np.ndarray:
    """Per bank: steps from the write-down to its default, -1 if it never defaulted."""
    return np.array([ex.default_step - WRITEDOWN_STEP if ex.defaulted else -1
                     for ex in model.custodial])


# ---------------------------------------------------------------------- Eisenberg-Noe
@pytest.mark.parametrize("seed", [1, 2])
def test_en_demo_reproduces_the_hand_worked_clearing(seed: int) -> None:
    model = _run(eisenberg_noe_demo(n_traders=N), seed)
    assert _engine_rounds(model).tolist() == [0, 1, 2, -1]  # A, then B, then C; D survives
    recovery = {ex.name: ex.recovery_rate for ex in model.custodial}
    assert recovery == pytest.approx({"A": 70 / 105, "B": (50 + 80 / 3) / 85,
                                      "C": (37 + 30 * (230 / 3) / 85) / 65, "D": 1.0})
    _, L, e = credit_matrix(model)
    res = eisenberg_noe(L, e)
    np.testing.assert_allclose(res.payments[:4] / 1e6, [70, 230 / 3, 64.0588235, 45], rtol=1e-6)
    assert res.equity[3] / 1e6 == pytest.approx(30 + 20 * 64.0588235 / 65 - 45)


@pytest.mark.parametrize("shocked_bank", range(4))
@pytest.mark.parametrize("writedown_frac", [0.05, 0.1, 0.2, 0.4, 0.7, 1.0])
def test_en_demo_defaults_per_step_are_the_fictitious_default_rounds(
        shocked_bank: int, writedown_frac: float) -> None:
    model = _run(eisenberg_noe_demo(n_traders=N, shocked_bank=shocked_bank,
                                    writedown_frac=writedown_frac))
    names, L, e = credit_matrix(model)  # the engine's matrices after the write-down
    assert names == [*EN_BANKS, "outside"]
    rounds = eisenberg_noe(L, e).default_round[:4]
    np.testing.assert_array_equal(_engine_rounds(model), rounds)


def test_en_demo_without_the_write_down_nobody_defaults() -> None:
    calm = simulate(eisenberg_noe_demo(n_traders=N, writedown_frac=0.0), seed=1,
                    check_conservation=True)
    assert calm.summary["defaults"] == 0
    assert not (calm.events["kind"] == "asset_writedown").any()
    shocked = simulate(eisenberg_noe_demo(n_traders=N), seed=1, check_conservation=True)
    assert shocked.summary["defaulted"] == ["A", "B", "C"]
    assert shocked.summary["default_generations"] == {"A": 1, "B": 2, "C": 3}


def test_write_down_starts_a_traceable_cause_chain() -> None:
    events = simulate(eisenberg_noe_demo(n_traders=N), seed=1).events
    by_id = events.set_index("event_id")
    c_default = events[(events["kind"] == "default") & (events["venue"] == "C")].iloc[0]
    chain, eid = [], int(c_default["event_id"])
    while eid >= 0:
        chain.append((by_id.at[eid, "kind"], by_id.at[eid, "venue"]))
        eid = int(by_id.at[eid, "cause_id"])
    assert chain[-1] == ("asset_writedown", "A")
    assert ("default", "B") in chain and ("default", "A") in chain
    wd = events[events["kind"] == "asset_writedown"].iloc[0]
    assert wd["step"] == WRITEDOWN_STEP and wd["value_usd"] == pytest.approx(40e6)


# ---------------------------------------------------------------------- Gai-Kapadia
def _pure_gk_rounds(G, shocked: int, ib: str = "0.2", cap: str = "0.04") -> np.ndarray:
    """The pure Gai-Kapadia cascade, round by round (rule "gt", exact arithmetic)."""
    n = G.number_of_nodes()
    k = np.array([G.out_degree(i) for i in range(n)])
    rounds = np.full(n, -1)
    rounds[shocked] = 0
    r = 0
    while True:
        r += 1
        dead = rounds >= 0
        hit = [k[i] > 0 and sum(dead[j] for j in G.successors(i)) * Fraction(ib) / k[i]
               > Fraction(cap) for i in range(n)]
        new = ~dead & np.array(hit)
        if not new.any():
            return rounds
        rounds[new] = r


@pytest.mark.parametrize(("seed_graph", "mean_degree", "shocked_bank"),
                         [(0, 1.5, -1), (1, 3.0, -1), (2, 5.0, -1), (3, 2.0, 7), (4, 3.0, 0)])
def test_gk_demo_defaults_per_step_are_the_pure_cascade_rounds(
        seed_graph: int, mean_degree: float, shocked_bank: int) -> None:
    model = _run(gai_kapadia_demo(n_traders=N, seed_graph=seed_graph, mean_degree=mean_degree,
                                  shocked_bank=shocked_bank))
    G = gai_kapadia_graph(40, mean_degree, seed_graph)
    shocked = int(np.flatnonzero(_engine_rounds(model) == 0)[0])
    if shocked_bank >= 0:
        assert shocked == shocked_bank
    engine = _engine_rounds(model)
    np.testing.assert_array_equal(engine, _pure_gk_rounds(G, shocked))
    edges = np.array(list(G.edges()))
    creditors_of = sparse.csr_matrix((np.ones(len(edges), dtype=np.int64),
                                      (edges[:, 0], edges[:, 1])), shape=(40, 40))
    degree = np.bincount(edges[:, 0], minlength=40)
    assert (engine >= 0).sum() == cascade_size(creditors_of, degree, shocked, ib=Fraction("0.2"),
                                               cap=Fraction("0.04"), rule="gt")
    _, L, e = credit_matrix(model)  # also: Rogers-Veraart with zero recovery, same rounds
    np.testing.assert_array_equal(engine, eisenberg_noe(L, e, alpha=0, beta=0).default_round[:-1])


def test_gk_demo_shocks_the_most_contagious_bank_and_recovers_nothing() -> None:
    model = _run(gai_kapadia_demo(n_traders=N))
    G = gai_kapadia_graph(40, 3.0, 1)
    edges = np.array(list(G.edges()))
    creditors_of = sparse.csr_matrix((np.ones(len(edges), dtype=np.int64),
                                      (edges[:, 0], edges[:, 1])), shape=(40, 40))
    degree = np.bincount(edges[:, 0], minlength=40)
    sizes = [cascade_size(creditors_of, degree, b, ib=Fraction("0.2"), cap=Fraction("0.04"),
                          rule="gt") for b in range(40)]
    defaults = sum(ex.defaulted for ex in model.custodial)
    assert defaults == max(sizes) > 0.5 * 40  # a global cascade
    assert model.scenario.clearing == ClearingParams(external_assets_frac=0,
                                                     interbank_receipts_frac=0)
    assert all(ex.recovery_rate == 0.0 for ex in model.custodial if ex.defaulted)
    assert _engine_rounds(model).max() >= 4  # the rounds appear as steps


def test_gk_demo_without_the_write_down_nobody_defaults() -> None:
    model = _run(gai_kapadia_demo(n_traders=N, writedown_frac=0.0))
    assert not any(ex.defaulted for ex in model.custodial)


def test_gk_demo_balance_sheets_are_the_papers() -> None:
    model = ContagionModel(gai_kapadia_demo(n_traders=N), seed=1)
    for ex in model.custodial:
        lent = sum(ex.loans.values())
        assert lent == pytest.approx(0.2e9 if ex.loans else 0.0)
        assert ex.assets_usd() - ex.liabilities_usd() == pytest.approx(0.04e9)
        assert ex.deposits_usd() >= 0.5e9 - 1


# ---------------------------------------------------------------------- DebtRank
def test_debtrank_ranks_the_hub_first_though_giant_is_largest() -> None:
    model = ContagionModel(debtrank_demo(n_traders=N), seed=1, check_conservation=True)
    names, exposures = venue_exposure_matrix(build_network(model))
    sheets = {ex.name: ex for ex in model.custodial}
    equity = [sheets[n].assets_usd() - sheets[n].liabilities_usd() for n in names]
    rank = pd.Series(systemic_importance(exposures, equity), index=names)
    assets = pd.Series({n: sheets[n].assets_usd() for n in names})
    assert rank.idxmax() == "Hub" and assets.idxmax() == "Giant"
    assert assets["Hub"] < assets["Giant"] / 5
    assert rank["Hub"] == pytest.approx(0.662, abs=1e-3)
    assert rank["Giant"] == pytest.approx(0.061, abs=1e-3)
    assert rank["CoreA"] == pytest.approx(0.129, abs=1e-3)
    assert rank["Giant"] < rank["CoreA"] < rank["Hub"]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_debtrank_demo_the_hubs_failure_spreads_the_giants_does_not(seed: int) -> None:
    hub = _run(debtrank_demo(n_traders=N, shocked_bank=0), seed)
    giant = _run(debtrank_demo(n_traders=N, shocked_bank=DEBTRANK_BANKS.index("Giant")), seed)
    hub_rounds = dict(zip(DEBTRANK_BANKS, _engine_rounds(hub), strict=True))
    assert {b for b, r in hub_rounds.items() if r >= 0} == {"Hub", *(f"Small{k}" for k in
                                                                     range(1, 9))}
    assert hub_rounds["Hub"] == 0 and all(hub_rounds[f"Small{k}"] == 1 for k in range(1, 9))
    assert [ex.name for ex in giant.custodial if ex.defaulted] == ["Giant"]


def test_debtrank_demo_switches() -> None:
    calm = _run(debtrank_demo(n_traders=N, writedown_frac=0.0))
    assert not any(ex.defaulted for ex in calm.custodial)
    thin = _run(debtrank_demo(n_traders=N, periphery_loan_to_equity=0.9))
    assert [ex.name for ex in thin.custodial if ex.defaulted] == ["Hub"]


# ---------------------------------------------------------------------- all three
PRESETS = ["classic_eisenberg_noe", "classic_gai_kapadia", "classic_debtrank"]


@pytest.mark.parametrize("name", PRESETS)
def test_presets_are_registered_quiet_and_reproducible(name: str) -> None:
    assert name in SCENARIOS
    a = simulate(get_scenario(name, n_traders=N), seed=5, check_conservation=True)
    b = simulate(get_scenario(name, n_traders=N), seed=5)
    pd.testing.assert_frame_equal(a.events, b.events)
    kinds = set(a.events["kind"])
    assert kinds <= {"asset_writedown", "withdrawal_freeze", "default", "loan_loss",
                     "collateral_loss"}  # no run, no trading: only the cascade
    assert a.summary["defaults"] >= 1 and a.summary["liquidations"] == 0


def test_dashboard_form_has_a_field_for_every_knob() -> None:
    from dashboard.forms import FIELDS

    keys = {f.key for f in FIELDS}
    for name in PRESETS:
        knobs = set(scenario_parameters(name)) - {"steps"}
        assert knobs <= keys, knobs - keys


@pytest.mark.parametrize(("preset", "kwargs", "match"), [
    (eisenberg_noe_demo, {"shocked_bank": 4}, r"'shocked_bank' = 4 .* x <= 3"),
    (eisenberg_noe_demo, {"writedown_frac": 1.5}, r"'writedown_frac' = 1.5"),
    (eisenberg_noe_demo, {"writedown_step": 11}, r"'writedown_step' = 11 .* x <= 10"),
    (eisenberg_noe_demo, {"n_traders": 5000}, r"'n_traders' = 5000"),
    (gai_kapadia_demo, {"mean_degree": 0}, r"'mean_degree' = 0"),
    (gai_kapadia_demo, {"capital_frac": 0.6}, r"'capital_frac' = 0.6"),
    (gai_kapadia_demo, {"shocked_bank": 40}, r"'shocked_bank' = 40"),
    (gai_kapadia_demo, {"n_banks": 1}, r"'n_banks' = 1"),
    (debtrank_demo, {"periphery_loan_to_equity": 0}, r"'periphery_loan_to_equity' = 0"),
    (debtrank_demo, {"shocked_bank": -1}, r"'shocked_bank' = -1"),
])
def test_bad_knobs_are_named(preset, kwargs: dict, match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        preset(**kwargs)


def test_clearing_and_writedown_parameters_are_validated() -> None:
    from contagion.params import CustodialParams

    with pytest.raises(ParameterError, match=r"'clearing.external_assets_frac' = 2"):
        ClearingParams(external_assets_frac=2)
    with pytest.raises(ParameterError, match=r"'custodial\[X\].writedown_frac' = -0.1"):
        CustodialParams(name="X", writedown_frac=-0.1)
    with pytest.raises(ParameterError, match=r"'custodial\[X\].writedown_step' = 0"):
        CustodialParams(name="X", writedown_step=0)
