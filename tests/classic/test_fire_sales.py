"""Caccioli et al. (2014) fire sales: the cascade, its analytic landmarks and the window."""

from __future__ import annotations

import math

import numpy as np
import pytest

from contagion.errors import ParameterError
from models.classic.fire_sales import (
    ALPHA_10PCT,
    analytic_window,
    branching_factor,
    contagion_window,
    critical_leverage,
    draw_portfolios,
    fire_sale_cascade,
)


def test_alpha_makes_a_ten_percent_liquidation_cost_ten_percent() -> None:
    assert math.exp(-0.1 * ALPHA_10PCT) == pytest.approx(0.9, abs=1e-15)
    assert ALPHA_10PCT == pytest.approx(1.0536, abs=1e-4)


def test_every_bank_holds_mu_distinct_assets_in_equal_amounts() -> None:
    Q = draw_portfolios(500, 40, 7, np.random.default_rng(3))
    assert (Q.getnnz(axis=1) == 7).all()
    np.testing.assert_allclose(Q.data, 1 / 7)
    np.testing.assert_allclose(np.asarray(Q.sum(axis=1)).ravel(), 1.0)


def test_same_seed_same_portfolios() -> None:
    a = draw_portfolios(50, 30, 4, np.random.default_rng(9))
    b = draw_portfolios(50, 30, 4, np.random.default_rng(9))
    assert (a != b).nnz == 0


def test_failure_of_a_co_holder_topples_a_bank_only_above_the_leverage_it_can_bear() -> None:
    # banks 0 and 1 each hold half of asset 0 (half their portfolio); bank 0 fails:
    # p_0 = exp(-alpha / 2) = 0.9 ** 5, bank 1 loses 0.5 * (1 - 0.9 ** 5) = 0.2048 of its assets
    Q = np.array([[0.5, 0.5, 0.0], [0.5, 0.0, 0.5]])
    loss = 0.5 * (1 - 0.9 ** 5)
    first = np.array([True, False])
    assert fire_sale_cascade(Q, 1 / loss * 1.001, initially_failed=first).failed.tolist() == [
        True, True]
    assert fire_sale_cascade(Q, 1 / loss * 0.999, initially_failed=first).failed.tolist() == [
        True, False]


def test_no_bank_fails_below_the_critical_leverage_even_if_its_assets_are_dumped() -> None:
    # bank 1 holds a sliver of the asset bank 0 dumps entirely: x -> 1, p -> exp(-alpha)
    Q = np.array([[1e9, 0.0], [1.0, 0.0]])
    first = np.array([True, False])
    lam_c = critical_leverage()
    assert lam_c == pytest.approx(1 / (1 - 0.9 ** 10))
    assert not fire_sale_cascade(Q, lam_c * 0.999, initially_failed=first).failed[1]
    assert fire_sale_cascade(Q, lam_c * 1.001, initially_failed=first).failed[1]


def test_an_asset_shock_fails_the_banks_it_wipes_out_and_they_sell_into_the_rest() -> None:
    # asset 0 becomes worthless; bank 0 (all in asset 0) fails, bank 1 (half) loses half
    Q = np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]])
    res = fire_sale_cascade(Q, 2.5, price_shock=np.array([0.0, 1.0]))
    # equity 0.4 each: banks 0 and 1 lose 1 and 0.5; bank 1's sale of a third of asset 1
    # costs bank 2 only 1 - 0.9 ** (10 / 3) = 0.30
    assert res.failure_round.tolist() == [1, 1, -1]
    assert res.prices[0] == 0.0
    assert res.prices[1] == pytest.approx(math.exp(-ALPHA_10PCT * 0.5 / 1.5))


def test_more_leverage_never_saves_a_bank() -> None:
    rng = np.random.default_rng(11)
    for _ in range(20):
        Q = draw_portfolios(200, 150, int(rng.integers(2, 6)), rng)
        first = np.zeros(200, dtype=bool)
        first[rng.integers(200)] = True
        failed = [fire_sale_cascade(Q, lam, initially_failed=first).failed for lam in (8, 15, 30)]
        assert (failed[0] <= failed[1]).all() and (failed[1] <= failed[2]).all()


