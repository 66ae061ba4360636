"""Correlation raises tail losses (issue 12): the small version of
experiments/correlation_tails.toml, on the same seeds.

broad_downturn with the majors' noise correlated (0.85, a multivariate t) against the same
marginals drawn independently (correlation 0, each asset its own t). On the same 12 seeds the
expected shortfall of insolvent debt (bad debt plus debt left under water: the loss lenders
bear) is larger when the majors fall together: liquidators' capital and per-step capacity,
shared across the assets, fall behind when every collateral drops at once.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd

from contagion.analytics import loss_measures
from contagion.runner import simulate
from models import get_scenario

SEEDS = range(12)
SPEC = Path(__file__).resolve().parents[1] / "experiments" / "correlation_tails.toml"


def _runs(**kw: object) -> pd.DataFrame:
    rows = []
    for seed in SEEDS:
        s = simulate(get_scenario("broad_downturn", n_traders=200, steps=60, shock_frac=0.15,
                                  **kw), seed=seed).summary
        rows.append({"status": "ok", "bad_debt_usd": s["bad_debt_usd"],
                     "insolvent_debt_usd": s["insolvent_debt_usd"],
                     "liquidation_volume_usd": s["liquidation_volume_usd"]})
    return pd.DataFrame(rows)


def test_the_shipped_experiment_compares_correlated_and_independent_noise() -> None:
    spec = tomllib.loads(SPEC.read_text())
    assert spec["sweep"]["scenario"] == "broad_downturn" and spec["sweep"]["design"] == "paired"
    assert spec["swept"] == {"correlation": [0.85, 0.0], "joint_tails": [True, False]}


def test_correlation_raises_the_tail_of_insolvent_debt() -> None:
    corr = loss_measures(_runs(), level=0.8).set_index("measure")
    indep = loss_measures(_runs(correlation=0.0, joint_tails=False),
                          level=0.8).set_index("measure")
    assert corr.loc["VaR", "es_usd"] > 2 * indep.loc["VaR", "es_usd"] > 0
    assert corr.loc["VaR", "max_usd"] > indep.loc["VaR", "max_usd"]
