"""Tests of contagion.mechanics.debtrank (original and linear DebtRank)."""

from __future__ import annotations

import numpy as np
import pytest

from contagion.errors import ParameterError
from contagion.mechanics.debtrank import DebtRankResult, debtrank, systemic_importance

# Node 0 borrowed 10, 20, 30 from nodes 1, 2, 3 (equity 20, 10, 60).
STAR = np.array([[0, 0, 0, 0], [10, 0, 0, 0], [20, 0, 0, 0], [30, 0, 0, 0]], dtype=float)
STAR_EQUITY = np.array([5.0, 20.0, 10.0, 60.0])
# Node 0 owes 5 to node 1 (equity 10); node 1 owes 4 to node 2 (equity 8).
CHAIN = np.array([[0, 0, 0], [5, 0, 0], [0, 4, 0]], dtype=float)
CHAIN_EQUITY = np.array([1.0, 10.0, 8.0])
# A cycle with leverage 0.5 on each edge: 1 lent to 0, 2 lent to 1, 0 lent to 2.
CYCLE = np.array([[0, 0, 5], [5, 0, 0], [0, 5, 0]], dtype=float)
CYCLE_EQUITY = np.array([10.0, 10.0, 10.0])


def random_exposures(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    exposures = rng.lognormal(0.0, 1.0, (n, n)) * (rng.random((n, n)) < 0.4)
    np.fill_diagonal(exposures, 0.0)
    equity = exposures.sum(axis=1) * rng.uniform(0.3, 3.0, n) + 0.1
    return exposures, equity


def random_cases(count: int = 30):
    rng = np.random.default_rng(7)
    for _ in range(count):
        n = int(rng.integers(2, 16))
        exposures, equity = random_exposures(int(rng.integers(2**32)), n)
        h0 = rng.random(n) * (rng.random(n) < 0.3)
        yield exposures, equity, h0


def reference_original_debtrank(exposures, equity, h0):
    """Node-by-node transcription of Battiston et al. (2012), for cross-checking."""
    n = len(equity)
    h = [float(x) for x in h0]
    state = ["D" if x > 0 else "U" for x in h]
    while "D" in state:
        new_h = list(h)
        for i in range(n):
            for j in range(n):
                if state[j] == "D":
                    new_h[i] += min(1.0, exposures[i][j] / equity[i]) * h[j]
            new_h[i] = min(1.0, new_h[i])
        state = [
            "I" if s == "D" else ("D" if s == "U" and x > 0 else s)
            for s, x in zip(state, new_h, strict=True)
        ]
        h = new_h
    return np.array(h)


# --- hand-worked examples ---------------------------------------------------------------


@pytest.mark.parametrize("linear", [False, True])
def test_star_hub_failure_hits_each_lender_by_its_leverage(linear: bool) -> None:
    res = debtrank(STAR, STAR_EQUITY, [1, 0, 0, 0], linear=linear)
    assert isinstance(res, DebtRankResult)
    np.testing.assert_allclose(res.distress, [1.0, 0.5, 1.0, 0.5])
    # lenders hold 1/6, 2/6, 3/6 of all exposures
    assert res.debtrank == pytest.approx((0.5 * 1 + 1.0 * 2 + 0.5 * 3) / 6)
    assert res.rounds == 2
    assert res.history.shape == (3, 4)


@pytest.mark.parametrize("linear", [False, True])
def test_chain_distress_halves_at_each_link(linear: bool) -> None:
    res = debtrank(CHAIN, CHAIN_EQUITY, [1, 0, 0], linear=linear)
    np.testing.assert_allclose(
        res.history, [[1, 0, 0], [1, 0.5, 0], [1, 0.5, 0.25], [1, 0.5, 0.25]]
    )
    assert res.debtrank == pytest.approx((0.5 * 5 + 0.25 * 4) / 9)
    assert res.rounds == 3


def test_original_passes_distress_on_once_around_a_cycle() -> None:
    # 0 -> 1: 0.5 * 0.2 = 0.1; 1 -> 2: 0.05; 2 -> 0: 0.025, which 0 (inactive) keeps.
    res = debtrank(CYCLE, CYCLE_EQUITY, [0.2, 0, 0])
    np.testing.assert_allclose(res.distress, [0.225, 0.1, 0.05])
    assert res.rounds == 3
    assert res.debtrank == pytest.approx((0.025 + 0.1 + 0.05) / 3)


def test_linear_keeps_propagating_around_a_cycle_to_its_fixed_point() -> None:
    # h = h0 + Lambda h: h_0 = 0.2 + 0.125 h_0, h_1 = h_0 / 2, h_2 = h_0 / 4.
    res = debtrank(CYCLE, CYCLE_EQUITY, [0.2, 0, 0], linear=True)
    h_0 = 0.2 / 0.875
    np.testing.assert_allclose(res.distress, [h_0, h_0 / 2, h_0 / 4], atol=1e-11)
    assert res.rounds > 3


def test_nonpositive_equity_node_starts_fully_distressed_and_propagates() -> None:
    res = debtrank(CHAIN, [-1.0, 10.0, 8.0], [0, 0, 0])
    np.testing.assert_allclose(res.history[0], [1, 0, 0])
    np.testing.assert_allclose(res.distress, [1, 0.5, 0.25])
    assert res.debtrank == pytest.approx((0.5 * 5 + 0.25 * 4) / 9)


def test_economic_value_is_normalised() -> None:
    uniform = debtrank(CHAIN, CHAIN_EQUITY, [1, 0, 0], economic_value=[2, 2, 2])
    assert uniform.debtrank == pytest.approx((0.5 + 0.25) / 3)


def test_zero_exposures_give_zero_debtrank() -> None:
    for linear in (False, True):
        res = debtrank(np.zeros((4, 4)), np.ones(4), [0.5, 1, 0, 0], linear=linear)
        assert res.debtrank == 0.0
        np.testing.assert_array_equal(res.distress, [0.5, 1, 0, 0])
        assert res.rounds == 1


def test_no_initial_distress_means_no_rounds() -> None:
    res = debtrank(STAR, STAR_EQUITY, np.zeros(4))
    assert res.rounds == 0
    assert res.debtrank == 0.0


def test_max_rounds_truncates_the_propagation() -> None:
    res = debtrank(CHAIN, CHAIN_EQUITY, [1, 0, 0], max_rounds=1)
    assert res.rounds == 1
    np.testing.assert_allclose(res.distress, [1, 0.5, 0])


# --- properties on random networks --------------------------------------------------------


def test_original_matches_node_by_node_reference() -> None:
    for exposures, equity, h0 in random_cases():
        res = debtrank(exposures, equity, h0)
        np.testing.assert_allclose(res.distress, reference_original_debtrank(exposures, equity, h0))
        assert res.rounds <= len(equity) + 1


@pytest.mark.parametrize("linear", [False, True])
def test_distress_is_monotone_and_within_unit_interval(linear: bool) -> None:
    for exposures, equity, h0 in random_cases():
        res = debtrank(exposures, equity, h0, linear=linear)
        assert np.all(np.diff(res.history, axis=0) >= 0)
        assert np.all((res.history >= 0) & (res.history <= 1))
        assert 0.0 <= res.debtrank <= 1.0
        np.testing.assert_array_equal(res.history[-1], res.distress)


def test_linear_debtrank_is_never_below_the_original() -> None:
    for exposures, equity, h0 in random_cases():
        original = debtrank(exposures, equity, h0)
        linear = debtrank(exposures, equity, h0, linear=True, max_rounds=2000)
        assert np.all(linear.distress >= original.distress - 1e-9)
        assert linear.debtrank >= original.debtrank - 1e-9


@pytest.mark.parametrize("linear", [False, True])
def test_systemic_importance_equals_single_node_debtranks(linear: bool) -> None:
    for exposures, equity, _ in random_cases(10):
        n = len(equity)
        expected = [
            debtrank(exposures, equity, np.eye(n)[k], linear=linear).debtrank for k in range(n)
        ]
        np.testing.assert_allclose(
            systemic_importance(exposures, equity, linear=linear), expected, atol=1e-10
        )


def test_systemic_importance_ranks_the_chain_from_the_bottom() -> None:
    np.testing.assert_allclose(systemic_importance(CHAIN, CHAIN_EQUITY), [3.5 / 9, 2.0 / 9, 0.0])


# --- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "kwargs", "match"),
    [
        ((np.zeros((2, 3)), [1, 1], [0, 0]), {}, "exposures.*square"),
        (([[0, -1], [1, 0]], [1, 1], [0, 0]), {}, "exposures.*>= 0"),
        (([[1, 0], [0, 0]], [1, 1], [0, 0]), {}, "exposures.*zero diagonal"),
        (([[0, 1], [1, 0]], [1, 1, 1], [0, 0]), {}, "equity.*length 2"),
        (([[0, 1], [1, 0]], [1, np.inf], [0, 0]), {}, "equity.*finite"),
        (([[0, 1], [1, 0]], [1, 1], [0, 1.5]), {}, "initial_distress.*0 <= x <= 1"),
        (([[0, 1], [1, 0]], [1, 1], [-0.1, 0]), {}, "initial_distress.*>= 0"),
        (
            ([[0, 1], [1, 0]], [1, 1], [1, 0]),
            {"economic_value": [0, 0]},
            "economic_value.*positive sum",
        ),
        (([[0, 1], [1, 0]], [1, 1], [1, 0]), {"economic_value": [-1, 2]}, "economic_value.*>= 0"),
        (([[0, 1], [1, 0]], [1, 1], [1, 0]), {"linear": "yes"}, "linear.*True or False"),
        (([[0, 1], [1, 0]], [1, 1], [1, 0]), {"max_rounds": 0}, "max_rounds"),
    ],
)
def test_bad_input_is_rejected(args: tuple, kwargs: dict, match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        debtrank(*args, **kwargs)


def test_systemic_importance_rejects_bad_network() -> None:
    with pytest.raises(ParameterError, match=r"exposures.*zero diagonal"):
        systemic_importance([[1, 0], [0, 0]], [1, 1])
