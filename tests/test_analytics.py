"""Tests of contagion.analytics: Wilson intervals, venue PD/LGD/EAD/EL, VaR/LaR, cascade
probability, exposure profiles (EE, PFE, EPE), against closed forms on hand-made tables."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from contagion.analytics import (
    cascade_probability,
    expected_positive_exposure,
    exposure_profiles,
    insolvent_debt_usd,
    loss_measures,
    ok_runs,
    venue_credit_risk,
    venue_names,
    wilson_interval,
)
from contagion.errors import ParameterError
from contagion.mechanics.risk import expected_shortfall, value_at_risk


def wilson_by_hand(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    z = norm.ppf(0.5 + level / 2)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


# --- Wilson interval ------------------------------------------------------------------


@pytest.mark.parametrize(("k", "n", "level"), [(3, 10, 0.95), (1, 2, 0.95), (17, 40, 0.9),
                                               (50, 100, 0.99), (199, 200, 0.95)])
def test_wilson_interval_matches_the_closed_form(k: int, n: int, level: float) -> None:
    low, high = wilson_interval(k, n, level)
    assert isinstance(low, float) and isinstance(high, float)
    assert (low, high) == pytest.approx(wilson_by_hand(k, n, level), abs=1e-12)


@pytest.mark.parametrize(("k", "n"), [(0, 5), (3, 10), (12, 12), (7, 300), (150, 300)])
def test_wilson_interval_matches_scipy_binomtest(k: int, n: int) -> None:
    binomtest = pytest.importorskip("scipy.stats").binomtest
    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert wilson_interval(k, n) == pytest.approx((ci.low, ci.high), abs=1e-12)


def test_wilson_interval_is_vectorised_and_exact_at_the_ends() -> None:
    k = np.array([0, 3, 10, 0])
    n = np.array([10, 10, 10, 0])
    low, high = wilson_interval(k, n)
    assert isinstance(low, np.ndarray) and low.shape == (4,)
    assert low[0] == 0.0 and high[2] == 1.0
    assert high[0] == pytest.approx(wilson_by_hand(0, 10)[1])
    assert low[1:3] == pytest.approx([wilson_by_hand(3, 10)[0], wilson_by_hand(10, 10)[0]])
    assert math.isnan(low[3]) and math.isnan(high[3])


def test_wilson_interval_widens_with_the_level() -> None:
    lo95, hi95 = wilson_interval(5, 20, 0.95)
    lo99, hi99 = wilson_interval(5, 20, 0.99)
    assert lo99 < lo95 < 0.25 < hi95 < hi99


def test_wilson_interval_rejects_more_successes_than_trials() -> None:
    with pytest.raises(ParameterError, match="successes"):
        wilson_interval([1, 11], [10, 10])


def test_wilson_interval_rejects_a_level_outside_zero_one() -> None:
    with pytest.raises(ParameterError, match="level"):
        wilson_interval(1, 10, level=1.0)


def test_wilson_interval_rejects_negative_counts() -> None:
    with pytest.raises(ParameterError, match="'n'"):
        wilson_interval(0, -1)


# --- venue credit risk ----------------------------------------------------------------


@pytest.fixture
def credit_runs() -> pd.DataFrame:
    """Six runs (one failed) of two venues; CEX exists only in the first four runs."""
    return pd.DataFrame({
        "run_id": [f"r{i}" for i in range(6)],
        "status": ["ok"] * 5 + ["failed"],
        "cross_margin": [True, True, True, False, False, False],
        "defaulted__Fund": [1, 1, 0, 0, 1, np.nan],
        "ead__Fund": [100.0, 300.0, 0.0, 0.0, 50.0, np.nan],
        "lgd__Fund": [0.2, 0.6, np.nan, np.nan, 1.0, np.nan],
        "kind__Fund": ["firm"] * 5 + [None],
        "defaulted__CEX": [0, 0, 0, 0, np.nan, np.nan],
        "ead__CEX": [0.0, 0.0, 0.0, 0.0, np.nan, np.nan],
        "lgd__CEX": [np.nan] * 6,
        "kind__CEX": ["custodial"] * 4 + [None, None],
    })


def test_venue_credit_risk_expected_loss_is_pd_times_lgd_times_ead(credit_runs: pd.DataFrame
                                                                   ) -> None:
    t = venue_credit_risk(credit_runs).set_index("venue")
    fund = t.loc["Fund"]
    assert (fund["runs"], fund["defaults"], fund["kind"]) == (5, 3, "firm")
    assert fund["pd"] == pytest.approx(3 / 5)
    assert fund["lgd"] == pytest.approx((0.2 + 0.6 + 1.0) / 3)
    assert fund["ead_usd"] == pytest.approx(150.0)
    assert fund["el_usd"] == pytest.approx(0.6 * 0.6 * 150.0)
    assert (fund["pd_low"], fund["pd_high"]) == pytest.approx(wilson_by_hand(3, 5))
    # the direct Monte Carlo mean of the losses, without Basel's independence assumption
    assert fund["mean_loss_usd"] == pytest.approx((100 * 0.2 + 300 * 0.6 + 50 * 1.0) / 5)


def test_venue_credit_risk_of_a_venue_that_never_defaults(credit_runs: pd.DataFrame) -> None:
    cex = venue_credit_risk(credit_runs).set_index("venue").loc["CEX"]
    assert (cex["runs"], cex["defaults"], cex["pd"], cex["el_usd"]) == (4, 0, 0.0, 0.0)
    assert cex["pd_low"] == 0.0 and cex["pd_high"] == pytest.approx(wilson_by_hand(0, 4)[1])
    assert math.isnan(cex["lgd"]) and math.isnan(cex["ead_usd"])


def test_venue_credit_risk_keeps_venue_order_and_excludes_failed_runs(
        credit_runs: pd.DataFrame) -> None:
    t = venue_credit_risk(credit_runs)
    assert t["venue"].tolist() == ["Fund", "CEX"]
    # the failed run would have no measures; flipping its status must not change anything
    assert t.equals(venue_credit_risk(credit_runs[credit_runs["status"] == "ok"]))


def test_venue_credit_risk_groups_by_swept_parameters(credit_runs: pd.DataFrame) -> None:
    t = venue_credit_risk(credit_runs, by=["cross_margin"])
    fund = t[t["venue"] == "Fund"].set_index("cross_margin")
    assert fund.loc[True, "runs"] == 3 and fund.loc[True, "defaults"] == 2
    assert fund.loc[True, "el_usd"] == pytest.approx(2 / 3 * 0.4 * 200.0)
    assert fund.loc[False, "runs"] == 2 and fund.loc[False, "defaults"] == 1
    assert fund.loc[False, "el_usd"] == pytest.approx(0.5 * 1.0 * 50.0)
    assert list(t.columns[:2]) == ["cross_margin", "venue"]
    assert venue_credit_risk(credit_runs, by="cross_margin").equals(t)


def test_venue_credit_risk_needs_venue_columns() -> None:
    with pytest.raises(ParameterError, match="defaulted__<venue>"):
        venue_credit_risk(pd.DataFrame({"defaults": [1]}))


def test_venue_credit_risk_rejects_an_unknown_group_column(credit_runs: pd.DataFrame) -> None:
    with pytest.raises(ParameterError, match=r"by.*oracle_delay_steps"):
        venue_credit_risk(credit_runs, by=["oracle_delay_steps"])


def test_venue_credit_risk_of_real_runs_is_consistent() -> None:
    from contagion.metrics import run_record
    from contagion.runner import simulate
    from models import get_scenario

    rows = []
    for seed, shock in enumerate([0.3, 0.6, 0.6]):
        r = simulate(get_scenario("default", n_traders=150, steps=40, shock_frac=shock), seed=seed)
        rows.append({"run_id": f"r{seed}", "status": "ok", "shock_frac": shock,
                     **run_record(r.events, r.series, r.venues)})
    runs = pd.DataFrame(rows)
    t = venue_credit_risk(runs, by=["shock_frac"])
    assert set(t["venue"]) == set(venue_names(runs))
    assert (t["runs"] == t["shock_frac"].map({0.3: 1, 0.6: 2})).all()
    assert ((t["pd_low"] <= t["pd"]) & (t["pd"] <= t["pd_high"])).all()
    hit = t[t["defaults"] > 0]
    assert len(hit) > 0
    assert np.allclose(hit["el_usd"], hit["pd"] * hit["lgd"] * hit["ead_usd"])


# --- loss measures --------------------------------------------------------------------


def test_loss_measures_on_a_known_sample() -> None:
    runs = pd.DataFrame({"status": ["ok"] * 20 + ["failed"],
                         "bad_debt_usd": [1.0] * 20 + [np.nan],
                         "insolvent_debt_usd": [float(i) for i in range(20)] + [np.nan],
                         "liquidation_volume_usd": [float(i * i) for i in range(1, 21)] + [1e12]})
    t = loss_measures(runs, level=0.9).set_index("measure")
    # insolvent debt = 1..20; VaR_0.9 = L_(18) = 18, ES = mean(18, 19, 20) = 19
    assert t.loc["VaR", "loss"] == "insolvent_debt_usd"
    assert (t.loc["VaR", "at_risk_usd"], t.loc["VaR", "es_usd"]) == (18.0, 19.0)
    assert t.loc["VaR", "mean_usd"] == pytest.approx(10.5)
    # liquidation volume = 1, 4, ..., 400 (the failed run's 1e12 is ignored)
    assert t.loc["LaR", "at_risk_usd"] == 18.0**2
    assert t.loc["LaR", "es_usd"] == pytest.approx((18**2 + 19**2 + 20**2) / 3)
    assert t.loc["LaR", "max_usd"] == 400.0
    assert (t["runs"] == 20).all() and (t["level"] == 0.9).all()


def test_loss_measures_use_the_risk_module_quantiles() -> None:
    rng = np.random.default_rng(7)
    runs = pd.DataFrame({"bad_debt_usd": rng.exponential(1e6, 500),
                         "insolvent_debt_usd": rng.exponential(1e5, 500),
                         "liquidation_volume_usd": rng.lognormal(15, 1, 500)})
    t = loss_measures(runs).set_index("measure")
    total = runs["bad_debt_usd"] + runs["insolvent_debt_usd"]
    assert t.loc["VaR", "at_risk_usd"] == value_at_risk(total, 0.95)
    assert t.loc["VaR", "es_usd"] == expected_shortfall(total, 0.95)
    assert t.loc["LaR", "es_usd"] == expected_shortfall(runs["liquidation_volume_usd"], 0.95)
    assert (t["es_usd"] >= t["at_risk_usd"]).all()


def test_loss_measures_by_group() -> None:
    runs = pd.DataFrame({"lev": [2, 2, 2, 8, 8], "bad_debt_usd": [0.0, 0, 0, 5, 7],
                         "insolvent_debt_usd": [0.0, 1, 2, 0, 0],
                         "liquidation_volume_usd": [1.0, 2, 3, 4, 5]})
    t = loss_measures(runs, level=0.5, by=["lev"])
    assert t[["lev", "measure"]].values.tolist() == [[2, "VaR"], [2, "LaR"], [8, "VaR"],
                                                     [8, "LaR"]]
    var = t[t["measure"] == "VaR"].set_index("lev")
    assert var.loc[2, "at_risk_usd"] == 1.0 and var.loc[8, "at_risk_usd"] == 5.0
    assert var.loc[8, "es_usd"] == 6.0


def test_insolvent_debt_is_bad_debt_plus_underwater_debt() -> None:
    runs = pd.DataFrame({"bad_debt_usd": [1.0, 2.0], "insolvent_debt_usd": [0.5, 0.0]})
    assert insolvent_debt_usd(runs).tolist() == [1.5, 2.0]


def test_loss_measures_reject_missing_columns() -> None:
    with pytest.raises(ParameterError, match="liquidation_volume_usd"):
        loss_measures(pd.DataFrame({"bad_debt_usd": [1.0], "insolvent_debt_usd": [1.0]}))


def test_loss_measures_reject_a_bad_level() -> None:
    runs = pd.DataFrame({"bad_debt_usd": [1.0], "insolvent_debt_usd": [1.0],
                         "liquidation_volume_usd": [1.0]})
    with pytest.raises(ParameterError, match="level"):
        loss_measures(runs, level=95)


# --- cascade probability --------------------------------------------------------------


@pytest.fixture
def grid_runs() -> pd.DataFrame:
    rows = []
    outcomes = {(2, 0.3): [0, 0, 0, 0], (2, 0.6): [0, 1, 1, 0], (8, 0.3): [0, 0, 1, 0],
                (8, 0.6): [1, 1, 1, 1]}
    for (lev, shock), hits in outcomes.items():
        for rep, hit in enumerate(hits):
            rows.append({"run_id": f"{lev}-{shock}-{rep}", "status": "ok", "lev": lev,
                         "shock": shock, "cross_venue": hit, "defaults": 2 * hit + (rep == 0)})
    rows.append({"run_id": "x", "status": "failed", "lev": 2, "shock": 0.3,
                 "cross_venue": np.nan, "defaults": np.nan})
    return pd.DataFrame(rows)


def test_cascade_probability_per_point_with_wilson_intervals(grid_runs: pd.DataFrame) -> None:
    t = cascade_probability(grid_runs, "lev", "shock")
    assert list(t.columns) == ["lev", "shock", "runs", "successes", "p", "low", "high"]
    assert t[["lev", "shock"]].values.tolist() == [[2, 0.3], [2, 0.6], [8, 0.3], [8, 0.6]]
    assert t["runs"].tolist() == [4, 4, 4, 4]  # the failed run is not counted
    assert t["successes"].tolist() == [0, 2, 1, 4]
    assert t["p"].tolist() == [0.0, 0.5, 0.25, 1.0]
    for _, r in t.iterrows():
        assert (r["low"], r["high"]) == pytest.approx(wilson_by_hand(r["successes"], 4))


def test_cascade_probability_of_a_count_metric_is_the_share_above_zero(
        grid_runs: pd.DataFrame) -> None:
    t = cascade_probability(grid_runs, "lev", "shock", metric="defaults")
    assert t["successes"].tolist() == [1, 3, 2, 4]


def test_cascade_probability_over_one_parameter(grid_runs: pd.DataFrame) -> None:
    t = cascade_probability(grid_runs, "lev")
    assert t[["lev", "runs", "successes"]].values.tolist() == [[2, 8, 2], [8, 8, 5]]


def test_cascade_probability_rejects_a_missing_parameter(grid_runs: pd.DataFrame) -> None:
    with pytest.raises(ParameterError, match="oracle_delay_steps"):
        cascade_probability(grid_runs, "lev", "oracle_delay_steps")


def test_ok_runs_without_status_keeps_every_row() -> None:
    runs = pd.DataFrame({"run_id": ["a", "b"]})
    assert ok_runs(runs).equals(runs)


# --- exposure profiles ----------------------------------------------------------------


@pytest.fixture
def profile() -> pd.DataFrame:
    """Four runs, one pair over steps 0-2; run r3 has no row at step 2 (no exposure)."""
    data = {"r0": [10, 20, 30], "r1": [10, 40, 0], "r2": [10, 0, 60], "r3": [10, 80]}
    rows = [{"run_id": r, "point": 0, "step": s, "holder": "CEX", "counterparty": "Fund",
             "exposure_usd": float(x)} for r, xs in data.items() for s, x in enumerate(xs)]
    return pd.DataFrame(rows)


def test_exposure_profiles_ee_and_pfe_by_hand(profile: pd.DataFrame) -> None:
    t = exposure_profiles(profile)
    assert t["step"].tolist() == [0, 1, 2] and (t["runs"] == 4).all()
    assert t["ee_usd"].tolist() == [10.0, 35.0, 22.5]  # (30 + 0 + 60 + 0) / 4 at step 2
    # inverted-cdf quantile of 4 values at 0.95 and 0.99: the largest
    assert t["pfe95_usd"].tolist() == [10.0, 80.0, 60.0]
    assert t["pfe99_usd"].tolist() == [10.0, 80.0, 60.0]


def test_exposure_profiles_pfe_is_the_empirical_quantile() -> None:
    prof = pd.DataFrame({"run_id": [f"r{i}" for i in range(100)], "step": 5, "holder": "A",
                         "counterparty": "B", "exposure_usd": np.arange(1.0, 101.0)[::-1]})
    t = exposure_profiles(prof).iloc[0]
    assert (t["ee_usd"], t["pfe95_usd"], t["pfe99_usd"]) == (50.5, 95.0, 99.0)


def test_exposure_profiles_sum_channels_and_floor_at_zero() -> None:
    prof = pd.DataFrame({"run_id": ["a", "a", "b"], "step": 0, "holder": "A",
                         "counterparty": "B", "exposure_usd": [5.0, 7.0, -3.0]})
    t = exposure_profiles(prof).iloc[0]
    assert (t["ee_usd"], t["pfe99_usd"]) == (6.0, 12.0)  # E[max(E, 0)]: (12 + 0) / 2


def test_exposure_profiles_by_a_column_joined_from_results(profile: pd.DataFrame) -> None:
    results = pd.DataFrame({"run_id": ["r0", "r1", "r2", "r3"], "lev": [2, 2, 8, 8],
                            "status": ["ok", "ok", "ok", "failed"]})
    t = exposure_profiles(profile, by=["lev"], results=results)
    assert list(t.columns) == ["holder", "counterparty", "lev", "step", "runs", "ee_usd",
                               "pfe95_usd", "pfe99_usd"]
    low, high = t[t["lev"] == 2], t[t["lev"] == 8]
    assert low["ee_usd"].tolist() == [10.0, 30.0, 15.0]
    assert (high["runs"] == 1).all()  # r3 failed: its profile is excluded
    assert high["ee_usd"].tolist() == [10.0, 0.0, 60.0]


def test_exposure_profiles_by_needs_results_for_unknown_columns(profile: pd.DataFrame) -> None:
    with pytest.raises(ParameterError, match="results="):
        exposure_profiles(profile, by=["lev"])
    assert len(exposure_profiles(profile, by="point")) == 3  # a column of profiles


def test_expected_positive_exposure_on_a_non_uniform_grid() -> None:
    table = pd.DataFrame({"holder": "A", "counterparty": "B", "step": [0, 1, 3, 7], "runs": 5,
                          "ee_usd": [4.0, 8.0, 2.0, 6.0], "pfe95_usd": [5.0, 9.0, 3.0, 8.0],
                          "pfe99_usd": [5.0, 9.5, 3.0, 8.0]})
    epe = expected_positive_exposure(table).iloc[0]
    assert epe["epe_usd"] == pytest.approx((8 * 1 + 2 * 2 + 6 * 4) / 7)
    assert epe["effective_epe_usd"] == pytest.approx((8 * 1 + 8 * 2 + 8 * 4) / 7)
    assert (epe["peak_ee_usd"], epe["peak_pfe95_usd"], epe["peak_pfe99_usd"]) == (8, 9, 9.5)
    assert epe["steps"] == 4


def test_expected_positive_exposure_per_group_and_single_step(profile: pd.DataFrame) -> None:
    t = exposure_profiles(profile, by="point")
    epe = expected_positive_exposure(t)
    assert list(epe.columns[:3]) == ["holder", "counterparty", "point"]
    assert epe.iloc[0]["epe_usd"] == pytest.approx((35.0 + 22.5) / 2)
    one = expected_positive_exposure(t[t["step"] == 1]).iloc[0]
    assert one["epe_usd"] == one["effective_epe_usd"] == 35.0


def test_exposure_profiles_reject_a_table_without_exposure() -> None:
    with pytest.raises(ParameterError, match="exposure_usd"):
        exposure_profiles(pd.DataFrame({"run_id": ["a"], "step": [0], "holder": ["A"],
                                        "counterparty": ["B"]}))