def test_the_tree_window_opens_at_mu_2_and_widens_with_leverage() -> None:
    assert branching_factor(10, 1) == 0.0  # a bank with one asset passes nothing on
    assert branching_factor(8.5, 2) < 1 < branching_factor(8.7, 2)  # critical ~8.64
    w = analytic_window([10, 20, 30], range(1, 13))
    inside = {lam: set(g.loc[g["possible"], "mu"]) for lam, g in w.groupby("lambda")}
    assert inside[10.0] == {2}
    assert inside[10.0] < inside[20.0] < inside[30.0]
    assert 1 not in inside[30.0] and max(inside[30.0]) < 10


def test_simulated_window_widens_with_leverage_and_is_empty_at_low_leverage() -> None:
    out = contagion_window([3, 10, 25], [1, 2, 3, 4, 5, 6, 12], n_banks=400, n_assets=400,
                           draws=40, seed=7)
    freq = out.set_index(["lambda", "mu"])["frequency"]
    assert (freq.loc[3.0] == 0).all()  # below the critical leverage: nothing spreads
    assert (freq.xs(1, level="mu") == 0).all()  # one asset per bank: no spread
    assert (freq.xs(12, level="mu") == 0).all()  # too diversified: no one fails
    unstable = {lam: set(g.index.get_level_values("mu")[g > 0.1])
                for lam, g in freq.groupby(level="lambda")}
    assert unstable[10.0] and unstable[10.0] < unstable[25.0]
    ext = out.dropna(subset=["extent"])
    assert (ext.loc[ext["frequency"] > 0.1, "extent"] > 0.8).all()  # robust yet fragile


def test_an_asset_shock_window_runs_and_same_seed_gives_the_same_table() -> None:
    kw = {"n_banks": 150, "n_assets": 150, "draws": 10, "seed": 2, "shock": "asset"}
    a = contagion_window([20], [3], **kw)
    assert a.equals(contagion_window([20], [3], **kw))
    assert 0 <= a.loc[0, "frequency"] <= 1


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"leverages": [0.5]}, r"'leverages' = 0.5 .* 1 <= x"),
    ({"diversifications": [0]}, r"'diversifications' = 0"),
    ({"diversifications": [20], "n_assets": 10}, r"'diversifications' = 20 .* x <= 10"),
    ({"shock": "fund"}, r"'shock' = 'fund'"),
    ({"asset_shock_frac": 1.5}, r"'asset_shock_frac' = 1.5"),
    ({"draws": 0}, r"'draws' = 0"),
])
def test_bad_parameters_are_named(kwargs: dict, match: str) -> None:
    args = {"leverages": [5.0], "diversifications": [2], "n_banks": 20, "n_assets": 20,
            "draws": 1, **kwargs}
    with pytest.raises(ParameterError, match=match):
        contagion_window(args.pop("leverages"), args.pop("diversifications"), **args)


def test_cascade_rejects_malformed_inputs() -> None:
    with pytest.raises(ParameterError, match=r"'leverage' = 0.9"):
        fire_sale_cascade(np.eye(2), 0.9)
    with pytest.raises(ParameterError, match=r"'initially_failed'"):
        fire_sale_cascade(np.eye(2), 2, initially_failed=np.array([True]))
    with pytest.raises(ParameterError, match=r"'price_shock'"):
        fire_sale_cascade(np.eye(2), 2, price_shock=np.array([2.0, 1.0]))
    with pytest.raises(ParameterError, match=r"'holdings'"):
        fire_sale_cascade(-np.eye(2), 2)


def test_experiment_writes_its_table(tmp_path, monkeypatch) -> None:
    from experiments import fire_sales as experiment

    monkeypatch.setattr(experiment, "screenshot", lambda fig, path: path.write_bytes(b"png"))
    monkeypatch.setattr(experiment, "LEVERAGES", [5.0, 20.0])
    monkeypatch.setattr(experiment, "DIVERSIFICATIONS", [1, 3])
    monkeypatch.setattr("sys.argv", ["fire_sales", "--draws", "3", "--banks", "60", "--assets",
                                     "60", "--out", str(tmp_path)])
    experiment.main()
    import pandas as pd

    table = pd.read_csv(tmp_path / "fire_sales.csv")
    assert list(table.columns) == ["lambda", "mu", "frequency", "extent", "branching", "possible"]
    assert len(table) == 4 and (tmp_path / "fire_sales.png").exists()
