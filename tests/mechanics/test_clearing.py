"""Tests of contagion.mechanics.clearing (Eisenberg-Noe / Rogers-Veraart clearing)."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contagion.errors import ParameterError
from contagion.mechanics.clearing import ClearingResult, clearing_vector_lp, eisenberg_noe

RING = np.array([[0.0, 10.0, 0.0], [0.0, 0.0, 10.0], [4.0, 0.0, 0.0]])
RING_ASSETS = np.array([5.0, 0.0, 0.0])

network_cases = settings(max_examples=40, deadline=None, database=None)


def random_network(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """A sparse lognormal liability network whose external assets leave some nodes short."""
    rng = np.random.default_rng(seed)
    liabilities = rng.lognormal(0.0, 1.0, (n, n)) * (rng.random((n, n)) < 0.35)
    np.fill_diagonal(liabilities, 0.0)
    external = rng.random(n) * liabilities.sum(axis=1) * rng.uniform(0.0, 1.5)
    return liabilities, external


networks = st.builds(
    random_network, st.integers(0, 2**32 - 1), st.integers(min_value=2, max_value=15)
)


# --- hand-worked examples ---------------------------------------------------------------


def test_ring_with_one_short_node_cascades_to_its_creditor() -> None:
    res = eisenberg_noe(RING, RING_ASSETS)
    assert isinstance(res, ClearingResult)
    np.testing.assert_allclose(res.payments, [9.0, 9.0, 4.0])
    assert res.defaulted.tolist() == [True, True, False]
    assert res.default_round.tolist() == [0, 1, -1]
    assert res.rounds == 2
    np.testing.assert_allclose(res.recovery_rate, [0.9, 0.9, 1.0])
    np.testing.assert_allclose(res.equity, [-1.0, -1.0, 5.0])
    np.testing.assert_allclose(res.payment_matrix, [[0, 9, 0], [0, 0, 9], [4, 0, 0]])


def test_rogers_veraart_costs_deepen_the_ring_cascade() -> None:
    # Round 0: A pays 0.5*5 + 0.5*4 = 4.5. Round 1: B gets 4.5 < 10, pays 0.5*4.5 = 2.25.
    # Round 2: C gets 2.25 < 4 and defaults; all three solve p_A = 2.5 + 0.5 p_C,
    # p_B = 0.5 p_A, p_C = 0.5 p_B, so p_A = 2.5 / 0.875.
    res = eisenberg_noe(RING, RING_ASSETS, alpha=0.5, beta=0.5)
    p_a = 2.5 / 0.875
    np.testing.assert_allclose(res.payments, [p_a, p_a / 2, p_a / 4])
    assert res.default_round.tolist() == [0, 1, 2]
    assert res.rounds == 3


def test_single_short_node_pays_assets_plus_receipts() -> None:
    liabilities = [[0, 12, 0], [0, 0, 10], [10, 0, 0]]
    res = eisenberg_noe(liabilities, [1, 0, 0])
    np.testing.assert_allclose(res.payments, [11.0, 10.0, 10.0])
    assert res.default_round.tolist() == [0, -1, -1]
    assert res.rounds == 1


def test_closed_ring_without_external_assets_pays_in_full() -> None:
    ring = [[0, 10, 0], [0, 0, 10], [10, 0, 0]]
    res = eisenberg_noe(ring, [0, 0, 0])
    np.testing.assert_allclose(res.payments, [10.0, 10.0, 10.0])
    assert not res.defaulted.any()
    assert res.rounds == 0


def test_nodes_without_liabilities_have_full_recovery() -> None:
    res = eisenberg_noe(np.zeros((3, 3)), [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(res.recovery_rate, np.ones(3))
    np.testing.assert_array_equal(res.equity, [0.0, 1.0, 2.0])
    assert res.default_round.tolist() == [-1, -1, -1]


def test_empty_network_clears_trivially() -> None:
    res = eisenberg_noe(np.zeros((0, 0)), np.zeros(0))
    assert res.payments.shape == (0,)
    assert res.rounds == 0


def test_max_rounds_truncates_and_warns(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="contagion.mechanics.clearing"):
        res = eisenberg_noe(RING, RING_ASSETS, max_rounds=1)
    assert "truncated" in caplog.text
    np.testing.assert_allclose(res.payments, [9.0, 10.0, 4.0])
    assert res.defaulted.tolist() == [True, False, False]
    assert res.equity[1] < 0  # insolvent but not yet cleared


def test_lp_matches_hand_worked_ring() -> None:
    np.testing.assert_allclose(clearing_vector_lp(RING, RING_ASSETS), [9.0, 9.0, 4.0])


# --- cross-check and invariants -----------------------------------------------------------


def test_fictitious_default_matches_linear_programme_on_random_networks() -> None:
    rng = np.random.default_rng(20240601)
    for _ in range(50):
        liabilities, external = random_network(int(rng.integers(2**32)), int(rng.integers(2, 31)))
        res = eisenberg_noe(liabilities, external)
        lp = clearing_vector_lp(liabilities, external)
        np.testing.assert_allclose(res.payments, lp, rtol=1e-8, atol=1e-9)


@network_cases
@given(networks, st.floats(0.0, 5.0))
def test_more_external_assets_never_lower_a_payment(network, extra: float) -> None:
    liabilities, external = network
    bump = extra * np.random.default_rng(len(external)).random(len(external))
    before = eisenberg_noe(liabilities, external).payments
    after = eisenberg_noe(liabilities, external + bump).payments
    assert np.all(after >= before - 1e-9 * np.maximum(1.0, before))


@network_cases
@given(networks)
def test_default_set_is_exactly_the_nodes_paying_less_than_owed(network) -> None:
    liabilities, external = network
    res = eisenberg_noe(liabilities, external)
    pbar = liabilities.sum(axis=1)
    np.testing.assert_array_equal(res.defaulted, res.payments < pbar)
    np.testing.assert_array_equal(res.defaulted, res.default_round >= 0)
    assert np.all(res.equity[res.defaulted] < 0)
    assert np.all(res.equity[~res.defaulted] >= -1e-9 * np.maximum(1.0, pbar[~res.defaulted]))


@network_cases
@given(networks)
def test_payments_made_equal_payments_received(network) -> None:
    liabilities, external = network
    res = eisenberg_noe(liabilities, external)
    np.testing.assert_allclose(res.payment_matrix.sum(axis=1), res.payments, atol=1e-9)
    np.testing.assert_allclose(res.payment_matrix.sum(), res.payments.sum(), rtol=1e-12)
    receipts = res.payment_matrix.sum(axis=0)
    np.testing.assert_allclose(res.equity, external + receipts - liabilities.sum(axis=1))


@network_cases
@given(networks)
def test_clearing_vector_is_a_fixed_point(network) -> None:
    liabilities, external = network
    res = eisenberg_noe(liabilities, external)
    pbar = liabilities.sum(axis=1)
    receipts = res.payment_matrix.sum(axis=0)
    np.testing.assert_allclose(res.payments, np.minimum(pbar, external + receipts), atol=1e-9)


@network_cases
@given(networks)
def test_rogers_veraart_without_costs_is_eisenberg_noe(network) -> None:
    liabilities, external = network
    en = eisenberg_noe(liabilities, external)
    rv = eisenberg_noe(liabilities, external, alpha=1.0, beta=1.0)
    np.testing.assert_array_equal(en.payments, rv.payments)
    np.testing.assert_array_equal(en.default_round, rv.default_round)


@network_cases
@given(networks, st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_default_costs_never_raise_payments(network, alpha: float, beta: float) -> None:
    liabilities, external = network
    en = eisenberg_noe(liabilities, external)
    rv = eisenberg_noe(liabilities, external, alpha=alpha, beta=beta)
    assert np.all(rv.payments <= en.payments + 1e-9 * np.maximum(1.0, en.payments))
    assert np.all(rv.defaulted >= en.defaulted)
    assert rv.rounds <= len(external)


@network_cases
@given(networks)
def test_default_rounds_separate_fundamental_from_contagious_defaults(network) -> None:
    liabilities, external = network
    res = eisenberg_noe(liabilities, external)
    pbar = liabilities.sum(axis=1)
    short_if_all_pay = pbar - (external + liabilities.sum(axis=0)) > 1e-12 * pbar
    np.testing.assert_array_equal(res.default_round == 0, short_if_all_pay)
    assert np.all(res.default_round[res.defaulted & ~short_if_all_pay] >= 1)
    expected_rounds = res.default_round.max() + 1 if res.defaulted.any() else 0
    assert res.rounds == expected_rounds <= len(external)
    for k in range(1, res.rounds):  # a generation-k node defaults once rounds < k are cleared
        partial = eisenberg_noe(liabilities, external, max_rounds=k)
        np.testing.assert_array_equal(
            partial.defaulted, (res.default_round >= 0) & (res.default_round < k)
        )


# --- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("liabilities", "external", "match"),
    [
        (np.zeros((2, 3)), np.zeros(2), "liabilities.*square"),
        (np.zeros(3), np.zeros(3), "liabilities.*2-D"),
        ([[0, -1], [1, 0]], [0, 0], "liabilities.*>= 0"),
        ([[1, 1], [1, 0]], [0, 0], "liabilities.*zero diagonal"),
        ([[0, np.nan], [1, 0]], [0, 0], "liabilities.*finite"),
        ([[0, 1], [1, 0]], [0, 0, 0], "external_assets.*length 2"),
        ([[0, 1], [1, 0]], [0, -1], "external_assets.*>= 0"),
        ([["a", 1], [1, 0]], [0, 0], "liabilities"),
    ],
)
def test_malformed_network_is_rejected(liabilities, external, match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        eisenberg_noe(liabilities, external)
    with pytest.raises(ParameterError, match=match):
        clearing_vector_lp(liabilities, external)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"alpha": 1.5}, "alpha.*0 <= x <= 1"),
        ({"alpha": -0.1}, "alpha"),
        ({"beta": 2.0}, "beta.*0 <= x <= 1"),
        ({"tol": -1e-3}, "tol"),
        ({"max_rounds": 0}, "max_rounds"),
        ({"max_rounds": 1.5}, "max_rounds.*integer"),
    ],
)
def test_out_of_range_options_are_rejected(kwargs: dict, match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        eisenberg_noe(RING, RING_ASSETS, **kwargs)
