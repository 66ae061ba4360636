"""Every shipped experiment runs end to end with --smoke, its report is written and its figure
is drawn; the historical presets' sweeps show their cause at the smoke points."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from contagion.report import write_report
from contagion.sweep import load_results, sweep_command
from experiments.make_figures import EXPERIMENTS as FIGURES

EXPERIMENTS = sorted((Path(__file__).resolve().parents[2] / "experiments").glob("*.toml"))


def _ftx_crosses_only_with_rehypothecation(table: pd.DataFrame) -> None:
    cause_off = table[table["rehypothecation_frac"] == 0]
    history = table[(table["rehypothecation_frac"] == 0.625) & (table["ftt_dump_usd"] == 5.3e8)]
    assert (cause_off["p"] == 0).all()
    assert history["p"].tolist() == [1.0] and history["institutions_failed"].tolist() == [4.0]


def _october_adl_only_when_depth_collapses(table: pd.DataFrame) -> None:
    deep = table[table["depth_drop_frac"] == 0]
    collapsed = table[table["depth_drop_frac"] == 0.98]
    assert (deep["adl_musd"] == 0).all() and (deep["p"] == 0).all()
    assert (collapsed["p"] == 1).all() and (collapsed["adl_musd"] > 1).all()


def _settlement_loss_only_with_a_long_window(table: pd.DataFrame) -> None:
    short = table[table["settlement_delay_steps"] == 3]
    long = table[table["settlement_delay_steps"] == 24]
    assert (table["p_alphafund_fails"] == 1).all()  # the same default in every run
    assert (short["p"] == 0).all() and (short["cex_depositor_loss_musd"] == 0).all()
    assert (long["p"] == 1).all() and (long["cex_depositor_loss_musd"] > 1).all()


def _solvency_run_only_with_daily_liabilities(table: pd.DataFrame) -> None:
    # 45 days: the daily proof of liabilities starts the run on day 1 and CEX defaults; the
    # attestation's run waits for the token (day 41) and a monthly proof's starts on day 30
    by = table.set_index(["proof_kind", "proof_every_steps"])
    assert by.loc[("liabilities", 1), "p_cex_defaults"] == 1
    assert by.loc[("liabilities", 1), "cex_depositor_loss_musd"] > 100
    assert by.loc[("reserves", 1), "p_cex_defaults"] == 0
    assert by.loc[("reserves", 30), "p_cex_defaults"] == 0


SMOKE_OUTCOMES: dict[str, Callable[[pd.DataFrame], None]] = {
    "ftx_rehypothecation": _ftx_crosses_only_with_rehypothecation,
    "october_2025_depth": _october_adl_only_when_depth_collapses,
    "settlement_window": _settlement_loss_only_with_a_long_window,
    "solvency_proofs": _solvency_run_only_with_daily_liabilities,
}


def test_there_are_at_least_three_shipped_experiments() -> None:
    assert len(EXPERIMENTS) >= 3


def test_every_shipped_experiment_has_a_figure() -> None:
    assert {spec.stem for spec in EXPERIMENTS} <= set(FIGURES)


@pytest.mark.parametrize("spec", EXPERIMENTS, ids=lambda p: p.stem)
def test_shipped_experiment_runs_with_smoke(spec: Path, tmp_path: Path) -> None:
    out = tmp_path / spec.stem
    code = sweep_command(str(spec), workers=None, scheduler=None, out=str(out), resume=False,
                         smoke=True, serial=True)
    assert code == 0
    results = load_results(out)
    assert len(results) >= 4 and (results["status"] == "ok").all()
    report = write_report(out)
    assert (report / "index.html").exists()
    assert (report / "venue_credit_risk.csv").exists()
    fig, table = FIGURES[spec.stem][0](results)
    assert len(fig.data) >= 1 and len(table) >= 2
    if spec.stem in SMOKE_OUTCOMES:
        SMOKE_OUTCOMES[spec.stem](table)
